"""Agreement between graders, checked against tables worked out in the test."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, AuditPlan, FindingChange, ModerationHeading
from schemas.learning import AgreementFigure
from schemas.tools import NOT_APPLICABLE, NOT_EVIDENCED
from tests.conftest import cohort, cse_plan
from workbench.services import audits, casework, returns
from workbench.services.agreement import (
    Comparison,
    agreement,
    record_second_grade,
    second_grades,
)
from workbench.services.errors import InvalidRequestError, NotFoundError

OFSTED = ("outstanding", "good", "requires_improvement", "inadequate")
NA, NE = NOT_APPLICABLE, NOT_EVIDENCED
BLANK = "blank"  # a finding saved without a grade (evidence only)

# (case, agency, criterion, first grade, second grade). A first grade of None means the
# agency has not answered the criterion at all; BLANK means a finding without a grade.
PAIRS: list[tuple[str, str, str, str | None, str]] = [
    # cse-1.1: six graded pairs, hand-worked below, then one of each excluded kind.
    ("CSE-25-01", "police", "cse-1.1", "outstanding", "outstanding"),
    ("CSE-25-01", "school", "cse-1.1", "good", "good"),
    ("CSE-25-01", "gp", "cse-1.1", "good", "requires_improvement"),
    ("CSE-25-02", "police", "cse-1.1", "requires_improvement", "requires_improvement"),
    ("CSE-25-02", "school", "cse-1.1", "inadequate", "requires_improvement"),
    ("CSE-25-02", "gp", "cse-1.1", "outstanding", "good"),
    ("CSE-25-03", "police", "cse-1.1", NA, "good"),
    ("CSE-25-03", "school", "cse-1.1", "good", NE),
    ("CSE-25-03", "gp", "cse-1.1", None, "good"),
    # cse-2.1: the precedence of the reasons: not applicable, then not evidenced, then blank.
    ("CSE-25-01", "police", "cse-2.1", NA, NE),
    ("CSE-25-01", "school", "cse-2.1", BLANK, NE),
    ("CSE-25-01", "gp", "cse-2.1", BLANK, "good"),
    ("CSE-25-02", "police", "cse-2.1", "good", "good"),
    ("CSE-25-02", "gp", "cse-2.1", "inadequate", "outstanding"),
    # cse-1.3 (school only) and cse-4.3 (police only).
    ("CSE-25-02", "school", "cse-1.3", "good", "good"),
    ("CSE-25-03", "school", "cse-1.3", "inadequate", "inadequate"),
    ("CSE-25-01", "police", "cse-4.3", "requires_improvement", "good"),
    # cse-6.1: one graded pair, and every rating the same level: kappa is undefined.
    ("CSE-25-03", "gp", "cse-6.1", "good", "good"),
]


def rank(grade: str) -> int:
    return OFSTED.index(grade)


def hand_figure(group: str, pairs: Sequence[tuple[str | None, str]]) -> AgreementFigure:
    """Percent agreement and quadratic kappa from first principles (Cohen 1968):
    kappa_w = 1 - sum(w * observed proportion) / sum(w * expected proportion), with
    disagreement weight w = (i - j)^2 / (k - 1)^2 and expected = row share x column share."""
    na = sum(1 for a, b in pairs if NA in (a, b))
    ne = sum(1 for a, b in pairs if NA not in (a, b) and NE in (a, b))
    graded = [(a, b) for a, b in pairs if a in OFSTED and b in OFSTED]
    unanswered = len(pairs) - na - ne - len(graded)
    n = len(graded)
    k = len(OFSTED)
    agreed = sum(1 for a, b in graded if a == b)
    percent = None if n == 0 else 100 * agreed / n
    kappa: float | None = None
    if n:
        weight = {(i, j): Fraction((i - j) ** 2, (k - 1) ** 2) for i in range(k) for j in range(k)}
        observed = sum(weight[rank(a), rank(b)] * Fraction(1, n) for a, b in graded)
        rows = [Fraction(sum(1 for a, _ in graded if rank(a) == i), n) for i in range(k)]
        cols = [Fraction(sum(1 for _, b in graded if rank(b) == j), n) for j in range(k)]
        expected = sum(weight[i, j] * rows[i] * cols[j] for i in range(k) for j in range(k))
        kappa = None if expected == 0 else float(1 - observed / expected)
    return AgreementFigure(
        group=group,
        pairs=n,
        agreed=agreed,
        percent_agreement=percent,
        kappa=kappa,
        not_applicable=na,
        not_evidenced=ne,
        unanswered=unanswered,
    )


def assert_figure(got: AgreementFigure, want: AgreementFigure) -> None:
    assert got.model_dump(exclude={"percent_agreement", "kappa"}) == want.model_dump(
        exclude={"percent_agreement", "kappa"}
    )
    for name in ("percent_agreement", "kappa"):
        expected = getattr(want, name)
        actual = getattr(got, name)
        assert (actual is None) == (expected is None), (got.group, name)
        if expected is not None:
            assert actual == pytest.approx(expected, abs=1e-12), (got.group, name)


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan())


def first_grade(
    factory: sessionmaker[Session],
    actor: Actor,
    audit_id: int,
    case: str,
    agency: str,
    criterion: str,
    grade: str | None,
) -> int:
    rid = returns.find_return(factory, audit_id, case, agency)
    if grade is not None:
        change = (
            FindingChange(evidence="seen, not yet graded")
            if grade == BLANK
            else FindingChange(grade=grade)
        )
        returns.record_finding(factory, actor, rid, criterion, change, expected_version=None)
    return rid


def double_grade(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> dict[tuple[str, str, str], int]:
    second = Actor(name="second.auditor")
    rids = {}
    for case, agency, criterion, first, other in PAIRS:
        rid = first_grade(factory, actor, audit.id, case, agency, criterion, first)
        record_second_grade(factory, second, rid, criterion, other)
        rids[case, agency, criterion] = rid
    return rids


# --- second grades ----------------------------------------------------------------------------


def test_record_second_grade_validates_and_never_changes_the_finding(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    rid = first_grade(factory, actor, audit.id, "CSE-25-01", "police", "cse-1.1", "good")
    before = returns.get_return(factory, rid)
    second = Actor(name="second.auditor")
    saved = record_second_grade(factory, second, rid, "cse-1.1", "inadequate")
    assert (saved.return_id, saved.criterion_id, saved.grade, saved.graded_by) == (
        rid,
        "cse-1.1",
        "inadequate",
        "second.auditor",
    )
    # The return stays the agency's own: same grade, same version.
    assert returns.get_return(factory, rid).findings == before.findings

    # Grading again replaces the second grade rather than adding another.
    again = record_second_grade(factory, Actor(name="third.auditor"), rid, "cse-1.1", "good")
    assert again.id == saved.id
    assert [(g.criterion_id, g.grade, g.graded_by) for g in second_grades(factory, rid)] == [
        ("cse-1.1", "good", "third.auditor")
    ]
    # A criterion the agency has not answered can be second-graded; no finding appears.
    record_second_grade(factory, second, rid, "cse-2.1", NE)
    assert [g.criterion_id for g in second_grades(factory, rid)] == ["cse-1.1", "cse-2.1"]
    assert returns.get_return(factory, rid).findings == before.findings

    with pytest.raises(InvalidRequestError, match=r"cse-99\.9"):
        record_second_grade(factory, second, rid, "cse-99.9", "good")
    with pytest.raises(InvalidRequestError, match="not asked of police"):
        record_second_grade(factory, second, rid, "cse-1.3", "good")  # school only
    with pytest.raises(InvalidRequestError, match="'green' is not an answer"):
        record_second_grade(factory, second, rid, "cse-1.1", "green")
    with pytest.raises(NotFoundError):
        record_second_grade(factory, second, 98765, "cse-1.1", "good")
    assert [g.grade for g in second_grades(factory, rid)] == ["good", NE]


# --- double grading ---------------------------------------------------------------------------


def test_hand_worked_table() -> None:
    """The cse-1.1 pairs worked on paper, to check the test's own formula first.

    Ranks (first, second): (1,1) (2,2) (2,3) (3,3) (4,3) (1,2). Three agree: 50%.
    Squared distances observed: 0+0+1+0+1+1 = 3. Margins: first 2,2,1,1; second 1,2,3,0.
    Chance: sum (i-j)^2 * row_i * col_j = 28 + 8 + 6 + 20 = 62, so
    kappa = 1 - n * 3 / 62 = 1 - 18/62 = 22/31."""
    graded = [(a, b) for _, _, c, a, b in PAIRS if c == "cse-1.1" and a in OFSTED and b in OFSTED]
    figure = hand_figure("cse-1.1", graded)
    assert figure.pairs == 6 and figure.agreed == 3 and figure.percent_agreement == 50
    assert figure.kappa == pytest.approx(22 / 31, abs=1e-12)


def test_double_grading_per_criterion_agency_and_overall(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    double_grade(factory, actor, audit)
    report = agreement(factory, audit.id, Comparison.DOUBLE_GRADING)
    assert report.comparison == "double-grading" and report.ordered and report.note == ""
    assert report.scale_id == "ofsted-4"

    # Per criterion, in the tool's own order.
    tool = registry.definition("cse").tool
    criteria = [c.id for c in tool.criteria if any(p[2] == c.id for p in PAIRS)]
    assert [f.group for f in report.by_item] == criteria
    for figure in report.by_item:
        want = hand_figure(figure.group, [(a, b) for _, _, c, a, b in PAIRS if c == figure.group])
        assert_figure(figure, want)
    by_item = {f.group: f for f in report.by_item}
    assert by_item["cse-1.1"].kappa == pytest.approx(22 / 31)
    assert (by_item["cse-1.1"].not_applicable, by_item["cse-1.1"].not_evidenced) == (1, 1)
    assert by_item["cse-1.1"].unanswered == 1
    # NA beats NE, NE beats a blank: each pair is counted once, under the first reason.
    assert (by_item["cse-2.1"].not_applicable, by_item["cse-2.1"].not_evidenced) == (1, 1)
    assert by_item["cse-2.1"].unanswered == 1 and by_item["cse-2.1"].pairs == 2
    # One category only: no disagreement is expected by chance, so kappa is undefined.
    assert by_item["cse-6.1"].percent_agreement == 100 and by_item["cse-6.1"].kappa is None

    # Per agency, alphabetically, and overall.
    assert [f.group for f in report.by_agency] == ["gp", "police", "school"]
    for figure in report.by_agency:
        want = hand_figure(figure.group, [(a, b) for _, g, _, a, b in PAIRS if g == figure.group])
        assert_figure(figure, want)
    assert report.overall is not None
    assert_figure(report.overall, hand_figure("overall", [(a, b) for *_, a, b in PAIRS]))
    assert report.overall.pairs + report.overall.not_applicable + report.overall.not_evidenced + (
        report.overall.unanswered
    ) == len(PAIRS)


def test_only_this_audits_second_grades_count(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    other = audits.create_audit(factory, actor, registry, cse_plan())
    rid = first_grade(factory, actor, other.id, "CSE-25-01", "police", "cse-1.1", "good")
    record_second_grade(factory, actor, rid, "cse-1.1", "inadequate")
    report = agreement(factory, audit.id)
    assert report.overall is None and report.by_item == () and report.by_agency == ()
    assert "double-graded" in report.note
    assert agreement(factory, other.id).overall is not None
    with pytest.raises(NotFoundError):
        agreement(factory, 98765)


# --- agency against moderated -----------------------------------------------------------------


def test_agency_heading_median_against_the_moderated_grade(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    grades = [
        # Case 1. recognition: police good; school good + inadequate -> the worse middle,
        # inadequate; gp only not applicable -> no grade. assessment: police outstanding +
        # requires improvement -> requires improvement; school nothing; gp good + good.
        ("CSE-25-01", "police", "cse-1.1", "good"),
        ("CSE-25-01", "school", "cse-1.1", "good"),
        ("CSE-25-01", "school", "cse-1.3", "inadequate"),
        ("CSE-25-01", "gp", "cse-1.1", NA),
        ("CSE-25-01", "police", "cse-2.1", "outstanding"),
        ("CSE-25-01", "police", "cse-2.2", "requires_improvement"),
        ("CSE-25-01", "gp", "cse-2.1", "good"),
        ("CSE-25-01", "gp", "cse-2.2", "good"),
        # Case 2. overall (every section): police good, inadequate, inadequate -> inadequate;
        # recognition: police inadequate.
        ("CSE-25-02", "police", "cse-1.1", "inadequate"),
        ("CSE-25-02", "police", "cse-2.1", "inadequate"),
        ("CSE-25-02", "police", "cse-4.3", "good"),
    ]
    for case, agency, criterion, grade in grades:
        first_grade(factory, actor, audit.id, case, agency, criterion, grade)
    moderated = [
        (0, ModerationHeading.RECOGNITION, "good"),
        (0, ModerationHeading.ASSESSMENT, "requires_improvement"),
        (1, ModerationHeading.OVERALL, "inadequate"),
        (1, ModerationHeading.RECOGNITION, NA),
    ]
    for case_index, heading, grade in moderated:
        casework.set_moderated_grade(
            factory,
            actor,
            audit.cases[case_index].id,
            heading,
            grade=grade,
            reasons="panel",
            expected_version=None,
        )
    # A heading the panel left without a grade is not compared at all.
    casework.set_moderated_grade(
        factory,
        actor,
        audit.cases[2].id,
        ModerationHeading.IMPACT,
        grade=None,
        reasons="not reached",
        expected_version=None,
    )
    # (heading, agency, agency's median, moderated), worked out by hand from the above.
    pairs = [
        ("recognition", "gp", None, "good"),
        ("recognition", "police", "good", "good"),
        ("recognition", "school", "inadequate", "good"),
        ("assessment", "gp", "good", "requires_improvement"),
        ("assessment", "police", "requires_improvement", "requires_improvement"),
        ("assessment", "school", None, "requires_improvement"),
        ("overall", "gp", None, "inadequate"),
        ("overall", "police", "inadequate", "inadequate"),
        ("overall", "school", None, "inadequate"),
        ("recognition", "gp", None, NA),
        ("recognition", "police", "inadequate", NA),
        ("recognition", "school", None, NA),
    ]
    report = agreement(factory, audit.id, Comparison.AGENCY_VS_MODERATED)
    assert report.comparison == "agency-vs-moderated" and report.ordered
    assert [f.group for f in report.by_item] == ["recognition", "assessment", "overall"]
    for figure in report.by_item:
        assert_figure(
            figure, hand_figure(figure.group, [(a, b) for h, _, a, b in pairs if h == figure.group])
        )
    for figure in report.by_agency:
        assert_figure(
            figure, hand_figure(figure.group, [(a, b) for _, g, a, b in pairs if g == figure.group])
        )
    assert report.overall is not None
    assert_figure(report.overall, hand_figure("overall", [(a, b) for *_, a, b in pairs]))
    recognition = report.by_item[0]
    assert (recognition.pairs, recognition.agreed, recognition.not_applicable) == (2, 1, 3)
    assert recognition.unanswered == 1


def test_agency_vs_moderated_with_nothing_moderated(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    first_grade(factory, actor, audit.id, "CSE-25-01", "police", "cse-1.1", "good")
    report = agreement(factory, audit.id, Comparison.AGENCY_VS_MODERATED)
    assert report.overall is None and report.by_item == ()
    assert "moderated" in report.note


# --- unordered scales -------------------------------------------------------------------------

UNORDERED_SCALE = """\
id: yes-no-partly
title: Met, partly met or not met
ordered: false
levels:
  - key: met
    label: Met
    descriptor: The standard is met.
  - key: partly
    label: Partly met
    descriptor: Some of the standard is met.
  - key: unmet
    label: Not met
    descriptor: The standard is not met.
