"""An agency's return for one case: record findings as the auditor types, check progress, submit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from schemas.audit import (
    Actor,
    AgencyReturnOut,
    AuditStatus,
    FindingChange,
    FindingOut,
    ReturnProgress,
    ReturnStatus,
    UnansweredCriterion,
)
from schemas.tools import ToolDefinition
from workbench.services import access
from workbench.services.errors import (
    InvalidRequestError,
    NotFoundError,
    StaleFindingError,
    SubmitRefusedError,
)
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import AgencyReturn, Audit, Case, Finding

EDITABLE = {AuditStatus.PLANNING.value, AuditStatus.RETURNS.value, AuditStatus.MODERATION.value}


def _return(
    session: Session, return_id: int, *, write: bool = False
) -> tuple[AgencyReturn, ToolDefinition]:
    """The return and its tool, once the principal may read it (or, with `write`, change it)."""
    row = session.get(AgencyReturn, return_id, options=[selectinload(AgencyReturn.findings)])
    if row is None:
        raise NotFoundError(f"no agency return with id {return_id}")
    if write:
        access.require_return_writable(session, row)
    else:
        access.require_return_readable(session, row)
    return row, definition_of(row.case.audit.tool_version)


def find_return(factory: SessionFactory, audit_id: int, case_reference: str, agency: str) -> int:
    with unit_of_work(factory) as session:
        return_id = session.scalar(
            select(AgencyReturn.id)
            .join(Case)
            .where(
                Case.audit_id == audit_id,
                Case.reference == case_reference,
                AgencyReturn.agency_code == agency,
            )
        )
        if return_id is None:
            raise NotFoundError(
                f"no return for case {case_reference!r} and agency {agency!r} in audit {audit_id}"
            )
        return return_id


def get_return(factory: SessionFactory, return_id: int) -> AgencyReturnOut:
    with unit_of_work(factory) as session:
        row, _ = _return(session, return_id)
        return _return_out(row)


def may_change(factory: SessionFactory, return_id: int) -> bool:
    """Whether the principal may change this return (an auditor reads other agencies'
    returns from moderation on, but changes only their own)."""
    with unit_of_work(factory) as session:
        row, _ = _return(session, return_id)
        return access.writes_return(session, row.case.audit, row.agency_code)


def _return_out(row: AgencyReturn) -> AgencyReturnOut:
    return AgencyReturnOut(
        id=row.id,
        case_id=row.case_id,
        case_reference=row.case.reference,
        agency_code=row.agency_code,
        status=ReturnStatus(row.status),
        auditor=row.auditor,
        submitted_at=row.submitted_at,
        submitted_by=row.submitted_by,
        findings=tuple(FindingOut.model_validate(f) for f in row.findings),
    )


def _check_change(
    definition: ToolDefinition, agency: str, criterion_id: str, change: FindingChange
) -> None:
    try:
        criterion = definition.tool.criterion(criterion_id)
    except KeyError:
        raise InvalidRequestError(
            f"criterion {criterion_id!r} is not in tool {definition.tool.id} "
            f"version {definition.tool.version}"
        ) from None
    if not criterion.applies_to(agency):
        raise InvalidRequestError(f"criterion {criterion_id!r} does not apply to {agency}")
    if change.grade is not None and change.grade not in definition.scale.answer_keys:
        allowed = ", ".join(definition.scale.answer_keys)
        raise InvalidRequestError(
            f"{change.grade!r} is not an answer on the {definition.scale.title} "
            f"(use one of {allowed})"
        )


def record_finding(
    factory: SessionFactory,
    actor: Actor,
    return_id: int,
    criterion_id: str,
    change: FindingChange,
    *,
    expected_version: int | None,
) -> FindingOut:
    """Save one criterion's answer. `expected_version` is the version the auditor last saw
    (0 or None for a finding not yet saved); if someone saved since, StaleFindingError."""
    try:
        with unit_of_work(factory, actor) as session:
            row, definition = _return(session, return_id, write=True)
            _check_change(definition, row.agency_code, criterion_id, change)
            if row.case.audit.status not in EDITABLE:
                raise InvalidRequestError(
                    f"the audit is in {row.case.audit.status}; returns can no longer be changed"
                )
            if row.status == ReturnStatus.SUBMITTED.value:
                raise InvalidRequestError(
                    f"the {row.agency_code} return for case {row.case.reference} is submitted; "
                    "reopen it to change a finding"
                )
            finding = next((f for f in row.findings if f.criterion_id == criterion_id), None)
            now = dt.datetime.now(dt.UTC)
            if finding is None:
                if expected_version:
                    raise NotFoundError(f"finding {criterion_id!r} no longer exists")
                finding = Finding(criterion_id=criterion_id, updated_by=actor.name, updated_at=now)
                finding.agency_return = row
                session.add(finding)
            elif expected_version is not None and expected_version != finding.version:
                raise StaleFindingError(FindingOut.model_validate(finding))
            _apply(finding, change)
            finding.updated_by = actor.name
            finding.updated_at = now
            if row.status == ReturnStatus.NOT_STARTED.value:
                row.status = ReturnStatus.IN_PROGRESS.value
            if actor.name and not row.auditor:
                row.auditor = actor.name
            session.flush()
            return FindingOut.model_validate(finding)
    except (StaleDataError, IntegrityError):
        # Someone else's save landed between our read and our write: show them theirs.
        current = _current_finding(factory, return_id, criterion_id)
        if current is None:  # pragma: no cover - the row that beat us was deleted too
            raise
        raise StaleFindingError(current) from None


def _apply(finding: Finding, change: FindingChange) -> None:
    if change.clear_grade:
        finding.grade = None
    elif change.grade is not None:
        finding.grade = change.grade
    if change.evidence is not None:
        finding.evidence = change.evidence
    if change.strengths is not None:
        finding.strengths = change.strengths
    if change.areas_for_development is not None:
        finding.areas_for_development = change.areas_for_development
    for name in ("evidence", "strengths", "areas_for_development"):
        if getattr(finding, name) is None:
            setattr(finding, name, "")


def _current_finding(
    factory: SessionFactory, return_id: int, criterion_id: str
) -> FindingOut | None:
    with unit_of_work(factory) as session:
        row = session.scalar(
            select(Finding).where(
                Finding.return_id == return_id, Finding.criterion_id == criterion_id
            )
        )
        return None if row is None else FindingOut.model_validate(row)


def unanswered(factory: SessionFactory, return_id: int) -> list[UnansweredCriterion]:
    with unit_of_work(factory) as session:
        row, definition = _return(session, return_id)
        return _unanswered(row, definition)


def _unanswered(row: AgencyReturn, definition: ToolDefinition) -> list[UnansweredCriterion]:
    answered = {f.criterion_id for f in row.findings if f.grade is not None}
    return [
        UnansweredCriterion(criterion_id=c.id, question=c.question)
        for c in definition.tool.criteria_for(row.agency_code)
        if c.id not in answered
    ]


def submit_return(factory: SessionFactory, actor: Actor, return_id: int) -> AgencyReturnOut:
    """Submit when every criterion that applies has an answer; otherwise say which have not."""
    with unit_of_work(factory, actor) as session:
        row, definition = _return(session, return_id, write=True)
        if row.status == ReturnStatus.SUBMITTED.value:
            raise InvalidRequestError("this return is already submitted")
        missing = _unanswered(row, definition)
        if missing:
            raise SubmitRefusedError(missing)
        row.status = ReturnStatus.SUBMITTED.value
        row.submitted_at = dt.datetime.now(dt.UTC)
        row.submitted_by = actor.name
        session.flush()
        return _return_out(row)


def reopen_return(factory: SessionFactory, actor: Actor, return_id: int) -> AgencyReturnOut:
    with unit_of_work(factory, actor) as session:
        row, _ = _return(session, return_id, write=True)
        if row.status != ReturnStatus.SUBMITTED.value:
            raise InvalidRequestError("this return is not submitted")
        row.status = ReturnStatus.IN_PROGRESS.value
        row.submitted_at = None
        row.submitted_by = None
        session.flush()
        return _return_out(row)


def progress(factory: SessionFactory, audit_id: int) -> list[ReturnProgress]:
    """Answered of total for every return of an audit, answered counted in SQL."""
    with unit_of_work(factory) as session:
        audit = session.get(Audit, audit_id)
        if audit is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        definition = definition_of(audit.tool_version)
        rows = session.execute(
            select(
                AgencyReturn.id,
                Case.reference,
                AgencyReturn.agency_code,
                AgencyReturn.status,
                func.count(Finding.grade),
            )
            .join(Case, AgencyReturn.case_id == Case.id)
            .outerjoin(Finding, Finding.return_id == AgencyReturn.id)
            .where(Case.audit_id == audit_id)
            .group_by(
                AgencyReturn.id, Case.reference, AgencyReturn.agency_code, AgencyReturn.status
            )
            .order_by(Case.reference, AgencyReturn.agency_code)
        )
        return [
            ReturnProgress(
                return_id=rid,
                case_reference=ref,
                agency_code=agency,
                status=ReturnStatus(status),
                answered=answered,
                total=len(definition.tool.criteria_for(agency)),
            )
            for rid, ref, agency, status, answered in rows
        ]
