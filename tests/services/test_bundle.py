"""The audit bundle: a deterministic round trip, and all-or-nothing refusal of bad bundles."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange, ModerationHeading, VoiceSource
from schemas.bundle import (
    Bundle,
    BundleAudit,
    BundleCase,
    BundleChange,
    BundleFinding,
    BundleModeratedGrade,
    BundleReturn,
    BundleVoice,
)
from schemas.tools import ToolDefinition
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.bundle import (
    BundleFileError,
    bundle_json,
    export_bundle,
    import_bundle,
    parse_bundle,
    without_export_time,
)
from workbench.services.errors import InvalidRequestError
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema
from workbench.store.models import Base

TOOL = ToolRegistry.load().definition("cse")
AGENCIES = ("gp", "police", "school")

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)
)
names = st.text(alphabet="abcdefghij .-", min_size=1, max_size=12).filter(lambda s: s.strip() != "")


@st.composite
def findings_for(draw: st.DrawFn, agency: str) -> tuple[BundleFinding, ...]:
    criteria = [c.id for c in TOOL.tool.criteria_for(agency)]
    chosen = sorted(draw(st.sets(st.sampled_from(criteria), max_size=len(criteria))))
    grades = st.one_of(st.none(), st.sampled_from(TOOL.scale.answer_keys))
    return tuple(
        BundleFinding(
            criterion_id=c,
            grade=draw(grades),
            evidence=draw(text),
            strengths=draw(text),
            areas_for_development=draw(text),
            version=draw(st.integers(1, 50)),
            updated_at=draw(moments),
            updated_by=draw(names),
        )
        for c in chosen
    )


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    references = sorted(
        draw(st.sets(st.from_regex(r"[A-Z]{2,4}-[0-9]{2}", fullmatch=True), max_size=4))
    )
    cases = []
    for reference in references:
        agencies = sorted(draw(st.sets(st.sampled_from(AGENCIES))))
        returns_ = tuple(
            BundleReturn(
                agency=a,
                status=draw(st.sampled_from(["not_started", "in_progress", "submitted"])),
                auditor=draw(text),
                findings=draw(findings_for(a)),
            )
            for a in agencies
        )
        headings = [h for h in ModerationHeading if draw(st.booleans())]
        voices = sorted(
            draw(
                st.lists(
                    st.builds(
                        BundleVoice,
                        source=st.sampled_from(list(VoiceSource)),
                        text=text,
                        recorded_at=moments,
                        recorded_by=names,
                    ),
                    max_size=2,
                )
            ),
            key=lambda v: (v.recorded_at, v.source, v.text),
        )
        cases.append(
            BundleCase(
                reference=reference,
                level_of_need=draw(st.sampled_from(["early-help", "child-protection"])),
                age_band="11-15",
                gender=draw(st.sampled_from(["female", "male", "not-known"])),
                ethnicity=draw(st.sampled_from(["White British", "Mixed", "Asian British"])),
                send="none",
                returns=returns_,
                moderated_grades=tuple(
                    BundleModeratedGrade(
                        heading=h,
                        grade=draw(st.sampled_from(TOOL.scale.answer_keys)),
                        reasons=draw(text),
                        version=draw(st.integers(1, 5)),
                        updated_at=draw(moments),
                        updated_by=draw(names),
                    )
                    for h in headings
                ),
                voices=tuple(voices),
            )
        )
    history = sorted(
        draw(
            st.lists(
                st.builds(
                    BundleChange,
                    at=moments,
                    actor=names,
                    entity=st.sampled_from(["findings", "cases"]),
                    entity_key=text,
                    operation=st.sampled_from(["create", "update", "delete"]),
                    field=st.one_of(st.none(), st.sampled_from(["grade", "evidence"])),
                    before=st.one_of(st.none(), text),
                    after=st.one_of(st.none(), text),
                ),
                max_size=5,
            )
        ),
        key=lambda h: h.at,
    )
    return Bundle(
        exported_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        tool=TOOL,
        audit=BundleAudit(
            uid=str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)))),
            title=draw(names),
            status=draw(st.sampled_from(["planning", "returns", "moderation", "closed"])),
            look_back_months=draw(st.integers(1, 24)),
            look_back_start=draw(st.one_of(st.none(), st.dates())),
            chair=draw(text),
            created_at=draw(moments),
            created_by=draw(names),
            agencies=AGENCIES,
        ),
        cases=tuple(cases),
        history=tuple(history),
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bundle=bundles())
def test_round_trip_preserves_every_field(
    factory: sessionmaker[Session], actor: Actor, bundle: Bundle
) -> None:
    if audits_with_uid(factory, bundle.audit.uid):
        return  # hypothesis replayed a uid already imported into this test's database
    data = bundle_json(bundle).encode()
    imported = import_bundle(factory, actor, parse_bundle(data, "generated.json"), "generated")
    again = bundle_json(export_bundle(factory, imported.id))
    assert without_export_time(again) == without_export_time(data.decode())


def audits_with_uid(factory: sessionmaker[Session], uid: str) -> bool:
    return any(a.uid == uid for a in audits.list_audits(factory))


def _worked_audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> int:
    detail = audits.create_audit(factory, actor, registry, cse_plan())
    rid = returns.find_return(factory, detail.id, detail.cases[0].reference, "police")
    returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(grade="good", evidence="Strategy minutes"),
        expected_version=None,
    )
    returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(strengths="Persistent outreach"),
        expected_version=1,
    )
    case_id = detail.cases[0].id
    casework.add_voice(factory, actor, case_id, VoiceSource.CHILD, "I wanted someone to ask me")
    casework.raise_concern(
        factory,
        actor,
        case_id,
        concern="Missing again this week",
        who_told="Team manager",
        told_at=dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC),
        agency_code="police",
    )
    casework.set_moderated_grade(
        factory,
        actor,
        case_id,
        ModerationHeading.OVERALL,
        grade="requires_improvement",
        reasons="Risk not reviewed after missing episodes",
        expected_version=None,
    )
    return detail.id


def test_export_import_into_an_empty_database_export_again_is_identical(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, tmp_path: Path
) -> None:
    audit_id = _worked_audit(factory, actor, registry)
    first = bundle_json(export_bundle(factory, audit_id))
    assert json.loads(first)["history"], "the audit's own history travels with it"

    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    ensure_schema(empty, "empty", upgrade_if_needed=True)
    other = make_session_factory(empty)
    imported = import_bundle(other, actor, parse_bundle(first.encode(), "b.json"), "b.json")
    second = bundle_json(export_bundle(other, imported.id))
    assert without_export_time(first) == without_export_time(second)
    empty.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
        }


def _mutate(data: dict[str, Any], how: str) -> dict[str, Any]:
    case = data["cases"][0]
    worked = next(r for r in case["returns"] if r["findings"])
    finding = worked["findings"][0]
    if how == "grade-not-in-scale":
        finding["grade"] = "excellent"
    elif how == "criterion-not-in-tool":
        finding["criterion_id"] = "cse-99.9"
    elif how == "duplicate-case":
        data["cases"].append(dict(case))
    elif how == "agency-not-in-audit":
        worked["agency"] = "housing"
    elif how == "wrong-version":
        data["format_version"] = 2
    elif how == "not-a-bundle":
        data["format"] = "something-else"
    elif how == "nul-in-text":
        finding["evidence"] = "before\x00after"
    elif how == "naive-datetime":
        finding["updated_at"] = "2026-03-01T10:00:00"
    elif how == "missing-field":
        del data["audit"]["title"]
    return data


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("grade-not-in-scale", "grade 'excellent' is not on scale ofsted-4"),
        ("criterion-not-in-tool", "criterion 'cse-99.9' is not in tool cse"),
        ("duplicate-case", "duplicate case reference"),
        ("agency-not-in-audit", "agency 'housing' is not in the audit"),
        ("wrong-version", "format version 2 is not supported"),
        ("not-a-bundle", "not a Case Audit Workbench audit bundle"),
        ("nul-in-text", "NUL"),
        ("naive-datetime", "timezone"),
        ("missing-field", "audit.title"),
    ],
)
def test_bad_bundles_are_refused_and_the_database_is_untouched(
    engine: Engine,
    factory: sessionmaker[Session],
    actor: Actor,
    registry: ToolRegistry,
    how: str,
    message: str,
) -> None:
    audit_id = _worked_audit(factory, actor, registry)
    data = json.loads(bundle_json(export_bundle(factory, audit_id)))
    data["audit"]["uid"] = str(uuid.uuid4())
    before = _counts(engine)
    bad = json.dumps(_mutate(data, how)).encode()
    with pytest.raises(BundleFileError) as caught:
        import_bundle(factory, actor, parse_bundle(bad, "bad.json"), "bad.json")
    assert str(caught.value).startswith("bad.json: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert _counts(engine) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not valid JSON"),
        (b'{"format": "case-audit-workbench/audit-bundle", "cases": [', "truncated"),
        (b"\xff\xfe\x00binary", "not"),
        (b"[1, 2, 3]", "not a Case Audit Workbench audit bundle"),
    ],
)
def test_malformed_bundle_files(data: bytes, message: str) -> None:
    with pytest.raises(BundleFileError, match=message):
        parse_bundle(data, "x.json")


def test_importing_the_same_audit_twice_is_refused_untouched(
    engine: Engine, factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit_id = _worked_audit(factory, actor, registry)
    data = bundle_json(export_bundle(factory, audit_id)).encode()
    before = _counts(engine)
    with pytest.raises(InvalidRequestError, match="already in this database"):
        import_bundle(factory, actor, parse_bundle(data, "b.json"), "b.json")
    assert _counts(engine) == before


def test_a_bundle_whose_tool_differs_from_the_pinned_version_is_refused(
    engine: Engine, factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit_id = _worked_audit(factory, actor, registry)
    bundle = export_bundle(factory, audit_id)
    changed_tool = ToolDefinition(
        tool=bundle.tool.tool.model_copy(update={"title": "Quietly edited"}),
        scale=bundle.tool.scale,
    )
    clash = bundle.model_copy(
        update={
            "tool": changed_tool,
            "audit": bundle.audit.model_copy(update={"uid": str(uuid.uuid4())}),
        }
    )
    before = _counts(engine)
    with pytest.raises(InvalidRequestError, match="new version"):
        import_bundle(factory, actor, clash, "clash.json")
    assert _counts(engine) == before
