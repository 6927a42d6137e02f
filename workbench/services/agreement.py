"""Agreement between graders: double-graded returns, and each agency's grade against the panel's.

Percentage agreement and quadratic-weighted Cohen's kappa, per criterion (or moderation
heading), per agency and overall. Only an ordered scale has distances between levels, so an
unordered scale gets a note and no figures. A pair where either side is "not applicable",
"not evidenced" or unanswered is left out of both figures and counted under that reason
("not applicable" first, then "not evidenced", then unanswered, so each pair counts once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from schemas.audit import Actor, ModerationHeading
from schemas.learning import AgreementFigure, AgreementReport, SecondGradeOut
from schemas.tools import NOT_APPLICABLE, NOT_EVIDENCED, GradeScale, ToolDefinition
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.kappa import contingency, percent_agreement, weighted_kappa
from workbench.services.matrix import heading_sections, median_level
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    AgencyReturn,
    Audit,
    Case,
    Finding,
    ModeratedGrade,
    SecondGrade,
)


class Comparison(StrEnum):
    DOUBLE_GRADING = "double-grading"
    AGENCY_VS_MODERATED = "agency-vs-moderated"

    @property
    def label(self) -> str:
        if self is Comparison.DOUBLE_GRADING:
            return "First and second grader"
        return "Agency's own grade and the moderated grade"


# (item: criterion or heading, agency, first answer, second answer)
Pair = tuple[str, str, str | None, str | None]


def record_second_grade(
    factory: SessionFactory, actor: Actor, return_id: int, criterion_id: str, grade: str
) -> SecondGradeOut:
    """A second auditor's independent grade for one criterion of a return. It never changes
    the finding: the return stays the agency's own."""
    with unit_of_work(factory, actor) as session:
        row = session.get(AgencyReturn, return_id)
        if row is None:
            raise NotFoundError(f"no return with id {return_id}")
        access.require_return_writable(session, row)
        definition = definition_of(row.case.audit.tool_version)
        if criterion_id not in definition.tool.criterion_ids:
            raise InvalidRequestError(
                f"{criterion_id!r} is not a criterion of {definition.tool.title}"
            )
        criterion = definition.tool.criterion(criterion_id)
        if not criterion.applies_to(row.agency_code):
            raise InvalidRequestError(f"{criterion_id} is not asked of {row.agency_code}")
        if grade not in definition.scale.answer_keys:
            raise InvalidRequestError(f"{grade!r} is not an answer on the {definition.scale.title}")
        existing = session.scalars(
            select(SecondGrade).where(
                SecondGrade.return_id == return_id, SecondGrade.criterion_id == criterion_id
            )
        ).one_or_none()
        if existing is None:
            existing = SecondGrade(criterion_id=criterion_id, grade=grade, graded_by=actor.name)
            existing.agency_return = row
            session.add(existing)
        else:
            existing.grade = grade
            existing.graded_by = actor.name
        try:
            session.flush()
        except IntegrityError:
            raise InvalidRequestError(
                f"{criterion_id} was second-graded by someone else just now; reload and retry"
            ) from None
        return SecondGradeOut.model_validate(existing)


def second_grades(factory: SessionFactory, return_id: int) -> list[SecondGradeOut]:
    with unit_of_work(factory) as session:
        row = session.get(AgencyReturn, return_id)
        if row is None:
            raise NotFoundError(f"no return with id {return_id}")
        access.require_return_readable(session, row)
        return [
            SecondGradeOut.model_validate(row)
            for row in session.scalars(
                select(SecondGrade)
                .where(SecondGrade.return_id == return_id)
                .order_by(SecondGrade.criterion_id)
            )
        ]


def _double_graded_pairs(factory: SessionFactory, audit_id: int) -> list[Pair]:
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(
                SecondGrade.criterion_id,
                AgencyReturn.agency_code,
                Finding.grade,
                SecondGrade.grade,
            )
            .join(AgencyReturn, AgencyReturn.id == SecondGrade.return_id)
            .join(Case, Case.id == AgencyReturn.case_id)
            .outerjoin(
                Finding,
                and_(
                    Finding.return_id == SecondGrade.return_id,
                    Finding.criterion_id == SecondGrade.criterion_id,
                ),
            )
            .where(Case.audit_id == audit_id)
        ).all()
    return [(c, a, first, second) for c, a, first, second in rows]


