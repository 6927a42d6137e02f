"""Theme x agency x grade, recurring themes and the previous audit, against hand counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    AuditPlan,
    FindingChange,
    ModerationHeading,
    VoiceSource,
)
from schemas.learning import TaggedKind, ThemeGridCell
from tests.conftest import cohort, cse_plan
from workbench.services import audits, casework, returns
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.theme_analysis import (
    compare_with_previous,
    recurring_themes,
    theme_grid,
)
from workbench.services.themes import list_themes, set_tags
from workbench.store.history import ACTOR_KEY
from workbench.store.models import (
    AgencyReturn,
    Case,
    Finding,
    FindingTheme,
    ModeratedGrade,
    ModerationTheme,
    Theme,
    Voice,
    VoiceTheme,
)

TOOL = ToolRegistry.load().definition("cse")
FAVOURABLE = {"outstanding", "good"}  # the better half of the Ofsted four-point scale


def plan(title: str, day: dt.date | None, tool_id: str = "cse", **extra: object) -> AuditPlan:
    return AuditPlan(
        title=title,
        tool_id=tool_id,
        agencies=("police", "school", "gp"),
        cases=cohort(3),
        audit_day=day,
        chair="Chair",
        **extra,
    )


def record(
    factory: sessionmaker[Session],
    actor: Actor,
    audit: AuditDetail,
    case: str,
    agency: str,
    criterion: str,
    grade: str | None,
    themes: Iterable[str] = (),
) -> int:
    rid = returns.find_return(factory, audit.id, case, agency)
    change = FindingChange(grade=grade) if grade else FindingChange(evidence="not graded yet")
    fid = returns.record_finding(factory, actor, rid, criterion, change, expected_version=None).id
    if themes:
        set_tags(factory, actor, TaggedKind.FINDING, fid, themes)
    return fid


def grid_counts(cells: Iterable[ThemeGridCell]) -> dict[tuple[str, str, str | None], int]:
    return {(c.theme, c.agency, c.grade): c.count for c in cells}


# --- theme x agency x grade -------------------------------------------------------------------


def test_theme_grid_for_one_audit(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit = audits.create_audit(factory, actor, registry, cse_plan())
    other = audits.create_audit(factory, actor, registry, cse_plan())
    record(factory, actor, audit, "CSE-25-01", "police", "cse-1.1", "good", ["neglect"])
    record(factory, actor, audit, "CSE-25-02", "police", "cse-1.1", "good", ["neglect"])
    record(
        factory,
        actor,
        audit,
        "CSE-25-01",
        "school",
        "cse-1.3",
        "inadequate",
        ["neglect", "housing"],
    )
    record(factory, actor, audit, "CSE-25-03", "police", "cse-2.1", None, ["neglect"])
    record(factory, actor, audit, "CSE-25-03", "gp", "cse-2.1", "not_evidenced", ["housing"])
    record(factory, actor, audit, "CSE-25-03", "gp", "cse-2.2", "good")  # untagged: not counted
    # A voice's theme is not a finding's: the grid counts tagged findings only.
    voice = casework.add_voice(factory, actor, audit.cases[0].id, VoiceSource.CHILD, "x")
    set_tags(factory, actor, TaggedKind.VOICE, voice.id, ["neglect"])
    # Another audit's findings stay out of this audit's grid.
    record(factory, actor, other, "CSE-25-01", "police", "cse-1.1", "good", ["neglect"])

    grid = theme_grid(factory, audit_id=audit.id)
    assert grid.scale_id == "ofsted-4"
    assert grid_counts(grid.cells) == {
        ("neglect", "police", "good"): 2,
        ("neglect", "school", "inadequate"): 1,
        ("neglect", "police", None): 1,
        ("housing", "school", "inadequate"): 1,
        ("housing", "gp", "not_evidenced"): 1,
    }
    assert grid.count("neglect") == 4
    assert grid.count("neglect", agency="police") == 3
    assert grid.count("neglect", grade="good") == 2
    assert grid.count("drift-delay") == 0

    empty = audits.create_audit(factory, actor, registry, cse_plan())
    assert theme_grid(factory, audit_id=empty.id).cells == ()


def test_theme_grid_for_a_tool_across_audits(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    spring = audits.create_audit(factory, actor, registry, plan("Spring", dt.date(2025, 4, 1)))
    autumn = audits.create_audit(factory, actor, registry, plan("Autumn", dt.date(2025, 10, 1)))
    da = audits.create_audit(
        factory, actor, registry, plan("DA", dt.date(2025, 6, 1), tool_id="domestic-abuse")
    )
    record(factory, actor, spring, "CSE-25-01", "police", "cse-1.1", "good", ["neglect"])
    record(factory, actor, autumn, "CSE-25-01", "police", "cse-1.1", "good", ["neglect"])
    record(factory, actor, autumn, "CSE-25-02", "gp", "cse-1.2", "inadequate", ["neglect"])
    record(factory, actor, da, "CSE-25-01", "police", "da-1.1", "good", ["neglect"])

    cse = theme_grid(factory, tool_id="cse")
    assert cse.scale_id == "ofsted-4"
    assert grid_counts(cse.cells) == {
        ("neglect", "police", "good"): 2,
        ("neglect", "gp", "inadequate"): 1,
    }
    assert grid_counts(theme_grid(factory, tool_id="domestic-abuse").cells) == {
        ("neglect", "police", "good"): 1
    }


@pytest.mark.parametrize("where", [{}, {"audit_id": 1, "tool_id": "cse"}], ids=["neither", "both"])
def test_theme_grid_needs_exactly_one_of_audit_and_tool(
    factory: sessionmaker[Session], where: dict[str, object]
) -> None:
    with pytest.raises(InvalidRequestError, match="either an audit or a tool"):
        theme_grid(factory, **where)  # type: ignore[arg-type]


def test_theme_grid_unknown_audit_or_tool(factory: sessionmaker[Session]) -> None:
    with pytest.raises(NotFoundError):
        theme_grid(factory, audit_id=98765)
    with pytest.raises(NotFoundError):
        theme_grid(factory, tool_id="no-such-tool")


MINI = """\
id: mini
version: {version}
title: Mini audit
theme: Testing
kind: multi-agency
scale: {scale}
sections:
  - id: recognition
    title: Recognition
    criteria:
      - id: mini-1
        question: Was it seen?