"""

UNORDERED_TOOL = """\
id: checklist
version: 1
title: Safeguarding checklist
theme: Arrangements
kind: multi-agency
scale: yes-no-partly
sections:
  - id: standards
    title: Standards
    criteria:
      - id: chk-1
        question: Is there a named lead?
"""


def test_rag_scale_shipped_is_ordered(registry: ToolRegistry) -> None:
    # Both shipped scales are ordered, so an unordered one is written for the next test.
    assert registry.scales["rag"].ordered and registry.scales["ofsted-4"].ordered


def test_unordered_scale_gets_a_note_and_no_figures(
    factory: sessionmaker[Session], actor: Actor, tmp_path: Path
) -> None:
    (tmp_path / "yes-no-partly.scale.yaml").write_text(UNORDERED_SCALE, "utf-8")
    (tmp_path / "checklist.yaml").write_text(UNORDERED_TOOL, "utf-8")
    registry = ToolRegistry.load([tmp_path])
    assert not registry.scales["yes-no-partly"].ordered
    audit = audits.create_audit(
        factory,
        actor,
        registry,
        AuditPlan(title="Checklist", tool_id="checklist", agencies=("police",), cases=cohort(1)),
    )
    rid = first_grade(factory, actor, audit.id, "CSE-25-01", "police", "chk-1", "met")
    record_second_grade(factory, actor, rid, "chk-1", "partly")
    for comparison in Comparison:
        report = agreement(factory, audit.id, comparison)
        assert report.ordered is False and report.scale_id == "yes-no-partly"
        assert "not ordered" in report.note
        assert report.by_item == () and report.by_agency == () and report.overall is None