def _moderated_pairs(
    factory: SessionFactory, audit_id: int, definition: ToolDefinition
) -> list[Pair]:
    """Each agency's own heading grade (the median the moderation sheet shows) against the
    panel's grade, from grade columns alone. Agreement is an aggregate the subgroup may see,
    so it reads no finding text and no moderation reasons (a subgroup login may not)."""
    with unit_of_work(factory) as session:
        moderated = session.execute(
            select(ModeratedGrade.case_id, ModeratedGrade.heading, ModeratedGrade.grade)
            .join(Case, Case.id == ModeratedGrade.case_id)
            .where(Case.audit_id == audit_id, ModeratedGrade.grade.is_not(None))
        ).all()
        if not moderated:
            return []
        agencies: dict[int, list[str]] = defaultdict(list)
        for case_id, agency in session.execute(
            select(AgencyReturn.case_id, AgencyReturn.agency_code)
            .join(Case, Case.id == AgencyReturn.case_id)
            .where(Case.audit_id == audit_id)
            .order_by(AgencyReturn.case_id, AgencyReturn.agency_code)
        ):
            agencies[case_id].append(agency)
        found: dict[tuple[int, str], dict[str, str | None]] = defaultdict(dict)
        for case_id, agency, criterion_id, answer in session.execute(
            select(
                AgencyReturn.case_id, AgencyReturn.agency_code, Finding.criterion_id, Finding.grade
            )
            .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
            .join(Case, Case.id == AgencyReturn.case_id)
            .where(Case.audit_id == audit_id, Finding.grade.is_not(None))
        ):
            found[(case_id, agency)][criterion_id] = answer
    tool, scale = definition.tool, definition.scale
    mapping = heading_sections(tool)
    pairs: list[Pair] = []
    for case_id, heading_value, panel_grade in sorted(moderated, key=lambda m: (m[0], m[1])):
        heading = ModerationHeading(heading_value)
        if heading is ModerationHeading.OVERALL:
            section_ids: tuple[str, ...] = tuple(s.id for s in tool.sections)
        else:
            section_ids = mapping[heading]
        criteria = [c for s in tool.sections if s.id in section_ids for c in s.criteria]
        for agency in agencies.get(case_id, []):
            grades = found.get((case_id, agency), {})
            tally: dict[str, int] = defaultdict(int)
            for criterion in criteria:
                grade = grades.get(criterion.id)
                if grade is not None and criterion.applies_to(agency):
                    tally[grade] += 1
            pairs.append((heading.value, agency, median_level(tally, scale), panel_grade))
    return pairs


def agreement(
    factory: SessionFactory, audit_id: int, comparison: Comparison = Comparison.DOUBLE_GRADING
) -> AgreementReport:
    with unit_of_work(factory) as session:
        audit = session.get(Audit, audit_id)
        if audit is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        definition = definition_of(audit.tool_version)
    scale = definition.scale
    if not scale.ordered:
        return AgreementReport(
            audit_id=audit_id,
            comparison=comparison.value,
            scale_id=scale.id,
            ordered=False,
            note=f"the {scale.title} is not ordered: weighted agreement needs ordered levels",
        )
    if comparison is Comparison.DOUBLE_GRADING:
        pairs = _double_graded_pairs(factory, audit_id)
        # The tool's own order: criterion_ids is a set, whose order changes between runs.
        order = [c.id for c in definition.tool.criteria]
    else:
        pairs = _moderated_pairs(factory, audit_id, definition)
        order = [h.value for h in ModerationHeading]
    note = "" if pairs else _nothing_to_compare(comparison)
    by_item: dict[str, list[Pair]] = defaultdict(list)
    by_agency: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_item[pair[0]].append(pair)
        by_agency[pair[1]].append(pair)
    position = {item: i for i, item in enumerate(order)}
    return AgreementReport(
        audit_id=audit_id,
        comparison=comparison.value,
        scale_id=scale.id,
        ordered=True,
        note=note,
        by_item=tuple(
            figure(item, by_item[item], scale)
            for item in sorted(by_item, key=lambda i: (position.get(i, len(order)), i))
        ),
        by_agency=tuple(figure(agency, by_agency[agency], scale) for agency in sorted(by_agency)),
        overall=figure("overall", pairs, scale) if pairs else None,
    )


def _nothing_to_compare(comparison: Comparison) -> str:
    if comparison is Comparison.DOUBLE_GRADING:
        return "no return in this audit has been double-graded yet"
    return "no case in this audit has a moderated grade yet"


def figure(group: str, pairs: Iterable[Pair], scale: GradeScale) -> AgreementFigure:
    """Percentage agreement and quadratic-weighted kappa for one group of pairs."""
    ranked: list[tuple[int, int]] = []
    excluded = {"na": 0, "ne": 0, "unanswered": 0}
    for _, _, first, second in pairs:
        answers = (first, second)
        if NOT_APPLICABLE in answers:
            excluded["na"] += 1
        elif NOT_EVIDENCED in answers:
            excluded["ne"] += 1
        else:
            a = scale.rank(first) if first is not None else None
            b = scale.rank(second) if second is not None else None
            if a is None or b is None:
                excluded["unanswered"] += 1
            else:
                ranked.append((a, b))
    table = contingency(ranked, len(scale.levels))
    share = percent_agreement(table)
    return AgreementFigure(
        group=group,
        pairs=len(ranked),
        agreed=sum(1 for a, b in ranked if a == b),
        percent_agreement=None if share is None else share * 100,
        kappa=weighted_kappa(table, "quadratic"),
        not_applicable=excluded["na"],
        not_evidenced=excluded["ne"],
        unanswered=excluded["unanswered"],
    )