"""


@pytest.fixture(scope="module")
def two_scale_registry(tmp_path_factory: pytest.TempPathFactory) -> ToolRegistry:
    """One tool whose version 2 moved from the Ofsted scale to RAG."""
    folder: Path = tmp_path_factory.mktemp("tools")
    (folder / "mini-1.yaml").write_text(MINI.format(version=1, scale="ofsted-4"), "utf-8")
    (folder / "mini-2.yaml").write_text(MINI.format(version=2, scale="rag"), "utf-8")
    return ToolRegistry.load([folder])


def test_grades_on_different_scales_are_never_added_up(
    factory: sessionmaker[Session], actor: Actor, two_scale_registry: ToolRegistry
) -> None:
    old = audits.create_audit(
        factory, actor, two_scale_registry, plan("Old", dt.date(2024, 1, 1), "mini", tool_version=1)
    )
    new = audits.create_audit(
        factory, actor, two_scale_registry, plan("New", dt.date(2025, 1, 1), "mini", tool_version=2)
    )
    record(factory, actor, old, "CSE-25-01", "police", "mini-1", "good", ["neglect"])
    record(factory, actor, new, "CSE-25-01", "police", "mini-1", "green", ["neglect"])
    with pytest.raises(InvalidRequestError, match="different scales"):
        theme_grid(factory, tool_id="mini")
    assert grid_counts(theme_grid(factory, audit_id=new.id).cells) == {
        ("neglect", "police", "green"): 1
    }
    # Nor compared: the older audit is on another scale, so there is no previous one.
    comparison = compare_with_previous(factory, new.id)
    assert comparison.previous_audit_id is None and comparison.note
    assert comparison.scale_id == "rag"


# --- recurring themes -------------------------------------------------------------------------


def test_recurring_themes_count_cases_agencies_and_kinds(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    audit = audits.create_audit(factory, actor, registry, cse_plan())
    other = audits.create_audit(factory, actor, registry, cse_plan())
    case1, case2, case3 = audit.cases
    # neglect: case 1 (police and school findings, a voice), case 2 (moderation) -> 2 cases,
    # 2 agencies. housing: case 1 (voice), case 2 (police finding) -> 2 cases, 1 agency.
    # early-help: case 3 only, three agencies. drift-delay: a voice in case 3, no agency.
    n1 = record(factory, actor, audit, case1.reference, "police", "cse-1.1", "good", ["neglect"])
    n2 = record(factory, actor, audit, case1.reference, "school", "cse-1.3", None, ["neglect"])
    voice = casework.add_voice(factory, actor, case1.id, VoiceSource.FAMILY, "x")
    set_tags(factory, actor, TaggedKind.VOICE, voice.id, ["neglect", "housing"])
    moderated = casework.set_moderated_grade(
        factory,
        actor,
        case2.id,
        ModerationHeading.OVERALL,
        grade="inadequate",
        reasons="y",
        expected_version=None,
    )
    set_tags(factory, actor, TaggedKind.MODERATION, moderated.id, ["neglect"])
    h1 = record(factory, actor, audit, case2.reference, "police", "cse-2.1", "good", ["housing"])
    e = [
        record(factory, actor, audit, case3.reference, agency, "cse-2.2", "good", ["early-help"])
        for agency in ("police", "school", "gp")
    ]
    voice3 = casework.add_voice(factory, actor, case3.id, VoiceSource.CHILD, "z")
    set_tags(factory, actor, TaggedKind.VOICE, voice3.id, ["drift-delay"])
    # The same themes in another audit change nothing here.
    record(factory, actor, other, case1.reference, "gp", "cse-1.1", "good", ["early-help"])
    record(factory, actor, other, case2.reference, "gp", "cse-1.1", "good", ["drift-delay"])

    got = recurring_themes(factory, audit.id)
    labels = {t.code: t.label for t in list_themes(factory)}
    assert [
        (t.code, t.cases, t.agencies, t.findings, t.voices, t.moderation, t.finding_ids)
        for t in got
    ] == [
        ("neglect", 2, 2, 2, 1, 1, tuple(sorted((n1, n2)))),
        ("housing", 2, 1, 1, 1, 0, (h1,)),
        ("early-help", 1, 3, 3, 0, 0, tuple(sorted(e))),
        ("drift-delay", 1, 0, 0, 1, 0, ()),
    ]
    assert all(t.label == labels[t.code] for t in got)
    assert got[0].mentions == 4
    empty = audits.create_audit(factory, actor, registry, cse_plan())
    assert recurring_themes(factory, empty.id) == []
    with pytest.raises(NotFoundError):
        recurring_themes(factory, 98765)


# --- property: the aggregates equal a plain count of what was stored --------------------------

THEME_POOL = ("neglect", "housing", "early-help", "drift-delay")
AGENCIES = ("police", "school", "gp")
CRITERIA = ("cse-1.1", "cse-1.2", "cse-1.3", "cse-2.1", "cse-4.3")
SLOTS = tuple(
    (case, agency, criterion)
    for case in range(3)
    for agency in AGENCIES
    for criterion in CRITERIA
    if TOOL.tool.criterion(criterion).applies_to(agency)
)
tag_sets = st.frozensets(st.sampled_from(THEME_POOL), max_size=3)


@dataclass
class Generated:
    findings: list[tuple[tuple[int, str, str], str | None, frozenset[str]]]
    voices: list[tuple[int, frozenset[str]]]
    moderation: list[tuple[int, ModerationHeading, frozenset[str]]]
    finding_ids: list[int] = field(default_factory=list)


generated = st.builds(
    Generated,
    findings=st.lists(
        st.tuples(
            st.sampled_from(SLOTS),
            st.one_of(st.none(), st.sampled_from(TOOL.scale.answer_keys)),
            tag_sets,
        ),
        max_size=10,
        unique_by=lambda f: f[0],
    ),
    voices=st.lists(st.tuples(st.integers(0, 2), tag_sets), max_size=4),
    moderation=st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(list(ModerationHeading)), tag_sets),
        max_size=4,
        unique_by=lambda m: (m[0], m[1]),
    ),
)


def store(factory: sessionmaker[Session], audit_id: int, data: Generated) -> None:
    """Write the generated data through the ORM in one transaction (history included)."""
    with factory() as session, session.begin():
        session.info[ACTOR_KEY] = "prop.tester"
        cases = list(
            session.scalars(select(Case).where(Case.audit_id == audit_id).order_by(Case.reference))
        )
        themes = {
            t.code: t for t in session.scalars(select(Theme).where(Theme.code.in_(THEME_POOL)))
        }
        rows = {
            (r.case_id, r.agency_code): r
            for r in session.scalars(
                select(AgencyReturn).where(AgencyReturn.case_id.in_([c.id for c in cases]))
            )
        }
        made: list[Finding] = []
        for (case, agency, criterion), grade, tags in data.findings:
            finding = Finding(criterion_id=criterion, grade=grade, updated_by="prop.tester")
            finding.agency_return = rows[(cases[case].id, agency)]
            session.add(finding)
            made.append(finding)
            for code in tags:
                session.add(FindingTheme(finding=finding, theme=themes[code], tagged_by="p"))
        for case, tags in data.voices:
            voice = Voice(source="child", text="v", recorded_by="prop.tester")
            voice.case = cases[case]
            session.add(voice)
            for code in tags:
                session.add(VoiceTheme(voice=voice, theme=themes[code], tagged_by="p"))
        for case, heading, tags in data.moderation:
            moderated = ModeratedGrade(heading=heading.value, grade=None, updated_by="prop.tester")
            moderated.case = cases[case]
            session.add(moderated)
            for code in tags:
                session.add(
                    ModerationTheme(moderated_grade=moderated, theme=themes[code], tagged_by="p")
                )
        session.flush()
        data.finding_ids = [f.id for f in made]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=generated)
def test_aggregates_equal_a_plain_count(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, data: Generated
) -> None:
    # A fresh audit per example: only its own tags are counted.
    audit = audits.create_audit(factory, actor, registry, cse_plan())
    store(factory, audit.id, data)

    expected_grid = Counter(
        (code, agency, grade) for (_, agency, _), grade, tags in data.findings for code in tags
    )
    assert grid_counts(theme_grid(factory, audit_id=audit.id).cells) == dict(expected_grid)

    cases: dict[str, set[int]] = {}
    agencies: dict[str, set[str]] = {}
    counts: dict[str, Counter[str]] = {}
    ids: dict[str, list[int]] = {}
    for fid, ((case, agency, _), _, tags) in zip(data.finding_ids, data.findings, strict=True):
        for code in tags:
            cases.setdefault(code, set()).add(case)
            agencies.setdefault(code, set()).add(agency)
            counts.setdefault(code, Counter())["finding"] += 1
            ids.setdefault(code, []).append(fid)
    for case, tags in data.voices:
        for code in tags:
            cases.setdefault(code, set()).add(case)
            counts.setdefault(code, Counter())["voice"] += 1
    for case, _, tags in data.moderation:
        for code in tags:
            cases.setdefault(code, set()).add(case)
            counts.setdefault(code, Counter())["moderation"] += 1
    expected = sorted(
        (
            (
                code,
                len(cases[code]),
                len(agencies.get(code, ())),
                counts[code]["finding"],
                counts[code]["voice"],
                counts[code]["moderation"],
                tuple(sorted(ids.get(code, ()))),
            )
            for code in cases
        ),
        key=lambda t: (-t[1], -t[2], -(t[3] + t[4] + t[5]), t[0]),
    )
    got = recurring_themes(factory, audit.id)
    assert [
        (t.code, t.cases, t.agencies, t.findings, t.voices, t.moderation, t.finding_ids)
        for t in got
    ] == expected


# --- the previous audit -----------------------------------------------------------------------

# Grades per criterion in the previous audit (B) and this one (C); each list is spread over
# the cases and agencies the criterion applies to.
BEFORE: dict[str, list[str | None]] = {
    "cse-1.1": ["outstanding", "good", "requires_improvement", "inadequate"],  # 2/4
    "cse-2.1": ["good", "good"],  # 2/2
    "cse-2.2": ["good", "requires_improvement"],  # 1/2
    "cse-3.2": ["good", "good", "inadequate"],  # 2/3
    "cse-4.1": ["good"],  # 1/1
}
NOW: dict[str, list[str | None]] = {
    "cse-1.1": ["good", "good", "good", "inadequate", None],  # 3/4 (+25 points); one unanswered
    "cse-2.1": ["good", "inadequate", "inadequate"],  # 1/3 (-67 points)
    "cse-2.2": ["outstanding", "inadequate"],  # 1/2 (no change)
    "cse-3.2": ["good", "good", "good", "requires_improvement"],  # 3/4 (+8 points: noise)
    "cse-4.1": ["not_applicable", "not_evidenced"],  # nothing graded now
    "cse-4.2": ["good"],  # nothing graded before
}
# (graded now, graded before, favourable now, favourable before, change), worked by hand.
EXPECTED = {
    "cse-1.1": (4, 4, 3 / 4, 2 / 4, "improved"),
    "cse-2.1": (3, 2, 1 / 3, 2 / 2, "declined"),
    "cse-2.2": (2, 2, 1 / 2, 1 / 2, "unchanged"),
    "cse-3.2": (4, 3, 3 / 4, 2 / 3, "unchanged"),
    "cse-4.1": (0, 1, None, 1 / 1, "not comparable"),
    "cse-4.2": (1, 0, 1 / 1, None, "not comparable"),
}


def fill(
    factory: sessionmaker[Session],
    actor: Actor,
    audit: AuditDetail,
    grades: Mapping[str, Sequence[str | None]],
    themes: dict[tuple[str, int], list[str]] | None = None,
) -> None:
    """Each criterion's grades go to successive (case, agency) slots where it applies."""
    themes = themes or {}
    for criterion, answers in grades.items():
        slots = [
            (case.reference, agency)
            for case in audit.cases
            for agency in audit.agencies
            if TOOL.tool.criterion(criterion).applies_to(agency)
        ]
        for n, grade in enumerate(answers):
            case, agency = slots[n]
            record(
                factory,
                actor,
                audit,
                case,
                agency,
                criterion,
                grade,
                themes.get((criterion, n), ()),
            )


