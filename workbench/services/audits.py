"""Planning audits and reading them back: create, list, detail, cohort and status."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from audit_tools.registry import ToolRegistry
from schemas.access import Role
from schemas.audit import (
    Actor,
    AgencyOut,
    AuditDetail,
    AuditPlan,
    AuditStatus,
    AuditSummary,
    CaseOut,
    CaseProfile,
)
from schemas.tools import ToolDefinition
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.tools import definition_of, pin_tool_version
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Agency,
    AgencyReturn,
    Audit,
    AuditAgency,
    AuditLead,
    Case,
    Finding,
    ToolVersion,
)


def _months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    # Clamp the day: 31 March minus one month is the last day of February.
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def list_agencies(factory: SessionFactory) -> list[AgencyOut]:
    with unit_of_work(factory) as session:
        rows = session.scalars(select(Agency).order_by(Agency.name))
        return [AgencyOut.model_validate(a) for a in rows]


def _check_agencies(session: Session, codes: tuple[str, ...]) -> None:
    known = set(session.scalars(select(Agency.code).where(Agency.active)))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidRequestError(f"unknown agency code(s): {', '.join(unknown)}")
    if len(set(codes)) != len(codes):
        raise InvalidRequestError("an agency is listed twice")


def create_audit(
    factory: SessionFactory, actor: Actor, registry: ToolRegistry, plan: AuditPlan
) -> AuditDetail:
    """Plan an audit: pin its tool version, add the cohort and open a return per case and agency."""
    try:
        definition = registry.definition(plan.tool_id, plan.tool_version)
    except KeyError as exc:
        raise InvalidRequestError(str(exc.args[0])) from None
    with unit_of_work(factory, actor) as session:
        access.require_role(session, (Role.LEAD, Role.ADMIN), "plan an audit")
        _check_agencies(session, plan.agencies)
        tool_row = pin_tool_version(session, definition)
        end = plan.look_back_end or plan.audit_day or dt.datetime.now(dt.UTC).date()
        audit = Audit(
            uid=str(uuid.uuid4()),
            title=plan.title,
            tool_version_id=tool_row.id,
            status=AuditStatus.PLANNING.value,
            look_back_months=plan.look_back_months,
            look_back_start=_months_before(end, plan.look_back_months),
            look_back_end=end,
            returns_due=plan.returns_due,
            audit_day=plan.audit_day,
            chair=plan.chair,
            scope=plan.scope,
            created_by=actor.name,
        )
        audit.tool_version = tool_row
        audit.agencies = [AuditAgency(agency_code=code) for code in plan.agencies]
        session.add(audit)
        session.flush()
        # Whoever plans an audit leads it; `workbench audits lead` names others.
        session.add(AuditLead(audit_id=audit.id, login=actor.name))
        for profile in _unique_cases(plan.cases):
            _add_case(session, audit, profile)
        session.flush()
        return _detail(session, audit.id)


def _unique_cases(cases: tuple[CaseProfile, ...]) -> tuple[CaseProfile, ...]:
    seen: set[str] = set()
    for case in cases:
        if case.reference in seen:
            raise InvalidRequestError(f"case reference {case.reference!r} is in the cohort twice")
        seen.add(case.reference)
    return cases


def _add_case(session: Session, audit: Audit, profile: CaseProfile) -> Case:
    case = Case(audit_id=audit.id, **profile.model_dump(mode="json"))
    case.audit = audit
    case.returns = [AgencyReturn(agency_code=a.agency_code) for a in audit.agencies]
    session.add(case)
    return case


def add_case(factory: SessionFactory, actor: Actor, audit_id: int, profile: CaseProfile) -> CaseOut:
    with unit_of_work(factory, actor) as session:
        audit = _audit(session, audit_id)
        access.require_lead(session, audit_id, "add a case to the audit")
        if any(c.reference == profile.reference for c in audit.cases):
            raise InvalidRequestError(
                f"case reference {profile.reference!r} is already in this audit"
            )
        case = _add_case(session, audit, profile)
        session.flush()
        return CaseOut.model_validate(case)


def _audit(session: Session, audit_id: int) -> Audit:
    audit = session.get(
        Audit, audit_id, options=[selectinload(Audit.agencies), selectinload(Audit.cases)]
    )
    if audit is None:
        raise NotFoundError(f"no audit with id {audit_id}")
    return audit


AUDIT_FIELDS = (
    "uid",
    "title",
    "status",
    "look_back_months",
    "look_back_start",
    "look_back_end",
    "returns_due",
    "audit_day",
    "chair",
    "scope",
    "legal_hold",
    "created_at",
    "created_by",
)
"""The audit's own columns shared by AuditDetail and the bundle's BundleAudit."""


def audit_fields(audit: Audit) -> dict[str, Any]:
    """The audit's own columns, with its agencies sorted: what every audit schema starts from."""
    fields = {name: getattr(audit, name) for name in AUDIT_FIELDS}
    fields["agencies"] = tuple(sorted(a.agency_code for a in audit.agencies))
    return fields


