"""The change history, read per finding, return, case and audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    AuditPlan,
    ChangeRecordOut,
    FindingChange,
    ModerationHeading,
    VoiceSource,
)
from schemas.learning import TaggedKind
from tests.conftest import cohort, cse_plan
from workbench.services import audits, casework, returns
from workbench.services.change_history import (
    history_of_audit,
    history_of_case,
    history_of_finding,
    history_of_return,
)
from workbench.services.themes import set_tags

SCHOOL = Actor(name="s.teacher", agency="school")
Row = tuple[str, str, str, str | None, str | None, str | None]


def rows(records: list[ChangeRecordOut]) -> list[Row]:
    return [(r.actor, r.entity_key, r.operation, r.field, r.before, r.after) for r in records]


def _in_order(records: list[ChangeRecordOut]) -> None:
    assert [r.at for r in records] == sorted(r.at for r in records)


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    detail = audits.create_audit(factory, actor, registry, cse_plan())
    ref, other = detail.cases[0].reference, detail.cases[1].reference
    rid = returns.find_return(factory, detail.id, ref, "police")
    first = returns.record_finding(
        factory, actor, rid, "cse-1.1", FindingChange(grade="good"), expected_version=None
    )
    returns.record_finding(
        factory,
        SCHOOL,
        rid,
        "cse-1.1",
        FindingChange(evidence="Screening tool on file"),
        expected_version=first.version,
    )
    set_tags(factory, SCHOOL, TaggedKind.FINDING, first.id, ["information-sharing"])
    casework.set_moderated_grade(
        factory,
        SCHOOL,
        detail.cases[0].id,
        ModerationHeading.RECOGNITION,
        grade="requires_improvement",
        reasons="Missing episodes not reviewed",
        expected_version=None,
    )
    casework.add_voice(factory, actor, detail.cases[0].id, VoiceSource.CHILD, "Nobody asked me")
    # Another case's change must stay out of the first case's views.
    other_rid = returns.find_return(factory, detail.id, other, "police")
    returns.record_finding(
        factory, SCHOOL, other_rid, "cse-1.1", FindingChange(grade="good"), expected_version=None
    )
    return detail


def test_finding_history_is_who_when_before_after(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    ref = audit.cases[0].reference
    key = f"case {ref} / police / cse-1.1"
    got = history_of_finding(factory, audit.id, ref, "police", "cse-1.1")
    _in_order(got)
    created, *rest = got
    assert (created.actor, created.entity_key, created.operation) == (actor.name, key, "create")
    assert created.before is None and created.after is not None
    assert json.loads(created.after)["grade"] == "good"
    assert rows(rest) == [
        ("s.teacher", key, "update", "evidence", "", "Screening tool on file"),
        ("s.teacher", f"{key} / theme information-sharing", "create", None, None, rest[1].after),
    ]
    assert history_of_finding(factory, audit.id, ref, "police", "cse-1.2") == []
    assert history_of_finding(factory, audit.id, ref, "school", "cse-1.1") == []


def test_return_history_holds_the_return_its_findings_and_their_tags(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    ref = audit.cases[0].reference
    base = f"case {ref} / police"
    got = history_of_return(factory, audit.id, ref, "police")
    _in_order(got)
    assert [(r.actor, r.entity_key, r.operation, r.field) for r in got] == [
        (actor.name, base, "create", None),
        (actor.name, f"{base} / cse-1.1", "create", None),
        (actor.name, base, "update", "status"),
        (actor.name, base, "update", "auditor"),
        ("s.teacher", f"{base} / cse-1.1", "update", "evidence"),
        ("s.teacher", f"{base} / cse-1.1 / theme information-sharing", "create", None),
    ]
    assert (got[2].before, got[2].after) == ("not_started", "in_progress")
    assert (got[3].before, got[3].after) == ("", actor.name)
    school = history_of_return(factory, audit.id, ref, "school")
    assert rows(school) == [
        (actor.name, f"case {ref} / school", "create", None, None, school[0].after)
    ]


def test_case_history_holds_everything_under_the_case_and_nothing_else(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    ref = audit.cases[0].reference
    got = history_of_case(factory, audit.id, ref)
    _in_order(got)
    made = {r.entity_key for r in got if r.operation == "create" and r.at == got[0].at}
    assert made == {f"case {ref}", *(f"case {ref} / {a}" for a in ("gp", "police", "school"))}
    later = [(r.actor, r.entity_key, r.operation, r.field) for r in got if r.at != got[0].at]
    assert later == [
        (actor.name, f"case {ref} / police / cse-1.1", "create", None),
        (actor.name, f"case {ref} / police", "update", "status"),
        (actor.name, f"case {ref} / police", "update", "auditor"),
        ("s.teacher", f"case {ref} / police / cse-1.1", "update", "evidence"),
        (
            "s.teacher",
            f"case {ref} / police / cse-1.1 / theme information-sharing",
            "create",
            None,
        ),
        ("s.teacher", f"case {ref} / moderated recognition", "create", None),
        (actor.name, f"case {ref} / voice of child", "create", None),
    ]
    voice = got[-1]
    assert voice.after is not None and json.loads(voice.after)["text"] == "Nobody asked me"
    assert all(audit.cases[1].reference not in r.entity_key for r in got)


def test_audit_history_is_every_row_of_the_audit_oldest_first(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    other = audits.create_audit(factory, actor, registry, cse_plan(cases=1))
    got = history_of_audit(factory, audit.id)
    _in_order(got)
    assert got[0].entity_key == f"audit {audit.uid}"
    per_case = sum(len(history_of_case(factory, audit.id, c.reference)) for c in audit.cases)
    audit_level = [r for r in got if not r.entity_key.startswith("case ")]
    assert len(got) == per_case + len(audit_level)
    assert {r.entity_key for r in got[-3:]} == {
        f"case {audit.cases[1].reference} / police",
        f"case {audit.cases[1].reference} / police / cse-1.1",
    }
    assert all(r.entity_key != f"audit {other.uid}" for r in got)
    assert history_of_audit(factory, 999_999) == []


def test_case_references_that_share_a_prefix_do_not_mix(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    refs = ("A-1", "A-10", "A-1 / police")
    profiles = tuple(
        p.model_copy(update={"reference": r}) for p, r in zip(cohort(3), refs, strict=True)
    )
    plan = AuditPlan(title="Prefixes", tool_id="cse", agencies=("police",), cases=profiles)
    detail = audits.create_audit(factory, actor, registry, plan)
    for ref in refs:
        rid = returns.find_return(factory, detail.id, ref, "police")
        returns.record_finding(
            factory, actor, rid, "cse-1.1", FindingChange(grade="good"), expected_version=None
        )

    def keys(records: list[ChangeRecordOut]) -> set[str]:
        return {r.entity_key for r in records}

    assert keys(history_of_case(factory, detail.id, "A-1")) == {
        "case A-1",
        "case A-1 / police",
        "case A-1 / police / cse-1.1",
    }
    assert keys(history_of_case(factory, detail.id, "A-10")) == {
        "case A-10",
        "case A-10 / police",
        "case A-10 / police / cse-1.1",
    }
    assert keys(history_of_return(factory, detail.id, "A-1", "police")) == {
        "case A-1 / police",
        "case A-1 / police / cse-1.1",
    }
    assert keys(history_of_finding(factory, detail.id, "A-1", "police", "cse-1.1")) == {
        "case A-1 / police / cse-1.1"
    }
    assert keys(history_of_case(factory, detail.id, "A-1 / police")) == {
        "case A-1 / police",
        "case A-1 / police / police",
        "case A-1 / police / police / cse-1.1",
    }
    assert history_of_case(factory, detail.id, "A") == []
