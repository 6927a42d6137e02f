"""The audit bundle: a deterministic round trip, and all-or-nothing refusal of bad bundles.

Covers the audit's own content and what it led to: theme tags, second grades, learning items
with their evidence, recommendations, actions and their updates."""

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
    BundleAction,
    BundleActionUpdate,
    BundleAudit,
    BundleCase,
    BundleChange,
    BundleEvidence,
    BundleFinding,
    BundleLearningItem,
    BundleModeratedGrade,
    BundleRecommendation,
    BundleReturn,
    BundleSecondGrade,
    BundleTheme,
    BundleVoice,
)
from schemas.learning import (
    ActionIn,
    ActionStatus,
    ActionUpdateIn,
    LearningFilter,
    LearningItemChange,
    LearningItemIn,
    LearningSource,
    LearningStatus,
    RecommendationIn,
    SharedHow,
    TaggedKind,
    ThemeIn,
)
from schemas.tools import ToolDefinition
from tests.conftest import cse_plan
from workbench.services import actions, agreement, audits, casework, learning, returns, themes
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
from workbench.store.models import Agency, Base, LearningItem, TransferRecord

TOOL = ToolRegistry.load().definition("cse")
AGENCIES = ("gp", "police", "school")

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)
)
names = st.text(alphabet="abcdefghij .-", min_size=1, max_size=12).filter(lambda s: s.strip() != "")


# Fixed definitions: hypothesis imports many bundles into one database, where a theme that is
# already there keeps its local definition, so a drawn label would not round-trip.
THEME_POOL = {
    t.code: t
    for t in (
        BundleTheme(code="hyp-neglect", label="Neglect"),
        BundleTheme(
            code="hyp-missing",
            label="Missing episodes",
            description="Going missing from home or care",
            keywords=("missing", "absent", "return home interview"),
        ),
        BundleTheme(code="hyp-retired", label="Old theme", active=False),
    )
}
theme_codes = st.lists(st.sampled_from(sorted(THEME_POOL)), unique=True).map(
    lambda codes: tuple(sorted(codes))
)
# Agencies beyond the audit's: an owner or affected agency new to the database is added.
WIDER_AGENCIES = (*AGENCIES, "hyp-probation")


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
            themes=draw(theme_codes),
        )
        for c in chosen
    )


@st.composite
def second_grades_for(draw: st.DrawFn, agency: str) -> tuple[BundleSecondGrade, ...]:
    criteria = [c.id for c in TOOL.tool.criteria_for(agency)]
    chosen = sorted(draw(st.sets(st.sampled_from(criteria), max_size=3)))
    return tuple(
        BundleSecondGrade(
            criterion_id=c,
            grade=draw(st.sampled_from(TOOL.scale.answer_keys)),
            graded_by=draw(names),
            graded_at=draw(moments),
        )
        for c in chosen
    )


@st.composite
def learning_items_for(
    draw: st.DrawFn, uid: str, cases: list[BundleCase]
) -> tuple[BundleLearningItem, ...]:
    keys = sorted(
        (case.reference, r.agency, f.criterion_id)
        for case in cases
        for r in case.returns
        for f in r.findings
    )
    evidence = st.lists(st.sampled_from(keys), unique=True) if keys else st.just([])
    return tuple(
        BundleLearningItem(
            # References from the uid: examples share a database, and a reused reference
            # would be renumbered on import (tested on its own below).
            reference=f"{uid}/{i}",
            raised_on=draw(st.dates()),
            source=draw(st.sampled_from(list(LearningSource))),
            learning=draw(text),
            evidence=draw(text),
            agencies=tuple(draw(st.lists(st.sampled_from(WIDER_AGENCIES), unique=True))),
            shared_how=tuple(draw(st.lists(st.sampled_from(list(SharedHow)), unique=True))),
            impact_evidence=draw(text),
            reaudit_on=draw(st.one_of(st.none(), st.dates())),
            status=draw(st.sampled_from(list(LearningStatus))),
            signed_off_by=draw(st.one_of(st.none(), names)),
            signed_off_on=draw(st.one_of(st.none(), st.dates())),
            created_at=draw(moments),
            created_by=draw(names),
            themes=draw(theme_codes),
            evidence_links=tuple(
                BundleEvidence(case_reference=c, agency=a, criterion_id=k)
                for c, a, k in sorted(draw(evidence))
            ),
        )
        for i in range(draw(st.integers(0, 2)))
    )


