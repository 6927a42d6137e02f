"""Grade distributions computed in SQL: per agency and per criterion, for one audit."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import func, select

from schemas.audit import GradeCount, GradeDistribution
from workbench.services.errors import NotFoundError
from workbench.services.tools import audit_definition
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import AgencyReturn, Case, Finding


def grade_distribution(
    factory: SessionFactory, audit_id: int, by: Literal["agency", "criterion"] = "agency"
) -> GradeDistribution:
    """Counts of each answer (levels and the non-grade answers) grouped in the database."""
    group = AgencyReturn.agency_code if by == "agency" else Finding.criterion_id
    with unit_of_work(factory) as session:
        definition = audit_definition(session, audit_id)
        if definition is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        scale_id = definition.scale.id
        rows = session.execute(
            select(group, Finding.grade, func.count())
            .select_from(Finding)
            .join(AgencyReturn, Finding.return_id == AgencyReturn.id)
            .join(Case, AgencyReturn.case_id == Case.id)
            .where(Case.audit_id == audit_id, Finding.grade.is_not(None))
            .group_by(group, Finding.grade)
            .order_by(group, Finding.grade)
        )
        return GradeDistribution(
            audit_id=audit_id,
            scale_id=scale_id,
            by=by,
            rows=tuple(GradeCount(group=g, grade=grade, count=n) for g, grade, n in rows),
        )
