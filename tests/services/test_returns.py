"""Recording findings, stale updates, submitting returns, progress and grade distributions."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, AuditStatus, FindingChange, ReturnStatus
from tests.conftest import cse_plan
from workbench.services import audits, distribution, returns
from workbench.services.errors import (
    InvalidRequestError,
    StaleFindingError,
    SubmitRefusedError,
)
from workbench.store.models import ChangeRecord


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan())


def _return_id(factory: sessionmaker[Session], audit: AuditDetail, agency: str = "police") -> int:
    return returns.find_return(factory, audit.id, audit.cases[0].reference, agency)


def test_record_then_update_a_finding_with_history(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    rid = _return_id(factory, audit)
    first = returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(grade="good", evidence="Screening tool on file"),
        expected_version=None,
    )
    assert (first.version, first.grade, first.updated_by) == (1, "good", actor.name)
    second = returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(evidence="Screening tool, 14/03 case note"),
        expected_version=first.version,
    )
    assert second.version == 2
    assert second.grade == "good"  # untouched fields keep their value
    stored = returns.get_return(factory, rid)
    assert stored.status is ReturnStatus.IN_PROGRESS
    assert [f.evidence for f in stored.findings] == ["Screening tool, 14/03 case note"]
    with factory() as session:
        change = session.scalars(
            select(ChangeRecord).where(
                ChangeRecord.entity == "findings", ChangeRecord.field == "evidence"
            )
        ).one()
    assert change.before == "Screening tool on file"
    assert change.after == "Screening tool, 14/03 case note"
    assert change.actor == actor.name
    assert change.entity_key == f"case {audit.cases[0].reference} / police / cse-1.1"


def test_stale_update_is_refused_and_shows_the_other_value(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    rid = _return_id(factory, audit)
    other = Actor(name="b.colleague", agency="police")
    seen = returns.record_finding(
        factory, actor, rid, "cse-1.1", FindingChange(grade="good"), expected_version=None
    )
    returns.record_finding(
        factory,
        other,
        rid,
        "cse-1.1",
        FindingChange(grade="inadequate"),
        expected_version=seen.version,
    )
    with pytest.raises(StaleFindingError) as caught:
        returns.record_finding(
            factory,
            actor,
            rid,
            "cse-1.1",
            FindingChange(grade="outstanding"),
            expected_version=seen.version,
        )
    assert caught.value.current.grade == "inadequate"
    assert caught.value.current.updated_by == "b.colleague"
    assert returns.get_return(factory, rid).findings[0].grade == "inadequate"


def test_two_first_saves_of_the_same_finding_do_not_both_win(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    rid = _return_id(factory, audit)
    returns.record_finding(
        factory, actor, rid, "cse-1.1", FindingChange(grade="good"), expected_version=None
    )
    with pytest.raises(StaleFindingError):
        returns.record_finding(
            factory, actor, rid, "cse-1.1", FindingChange(grade="inadequate"), expected_version=0
        )


@pytest.mark.parametrize(
    ("criterion", "change", "message"),
    [
        ("cse-1.1", FindingChange(grade="excellent"), "not an answer"),
        ("nope-9", FindingChange(grade="good"), "not in tool"),
        ("cse-1.3", FindingChange(grade="good"), "does not apply to police"),
    ],
)
def test_invalid_findings_are_refused_and_nothing_is_stored(
    factory: sessionmaker[Session],
    actor: Actor,
    audit: AuditDetail,
    criterion: str,
    change: FindingChange,
    message: str,
) -> None:
    rid = _return_id(factory, audit)
    with pytest.raises(InvalidRequestError, match=message):
        returns.record_finding(factory, actor, rid, criterion, change, expected_version=None)
    assert returns.get_return(factory, rid).findings == ()


def test_non_grade_answers_are_answers(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    rid = _return_id(factory, audit)
    for criterion in registry.definition("cse").tool.criteria_for("police"):
        returns.record_finding(
            factory,
            actor,
            rid,
            criterion.id,
            FindingChange(grade="not_applicable"),
            expected_version=None,
        )
    submitted = returns.submit_return(factory, actor, rid)
    assert submitted.status is ReturnStatus.SUBMITTED
    assert submitted.submitted_by == actor.name


def test_submit_is_refused_with_the_unanswered_list(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    rid = _return_id(factory, audit, "school")
    criteria = registry.definition("cse").tool.criteria_for("school")
    returns.record_finding(
        factory, actor, rid, criteria[0].id, FindingChange(grade="good"), expected_version=None
    )
    # Text without a grade is not an answer.
    returns.record_finding(
        factory, actor, rid, criteria[1].id, FindingChange(evidence="notes"), expected_version=None
    )
    with pytest.raises(SubmitRefusedError) as caught:
        returns.submit_return(factory, actor, rid)
    assert [u.criterion_id for u in caught.value.unanswered] == [c.id for c in criteria[1:]]
    assert caught.value.unanswered[0].question == criteria[1].question
    assert returns.get_return(factory, rid).status is ReturnStatus.IN_PROGRESS


def test_a_submitted_return_is_locked_until_reopened(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    rid = _return_id(factory, audit)
    for criterion in registry.definition("cse").tool.criteria_for("police"):
        returns.record_finding(
            factory, actor, rid, criterion.id, FindingChange(grade="good"), expected_version=None
        )
    returns.submit_return(factory, actor, rid)
    with pytest.raises(InvalidRequestError, match="submitted"):
        returns.record_finding(
            factory, actor, rid, "cse-1.1", FindingChange(grade="inadequate"), expected_version=1
        )
    returns.reopen_return(factory, actor, rid)
    changed = returns.record_finding(
        factory, actor, rid, "cse-1.1", FindingChange(grade="inadequate"), expected_version=1
    )
    assert changed.grade == "inadequate"


def test_closed_audit_refuses_changes(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    audits.set_status(factory, actor, audit.id, AuditStatus.CLOSED)
    with pytest.raises(InvalidRequestError, match="closed"):
        returns.record_finding(
            factory,
            actor,
            _return_id(factory, audit),
            "cse-1.1",
            FindingChange(grade="good"),
            expected_version=None,
        )


def test_progress_and_distribution_match_a_plain_count(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    tool = registry.definition("cse").tool
    grades = ["outstanding", "good", "requires_improvement", "inadequate", "not_evidenced"]
    expected_agency: Counter[tuple[str, str]] = Counter()
    expected_criterion: Counter[tuple[str, str]] = Counter()
    answered: Counter[tuple[str, str]] = Counter()
    for n, case in enumerate(audit.cases):
        for agency in ("police", "school"):
            rid = returns.find_return(factory, audit.id, case.reference, agency)
            for i, criterion in enumerate(tool.criteria_for(agency)[: 3 + n]):
                grade = grades[(i + n) % len(grades)]
                returns.record_finding(
                    factory,
                    actor,
                    rid,
                    criterion.id,
                    FindingChange(grade=grade),
                    expected_version=None,
                )
                expected_agency[(agency, grade)] += 1
                expected_criterion[(criterion.id, grade)] += 1
                answered[(case.reference, agency)] += 1
    by_agency = distribution.grade_distribution(factory, audit.id, "agency")
    assert by_agency.scale_id == "ofsted-4"
    assert Counter({(r.group, r.grade): r.count for r in by_agency.rows}) == expected_agency
    by_criterion = distribution.grade_distribution(factory, audit.id, "criterion")
    assert Counter({(r.group, r.grade): r.count for r in by_criterion.rows}) == expected_criterion

    rows = returns.progress(factory, audit.id)
    assert len(rows) == 9
    for row in rows:
        assert row.answered == answered[(row.case_reference, row.agency_code)]
        assert row.total == len(tool.criteria_for(row.agency_code))
    [summary] = audits.list_audits(factory)
    assert summary.findings_answered == sum(answered.values())
