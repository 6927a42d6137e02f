"""The subgroup's overview: every figure checked against a plain Python count of what was stored."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
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
from schemas.learning import TaggedKind
from schemas.tools import NON_GRADE_ANSWERS, NOT_APPLICABLE, NOT_EVIDENCED
from tests.conftest import cohort
from workbench.services import audits, casework, returns, themes
from workbench.services.overview import Overview, overview, scale_overview
from workbench.services.unit import unit_of_work
from workbench.store.models import Action

TODAY = dt.date(2026, 6, 1)
ACTOR = Actor(name="s.subgroup", agency="police")

RAG_TOOL = """\
id: s11-lite
version: 1
title: Section 11 light-touch check
theme: Safeguarding arrangements
kind: section-11
scale: rag
sections:
  - id: standards
    title: Standards
    criteria:
      - id: s11-1
        question: Is there a named safeguarding lead?
      - id: s11-2
        question: Are staff trained at the right level?
"""


@pytest.fixture(scope="module")
def rag_registry(tmp_path_factory: pytest.TempPathFactory) -> ToolRegistry:
    """The shipped tools plus one on the RAG scale, so two scales meet in one overview."""
    folder: Path = tmp_path_factory.mktemp("tools")
    (folder / "s11-lite.yaml").write_text(RAG_TOOL, encoding="utf-8")
    return ToolRegistry.load([folder])


@dataclass
class Recorded:
    """What the test wrote, to count by hand: one entry per answered finding."""

    answers: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    audits: dict[str, AuditDetail] = field(default_factory=dict)

    def count(self, **where: str | int) -> Counter[str]:
        names = ("audit_id", "tool_id", "scale_id", "agency", "grade")
        return Counter(
            row[4]
            for row in self.answers
            if all(row[names.index(k)] == v for k, v in where.items())
        )


def plan(
    title: str, tool_id: str, agencies: tuple[str, ...], day: dt.date, cases: int
) -> AuditPlan:
    return AuditPlan(
        title=title,
        tool_id=tool_id,
        agencies=agencies,
        cases=cohort(cases),
        audit_day=day,
        chair="Chair",
    )


def answer(
    factory: sessionmaker[Session],
    registry: ToolRegistry,
    recorded: Recorded,
    detail: AuditDetail,
    pattern: tuple[str | None, ...],
) -> None:
    """Answer every criterion of every return, cycling through `pattern` (None leaves it blank)."""
    definition = registry.definition(detail.tool_id, detail.tool_version)
    step = 0
    for case in detail.cases:
        for agency in detail.agencies:
            return_id = returns.find_return(factory, detail.id, case.reference, agency)
            for criterion in definition.tool.criteria_for(agency):
                grade = pattern[step % len(pattern)]
                step += 1
                change = (
                    FindingChange(grade=grade)
                    if grade is not None
                    else FindingChange(evidence="read the record, not graded yet")
                )
                returns.record_finding(
                    factory, ACTOR, return_id, criterion.id, change, expected_version=None
                )
                if grade is not None:
                    recorded.answers.append(
                        (detail.id, detail.tool_id, definition.scale.id, agency, grade)
                    )


@pytest.fixture
def recorded(factory: sessionmaker[Session], rag_registry: ToolRegistry) -> Recorded:
    rec = Recorded()
    # Planned out of order: "previous" follows the audit day, not the order of creation.
    later = audits.create_audit(
        factory,
        ACTOR,
        rag_registry,
        plan("CSE 2026", "cse", ("police", "school"), dt.date(2026, 2, 10), 2),
    )
    earlier = audits.create_audit(
        factory,
        ACTOR,
        rag_registry,
        plan("CSE 2025", "cse", ("police", "school", "gp"), dt.date(2025, 2, 10), 2),
    )
    da = audits.create_audit(
        factory,
        ACTOR,
        rag_registry,
        plan("Domestic abuse 2026", "domestic-abuse", ("police",), dt.date(2026, 3, 1), 1),
    )
    rag = audits.create_audit(
        factory,
        ACTOR,
        rag_registry,
        plan("Section 11 check", "s11-lite", ("police", "school"), dt.date(2026, 4, 1), 2),
    )
    rec.audits = {"later": later, "earlier": earlier, "da": da, "rag": rag}
    answer(factory, rag_registry, rec, earlier, ("inadequate", "requires_improvement", None))
    answer(factory, rag_registry, rec, later, ("good", "outstanding", "requires_improvement"))
    answer(factory, rag_registry, rec, da, ("good", NOT_APPLICABLE, NOT_EVIDENCED, None))
    answer(factory, rag_registry, rec, rag, ("green", "amber", "red", "green"))

    told = dt.datetime(2026, 2, 10, 12, 0, tzinfo=dt.UTC)
    for case in later.cases:
        casework.raise_concern(
            factory,
            ACTOR,
            case.id,
            concern="Missing overnight",
            who_told="Duty manager",
            told_at=told,
        )
    closed = casework.raise_concern(
        factory,
        ACTOR,
        da.cases[0].id,
        concern="Unsafe at home",
        who_told="Team manager",
        told_at=told,
    )
    casework.close_concern(factory, ACTOR, closed.id, "Strategy meeting held")

    actions = [
        (later.id, "not_started", TODAY - dt.timedelta(days=1)),  # overdue
        (later.id, "in_progress", TODAY),  # due today: not yet overdue
        (later.id, "complete", TODAY - dt.timedelta(days=30)),  # done, however late
        (earlier.id, "in_progress", TODAY - dt.timedelta(days=200)),  # overdue
        (None, "not_started", TODAY - dt.timedelta(days=5)),  # a board action: totals only
    ]
    with unit_of_work(factory, ACTOR) as session:
        for audit_id, status, due in actions:
            session.add(
                Action(
                    audit_id=audit_id,
                    description="Refresh the missing-from-home protocol",
                    owner_name="Named owner",
                    owner_agency="police",
                    due_on=due,
                    status=status,
                    created_by=ACTOR.name,
                )
            )
    return rec


def levels_of(view: Overview, scale_id: str) -> tuple[str, ...]:
    return tuple(level.key for level in view.scale(scale_id).levels)


def test_an_empty_store_gives_an_empty_overview(factory: sessionmaker[Session]) -> None:
    view = overview(factory, today=TODAY)
    assert view.audits == () and view.by_agency == () and view.by_tool == ()
    assert (view.open_concerns, view.open_actions, view.overdue_actions) == (0, 0, 0)
    assert view.as_of == TODAY


def test_grades_per_audit_match_a_count_by_hand(
    factory: sessionmaker[Session], recorded: Recorded
) -> None:
    view = overview(factory, today=TODAY)
    assert [a.title for a in view.audits] == [
        "Section 11 check",
        "Domestic abuse 2026",
        "CSE 2026",
        "CSE 2025",
    ]
    for row in view.audits:
        expected = recorded.count(audit_id=row.id)
        keys = levels_of(view, row.scale_id)
        assert {g.grade: g.count for g in row.grades.levels} == {k: expected[k] for k in keys}
        assert row.grades.not_applicable == expected[NOT_APPLICABLE]
        assert row.grades.not_evidenced == expected[NOT_EVIDENCED]
        graded = sum(n for k, n in expected.items() if k not in NON_GRADE_ANSWERS)
        assert row.grades.graded == graded
    da = next(a for a in view.audits if a.tool_id == "domestic-abuse")
    assert da.grades.not_applicable > 0 and da.grades.not_evidenced > 0


def test_agency_and_tool_rows_never_mix_scales(
    factory: sessionmaker[Session], recorded: Recorded
) -> None:
    view = overview(factory, today=TODAY)
    assert {s.id for s in view.scales} == {"ofsted-4", "rag"}
    police = [b for b in view.by_agency if b.group == "police"]
    # Police answered on both scales: two rows, each holding only its own scale's levels.
    assert sorted(b.scale_id for b in police) == ["ofsted-4", "rag"]
    for row in view.by_agency:
        expected = recorded.count(scale_id=row.scale_id, agency=row.group)
        assert tuple(g.grade for g in row.levels) == levels_of(view, row.scale_id)
        assert {g.grade: g.count for g in row.levels} == {
            k: expected[k] for k in levels_of(view, row.scale_id)
        }
        assert row.not_applicable == expected[NOT_APPLICABLE]
    assert {(b.scale_id, b.group) for b in view.by_agency} == {
        (scale, agency) for _, _, scale, agency, _ in recorded.answers
    }
    assert next(b.label for b in police) == "Police"
    for row in view.by_tool:
        expected = recorded.count(scale_id=row.scale_id, tool_id=row.group)
        assert {g.grade: g.count for g in row.levels} == {
            k: expected[k] for k in levels_of(view, row.scale_id)
        }
    cse = next(b for b in view.by_tool if b.group == "cse")
    assert cse.label == "Child sexual exploitation multi-agency case audit"
    assert cse.graded == sum(
        1 for a in recorded.answers if a[1] == "cse" and a[4] not in NON_GRADE_ANSWERS
    )


def share(counts: Counter[str], keys: tuple[str, ...], of: tuple[str, ...]) -> float:
    graded = sum(counts[k] for k in of)
    return sum(counts[k] for k in keys) / graded


def test_change_since_the_previous_audit_on_the_same_tool(
    factory: sessionmaker[Session], recorded: Recorded
) -> None:
    view = overview(factory, today=TODAY)
    by_title = {a.title: a for a in view.audits}
    levels = levels_of(view, "ofsted-4")
    assert view.scale("ofsted-4").favourable == ("outstanding", "good")
    assert view.scale("ofsted-4").favourable_label == "Good or better"

    now, then = by_title["CSE 2026"], by_title["CSE 2025"]
    assert then.change is None  # the first CSE audit has nothing to compare with
    assert by_title["Domestic abuse 2026"].change is None  # another tool is not "previous"
    assert by_title["Section 11 check"].change is None
    change = now.change
    assert change is not None
    assert change.previous_audit_id == then.id
    assert change.previous_title == "CSE 2025"
    assert change.previous_day == dt.date(2025, 2, 10)

    before = recorded.count(audit_id=then.id)
    after = recorded.count(audit_id=now.id)
    good = ("outstanding", "good")
    assert change.favourable.before == pytest.approx(share(before, good, levels))
    assert change.favourable.after == pytest.approx(share(after, good, levels))
    assert change.favourable.before == 0  # 2025 had only the two lower grades
    assert change.favourable.points == pytest.approx(
        100 * (share(after, good, levels) - share(before, good, levels))
    )
    assert [c.grade for c in change.levels] == list(levels)
    for level in change.levels:
        assert level.before == pytest.approx(share(before, (level.grade,), levels))
        assert level.after == pytest.approx(share(after, (level.grade,), levels))
    inadequate = next(c for c in change.levels if c.grade == "inadequate")
    assert inadequate.points is not None and inadequate.points < 0


def test_open_concerns_and_open_or_overdue_actions(
    factory: sessionmaker[Session], recorded: Recorded
) -> None:
    view = overview(factory, today=TODAY)
    by_title = {a.title: a for a in view.audits}
    assert by_title["CSE 2026"].open_concerns == len(recorded.audits["later"].cases)
    assert by_title["Domestic abuse 2026"].open_concerns == 0  # raised, then closed
    assert view.open_concerns == len(recorded.audits["later"].cases)

    assert (by_title["CSE 2026"].open_actions, by_title["CSE 2026"].overdue_actions) == (2, 1)
    assert (by_title["CSE 2025"].open_actions, by_title["CSE 2025"].overdue_actions) == (1, 1)
    assert (
        by_title["Section 11 check"].open_actions,
        by_title["Section 11 check"].overdue_actions,
    ) == (0, 0)
    # The board-level action counts in the totals, though it belongs to no audit.
    assert (view.open_actions, view.overdue_actions) == (4, 3)
    # A month earlier, fewer were overdue: "today" is the caller's, so the answer is repeatable.
    earlier = overview(factory, today=TODAY - dt.timedelta(days=150))
    assert (earlier.open_actions, earlier.overdue_actions) == (4, 1)


def test_a_planned_audit_with_nothing_graded_has_no_shares(
    factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    audits.create_audit(
        factory, ACTOR, registry, plan("CSE next", "cse", ("police",), dt.date(2026, 9, 1), 1)
    )
    audits.create_audit(
        factory, ACTOR, registry, plan("CSE later", "cse", ("police",), dt.date(2027, 9, 1), 1)
    )
    view = overview(factory, today=TODAY)
    latest = view.audits[0]
    assert latest.grades.graded == 0
    assert latest.grades.favourable_share is None
    assert latest.change is not None
    assert latest.change.favourable.points is None  # no made-up zero change


def test_favourable_is_the_better_half_of_any_scale(rag_registry: ToolRegistry) -> None:
    rag = scale_overview(rag_registry.scales["rag"])
    assert rag.favourable == ("green",)
    assert rag.favourable_label == "Green - fully met"


def test_the_overview_service_does_not_import_textual() -> None:
    """Services stay UI-free (tests/unit/test_layers.py lists the older services)."""
    code = (
        "import json, sys, workbench.services.overview; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_recurring_themes_across_audits(factory: sessionmaker[Session], recorded: Recorded) -> None:
    """Tags on findings, voices and moderated grades, counted by audit and case in the database."""
    later, earlier, da = (recorded.audits[k] for k in ("later", "earlier", "da"))

    def finding_ids(audit: AuditDetail, case: int, agency: str, n: int) -> list[int]:
        rid = returns.find_return(factory, audit.id, audit.cases[case].reference, agency)
        return [f.id for f in returns.get_return(factory, rid).findings][:n]

    def tag(kind: TaggedKind, target_id: int, code: str) -> None:
        themes.set_tags(factory, ACTOR, kind, target_id, [code])

    # Missing children: two findings in one case and one in another of 2026, one finding in
    # 2025, and a child's voice in the domestic abuse audit: 3 audits, 4 cases, 4 findings.
    for finding_id in finding_ids(later, 0, "police", 2) + finding_ids(later, 1, "school", 1):
        tag(TaggedKind.FINDING, finding_id, "missing-children")
    tag(TaggedKind.FINDING, finding_ids(earlier, 0, "gp", 1)[0], "missing-children")
    voice = casework.add_voice(factory, ACTOR, da.cases[0].id, VoiceSource.CHILD, "I ran away")
    tag(TaggedKind.VOICE, voice.id, "missing-children")
    # Information sharing: three findings of one case.
    for finding_id in finding_ids(later, 1, "police", 3):
        tag(TaggedKind.FINDING, finding_id, "information-sharing")
    # Housing: one moderation reason, no findings.
    moderated = casework.set_moderated_grade(
        factory,
        ACTOR,
        earlier.cases[1].id,
        ModerationHeading.OVERALL,
        grade="inadequate",
        reasons="Family moved three times; no housing referral",
        expected_version=0,
    )
    tag(TaggedKind.MODERATION, moderated.id, "housing")

    view = overview(factory, today=TODAY)
    assert [
        (t.code, t.audits, t.cases, t.findings, t.voices, t.moderation) for t in view.themes
    ] == [
        ("missing-children", 3, 4, 4, 1, 0),
        ("information-sharing", 1, 1, 3, 0, 0),  # one audit and case, more mentions than housing
        ("housing", 1, 1, 0, 0, 1),
    ]
    assert view.themes[0].label == "Missing children"
