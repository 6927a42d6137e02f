"""The audit lead's matrix and moderation sheet, checked against a plain Python computation."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    FindingChange,
    ModerationHeading,
    ReturnStatus,
)
from schemas.tools import (
    NOT_APPLICABLE,
    NOT_EVIDENCED,
    AuditTool,
    Criterion,
    GradeScale,
    Section,
)
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.errors import NotFoundError
from workbench.services.matrix import (
    SECTION_HEADINGS,
    case_moderation,
    excerpt,
    heading_sections,
    median_level,
    return_matrix,
)

AGENCIES = ("gp", "police", "school")


def plain_median(grades: list[str | None], scale: GradeScale) -> str | None:
    """The rule written the obvious way: median_high of the ranks of the graded answers."""
    ranks = [r for g in grades if g is not None and (r := scale.rank(g)) is not None]
    if not ranks:
        return None
    return scale.levels[statistics.median_high(ranks) - 1].key


def plain_spread(grades: list[str | None], scale: GradeScale) -> int | None:
    ranks = [r for g in grades if g is not None and (r := scale.rank(g)) is not None]
    return max(ranks) - min(ranks) if ranks else None


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan(agencies=AGENCIES, cases=3))


def fill_randomly(
    factory: sessionmaker[Session],
    actor: Actor,
    registry: ToolRegistry,
    audit: AuditDetail,
    seed: int,
) -> None:
    """Grades of every kind (levels, non-grade answers, left blank) with evidence; one return
    left untouched and one submitted, so every status shows up."""
    rng = random.Random(seed)
    definition = registry.definition("cse")
    answers = [*definition.scale.answer_keys, None]
    for case in audit.cases:
        for agency in AGENCIES:
            if case.reference == "CSE-25-03" and agency == "school":
                continue  # not started
            rid = returns.find_return(factory, audit.id, case.reference, agency)
            for criterion in definition.tool.criteria_for(agency):
                grade = rng.choice(answers)
                change = FindingChange(
                    grade=grade, evidence=f"{agency} record {criterion.id}: " + "note " * 40
                )
                if grade is None and rng.random() < 0.5:
                    continue
                returns.record_finding(
                    factory, actor, rid, criterion.id, change, expected_version=None
                )
    rid = returns.find_return(factory, audit.id, "CSE-25-01", "police")
    for criterion in definition.tool.criteria_for("police"):
        returns.record_finding(
            factory, actor, rid, criterion.id, FindingChange(grade="good"), expected_version=None
        )
    returns.submit_return(factory, actor, rid)


# --- the rules on their own ----------------------------------------------------------------


def test_median_takes_the_worse_middle_level_and_ignores_non_grade_answers(
    registry: ToolRegistry,
) -> None:
    scale = registry.definition("cse").scale
    assert median_level({"good": 2, "inadequate": 2}, scale) == "inadequate"
    assert median_level({"outstanding": 1, "good": 1}, scale) == "good"
    assert median_level({"outstanding": 3, "inadequate": 2}, scale) == "outstanding"
    assert median_level({"good": 1, NOT_APPLICABLE: 5, NOT_EVIDENCED: 5}, scale) == "good"
    assert median_level({NOT_APPLICABLE: 2, NOT_EVIDENCED: 1}, scale) is None
    assert median_level({}, scale) is None
    unordered = scale.model_copy(update={"ordered": False})
    assert median_level({"good": 3}, unordered) is None


def test_median_matches_median_high_of_ranks(registry: ToolRegistry) -> None:
    scale = registry.definition("cse").scale
    rng = random.Random(7)
    for _ in range(300):
        grades: list[str | None] = [
            rng.choice([*scale.answer_keys, None]) for _ in range(rng.randint(0, 12))
        ]
        counts: dict[str, int] = {}
        for g in grades:
            if g is not None:
                counts[g] = counts.get(g, 0) + 1
        assert median_level(counts, scale) == plain_median(grades, scale)


def test_shipped_tools_map_their_six_sections_by_position(registry: ToolRegistry) -> None:
    for tool_id in ("cse", "domestic-abuse", "early-help-exclusions"):
        tool = registry.definition(tool_id).tool
        mapping = heading_sections(tool)
        assert list(mapping) == list(SECTION_HEADINGS)
        assert [ids for ids in mapping.values()] == [(s.id,) for s in tool.sections]
    assert heading_sections(registry.definition("cse").tool)[ModerationHeading.PLANNING] == (
        "missing-and-planning",
    )


def _tool(*section_ids: str) -> AuditTool:
    return AuditTool(
        id="custom",
        version=1,
        title="Custom",
        theme="Custom",
        kind="multi-agency",
        scale="ofsted-4",
        sections=tuple(
            Section(id=s, title=s, criteria=(Criterion(id=f"{s}-1", question="Q?"),))
            for s in section_ids
        ),
    )


def test_other_tools_map_by_name_or_fall_back_to_overall_only() -> None:
    by_name = heading_sections(_tool("joint-working", "recognition", "other"))
    assert by_name[ModerationHeading.JOINT_WORKING] == ("joint-working",)
    assert by_name[ModerationHeading.RECOGNITION] == ("recognition",)
    assert by_name[ModerationHeading.ASSESSMENT] == ()
    assert ModerationHeading.OVERALL not in by_name
    # Six sections, but one named for a heading sits elsewhere: position is not trusted.
    shuffled = heading_sections(_tool("impact", "b", "c", "d", "e", "f"))
    assert shuffled[ModerationHeading.IMPACT] == ("impact",)
    assert shuffled[ModerationHeading.RECOGNITION] == ()
    nothing = heading_sections(_tool("a", "b"))
    assert all(ids == () for ids in nothing.values())


def test_excerpt_is_one_line_and_cut_at_a_word() -> None:
    assert excerpt("  Seen at\nhome  ") == "Seen at home"
    long = excerpt("word " * 60, limit=40)
    assert len(long) <= 40 and long.endswith("…") and "\n" not in long
    assert long[:-1].split() == ["word"] * len(long[:-1].split())


# --- the matrix -----------------------------------------------------------------------------


def test_matrix_matches_a_plain_computation(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, audit: AuditDetail
) -> None:
    fill_randomly(factory, actor, registry, audit, seed=3)
    definition = registry.definition("cse")
    scale = definition.scale
    matrix = return_matrix(factory, audit.id)

    assert matrix.title == audit.title and matrix.tool_id == "cse" and matrix.scale == scale
    assert [a.code for a in matrix.agencies] == list(AGENCIES)
    assert [c.reference for c in matrix.cases] == [c.reference for c in audit.cases]
    assert [c.level_of_need for c in matrix.cases] == [c.level_of_need for c in audit.cases]
    assert len(matrix.cells) == len(audit.cases) * len(AGENCIES)
    grades_seen = set()
    for case in audit.cases:
        for agency in AGENCIES:
            rid = returns.find_return(factory, audit.id, case.reference, agency)
            stored = returns.get_return(factory, rid)
            cell = matrix.cell(case.id, agency)
            assert cell is not None
            grades = [f.grade for f in stored.findings]
            assert cell.return_id == rid
            assert cell.status is stored.status
            assert cell.answered == sum(g is not None for g in grades)
            assert cell.total == len(definition.tool.criteria_for(agency))
            assert cell.graded == sum(g is not None and scale.rank(g) is not None for g in grades)
            assert cell.grade == plain_median(grades, scale)
            grades_seen.add(cell.grade)
    statuses = {c.status for c in matrix.cells}
    assert statuses == set(ReturnStatus)
    assert len(grades_seen) > 2  # the random data exercised more than one outcome
    assert matrix.cell(audit.cases[0].id, "police").grade == "good"  # type: ignore[union-attr]
    assert matrix.cell(audit.cases[2].id, "school").grade is None  # type: ignore[union-attr]


def test_matrix_carries_moderated_overall_and_open_concerns(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    case = audit.cases[1]
    casework.set_moderated_grade(
        factory,
        actor,
        case.id,
        ModerationHeading.OVERALL,
        grade="requires_improvement",
        reasons="Late referral",
        expected_version=None,
    )
    casework.set_moderated_grade(
        factory,
        actor,
        case.id,
        ModerationHeading.VOICE_OF_THE_CHILD,
        grade="inadequate",
        reasons="Not seen alone",
        expected_version=None,
    )
    told = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for text in ("Missing overnight", "Seen with older adults"):
        casework.raise_concern(factory, actor, case.id, concern=text, who_told="Duty", told_at=told)
    matrix = return_matrix(factory, audit.id)
    assert [c.moderated_overall for c in matrix.cases] == [None, "requires_improvement", None]
    assert matrix.open_concerns == 2
    assert all(c.grade is None and c.answered == 0 for c in matrix.cells)


def test_matrix_counts_in_sql_without_loading_findings(
    factory: sessionmaker[Session],
    engine: Engine,
    actor: Actor,
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    @contextmanager
    def statements() -> Iterator[list[str]]:
        seen: list[str] = []

        def record(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    with statements() as before:
        return_matrix(factory, audit.id)
    fill_randomly(factory, actor, registry, audit, seed=11)
    with statements() as after:
        return_matrix(factory, audit.id)
    # As many statements with a hundred findings as with none, and no finding text read.
    assert len(after) == len(before)
    assert not any("findings.evidence" in s for s in after)
    assert any("count(" in s.lower() and "findings.grade" in s for s in after)


def test_matrix_of_a_missing_audit_is_refused(factory: sessionmaker[Session]) -> None:
    with pytest.raises(NotFoundError):
        return_matrix(factory, 999)


# --- one case's moderation ------------------------------------------------------------------


def test_case_moderation_matches_a_plain_computation(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, audit: AuditDetail
) -> None:
    fill_randomly(factory, actor, registry, audit, seed=5)
    definition = registry.definition("cse")
    tool, scale = definition.tool, definition.scale
    mapping = heading_sections(tool)
    section_of = {c.id: s.id for s in tool.sections for c in s.criteria}
    flagged = 0
    for case in audit.cases:
        sheet = case_moderation(factory, case.id)
        assert sheet.reference == case.reference and sheet.agencies == AGENCIES
        assert [c.criterion_id for c in sheet.criteria] == [c.id for c in tool.criteria]
        stored = {
            agency: {
                f.criterion_id: f
                for f in returns.get_return(
                    factory, returns.find_return(factory, audit.id, case.reference, agency)
                ).findings
            }
            for agency in AGENCIES
        }
        for section in tool.sections:
            for criterion in section.criteria:
                row = sheet.criterion(criterion.id)
                assert row.section_id == section.id and row.section_title == section.title
                assert row.question == criterion.question
                grades = []
                for agency in AGENCIES:
                    answer = row.answer(agency)
                    assert answer is not None
                    finding = stored[agency].get(criterion.id)
                    assert answer.applies == criterion.applies_to(agency)
                    assert answer.grade == (finding.grade if finding else None)
                    assert answer.evidence_excerpt == (excerpt(finding.evidence) if finding else "")
                    if answer.applies:
                        grades.append(answer.grade)
                spread = plain_spread(grades, scale)
                assert row.spread == spread
                assert row.disagreement == (spread is not None and spread >= 2)
                flagged += row.disagreement
        assert [h.heading for h in sheet.headings] == list(ModerationHeading)
        for heading in sheet.headings:
            ids = (
                tuple(s.id for s in tool.sections)
                if heading.heading is ModerationHeading.OVERALL
                else mapping[heading.heading]
            )
            assert heading.section_ids == ids
            per_agency = []
            for agency in AGENCIES:
                grades = [f.grade for cid, f in stored[agency].items() if section_of[cid] in ids]
                expected = plain_median(grades, scale)
                assert heading.agency_grade(agency) == expected
                per_agency.append(expected)
            assert heading.spread == plain_spread(per_agency, scale)
            assert heading.disagreement == (heading.spread is not None and heading.spread >= 2)
            assert heading.grade is None and heading.version == 0 and heading.reasons == ""
    assert flagged > 0  # random answers across three agencies disagree somewhere


def test_overall_agency_grade_is_the_matrix_grade(
    factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry, audit: AuditDetail
) -> None:
    fill_randomly(factory, actor, registry, audit, seed=9)
    matrix = return_matrix(factory, audit.id)
    for case in audit.cases:
        overall = case_moderation(factory, case.id).heading(ModerationHeading.OVERALL)
        for agency in AGENCIES:
            cell = matrix.cell(case.id, agency)
            assert cell is not None
            assert overall.agency_grade(agency) == cell.grade


def test_case_moderation_shows_stored_moderated_grades_with_their_version(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    case = audit.cases[0]
    saved = casework.set_moderated_grade(
        factory,
        actor,
        case.id,
        ModerationHeading.JOINT_WORKING,
        grade="requires_improvement",
        reasons="Intelligence not shared with school",
        expected_version=0,
    )
    sheet = case_moderation(factory, case.id)
    joint = sheet.heading(ModerationHeading.JOINT_WORKING)
    assert (joint.grade, joint.reasons, joint.version, joint.updated_by) == (
        "requires_improvement",
        "Intelligence not shared with school",
        saved.version,
        actor.name,
    )
    assert sheet.heading(ModerationHeading.OVERALL).version == 0


def test_disagreement_needs_two_levels(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    case = audit.cases[0]
    rid = {a: returns.find_return(factory, audit.id, case.reference, a) for a in AGENCIES}
    # cse-2.1 applies to everyone: outstanding vs requires improvement is two levels apart.
    for agency, grade in (("gp", "outstanding"), ("police", "good"), ("school", NOT_APPLICABLE)):
        returns.record_finding(
            factory, actor, rid[agency], "cse-2.1", FindingChange(grade=grade), expected_version=0
        )
    for agency, grade in (("gp", "good"), ("police", "requires_improvement")):
        returns.record_finding(
            factory, actor, rid[agency], "cse-2.2", FindingChange(grade=grade), expected_version=0
        )
    returns.record_finding(
        factory,
        actor,
        rid["school"],
        "cse-2.2",
        FindingChange(grade="outstanding"),
        expected_version=0,
    )
    sheet = case_moderation(factory, case.id)
    first, second = sheet.criterion("cse-2.1"), sheet.criterion("cse-2.2")
    assert (first.spread, first.disagreement) == (1, False)
    assert (second.spread, second.disagreement) == (2, True)
    assessment = sheet.heading(ModerationHeading.ASSESSMENT)
    # gp: outstanding, good -> good; police: good, RI -> RI; school: outstanding.
    assert [assessment.agency_grade(a) for a in AGENCIES] == [
        "good",
        "requires_improvement",
        "outstanding",
    ]
    assert (assessment.spread, assessment.disagreement) == (2, True)
    assert sheet.heading(ModerationHeading.RECOGNITION).spread is None


def test_case_moderation_of_a_missing_case_is_refused(factory: sessionmaker[Session]) -> None:
    with pytest.raises(NotFoundError):
        case_moderation(factory, 999)


def test_the_matrix_service_does_not_import_textual() -> None:
    code = (
        "import json, sys, workbench.services.matrix; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