def _detail(session: Session, audit_id: int) -> AuditDetail:
    audit = _audit(session, audit_id)
    return AuditDetail(
        id=audit.id,
        tool_id=audit.tool_version.tool_id,
        tool_version=audit.tool_version.version,
        **audit_fields(audit),
        cases=tuple(
            CaseOut.model_validate(c) for c in sorted(audit.cases, key=lambda c: c.reference)
        ),
    )


def get_audit(factory: SessionFactory, audit_id: int) -> AuditDetail:
    with unit_of_work(factory) as session:
        return _detail(session, audit_id)


def audit_tool(factory: SessionFactory, audit_id: int) -> ToolDefinition:
    """The tool version this audit pinned (not necessarily the newest on disk)."""
    with unit_of_work(factory) as session:
        row = session.scalars(
            select(ToolVersion).join(Audit).where(Audit.id == audit_id)
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        return definition_of(row)


def set_status(
    factory: SessionFactory, actor: Actor, audit_id: int, status: AuditStatus
) -> AuditDetail:
    with unit_of_work(factory, actor) as session:
        audit = _audit(session, audit_id)
        access.require_lead(session, audit_id, "move the audit to another stage")
        audit.status = status.value
        audit.closed_at = dt.datetime.now(dt.UTC) if status is AuditStatus.CLOSED else None
        session.flush()
        return _detail(session, audit_id)


def list_audits(factory: SessionFactory) -> list[AuditSummary]:
    """Every audit with its progress, counted in SQL (a handful of grouped queries)."""
    with unit_of_work(factory) as session:
        audits = session.execute(
            select(Audit, ToolVersion).join(ToolVersion).order_by(Audit.created_at.desc(), Audit.id)
        ).all()
        case_counts = dict(
            session.execute(select(Case.audit_id, func.count()).group_by(Case.audit_id)).all()
        )
        agency_counts = dict(
            session.execute(
                select(AuditAgency.audit_id, func.count()).group_by(AuditAgency.audit_id)
            ).all()
        )
        returns: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
        for audit_id, agency, total, submitted in session.execute(
            select(
                Case.audit_id,
                AgencyReturn.agency_code,
                func.count(),
                func.count().filter(AgencyReturn.status == "submitted"),
            )
            .join(Case)
            .group_by(Case.audit_id, AgencyReturn.agency_code)
        ):
            returns[audit_id][agency] = (total, submitted)
        # Count per return first (an index-only scan), then roll the few thousand returns
        # up to audits: joining every finding to its case would touch each row twice more.
        per_return = (
            select(Finding.return_id, func.count(Finding.grade).label("answered"))
            .group_by(Finding.return_id)
            .subquery()
        )
        answered: dict[int, int] = {
            audit_id: int(total)
            for audit_id, total in session.execute(
                select(Case.audit_id, func.sum(per_return.c.answered))
                .select_from(per_return)
                .join(AgencyReturn, AgencyReturn.id == per_return.c.return_id)
                .join(Case, Case.id == AgencyReturn.case_id)
                .group_by(Case.audit_id)
            ).all()
        }
        out = []
        for audit, tool_row in audits:
            definition = definition_of(tool_row)
            per_agency = returns.get(audit.id, {})
            expected = sum(
                total * len(definition.tool.criteria_for(agency))
                for agency, (total, _) in per_agency.items()
            )
            out.append(
                AuditSummary(
                    id=audit.id,
                    uid=audit.uid,
                    title=audit.title,
                    tool_id=tool_row.tool_id,
                    tool_version=tool_row.version,
                    tool_title=tool_row.title,
                    status=AuditStatus(audit.status),
                    audit_day=audit.audit_day,
                    returns_due=audit.returns_due,
                    chair=audit.chair,
                    cases=case_counts.get(audit.id, 0),
                    agencies=agency_counts.get(audit.id, 0),
                    returns_submitted=sum(s for _, s in per_agency.values()),
                    returns_total=sum(t for t, _ in per_agency.values()),
                    findings_answered=answered.get(audit.id, 0),
                    findings_expected=expected,
                )
            )
        return out
