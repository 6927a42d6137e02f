"""Everything a screen needs to work on one agency return: the return, its audit and pinned tool."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from schemas.audit import AgencyReturnOut, AuditDetail, ReturnStatus
from schemas.tools import Criterion, ToolDefinition
from workbench.services.audits import audit_tool, get_audit
from workbench.services.errors import NotFoundError
from workbench.services.returns import EDITABLE, get_return, may_change
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import Case


@dataclass(frozen=True)
class ReturnContext:
    agency_return: AgencyReturnOut
    audit: AuditDetail
    definition: ToolDefinition
    writable: bool = True
    """False when the user may read this return but not change it (another agency's)."""

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """The criteria that apply to this return's agency, in the tool's order."""
        return self.definition.tool.criteria_for(self.agency_return.agency_code)

    @property
    def read_only_reason(self) -> str:
        """Why the return cannot be changed, in words; '' when it can."""
        if self.agency_return.status is ReturnStatus.SUBMITTED:
            return "submitted"
        if self.audit.status.value not in EDITABLE:
            return f"the audit is in {self.audit.status.value}"
        if not self.writable:
            return f"the {self.agency_return.agency_code} return is that agency's to change"
        return ""


def audit_id_of_case(factory: SessionFactory, case_id: int) -> int:
    with unit_of_work(factory) as session:
        audit_id = session.scalar(select(Case.audit_id).where(Case.id == case_id))
        if audit_id is None:
            raise NotFoundError(f"no case with id {case_id}")
        return audit_id


def return_context(factory: SessionFactory, return_id: int) -> ReturnContext:
    agency_return = get_return(factory, return_id)
    audit_id = audit_id_of_case(factory, agency_return.case_id)
    return ReturnContext(
        agency_return=agency_return,
        audit=get_audit(factory, audit_id),
        definition=audit_tool(factory, audit_id),
        writable=may_change(factory, return_id),
    )