def test_compare_with_the_latest_earlier_audit_of_the_same_tool(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    # Created out of date order, so only the audit day can put them in order.
    now = audits.create_audit(factory, actor, registry, plan("C", dt.date(2025, 11, 10)))
    later = audits.create_audit(factory, actor, registry, plan("E", dt.date(2026, 2, 1)))
    oldest = audits.create_audit(factory, actor, registry, plan("A", dt.date(2025, 1, 10)))
    before = audits.create_audit(factory, actor, registry, plan("B", dt.date(2025, 6, 10)))
    other_tool = audits.create_audit(
        factory, actor, registry, plan("D", dt.date(2025, 9, 1), tool_id="domestic-abuse")
    )
    fill(factory, actor, now, NOW, {("cse-1.1", 0): ["neglect"], ("cse-1.1", 4): ["neglect"]})
    fill(factory, actor, before, BEFORE, {("cse-1.1", 0): ["neglect", "housing"]})
    # Different numbers in the audits that must not be chosen.
    fill(factory, actor, oldest, {"cse-1.1": ["inadequate"] * 5, "cse-4.2": ["inadequate"]})
    fill(factory, actor, later, {"cse-1.1": ["outstanding"] * 2})
    record(factory, actor, other_tool, "CSE-25-01", "gp", "da-1.1", "inadequate")

    comparison = compare_with_previous(factory, now.id)
    assert comparison.previous_audit_id == before.id
    assert comparison.previous_title == "B"
    assert comparison.scale_id == "ofsted-4" and comparison.note == ""
    assert [c.criterion_id for c in comparison.criteria] == [c.id for c in TOOL.tool.criteria]
    by_id = {c.criterion_id: c for c in comparison.criteria}
    for criterion in (c.id for c in TOOL.tool.criteria):
        c = by_id[criterion]
        graded_now, graded_before, fav_now, fav_before, change = EXPECTED.get(
            criterion, (0, 0, None, None, "not comparable")
        )
        assert (c.graded_now, c.graded_before, c.change) == (graded_now, graded_before, change), (
            criterion
        )
        assert c.favourable_now == pytest.approx(fav_now)
        assert c.favourable_before == pytest.approx(fav_before)
        assert c.question == TOOL.tool.criterion(criterion).question
    assert [c.criterion_id for c in comparison.with_change("improved")] == ["cse-1.1"]
    assert [c.criterion_id for c in comparison.with_change("declined")] == ["cse-2.1"]
    # Themes: neglect was in one case before and two now; housing only before.
    assert [(t.code, t.cases_now, t.cases_before) for t in comparison.themes] == [
        ("neglect", 2, 1),
        ("housing", 0, 1),
    ]

    # The later audit compares with C; the oldest has nothing before it.
    assert compare_with_previous(factory, later.id).previous_audit_id == now.id
    first = compare_with_previous(factory, oldest.id)
    assert first.previous_audit_id is None and first.previous_title is None
    assert "no earlier audit" in first.note and TOOL.tool.title in first.note
    assert first.criteria == () and first.themes == ()
    assert compare_with_previous(factory, other_tool.id).previous_audit_id is None
    with pytest.raises(NotFoundError):
        compare_with_previous(factory, 98765)


def test_favourable_share_uses_the_better_half_of_the_scale(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry
) -> None:
    before = audits.create_audit(factory, actor, registry, plan("B", dt.date(2025, 1, 1)))
    now = audits.create_audit(factory, actor, registry, plan("C", dt.date(2025, 6, 1)))
    # Requires improvement is not favourable: moving from Good to it is a decline.
    fill(factory, actor, before, {"cse-2.1": ["good", "good", "outstanding"]})
    fill(factory, actor, now, {"cse-2.1": ["requires_improvement"] * 3})
    [c] = [
        c for c in compare_with_previous(factory, now.id).criteria if c.criterion_id == "cse-2.1"
    ]
    shares = [
        sum(g in FAVOURABLE for g in grades) / len(grades)
        for grades in (["requires_improvement"] * 3, ["good", "good", "outstanding"])
    ]
    assert (c.favourable_now, c.favourable_before) == (shares[0], shares[1]) == (0.0, 1.0)
    assert c.change == "declined"
