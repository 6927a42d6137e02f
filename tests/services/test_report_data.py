"""The data behind the Word exports, against what the test seeded and counted by hand."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    AuditPlan,
    AuditStatus,
    CaseProfile,
    FindingChange,
    ModerationHeading,
    VoiceSource,
)
from schemas.learning import (
    ActionIn,
    ActionOut,
    ActionStatus,
    ActionUpdateIn,
    LearningFilter,
    LearningItemIn,
    LearningItemOut,
    LearningSource,
    RecommendationIn,
    RecommendationOut,
    TaggedKind,
)
from schemas.reports import (
    DEFAULT_MARKING,
    AuditReportData,
    CohortCase,
    Excerpt,
    GradeRow,
    ModeratedCase,
    ModeratedHeadingOut,
    Tally,
    VoiceQuote,
)
from schemas.tools import ToolKind
from tests.conftest import cohort
from workbench.services import actions, agreement, audits, casework, learning, returns, themes
from workbench.services.demo import load_demo
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.report_data import (
    audit_report_data,
    briefing_data,
    learning_log_data,
    subgroup_summary_data,
)

Factory = sessionmaker[Session]

TODAY = dt.date(2026, 1, 15)
CURRENT_DAY = dt.date(2025, 10, 1)
PREVIOUS_DAY = dt.date(2025, 4, 1)
AGENCIES = ("police", "school", "gp")
NAMES = {"police": "Police", "school": "Schools", "gp": "General practice (GP)"}
LEVELS = ("outstanding", "good", "requires_improvement", "inadequate")
FAVOURABLE = {"outstanding", "good"}
CURRENT_TITLE = "CSE audit, autumn"
SCOPE = "Four children open to services because of exploitation risk. Twelve-month look-back."

COHORT = (
    CaseProfile.model_validate(
        {
            "reference": "CSE-25-01",
            "level_of_need": "child-protection",
            "age_band": "11-15",
            "gender": "female",
            "ethnicity": "White British",
            "send": "none",
        }
    ),
    CaseProfile.model_validate(
        {
            "reference": "CSE-25-02",
            "level_of_need": "looked-after",
            "age_band": "16-17",
            "gender": "female",
            "ethnicity": "Mixed White and Black Caribbean",
            "send": "sen-support",
        }
    ),
    CaseProfile.model_validate(
        {
            "reference": "CSE-25-03",
            "level_of_need": "child-protection",
            "age_band": "11-15",
            "gender": "male",
            "ethnicity": "White British",
            "send": "ehcp",
        }
    ),
    CaseProfile.model_validate(
        {
            "reference": "CSE-25-04",
            "level_of_need": "early-help",
            "age_band": "5-10",
            "gender": "female",
            "ethnicity": "Asian British",
            "send": "none",
        }
    ),
)


class Seeded(NamedTuple):
    case: str
    agency: str
    criterion: str
    grade: str | None
    strengths: str
    areas: str


# What the current audit's returns say, written as an auditor might (stray spaces included).
FINDINGS = tuple(
    Seeded(*row)
    for row in (
        (
            "CSE-25-01",
            "police",
            "cse-1.1",
            "good",
            "  Quick referral after the first episode.  ",
            "",
        ),
        ("CSE-25-01", "police", "cse-2.1", "inadequate", "", "No screening tool was completed."),
        (
            "CSE-25-01",
            "school",
            "cse-1.3",
            "outstanding",
            "Absence treated as a risk indicator.",
            "",
        ),
        ("CSE-25-01", "school", "cse-1.1", "requires_improvement", "", "Concerns not escalated.\n"),
        ("CSE-25-01", "school", "cse-2.2", "outstanding", "Risk reviewed after each episode.", ""),
        ("CSE-25-01", "school", "cse-3.2", "outstanding", "Shared interview findings at once.", ""),
        ("CSE-25-01", "gp", "cse-1.2", "not_applicable", "", ""),
        ("CSE-25-02", "police", "cse-1.1", "not_evidenced", "", "   "),
        (
            "CSE-25-02",
            "gp",
            "cse-1.1",
            "good",
            "Named GP consulted the safeguarding lead.",
            "Follow-up not recorded.",
        ),
        ("CSE-25-02", "gp", "cse-5.1", "outstanding", "Saw the young person alone each time.", ""),
        ("CSE-25-03", "police", "cse-4.3", "requires_improvement", "", "Two days to respond."),
        ("CSE-25-03", "school", "cse-5.2", None, "", ""),
        ("CSE-25-03", "gp", "cse-2.1", "good", "Screening tool completed with evidence.", ""),
        (
            "CSE-25-03",
            "police",
            "cse-3.3",
            "good",
            "Strategy meeting after the second episode.",
            "",
        ),
    )
)
# Case 4's police return is answered "not applicable" throughout and submitted.
POLICE_CRITERIA = tuple(
    c.id for c in ToolRegistry.load().definition("cse").tool.criteria_for("police")
)
CSE = ToolRegistry.load().definition("cse")


@dataclass
class World:
    """What the seed made: audits, learning items, recommendations and actions by name."""

    current: AuditDetail
    previous: AuditDetail
    discussion: AuditDetail
    planned: AuditDetail
    later: AuditDetail
    items: dict[str, LearningItemOut] = field(default_factory=dict)
    recs: dict[str, RecommendationOut] = field(default_factory=dict)
    acts: dict[str, ActionOut] = field(default_factory=dict)

    def all_findings(self) -> list[Seeded]:
        return [
            *FINDINGS,
            *(Seeded("CSE-25-04", "police", c, "not_applicable", "", "") for c in POLICE_CRITERIA),
        ]


def _plan(title: str, day: dt.date | None, tool_id: str = "cse", **extra: object) -> AuditPlan:
    values: dict[str, object] = {
        "title": title,
        "tool_id": tool_id,
        "agencies": AGENCIES,
        "cases": cohort(2),
        "audit_day": day,
        "chair": "Chair",
    }
    return AuditPlan.model_validate(values | extra)


def _record(
    factory: Factory,
    actor: Actor,
    audit: AuditDetail,
    case: str,
    agency: str,
    criterion: str,
    grade: str | None,
    strengths: str = "",
    areas: str = "",
) -> int:
    rid = returns.find_return(factory, audit.id, case, agency)
    change = FindingChange(
        grade=grade,
        evidence="" if grade else "draft",
        strengths=strengths,
        areas_for_development=areas,
    )
    return returns.record_finding(factory, actor, rid, criterion, change, expected_version=None).id


def _discussion_registry() -> ToolRegistry:
    registry = ToolRegistry.load()
    tool = CSE.tool.model_copy(
        update={
            "id": "cse-discussion",
            "title": "CSE facilitated discussion",
            "kind": ToolKind.FACILITATED_DISCUSSION,
        }
    )
    registry.add_tool(tool, Path("cse-discussion.yaml"))
    return registry


def _action(
    factory: Factory,
    actor: Actor,
    description: str,
    due_on: dt.date,
    owner_agency: str = "police",
    **fields: object,
) -> ActionOut:
    values: dict[str, object] = {
        "description": description,
        "owner_name": "Owner " + description.split()[0],
        "owner_agency": owner_agency,
        "due_on": due_on,
    }
    return actions.add_action(factory, actor, ActionIn.model_validate(values | fields), today=TODAY)


def _complete(factory: Factory, actor: Actor, action: ActionOut, on: dt.date) -> ActionOut:
    update = ActionUpdateIn(
        on=on, text="Done.", status=ActionStatus.COMPLETE, evidence_of_impact="Dip sample."
    )
    return actions.update_action(factory, actor, action.id, update, today=TODAY)


def seed(factory: Factory, actor: Actor, registry: ToolRegistry) -> World:
    previous = audits.create_audit(
        factory, actor, registry, _plan("CSE audit, spring", PREVIOUS_DAY)
    )
    current = audits.create_audit(
        factory,
        actor,
        registry,
        _plan(CURRENT_TITLE, CURRENT_DAY, cases=COHORT, scope=SCOPE),
    )
    discussion = audits.create_audit(
        factory,
        actor,
        _discussion_registry(),
        _plan("CSE discussion", dt.date(2025, 11, 15), tool_id="cse-discussion"),
    )
    planned = audits.create_audit(
        factory, actor, registry, _plan("DA audit", dt.date(2026, 2, 10), "domestic-abuse")
    )
    later = audits.create_audit(
        factory,
        actor,
        registry,
        _plan("EHE audit", dt.date(2026, 5, 1), "early-help-exclusions"),
    )
    world = World(current, previous, discussion, planned, later)

    # Last time: cse-1.1 and cse-2.1 all favourable, cse-5.1 not, cse-4.3 not.
    for case, agency, criterion, level in (
        ("CSE-25-01", "police", "cse-1.1", "good"),
        ("CSE-25-01", "school", "cse-1.1", "good"),
        ("CSE-25-01", "police", "cse-2.1", "good"),
        ("CSE-25-02", "gp", "cse-5.1", "requires_improvement"),
    ):
        _record(factory, actor, previous, case, agency, criterion, level)
    before = _record(factory, actor, previous, "CSE-25-02", "police", "cse-4.3", "inadequate")
    themes.set_tags(factory, actor, TaggedKind.FINDING, before, ["missing-children"])

    ids = {}
    for f in FINDINGS:
        ids[f.case, f.agency, f.criterion] = _record(
            factory, actor, current, f.case, f.agency, f.criterion, f.grade, f.strengths, f.areas
        )
    for criterion in POLICE_CRITERIA:
        _record(factory, actor, current, "CSE-25-04", "police", criterion, "not_applicable")
    returns.submit_return(
        factory, actor, returns.find_return(factory, current.id, "CSE-25-04", "police")
    )
    themes.set_tags(
        factory,
        actor,
        TaggedKind.FINDING,
        ids["CSE-25-01", "police", "cse-2.1"],
        ["missing-children"],
    )
    themes.set_tags(
        factory,
        actor,
        TaggedKind.FINDING,
        ids["CSE-25-03", "police", "cse-4.3"],
        ["missing-children", "information-sharing"],
    )

    case_ids = {c.reference: c.id for c in current.cases}
    for ref, source, text in (
        ("CSE-25-02", VoiceSource.CHILD, "I only talked to the nurse."),
        ("CSE-25-01", VoiceSource.PRACTITIONER, "  We were worried for months.  "),
        ("CSE-25-01", VoiceSource.CHILD, "Nobody asked me."),
    ):
        voice = casework.add_voice(factory, actor, case_ids[ref], source, text)
        if source is VoiceSource.CHILD and ref == "CSE-25-01":
            themes.set_tags(factory, actor, TaggedKind.VOICE, voice.id, ["missing-children"])
    for ref, heading, grade, reasons in (
        ("CSE-25-01", ModerationHeading.RECOGNITION, "good", "Indicators seen."),
        (
            "CSE-25-01",
            ModerationHeading.OVERALL,
            "requires_improvement",
            "  Police and school missed early signs.  ",
        ),
        ("CSE-25-04", ModerationHeading.OVERALL, None, "Not enough recorded to grade."),
    ):
        casework.set_moderated_grade(
            factory,
            actor,
            case_ids[ref],
            heading,
            grade=grade,
            reasons=reasons,
            expected_version=None,
        )
    police_01 = returns.find_return(factory, current.id, "CSE-25-01", "police")
    agreement.record_second_grade(factory, actor, police_01, "cse-1.1", "good")
    agreement.record_second_grade(factory, actor, police_01, "cse-2.1", "requires_improvement")
    casework.raise_concern(
        factory,
        actor,
        case_ids["CSE-25-02"],
        concern="Still going missing.",
        who_told="Team manager",
        told_at=dt.datetime(2025, 10, 1, 15, tzinfo=dt.UTC),
    )
    closed = casework.raise_concern(
        factory,
        actor,
        case_ids["CSE-25-03"],
        concern="Sibling at risk.",
        who_told="Team manager",
        told_at=dt.datetime(2025, 10, 1, 16, tzinfo=dt.UTC),
    )
    casework.close_concern(factory, actor, closed.id, "Strategy meeting held.")

    def item(name: str, raised_on: dt.date, **fields: object) -> None:
        values: dict[str, object] = {
            "raised_on": raised_on,
            "source": LearningSource.CASE_AUDIT,
            "learning": f"Learning {name}.",
        }
        made = learning.create_learning_item(
            factory, actor, LearningItemIn.model_validate(values | fields)
        )
        world.items[name] = made

    item(
        "A",
        dt.date(2025, 10, 5),
        audit_id=current.id,
        themes=("missing-children",),
        agencies=("school", "police"),
        finding_ids=(ids["CSE-25-01", "police", "cse-2.1"],),
    )
    item("B", dt.date(2025, 10, 3), audit_id=current.id, agencies=("gp",))
    item("C", dt.date(2025, 4, 5), audit_id=previous.id)
    item(
        "D",
        dt.date(2025, 12, 1),
        source=LearningSource.CASE_REVIEW,
        themes=("information-sharing",),
        agencies=("school",),
    )
    a, b, c = world.items["A"].id, world.items["B"].id, world.items["C"].id
    for name, audit, text, linked in (
        ("R1", current, "Screen every child after a missing episode.", (a,)),
        ("R2", current, "Tell schools about missing episodes.", (a, b)),
        ("P1", previous, "Offer return home interviews.", (c,)),
    ):
        world.recs[name] = actions.add_recommendation(
            factory, actor, audit.id, RecommendationIn(text=text, learning_item_ids=linked)
        )
    acts = world.acts
    acts["a1"] = _action(
        factory,
        actor,
        "Screen children",
        dt.date(2025, 12, 1),
        recommendation_id=world.recs["R1"].id,
        escalation_route="MASH board",
    )
    acts["a2"] = _action(
        factory,
        actor,
        "Brief schools",
        dt.date(2026, 3, 1),
        "school",
        recommendation_id=world.recs["R2"].id,
    )
    acts["a3"] = _action(
        factory,
        actor,
        "Write protocol",
        dt.date(2025, 11, 1),
        recommendation_id=world.recs["R2"].id,
    )
    acts["a3"] = _complete(factory, actor, acts["a3"], dt.date(2025, 11, 20))
    acts["a4"] = _action(
        factory, actor, "Audit strategy meetings", dt.date(2026, 1, 10), audit_id=current.id
    )
    acts["a5"] = _action(
        factory,
        actor,
        "Commission interviews",
        dt.date(2025, 6, 1),
        "gp",
        recommendation_id=world.recs["P1"].id,
    )
    acts["a5"] = _complete(factory, actor, acts["a5"], dt.date(2025, 5, 20))
    acts["a6"] = _action(factory, actor, "Share review learning", dt.date(2026, 2, 1), "school")

    # Refresh the actions as today sees them (overdue is worked out on reading).
    for name, act in list(acts.items()):
        acts[name] = actions.get_action(factory, act.id, today=TODAY)
    for name, one in list(world.items.items()):
        world.items[name] = learning.get_learning_item(factory, one.id)

    # The facilitated discussion found one thing to improve and recommended nothing.
    _record(
        factory,
        actor,
        discussion,
        "CSE-25-01",
        "police",
        "cse-1.1",
        "inadequate",
        "",
        "Response was slow.",
    )
    audits.set_status(factory, actor, current.id, AuditStatus.REPORTING)
    audits.set_status(factory, actor, previous.id, AuditStatus.CLOSED)
    audits.set_status(factory, actor, discussion.id, AuditStatus.CLOSED)
    audits.set_status(factory, actor, later.id, AuditStatus.RETURNS)
    return world


@pytest.fixture
def world(factory: Factory, actor: Actor, registry: ToolRegistry) -> World:
    return seed(factory, actor, registry)


def _report(factory: Factory, world: World, **extra: str) -> AuditReportData:
    values = {"author": "Audit panel chair", "marking": "OFFICIAL-SENSITIVE"} | extra
    return audit_report_data(factory, world.current.id, today=TODAY, **values)


# --- the audit report -------------------------------------------------------------------------


def test_report_cover_audit_and_purpose(factory: Factory, world: World) -> None:
    data = _report(factory, world, prepared_for="Subgroup", partnership="Northshire SCP")
    meta = data.meta
    assert meta.title == CURRENT_TITLE
    assert meta.subtitle == "Multi-agency case file audit report"
    assert (meta.author, meta.prepared_for, meta.partnership) == (
        "Audit panel chair",
        "Subgroup",
        "Northshire SCP",
    )
    assert meta.protective_marking == "OFFICIAL-SENSITIVE"
    assert meta.created == dt.datetime(2026, 1, 15, tzinfo=dt.UTC)
    assert meta.subject == CSE.tool.theme
    blank = audit_report_data(factory, world.current.id, author="x", today=TODAY, marking=" ")
    assert blank.meta.protective_marking == DEFAULT_MARKING

    info = data.audit
    assert (info.title, info.tool_title, info.tool_version, info.theme) == (
        CURRENT_TITLE,
        CSE.tool.title,
        1,
        CSE.tool.theme,
    )
    assert (info.status, info.scope, info.audit_day, info.chair) == (
        "Reporting",
        SCOPE,
        CURRENT_DAY,
        "Chair",
    )
    assert info.look_back == "12 months to 1 Oct 2025"
    assert info.agencies == ("General practice (GP)", "Police", "Schools")
    assert data.purpose.startswith("This audit tests how well agencies recognised")
    assert CSE.tool.title in data.purpose and SCOPE in data.purpose
    assert "4 cases and 3 agencies" in data.purpose

    assert data.scale.id == "ofsted-4"
    assert tuple(level.key for level in data.scale.levels) == LEVELS
    assert data.scale.favourable == ("outstanding", "good")
    assert data.scale.favourable_label == "Good or better"


def test_report_cohort_and_appendix(factory: Factory, world: World) -> None:
    data = _report(factory, world)
    cohort_ = data.cohort
    assert cohort_.cases == 4
    assert cohort_.by_level_of_need == (
        Tally(label="Early help", count=1),
        Tally(label="Child protection", count=2),
        Tally(label="Looked after", count=1),
    )
    assert cohort_.by_age_band == (
        Tally(label="5-10 years", count=1),
        Tally(label="11-15 years", count=2),
        Tally(label="16-17 years", count=1),
    )
    assert cohort_.by_gender == (Tally(label="Female", count=3), Tally(label="Male", count=1))
    assert cohort_.by_ethnicity == (
        Tally(label="White British", count=2),
        Tally(label="Asian British", count=1),
        Tally(label="Mixed White and Black Caribbean", count=1),
    )
    assert cohort_.by_send == (
        Tally(label="No SEND", count=2),
        Tally(label="SEN support", count=1),
        Tally(label="EHC plan", count=1),
    )
    assert cohort_.agencies == ("General practice (GP)", "Police", "Schools")

    def row(ref: str, level: str, age: str, gender: str, eth: str, send: str) -> CohortCase:
        # Only case 4's police return was submitted.
        agencies = ("Police",) if ref == "CSE-25-04" else ()
        return CohortCase(
            reference=ref,
            level_of_need=level,
            age_band=age,
            gender=gender,
            ethnicity=eth,
            send=send,
            agencies=agencies,
        )

    assert data.cohort_cases == (
        row("CSE-25-01", "Child protection", "11-15 years", "Female", "White British", "No SEND"),
        row(
            "CSE-25-02",
            "Looked after",
            "16-17 years",
            "Female",
            "Mixed White and Black Caribbean",
            "SEN support",
        ),
        row("CSE-25-03", "Child protection", "11-15 years", "Male", "White British", "EHC plan"),
        row("CSE-25-04", "Early help", "5-10 years", "Female", "Asian British", "No SEND"),
    )


def test_report_grade_distribution(factory: Factory, world: World) -> None:
    data = _report(factory, world)
    per_agency: dict[str, Counter[str]] = {code: Counter() for code in AGENCIES}
    for f in world.all_findings():
        if f.grade is not None:
            per_agency[f.agency][f.grade] += 1
    overall = sum(per_agency.values(), Counter())

    def row(label: str, counts: Counter[str]) -> GradeRow:
        return GradeRow(
            label=label,
            counts=tuple(counts[level] for level in LEVELS),
            not_applicable=counts["not_applicable"],
            not_evidenced=counts["not_evidenced"],
        )

    assert data.by_agency == tuple(
        row(NAMES[code], per_agency[code]) for code in sorted(AGENCIES, key=NAMES.__getitem__)
    )
    assert data.overall == row("All agencies", overall)
    # By hand: police good twice, inadequate, RI, NE, and NA throughout case 4.
    police = next(r for r in data.by_agency if r.label == "Police")
    assert police.counts == (0, 2, 1, 1)
    assert (police.not_applicable, police.not_evidenced) == (len(POLICE_CRITERIA), 1)
    assert data.overall.counts == (4, 4, 2, 1) and data.overall.graded == 11


def test_report_moderated_grades_keep_each_agencys_own(factory: Factory, world: World) -> None:
    data = _report(factory, world)
    gp, police, school = "General practice (GP)", "Police", "Schools"
    good, ri, inad, none = "Good", "Requires improvement to be good", "Inadequate", "Not graded"
    best = "Outstanding"

    def heading(
        title: str, grades: tuple[str, str, str], grade: str | None = None, reasons: str = ""
    ) -> ModeratedHeadingOut:
        return ModeratedHeadingOut(
            heading=title,
            agency_grades=((gp, grades[0]), (police, grades[1]), (school, grades[2])),
            grade=grade,
            reasons=reasons,
        )

    # Agencies' heading grades are medians of their findings, an even split taking the worse.
    assert data.moderated == (
        ModeratedCase(
            reference="CSE-25-01",
            level_of_need="Child protection",
            headings=(
                heading("Recognition of need and risk", (none, good, ri), good, "Indicators seen."),
                heading("Assessment", (none, inad, best)),
                heading("Planning and intervention", (none, none, best)),
                heading("Overall", (none, inad, best), ri, "Police and school missed early signs."),
            ),
        ),
        ModeratedCase(
            reference="CSE-25-02",
            level_of_need="Looked after",
            headings=(
                heading("Recognition of need and risk", (good, none, none)),
                heading("Voice of the child", (best, none, none)),
                heading("Overall", (good, none, none)),
            ),
        ),
        ModeratedCase(
            reference="CSE-25-03",
            level_of_need="Child protection",
            headings=(
                heading("Assessment", (good, none, none)),
                heading("Planning and intervention", (none, good, none)),
                heading("Joint working and information sharing", (none, ri, none)),
                heading("Overall", (good, ri, none)),
            ),
        ),
        ModeratedCase(
            reference="CSE-25-04",
            level_of_need="Early help",
            headings=(
                heading("Overall", (none, none, none), None, "Not enough recorded to grade."),
            ),
        ),
    )


def test_report_strengths_and_areas_by_section(factory: Factory, world: World) -> None:
    data = _report(factory, world)
    position = {c.id: i for i, c in enumerate(CSE.tool.criteria)}
    ordered = sorted(
        FINDINGS, key=lambda f: (position[f.criterion], f.case, NAMES[f.agency].casefold())
    )

    def excerpts(section_ids: set[str], column: str) -> tuple[Excerpt, ...]:
        return tuple(
            Excerpt(
                case_reference=f.case,
                agency=NAMES[f.agency],
                criterion_id=f.criterion,
                text=getattr(f, column).strip(),
            )
            for f in ordered
            if f.criterion in section_ids and getattr(f, column).strip()
        )

    assert [s.title for s in data.sections] == [s.title for s in CSE.tool.sections]
    for shown, section in zip(data.sections, CSE.tool.sections, strict=True):
        ids = {c.id for c in section.criteria}
        assert shown.strengths == excerpts(ids, "strengths")
        assert shown.areas_for_development == excerpts(ids, "areas")
    recognition = data.sections[0]
    assert recognition.strengths == (
        Excerpt(
            case_reference="CSE-25-01",
            agency="Police",
            criterion_id="cse-1.1",
            text="Quick referral after the first episode.",
        ),
        Excerpt(
            case_reference="CSE-25-02",
            agency="General practice (GP)",
            criterion_id="cse-1.1",
            text="Named GP consulted the safeguarding lead.",
        ),
        Excerpt(
            case_reference="CSE-25-01",
            agency="Schools",
            criterion_id="cse-1.3",
            text="Absence treated as a risk indicator.",
        ),
    )
    # Whitespace-only text is not an area for development.
    assert [e.text for e in recognition.areas_for_development] == [
        "Concerns not escalated.",
        "Follow-up not recorded.",
    ]


def test_report_themes_comparison_voices_and_agreement(factory: Factory, world: World) -> None:
    data = _report(factory, world)
    assert [(t.code, t.cases, t.agencies, t.findings, t.voices) for t in data.themes] == [
        ("missing-children", 2, 1, 2, 1),
        ("information-sharing", 1, 1, 1, 0),
    ]
    comparison = data.comparison
    assert comparison.previous_audit_id == world.previous.id
    changes = {c.criterion_id: c.change for c in comparison.criteria}
    assert (changes["cse-1.1"], changes["cse-2.1"], changes["cse-5.1"]) == (
        "declined",
        "declined",
        "improved",
    )
    assert (changes["cse-4.3"], changes["cse-1.3"]) == ("unchanged", "not comparable")
    assert {(t.code, t.cases_now, t.cases_before) for t in comparison.themes} == {
        ("missing-children", 2, 1),
        ("information-sharing", 1, 0),
    }

    assert data.voices == (
        VoiceQuote(case_reference="CSE-25-01", source="Child", text="Nobody asked me."),
        VoiceQuote(
            case_reference="CSE-25-01", source="Practitioner", text="We were worried for months."
        ),
        VoiceQuote(case_reference="CSE-25-02", source="Child", text="I only talked to the nurse."),
    )

    double, moderated = data.agreement
    assert (double.comparison, moderated.comparison) == ("double-grading", "agency-vs-moderated")
    assert double.overall is not None and moderated.overall is not None
    # Second grades: good = good, requires improvement != inadequate.
    assert (double.overall.pairs, double.overall.agreed) == (2, 1)
    # Case 1, recognition (good) and overall (RI) against police (good, inadequate), school
    # (RI, outstanding) and an ungraded GP.
    assert (moderated.overall.pairs, moderated.overall.agreed) == (4, 1)
    assert moderated.overall.unanswered == 2


def test_report_learning_recommendations_and_actions(factory: Factory, world: World) -> None:
    data = _report(factory, world)
    assert [i.id for i in data.learning] == [world.items["B"].id, world.items["A"].id]
    assert data.recommendations == (world.recs["R1"], world.recs["R2"])
    # Overdue first, most overdue at the top; then open by due date; then complete.
    acts = world.acts
    assert [a.id for a in data.actions] == [acts[n].id for n in ("a1", "a4", "a2", "a3")]
    assert [a.days_overdue for a in data.actions[:2]] == [45, 5]
    assert data.actions[0].escalation_route == "MASH board"
    assert dict(data.agency_names) == {
        "gp": "General practice (GP)",
        "police": "Police",
        "school": "Schools",
    }
    assert dict(data.theme_labels).keys() == {"missing-children", "information-sharing"}


# --- the briefing ------------------------------------------------------------------------------


def test_briefing(factory: Factory, world: World) -> None:
    data = briefing_data(factory, world.current.id, author="Chair", today=TODAY, marking="OFFICIAL")
    assert data.meta.title == f"Lessons learnt: {CURRENT_TITLE}"
    assert data.meta.protective_marking == "OFFICIAL"
    assert data.audit_title == CURRENT_TITLE
    assert data.why_it_matters == (
        "This audit tests how well agencies recognised, assessed and responded to the risk of "
        "child sexual exploitation for one child, including the links between exploitation, "
        "missing episodes and absence from school. Four children open to services because of "
        "exploitation risk."
    )

    found = data.what_we_found
    assert 3 <= len(found) <= 5
    graded = [f.grade for f in world.all_findings() if f.grade in LEVELS]
    favourable = sum(1 for g in graded if g in FAVOURABLE)
    assert found[0] == (
        f"We audited 4 cases with 3 agencies: {len(graded)} findings were graded on the "
        "Ofsted four-point scale."
    )
    assert found[1] == (
        f"{favourable / len(graded):.0%} of graded findings ({favourable} of {len(graded)}) "
        "were good or better."
    )
    assert found[2] == "Missing children recurred in 2 of 4 cases, across 1 agency."
    assert found[3].startswith("Information sharing recurred in 1 of 4 cases")
    assert found[4].startswith(
        "Since the previous audit (CSE audit, spring), 1 criterion improved and 2 declined"
    )

    # The best-graded strengths, one per criterion, from other agencies and cases first: the
    # school's third outstanding finding in case 1 gives way to the police in case 3.
    assert data.what_good_looks_like == (
        "Absence treated as a risk indicator. \u2014 Schools, case CSE-25-01",
        "Risk reviewed after each episode. \u2014 Schools, case CSE-25-01",
        "Saw the young person alone each time. \u2014 General practice (GP), case CSE-25-02",
        "Strategy meeting after the second episode. \u2014 Police, case CSE-25-03",
    )
    assert data.what_to_do_differently == (
        "Screen every child after a missing episode.",
        "Tell schools about missing episodes.",
    )

    # Worst first: cse-4.3 (0 of 1 favourable), cse-2.1 (1 of 2), cse-1.1 (2 of 3).
    def asked(criterion_id: str) -> str:
        question = " ".join(CSE.tool.criterion(criterion_id).question.split())
        return "In your own cases: " + question[0].lower() + question[1:]

    assert data.questions_for_reflection == (asked("cse-4.3"), asked("cse-2.1"), asked("cse-1.1"))
    refs = f"{world.items['B'].reference}, {world.items['A'].reference}"
    assert data.where_to_find_more == (
        f"The full audit report: {CURRENT_TITLE} (multi-agency case file audit report)",
        f"Learning log: {refs}",
        f"The audit tool: {CSE.tool.title}, version 1",
    )


def test_briefing_without_recommendations_uses_areas_for_development(
    factory: Factory, world: World
) -> None:
    data = briefing_data(factory, world.previous.id, author="x", today=TODAY, marking="")
    # The previous audit has a recommendation; an audit without any falls back to areas.
    assert data.what_to_do_differently == ("Offer return home interviews.",)
    empty = briefing_data(factory, world.planned.id, author="x", today=TODAY, marking="")
    assert empty.what_we_found[1] == "No finding has been graded yet."
    assert len(empty.what_we_found) == 3
    assert empty.what_good_looks_like == () and empty.what_to_do_differently == ()
    assert len(empty.questions_for_reflection) == 3

    with_areas = briefing_data(factory, world.discussion.id, author="x", today=TODAY, marking="")
    assert with_areas.what_to_do_differently == (
        "Response was slow. \u2014 Police, case CSE-25-01",
    )


# --- the learning log ---------------------------------------------------------------------------


def test_learning_log_links_recommendations_and_actions(factory: Factory, world: World) -> None:
    data = learning_log_data(factory, author="Subgroup chair", today=TODAY, marking="OFFICIAL")
    items, recs, acts = world.items, world.recs, world.acts
    assert [e.item.id for e in data.entries] == [items[n].id for n in ("D", "A", "B", "C")]
    assert data.description == "the whole learning log (4 items)"
    by_name = {n: next(e for e in data.entries if e.item.id == items[n].id) for n in items}
    a = by_name["A"]
    assert a.theme_labels == ("Missing children",)
    assert a.agency_names == ("Police", "Schools")
    assert a.recommendations == (recs["R1"], recs["R2"])
    assert [x.id for x in a.actions] == [acts[n].id for n in ("a1", "a2", "a3")]
    assert [r.id for r in by_name["B"].recommendations] == [recs["R2"].id]
    assert [x.id for x in by_name["B"].actions] == [acts[n].id for n in ("a2", "a3")]
    assert by_name["C"].recommendations == (recs["P1"],)
    assert [x.id for x in by_name["C"].actions] == [acts["a5"].id]
    assert by_name["D"].recommendations == () and by_name["D"].actions == ()
    assert by_name["D"].theme_labels == ("Information sharing",)
    assert dict(data.agency_names) == {
        "gp": "General practice (GP)",
        "police": "Police",
        "school": "Schools",
    }

    picked = learning_log_data(
        factory,
        LearningFilter(theme="missing-children"),
        None,
        author="x",
        today=TODAY,
        marking="",
    )
    assert [e.item.id for e in picked.entries] == [items["A"].id]
    assert picked.description == "theme: Missing children (1 item)"

    chosen = learning_log_data(
        factory, None, [items["A"].id, items["D"].id], author="x", today=TODAY, marking=""
    )
    assert [e.item.id for e in chosen.entries] == [items["D"].id, items["A"].id]
    refs = sorted((items["A"].reference, items["D"].reference))
    assert chosen.description == f"items: {refs[0]}, {refs[1]} (2 items)"
    both = learning_log_data(
        factory,
        LearningFilter(agency="school", source=LearningSource.CASE_REVIEW),
        [items["A"].id, items["D"].id],
        author="x",
        today=TODAY,
        marking="",
    )
    assert [e.item.id for e in both.entries] == [items["D"].id]
    assert both.description.startswith("agency: Schools; source: Case review; items: ")
    with pytest.raises(NotFoundError, match="98765"):
        learning_log_data(factory, None, [98765], author="x", today=TODAY, marking="")


# --- the subgroup summary -----------------------------------------------------------------------


def test_subgroup_summary(factory: Factory, world: World) -> None:
    start, end = dt.date(2025, 7, 1), dt.date(2025, 12, 31)
    data = subgroup_summary_data(factory, start, end, author="x", today=TODAY, marking="")
    assert (data.period_start, data.period_end) == (start, end)
    assert data.meta.subtitle == "1 July 2025 to 31 December 2025"

    assert [a.title for a in data.audits] == [CURRENT_TITLE]
    done = data.audits[0]
    graded = [f.grade for f in world.all_findings() if f.grade in LEVELS]
    assert (done.kind, done.status, done.cases, done.agencies) == (
        "Multi-agency audit",
        "Reporting",
        4,
        3,
    )
    assert done.audit_day == CURRENT_DAY and done.tool_title == CSE.tool.title
    assert done.favourable_share == pytest.approx(
        sum(g in FAVOURABLE for g in graded) / len(graded)
    )
    assert done.favourable_label == "Good or better"
    assert done.top_themes == (
        "Missing children (2 of 4 cases)",
        "Information sharing (1 of 4 cases)",
    )
    assert done.recommendations == (world.recs["R1"].text, world.recs["R2"].text)

    assert [a.title for a in data.facilitated_discussions] == ["CSE discussion"]
    assert data.facilitated_discussions[0].kind == "Facilitated discussion"
    assert data.facilitated_discussions[0].favourable_share == 0.0

    items = world.items
    assert [i.id for i in data.learning] == [items[n].id for n in ("B", "A", "D")]
    acts = world.acts
    # Open actions, and the one completed in the period (not the one completed in May).
    assert [a.id for a in data.actions] == [acts[n].id for n in ("a1", "a4", "a6", "a2", "a3")]
    assert [(p.title, p.status) for p in data.forward_plan] == [
        ("DA audit", "Planning"),
        ("EHE audit", "Agency returns"),
    ]

    board = data.for_the_board
    assert board[0].startswith("Overdue by 45 days: Screen children (Action: Owner Screen, Police)")
    assert board[0].endswith("escalation route: MASH board.")
    assert board[1].startswith("Overdue by 5 days: Audit strategy meetings")
    assert board[1].endswith("escalation route: none recorded.")
    assert board[2].startswith("1 immediate concern still open")
    assert board[3].startswith(f"{CURRENT_TITLE}: cse-1.1 declined from 100% to 67% good or better")
    assert board[4].startswith(f"{CURRENT_TITLE}: cse-2.1 declined from 100% to 50% good or better")
    assert len(board) == 5

    with pytest.raises(InvalidRequestError, match="ends before it starts"):
        subgroup_summary_data(factory, end, start, author="x", today=TODAY, marking="")


def test_unknown_audit_is_not_found(factory: Factory) -> None:
    with pytest.raises(NotFoundError):
        audit_report_data(factory, 98765, author="x", today=TODAY, marking="")
    with pytest.raises(NotFoundError):
        briefing_data(factory, 98765, author="x", today=TODAY, marking="")


# --- the demo partnership -----------------------------------------------------------------------

DEMO_TODAY = dt.date(2026, 3, 16)
IDENTIFIERS = {
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.\w"),
    "NHS number": re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"),
    "numeric date (a date of birth would be one)": re.compile(
        r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
    ),
    "date of birth cue": re.compile(r"\b(?:DOB|D\.O\.B|date of birth|born)\b", re.IGNORECASE),
}


def _texts(value: object, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, tuple | list):
        for i, part in enumerate(value):
            yield from _texts(part, f"{where}[{i}]")


def test_demo_data_is_complete_and_has_no_identifiers(
    factory: Factory, registry: ToolRegistry
) -> None:
    details = load_demo(factory, registry, today=DEMO_TODAY)
    documents: list[BaseModel] = []
    for detail in details:
        report = audit_report_data(factory, detail.id, author="x", today=DEMO_TODAY, marking="")
        briefing = briefing_data(factory, detail.id, author="x", today=DEMO_TODAY, marking="")
        documents += [report, briefing]
        assert report.cohort.cases == len(detail.cases) >= 4
        assert len(report.cohort_cases) == len(detail.cases)
        assert report.overall.graded > 0
        assert len(report.by_agency) == len(detail.agencies)
        assert any(s.strengths for s in report.sections)
        assert any(s.areas_for_development for s in report.sections)
        assert 3 <= len(briefing.what_we_found) <= 5
        assert 2 <= len(briefing.what_good_looks_like) <= 4
        assert briefing.what_to_do_differently
        assert len(briefing.questions_for_reflection) == 3
        if detail.status in (AuditStatus.MODERATION, AuditStatus.REPORTING, AuditStatus.CLOSED):
            assert any(h.grade for case in report.moderated for h in case.headings)
            assert report.themes and report.voices
            assert report.recommendations and report.actions and report.learning
    reported = [d for d in details if d.tool_id == "cse"]
    latest = audit_report_data(factory, reported[-1].id, author="x", today=DEMO_TODAY, marking="")
    assert latest.comparison.previous_audit_id == reported[0].id
    assert latest.agreement[0].overall is not None and latest.agreement[1].overall is not None

    log = learning_log_data(factory, author="x", today=DEMO_TODAY, marking="")
    assert len(log.entries) >= 4
    assert any(e.recommendations and e.actions for e in log.entries)
    summary = subgroup_summary_data(
        factory,
        DEMO_TODAY - dt.timedelta(days=182),
        DEMO_TODAY,
        author="x",
        today=DEMO_TODAY,
        marking="",
    )
    assert summary.audits and summary.learning and summary.actions
    assert summary.forward_plan and summary.for_the_board
    documents += [log, summary]

    for document in documents:
        for where, text in _texts(document):
            for what, pattern in IDENTIFIERS.items():
                assert not pattern.search(text), f"{what} at {where}: {text!r}"