@st.composite
def plans_for(
    draw: st.DrawFn, items: tuple[BundleLearningItem, ...]
) -> tuple[tuple[BundleRecommendation, ...], tuple[BundleAction, ...]]:
    references = [item.reference for item in items]
    numbers = sorted(draw(st.sets(st.integers(1, 20), max_size=2)))
    recommendations = tuple(
        BundleRecommendation(
            number=n,
            text=draw(text),
            learning_items=tuple(
                sorted(draw(st.lists(st.sampled_from(references), unique=True)))
                if references
                else ()
            ),
        )
        for n in numbers
    )
    updates = st.lists(
        st.builds(BundleActionUpdate, on=st.dates(), text=text, by=names), max_size=2
    ).map(lambda us: tuple(sorted(us, key=lambda u: (u.on, u.text, u.by))))
    plan = [
        BundleAction(
            recommendation=draw(st.one_of(st.none(), st.sampled_from(numbers)))
            if numbers
            else None,
            description=draw(text),
            owner_name=draw(names),
            owner_agency=draw(st.sampled_from(WIDER_AGENCIES)),
            due_on=draw(st.dates()),
            status=draw(st.sampled_from(list(ActionStatus))),
            evidence_of_impact=draw(text),
            escalation_route=draw(text),
            created_at=draw(moments),
            created_by=draw(names),
            updates=draw(updates),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    plan.sort(key=lambda a: (a.due_on, a.description, a.owner_name, a.created_at))
    return recommendations, tuple(plan)


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    uid = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
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
                second_grades=draw(second_grades_for(a)),
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
                        themes=theme_codes,
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
                        themes=draw(theme_codes),
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
    items = draw(learning_items_for(uid, cases))
    recommendations, plan = draw(plans_for(items))
    used = {
        code
        for case in cases
        for tagged in (
            *(f for r in case.returns for f in r.findings),
            *case.voices,
            *case.moderated_grades,
        )
        for code in tagged.themes
    } | {code for item in items for code in item.themes}
    return Bundle(
        exported_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        tool=TOOL,
        audit=BundleAudit(
            uid=uid,
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
        themes=tuple(THEME_POOL[code] for code in sorted(used)),
        learning_items=items,
        recommendations=recommendations,
        actions=plan,
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


# --- what the audit led to: themes, second grades, learning, recommendations, actions ------

TODAY = dt.date(2026, 4, 1)
FIRST_CASE = "CSE-25-01"


def _ensure_themes(factory: sessionmaker[Session], actor: Actor) -> None:
    # The seeded vocabulary may grow or change: make sure the two codes used here exist.
    have = {t.code for t in themes.list_themes(factory)}
    for code, label in (
        ("voice-of-the-child", "Voice of the child"),
        ("information-sharing", "Information sharing"),
    ):
        if code not in have:
            themes.save_theme(factory, actor, ThemeIn(code=code, label=label, keywords=(label,)))


def _learning_audit(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, *, items: int = 1
) -> int:
    """The worked audit, tagged and double-graded, with learning items resting on its
    findings, a recommendation answering the first and two actions (one with an update)."""
    audit_id = _worked_audit(factory, actor, registry)
    _ensure_themes(factory, actor)
    case_id = audits.get_audit(factory, audit_id).cases[0].id
    rid = returns.find_return(factory, audit_id, FIRST_CASE, "police")
    first = returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(areas_for_development="Ask her"),
        expected_version=2,
    )
    second = returns.record_finding(
        factory,
        actor,
        rid,
        "cse-4.3",
        FindingChange(grade="inadequate", evidence="No disruption plan"),
        expected_version=None,
    )
    voice = casework.list_voices(factory, case_id)[0]
    moderated = casework.moderated_grades(factory, case_id)[0]
    themes.set_tags(
        factory, actor, TaggedKind.FINDING, first.id, ["voice-of-the-child", "information-sharing"]
    )
    themes.set_tags(factory, actor, TaggedKind.VOICE, voice.id, ["voice-of-the-child"])
    themes.set_tags(factory, actor, TaggedKind.MODERATION, moderated.id, ["information-sharing"])
    grader = Actor(name="s.second", agency="school")
    agreement.record_second_grade(factory, grader, rid, "cse-1.1", "requires_improvement")
    made = [
        learning.create_learning_item(
            factory,
            actor,
            LearningItemIn(
                raised_on=dt.date(2026, 3, 20 + n),
                source=LearningSource.CASE_AUDIT,
                learning=f"Information about missing episodes was not shared ({n + 1})",
                evidence="Two police findings",
                audit_id=audit_id,
                themes=("information-sharing",),
                agencies=("police", "youth-justice"),
                finding_ids=(first.id, second.id),
                reaudit_on=dt.date(2027, 3, 1),
            ),
        )
        for n in range(items)
    ]
    learning.update_learning_item(
        factory, actor, made[0].id, LearningItemChange(shared_how=(SharedHow.BRIEFING,))
    )
    learning.sign_off(factory, actor, made[0].id, dt.date(2026, 3, 30))
    rec = actions.add_recommendation(
        factory,
        actor,
        audit_id,
        RecommendationIn(
            text="Share missing episodes within 24 hours", learning_item_ids=(made[0].id,)
        ),
    )
    action = actions.add_action(
        factory,
        actor,
        ActionIn(
            description="Brief the missing-persons team",
            owner_name="D. Inspector",
            owner_agency="police",
            due_on=dt.date(2026, 6, 30),
            recommendation_id=rec.id,
            escalation_route="Partnership board",
        ),
        today=TODAY,
    )
    actions.update_action(
        factory,
        actor,
        action.id,
        ActionUpdateIn(
            on=dt.date(2026, 3, 31), text="Briefing booked", status=ActionStatus.ON_TRACK
        ),
        today=TODAY,
    )
    actions.add_action(
        factory,
        actor,
        ActionIn(
            description="Audit the return home interviews",
            owner_name="S. Lead",
            owner_agency="school",
            due_on=dt.date(2026, 5, 1),
            audit_id=audit_id,
        ),
        today=TODAY,
    )
    return audit_id


def _fresh_factory(path: Path) -> tuple[Engine, sessionmaker[Session]]:
    empty = make_engine(f"sqlite:///{path}")
    ensure_schema(empty, "empty", upgrade_if_needed=True)
    return empty, make_session_factory(empty)


def test_learning_and_actions_round_trip_into_an_empty_database(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, tmp_path: Path
) -> None:
    audit_id = _learning_audit(factory, actor, registry)
    first = bundle_json(export_bundle(factory, audit_id))
    data = json.loads(first)
    police = next(r for r in data["cases"][0]["returns"] if r["agency"] == "police")
    assert police["findings"][0]["themes"] == ["information-sharing", "voice-of-the-child"]
    assert police["second_grades"] == [
        {
            "criterion_id": "cse-1.1",
            "grade": "requires_improvement",
            "graded_by": "s.second",
            "graded_at": police["second_grades"][0]["graded_at"],
        }
    ]
    assert data["cases"][0]["voices"][0]["themes"] == ["voice-of-the-child"]
    assert data["cases"][0]["moderated_grades"][0]["themes"] == ["information-sharing"]
    assert [t["code"] for t in data["themes"]] == ["information-sharing", "voice-of-the-child"]
    [item] = data["learning_items"]
    assert item["reference"] == "LL-2026-001"
    assert item["status"] == "signed-off" and item["signed_off_on"] == "2026-03-30"
    assert item["evidence_links"] == [
        {"case_reference": FIRST_CASE, "agency": "police", "criterion_id": "cse-1.1"},
        {"case_reference": FIRST_CASE, "agency": "police", "criterion_id": "cse-4.3"},
    ]
    assert data["recommendations"] == [
        {
            "number": 1,
            "text": "Share missing episodes within 24 hours",
            "learning_items": ["LL-2026-001"],
        }
    ]
    assert [(a["due_on"], a["recommendation"]) for a in data["actions"]] == [
        ("2026-05-01", None),
        ("2026-06-30", 1),
    ]
    assert data["actions"][1]["updates"] == [
        {"on": "2026-03-31", "text": "Briefing booked", "by": actor.name}
    ]

    empty, other = _fresh_factory(tmp_path / "empty.db")
    try:
        imported = import_bundle(other, actor, parse_bundle(first.encode(), "b.json"), "b.json")
        second = bundle_json(export_bundle(other, imported.id))
        assert without_export_time(first) == without_export_time(second)
        # What the services read back, in the new database: evidence resolved to its findings.
        [copied] = learning.list_learning(other, LearningFilter(source=LearningSource.CASE_AUDIT))
        assert [(e.case_reference, e.criterion_id) for e in copied.evidence_links] == [
            (FIRST_CASE, "cse-1.1"),
            (FIRST_CASE, "cse-4.3"),
        ]
        plan = actions.list_actions(other, today=TODAY, audit_id=imported.id)
        assert {a.recommendation_number for a in plan} == {1, None}
    finally:
        empty.dispose()


def _without_new_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A bundle as written before learning, actions, themes and second grades travelled."""
    for key in ("themes", "learning_items", "recommendations", "actions"):
        del data[key]
    for case in data["cases"]:
        for ret in case["returns"]:
            del ret["second_grades"]
            for finding in ret["findings"]:
                del finding["themes"]
        for part in (*case["voices"], *case["moderated_grades"]):
            del part["themes"]
    return data


def test_an_old_bundle_without_the_new_keys_still_imports(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit_id = _learning_audit(factory, actor, registry)
    data = _without_new_keys(json.loads(bundle_json(export_bundle(factory, audit_id))))
    data["audit"]["uid"] = str(uuid.uuid4())
    assert data["format_version"] == 1
    imported = import_bundle(
        factory, actor, parse_bundle(json.dumps(data).encode(), "old.json"), "old.json"
    )
    again = json.loads(bundle_json(export_bundle(factory, imported.id)))
    assert again["learning_items"] == again["recommendations"] == again["actions"] == []
    assert again["themes"] == []
    assert without_export_time(json.dumps(_without_new_keys(again))) == without_export_time(
        json.dumps(data)
    )


def _police(data: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in data["cases"][0]["returns"] if r["agency"] == "police")


def _break(data: dict[str, Any], how: str) -> None:
    item = data["learning_items"][0]
    if how == "tag-not-in-themes":
        _police(data)["findings"][0]["themes"].append("not-a-theme")
    elif how == "voice-tag-not-in-themes":
        data["cases"][0]["voices"][0]["themes"] = ["not-a-theme"]
    elif how == "learning-theme-not-in-themes":
        item["themes"] = ["not-a-theme"]
    elif how == "second-grade-not-for-agency":
        _police(data)["second_grades"][0]["criterion_id"] = "cse-1.3"
    elif how == "second-grade-off-scale":
        _police(data)["second_grades"][0]["grade"] = "excellent"
    elif how == "evidence-without-finding":
        item["evidence_links"].append(
            {"case_reference": "CSE-25-02", "agency": "police", "criterion_id": "cse-2.1"}
        )
    elif how == "duplicate-recommendation-number":
        data["recommendations"].append(dict(data["recommendations"][0], text="Again"))
    elif how == "recommendation-unknown-item":
        data["recommendations"][0]["learning_items"] = ["LL-1999-001"]
    elif how == "action-unknown-recommendation":
        data["actions"][0]["recommendation"] = 9
    elif how == "duplicate-learning-reference":
        data["learning_items"].append(dict(item))
    elif how == "duplicate-theme-code":
        data["themes"].append(dict(data["themes"][0], label="Another label"))


POLICE_RETURN = f"cases[0] ({FIRST_CASE}).returns[1] (police)"


@pytest.mark.parametrize(
    ("how", "message"),
    [
        (
            "tag-not-in-themes",
            f"{POLICE_RETURN}.findings[0]: theme 'not-a-theme' is not among the bundle's themes",
        ),
        (
            "voice-tag-not-in-themes",
            f"cases[0] ({FIRST_CASE}).voices[0]: theme 'not-a-theme' is not among the bundle's "
            "themes",
        ),
        (
            "learning-theme-not-in-themes",
            "learning_items[0]: theme 'not-a-theme' is not among the bundle's themes",
        ),
        (
            "second-grade-not-for-agency",
            f"{POLICE_RETURN}.second_grades[0]: criterion 'cse-1.3' does not apply to 'police'",
        ),
        (
            "second-grade-off-scale",
            f"{POLICE_RETURN}.second_grades[0]: grade 'excellent' is not on scale ofsted-4",
        ),
        (
            "evidence-without-finding",
            "learning_items[0].evidence_links[2]: no finding for case CSE-25-02 / police / cse-2.1",
        ),
        ("duplicate-recommendation-number", "recommendations[1]: number 1 twice"),
        (
            "recommendation-unknown-item",
            "recommendations[0]: learning item 'LL-1999-001' is not in the bundle",
        ),
        (
            "action-unknown-recommendation",
            "actions[0]: no recommendation number 9 in the bundle",
        ),
        ("duplicate-learning-reference", "learning_items[1]: reference 'LL-2026-001' twice"),
        ("duplicate-theme-code", "themes[2]: theme 'information-sharing' twice"),
    ],
)
def test_inconsistent_learning_and_actions_are_refused_untouched(
    engine: Engine,
    factory: sessionmaker[Session],
    actor: Actor,
    registry: ToolRegistry,
    how: str,
    message: str,
) -> None:
    audit_id = _learning_audit(factory, actor, registry)
    data = json.loads(bundle_json(export_bundle(factory, audit_id)))
    data["audit"]["uid"] = str(uuid.uuid4())
    _break(data, how)
    before = _counts(engine)
    with pytest.raises(BundleFileError) as caught:
        import_bundle(
            factory, actor, parse_bundle(json.dumps(data).encode(), "bad.json"), "bad.json"
        )
    assert str(caught.value) == f"bad.json: {message}"
    assert _counts(engine) == before


def test_a_reused_learning_reference_is_renumbered_and_links_follow(
    engine: Engine, factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit_id = _learning_audit(factory, actor, registry, items=2)
    data = json.loads(bundle_json(export_bundle(factory, audit_id)))
    assert [i["reference"] for i in data["learning_items"]] == ["LL-2026-001", "LL-2026-002"]
    data["audit"]["uid"] = str(uuid.uuid4())
    imported = import_bundle(
        factory, actor, parse_bundle(json.dumps(data).encode(), "copy.json"), "copy.json"
    )

    again = json.loads(bundle_json(export_bundle(factory, imported.id)))
    # Past both the database's and the bundle's own references, in bundle order.
    assert [i["reference"] for i in again["learning_items"]] == ["LL-2026-003", "LL-2026-004"]
    assert again["recommendations"][0]["learning_items"] == ["LL-2026-003"]
    assert (
        again["learning_items"][0]["evidence_links"] == data["learning_items"][0]["evidence_links"]
    )
    for item in (*data["learning_items"], *again["learning_items"]):
        item.pop("reference")
    assert again["learning_items"] == data["learning_items"]
    with Session(engine) as session:
        detail = session.scalars(
            select(TransferRecord.detail).where(TransferRecord.kind == "bundle-import")
        ).one()
        stored = session.scalars(select(LearningItem.reference).order_by(LearningItem.reference))
        assert list(stored) == [f"LL-2026-00{n}" for n in range(1, 5)]
    assert "LL-2026-001 is now LL-2026-003" in detail
    assert "LL-2026-002 is now LL-2026-004" in detail


def test_owner_and_affected_agencies_new_to_the_database_are_added(
    engine: Engine, factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit_id = _learning_audit(factory, actor, registry)
    data = json.loads(bundle_json(export_bundle(factory, audit_id)))
    data["audit"]["uid"] = str(uuid.uuid4())
    data["actions"][0]["owner_agency"] = "probation-north"
    data["learning_items"][0]["agencies"].append("housing-trust")
    import_bundle(factory, actor, parse_bundle(json.dumps(data).encode(), "b.json"), "b.json")
    with Session(engine) as session:
        added = session.scalars(
            select(Agency.code).where(Agency.code.in_(["probation-north", "housing-trust"]))
        )
        assert sorted(added) == ["housing-trust", "probation-north"]
        detail = session.scalars(
            select(TransferRecord.detail).where(TransferRecord.kind == "bundle-import")
        ).one()
    assert "agencies added: housing-trust, probation-north" in detail


def test_a_theme_the_database_already_has_keeps_its_local_definition(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, tmp_path: Path
) -> None:
    audit_id = _learning_audit(factory, actor, registry)
    data = json.loads(bundle_json(export_bundle(factory, audit_id)))
    data["themes"][0]["label"] = "Renamed elsewhere"
    data["themes"].insert(0, {"code": "brand-new", "label": "Brand new", "keywords": ["new"]})
    _police(data)["findings"][0]["themes"].insert(0, "brand-new")
    data["audit"]["uid"] = str(uuid.uuid4())
    before = {t.code: t for t in themes.list_themes(factory)}
    imported = import_bundle(
        factory, actor, parse_bundle(json.dumps(data).encode(), "b.json"), "b.json"
    )
    after = {t.code: t for t in themes.list_themes(factory)}
    assert after["information-sharing"] == before["information-sharing"]
    assert after["brand-new"].label == "Brand new" and after["brand-new"].keywords == ("new",)
    again = json.loads(bundle_json(export_bundle(factory, imported.id)))
    assert _police(again)["findings"][0]["themes"] == [
        "brand-new",
        "information-sharing",
        "voice-of-the-child",
    ]
