"""The audit lead's views: the case x agency return matrix and one case's moderation sheet.

Two rules are defined here and used by both views:

- **An agency's grade** for a set of findings (a whole return, or the criteria under one
  moderation heading) is the median level by scale rank of the findings that carry a level.
  "Not applicable", "not evidenced" and unanswered findings are ignored. With an even count
  the two middle levels may differ; the median then takes the worse one, so a split return
  never reads better than half of its findings. With no level at all the grade is None. On a
  scale that is not ordered (``GradeScale.ordered`` false) ranks mean nothing, so no median
  is given and no disagreement is flagged.
- **Disagreement**: graded agencies differ by two levels or more (highest rank minus lowest
  rank >= 2), for one criterion or for one heading.

Sections map to moderation headings by `heading_sections`, whose rule is in its docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import func, select

from schemas.audit import (
    AgencyOut,
    AuditStatus,
    LevelOfNeed,
    ModerationHeading,
    ReturnStatus,
    Schema,
)
from schemas.tools import AuditTool, GradeScale
from workbench.services import access
from workbench.services.errors import NotFoundError
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Agency,
    AgencyReturn,
    Audit,
    AuditAgency,
    Case,
    Finding,
    ImmediateConcern,
    ModeratedGrade,
)

EXCERPT_CHARS = 120
DISAGREEMENT_LEVELS = 2
# The headings a tool's sections can feed, in the panel's order; "overall" takes every criterion.
SECTION_HEADINGS: tuple[ModerationHeading, ...] = tuple(
    h for h in ModerationHeading if h is not ModerationHeading.OVERALL
)


# --- the rules ---------------------------------------------------------------------------


def median_level(counts: Mapping[str, int], scale: GradeScale) -> str | None:
    """The median level of findings given as {answer key: how many}; ties toward the worse.

    Non-grade answers and keys the scale does not know are ignored."""
    if not scale.ordered:
        return None
    graded = sorted(
        ((rank, key, n) for key, n in counts.items() if n > 0 and (rank := scale.rank(key))),
    )
    total = sum(n for _, _, n in graded)
    if total == 0:
        return None
    # Index total // 2 of the ranks sorted best first is the middle one for an odd count
    # and the worse of the two middle ones for an even count.
    target = total // 2
    seen = 0
    for _, key, n in graded:
        seen += n
        if seen > target:
            return key
    raise AssertionError("unreachable")  # pragma: no cover


def rank_spread(grades: Iterable[str | None], scale: GradeScale) -> int | None:
    """Highest rank minus lowest among the grades that are levels; None when fewer than one."""
    if not scale.ordered:
        return None
    ranks = [r for g in grades if g is not None and (r := scale.rank(g)) is not None]
    return max(ranks) - min(ranks) if ranks else None


def disagrees(spread: int | None) -> bool:
    return spread is not None and spread >= DISAGREEMENT_LEVELS


def heading_sections(tool: AuditTool) -> dict[ModerationHeading, tuple[str, ...]]:
    """Which of the tool's sections feed each moderation heading (overall is left out: it
    takes every criterion).

    1. A tool with exactly six sections maps them by position to recognition, assessment,
       planning, joint working, voice of the child and impact, as long as no section whose
       id names a heading sits at another heading's position. The three shipped tools are
       written in the panel's order (their planning sections are called
       "missing-and-planning", "planning-and-intervention" and "exclusions").
    2. Otherwise a section maps to a heading only when its id is that heading's value
       (e.g. "joint-working"); every other section feeds the overall heading alone.
    A heading no section maps to gets an empty tuple: its spread is then not shown.
    """
    names = {h.value: h for h in SECTION_HEADINGS}
    ids = [section.id for section in tool.sections]
    if len(ids) == len(SECTION_HEADINGS) and all(
        names[section_id] is SECTION_HEADINGS[position]
        for position, section_id in enumerate(ids)
        if section_id in names
    ):
        return {h: (ids[i],) for i, h in enumerate(SECTION_HEADINGS)}
    return {h: tuple(i for i in ids if i == h.value) for h in SECTION_HEADINGS}


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The evidence on one line, cut at a word with an ellipsis when longer than `limit`."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.") + "…"


# --- the matrix ----------------------------------------------------------------------------


class MatrixCase(Schema):
    """A row of the matrix: one case of the cohort."""

    id: int
    reference: str
    level_of_need: LevelOfNeed
    moderated_overall: str | None


class MatrixCell(Schema):
    """One agency's return for one case, as the lead sees it at a glance."""

    case_id: int
    agency_code: str
    return_id: int
    status: ReturnStatus
    answered: int = 0
    total: int = 0
    graded: int = 0
    grade: str | None = None


class ReturnMatrix(Schema):
    audit_id: int
    title: str
    tool_id: str
    tool_version: int
    tool_title: str
    status: AuditStatus
    scale: GradeScale
    agencies: tuple[AgencyOut, ...]
    cases: tuple[MatrixCase, ...]
    cells: tuple[MatrixCell, ...]
    open_concerns: int
    leads: bool = True
    """Whether the viewer leads this audit (or administers): moderation, concerns, exports."""
    panel: bool = True
    """Whether the viewer may open moderation: the leads, and auditors from moderation on."""

    def cell(self, case_id: int, agency_code: str) -> MatrixCell | None:
        """The return for this case and agency; None if the agency joined without one."""
        return next(
            (c for c in self.cells if c.case_id == case_id and c.agency_code == agency_code),
            None,
        )


def return_matrix(factory: SessionFactory, audit_id: int) -> ReturnMatrix:
    """Every case x agency return of an audit, with status, progress and the agency's grade.

    Findings are counted per (return, answer) in the database; no finding row is loaded."""
    with unit_of_work(factory) as session:
        audit = session.get(Audit, audit_id)
        if audit is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        access.require_case_level(session, "open an audit's case matrix")
        # Before moderation an auditor sees only their own agency's column.
        shown = {
            a.agency_code
            for a in audit.agencies
            if access.sees_return(session, audit, a.agency_code)
        }
        viewer_leads = access.leads(session, audit.id)  # True for the unrestricted system
        sees_moderation = viewer_leads or audit.status in access.SHARED_STATUSES
        definition = definition_of(audit.tool_version)
        scale = definition.scale
        agencies = tuple(
            AgencyOut(code=code, name=name, active=active)
            for code, name, active in session.execute(
                select(Agency.code, Agency.name, Agency.active)
                .join(AuditAgency, AuditAgency.agency_code == Agency.code)
                .where(AuditAgency.audit_id == audit_id)
                .order_by(Agency.code)
            )
            if code in shown
        )
        moderated = dict(
            session.execute(
                select(ModeratedGrade.case_id, ModeratedGrade.grade)
                .join(Case, ModeratedGrade.case_id == Case.id)
                .where(
                    Case.audit_id == audit_id,
                    ModeratedGrade.heading == ModerationHeading.OVERALL.value,
                )
            ).all()
        )
        cases = tuple(
            MatrixCase(
                id=case_id,
                reference=reference,
                level_of_need=LevelOfNeed(level),
                moderated_overall=moderated.get(case_id) if sees_moderation else None,
            )
            for case_id, reference, level in session.execute(
                select(Case.id, Case.reference, Case.level_of_need)
                .where(Case.audit_id == audit_id)
                .order_by(Case.reference)
            )
        )
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        for return_id, grade, n in session.execute(
            select(Finding.return_id, Finding.grade, func.count())
            .join(AgencyReturn, Finding.return_id == AgencyReturn.id)
            .join(Case, AgencyReturn.case_id == Case.id)
            .where(Case.audit_id == audit_id, Finding.grade.is_not(None))
            .group_by(Finding.return_id, Finding.grade)
        ):
            if grade is not None:  # the WHERE says so; the check tells the type checker
                counts[return_id][grade] = n
        totals: dict[str, int] = {}
        cells = []
        for return_id, case_id, agency_code, status in session.execute(
            select(
                AgencyReturn.id, AgencyReturn.case_id, AgencyReturn.agency_code, AgencyReturn.status
            )
            .join(Case, AgencyReturn.case_id == Case.id)
            .where(Case.audit_id == audit_id)
            .order_by(Case.reference, AgencyReturn.agency_code)
        ):
            if agency_code not in shown:
                continue
            answers = counts.get(return_id, {})
            cells.append(
                MatrixCell(
                    case_id=case_id,
                    agency_code=agency_code,
                    return_id=return_id,
                    status=ReturnStatus(status),
                    answered=sum(answers.values()),
                    total=totals.setdefault(
                        agency_code, len(definition.tool.criteria_for(agency_code))
                    ),
                    graded=sum(n for key, n in answers.items() if scale.rank(key) is not None),
                    grade=median_level(answers, scale),
                )
            )
        open_concerns = session.scalar(
            select(func.count())
            .select_from(ImmediateConcern)
            .join(Case, ImmediateConcern.case_id == Case.id)
            .where(Case.audit_id == audit_id, ImmediateConcern.status == "open")
        )
        return ReturnMatrix(
            audit_id=audit.id,
            title=audit.title,
            tool_id=definition.tool.id,
            tool_version=definition.tool.version,
            tool_title=definition.tool.title,
            status=AuditStatus(audit.status),
            scale=scale,
            agencies=agencies,
            cases=cases,
            cells=tuple(cells),
            open_concerns=open_concerns or 0,
            leads=viewer_leads,
            panel=sees_moderation,
        )


# --- one case's moderation -----------------------------------------------------------------


class AgencyAnswer(Schema):
    """One agency's own answer to one criterion, as it stands on its return (never changed
    by moderation). `applies` is False when the criterion is not asked of this agency."""

    agency_code: str
    return_id: int
    applies: bool
    grade: str | None = None
    evidence_excerpt: str = ""


class CriterionAnswers(Schema):
    criterion_id: str
    question: str
    section_id: str
    section_title: str
    heading: ModerationHeading | None
    answers: tuple[AgencyAnswer, ...]
    spread: int | None
    disagreement: bool

    def answer(self, agency_code: str) -> AgencyAnswer | None:
        return next((a for a in self.answers if a.agency_code == agency_code), None)


class AgencyHeadingGrade(Schema):
    """An agency's grade under one heading: the median of its findings there (see module)."""

    agency_code: str
    grade: str | None
    graded: int


class HeadingModeration(Schema):
    """One moderation heading: the agencies' spread and the panel's moderated grade.

    `version` is 0 while nothing is stored: pass it as expected_version to
    casework.set_moderated_grade so a grade someone else stored first is not overwritten."""

    heading: ModerationHeading
    label: str
    section_ids: tuple[str, ...]
    agency_grades: tuple[AgencyHeadingGrade, ...]
    spread: int | None
    disagreement: bool
    grade: str | None
    reasons: str
    version: int
    updated_by: str | None

    def agency_grade(self, agency_code: str) -> str | None:
        return next((a.grade for a in self.agency_grades if a.agency_code == agency_code), None)


class CaseModeration(Schema):
    case_id: int
    reference: str
    level_of_need: LevelOfNeed
    audit_id: int
    audit_title: str
    tool_id: str
    tool_version: int
    scale: GradeScale
    agencies: tuple[str, ...]
    criteria: tuple[CriterionAnswers, ...]
    headings: tuple[HeadingModeration, ...]
    moderates: bool = True
    """Whether the viewer may set moderated grades (the audit's leads); others read them."""

    def heading(self, heading: ModerationHeading) -> HeadingModeration:
        return next(h for h in self.headings if h.heading is heading)

    def criterion(self, criterion_id: str) -> CriterionAnswers:
        return next(c for c in self.criteria if c.criterion_id == criterion_id)


def case_moderation(factory: SessionFactory, case_id: int) -> CaseModeration:
    """Everything a panel needs to moderate one case: agencies' answers side by side per
    criterion, their spread per heading, and the moderated grades stored so far."""
    with unit_of_work(factory) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFoundError(f"no case with id {case_id}")
        audit = case.audit
        access.require_panel_view(session, audit, "open the moderation of a case")
        definition = definition_of(audit.tool_version)
        tool, scale = definition.tool, definition.scale
        returns = {
            agency: return_id
            for return_id, agency in session.execute(
                select(AgencyReturn.id, AgencyReturn.agency_code)
                .where(AgencyReturn.case_id == case_id)
                .order_by(AgencyReturn.agency_code)
            )
        }
        # Only the columns shown: strengths and areas for development stay in the database.
        found: dict[tuple[str, str], tuple[str | None, str]] = {
            (agency, criterion): (grade, evidence or "")
            for agency, criterion, grade, evidence in session.execute(
                select(
                    AgencyReturn.agency_code,
                    Finding.criterion_id,
                    Finding.grade,
                    Finding.evidence,
                )
                .join(AgencyReturn, Finding.return_id == AgencyReturn.id)
                .where(AgencyReturn.case_id == case_id)
            )
        }
        stored = {
            m.heading: m
            for m in session.scalars(
                select(ModeratedGrade).where(ModeratedGrade.case_id == case_id)
            )
        }
        agencies = tuple(returns)
        mapping = heading_sections(tool)
        heading_of_section = {s: h for h, ids in mapping.items() for s in ids}

        criteria = []
        for section in tool.sections:
            for criterion in section.criteria:
                answers = []
                for agency in agencies:
                    grade, evidence = found.get((agency, criterion.id), (None, ""))
                    answers.append(
                        AgencyAnswer(
                            agency_code=agency,
                            return_id=returns[agency],
                            applies=criterion.applies_to(agency),
                            grade=grade,
                            evidence_excerpt=excerpt(evidence),
                        )
                    )
                spread = rank_spread((a.grade for a in answers if a.applies), scale)
                criteria.append(
                    CriterionAnswers(
                        criterion_id=criterion.id,
                        question=criterion.question,
                        section_id=section.id,
                        section_title=section.title,
                        heading=heading_of_section.get(section.id),
                        answers=tuple(answers),
                        spread=spread,
                        disagreement=disagrees(spread),
                    )
                )

        headings = []
        for heading in ModerationHeading:
            if heading is ModerationHeading.OVERALL:
                section_ids = tuple(s.id for s in tool.sections)
            else:
                section_ids = mapping[heading]
            rows = [c for c in criteria if c.section_id in section_ids]
            agency_grades = []
            for agency in agencies:
                tally: dict[str, int] = defaultdict(int)
                for row in rows:
                    answer = row.answer(agency)
                    if answer is not None and answer.applies and answer.grade is not None:
                        tally[answer.grade] += 1
                agency_grades.append(
                    AgencyHeadingGrade(
                        agency_code=agency,
                        grade=median_level(tally, scale),
                        graded=sum(n for k, n in tally.items() if scale.rank(k) is not None),
                    )
                )
            spread = rank_spread((a.grade for a in agency_grades), scale)
            row_stored = stored.get(heading.value)
            headings.append(
                HeadingModeration(
                    heading=heading,
                    label=heading.label,
                    section_ids=section_ids,
                    agency_grades=tuple(agency_grades),
                    spread=spread,
                    disagreement=disagrees(spread),
                    grade=row_stored.grade if row_stored else None,
                    reasons=row_stored.reasons if row_stored else "",
                    version=row_stored.version if row_stored else 0,
                    updated_by=row_stored.updated_by if row_stored else None,
                )
            )
        return CaseModeration(
            case_id=case.id,
            reference=case.reference,
            level_of_need=LevelOfNeed(case.level_of_need),
            audit_id=audit.id,
            audit_title=audit.title,
            tool_id=tool.id,
            tool_version=tool.version,
            scale=scale,
            agencies=agencies,
            criteria=tuple(criteria),
            headings=tuple(headings),
            moderates=access.leads(session, audit.id),
        )
