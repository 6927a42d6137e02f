"""Who may see and change what: the roles' rules, checked by the services.

A session factory is bound to the principal it acts for (`bind`); each service asks these
checks before it reads or changes case-level content. On PostgreSQL the same rules are also
row-level security policies (migration 0004), so a direct SQL connection under a user's login
sees no more than the workbench would show. A factory bound to nobody is the system itself
(migrations, tests, the demo loader) and is not restricted.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from schemas.access import Principal, Role
from schemas.audit import AuditStatus
from workbench.services.errors import AccessDeniedError
from workbench.store.models import AgencyReturn, Audit, AuditLead, Case

PRINCIPAL_KEY = "principal"

SHARED_STATUSES = frozenset(
    {AuditStatus.MODERATION.value, AuditStatus.REPORTING.value, AuditStatus.CLOSED.value}
)
"""Once an audit reaches moderation every agency's returns are shared with the panel."""


def bind(factory: sessionmaker[Session], principal: Principal) -> sessionmaker[Session]:
    """A factory like `factory` whose sessions act for `principal`."""
    kw = {**factory.kw, "info": {PRINCIPAL_KEY: principal}}
    return sessionmaker(class_=Session, **kw)


def principal_of(session: Session) -> Principal | None:
    found = session.info.get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def factory_principal(factory: sessionmaker[Session]) -> Principal | None:
    found = factory.kw.get("info", {}).get(PRINCIPAL_KEY)
    return found if isinstance(found, Principal) else None


def _refuse(principal: Principal, doing: str, who_can: str) -> AccessDeniedError:
    return AccessDeniedError(f"{principal.description} cannot {doing}: {who_can}")


def leads(session: Session, audit_id: int) -> bool:
    """The administrator, or an audit lead named on this audit."""
    principal = principal_of(session)
    if principal is None or principal.role is Role.ADMIN:
        return True
    if principal.role is not Role.LEAD:
        return False
    found = session.get(AuditLead, (audit_id, principal.login))
    return found is not None


def require_role(session: Session, roles: Iterable[Role], doing: str) -> None:
    principal = principal_of(session)
    allowed = tuple(roles)
    if principal is None or principal.role in allowed:
        return
    names = " or ".join(r.label for r in allowed)
    raise _refuse(principal, doing, f"only an {names} can")


def require_lead(session: Session, audit_id: int, doing: str) -> None:
    principal = principal_of(session)
    if principal is None or leads(session, audit_id):
        return
    raise _refuse(principal, doing, "only the audit's lead can")


def sees_return(session: Session, audit: Audit, agency: str) -> bool:
    principal = principal_of(session)
    if principal is None or leads(session, audit.id):
        return True
    if principal.role is Role.AUDITOR:
        return agency == principal.agency or audit.status in SHARED_STATUSES
    return False  # the subgroup sees aggregates, never a return's text


def writes_return(session: Session, audit: Audit, agency: str) -> bool:
    principal = principal_of(session)
    if principal is None or leads(session, audit.id):
        return True
    return principal.role is Role.AUDITOR and agency == principal.agency


def require_return_readable(session: Session, row: AgencyReturn) -> None:
    principal = principal_of(session)
    if principal is None or sees_return(session, row.case.audit, row.agency_code):
        return
    raise _refuse(
        principal,
        f"read the {row.agency_code} return for case {row.case.reference}",
        "another agency's return is shared once the audit reaches moderation",
    )


def require_return_writable(session: Session, row: AgencyReturn) -> None:
    principal = principal_of(session)
    if principal is None or writes_return(session, row.case.audit, row.agency_code):
        return
    raise _refuse(
        principal,
        f"change the {row.agency_code} return for case {row.case.reference}",
        "an auditor changes their own agency's returns only",
    )


def works_case(session: Session, case: Case) -> bool:
    """Voices and concerns: the leads, an auditor whose agency audits the case, and every
    auditor once the returns are shared."""
    principal = principal_of(session)
    if principal is None or leads(session, case.audit_id):
        return True
    if principal.role is not Role.AUDITOR:
        return False
    if case.audit.status in SHARED_STATUSES:
        return True
    mine = select(AgencyReturn.id).where(
        AgencyReturn.case_id == case.id, AgencyReturn.agency_code == principal.agency
    )
    return session.scalar(mine) is not None


def require_case_work(session: Session, case: Case, doing: str) -> None:
    principal = principal_of(session)
    if principal is None or works_case(session, case):
        return
    raise _refuse(principal, doing, "it is case-level content of another agency's case")


def require_panel_view(session: Session, audit: Audit, doing: str) -> None:
    """Every agency's answers side by side (the matrix, moderation): the leads, and auditors
    once the audit reaches moderation."""
    principal = principal_of(session)
    if principal is None or leads(session, audit.id):
        return
    if principal.role is Role.AUDITOR and audit.status in SHARED_STATUSES:
        return
    raise _refuse(
        principal, doing, "it is shown to the audit's lead, and to auditors from moderation on"
    )


def require_named_lead(session: Session, audit_id: int, doing: str) -> None:
    """Held identifiers: a user named as a lead of this audit, and nobody else, not even the
    administrator (who administers users, not cases)."""
    principal = principal_of(session)
    if principal is None:
        return
    named = session.get(AuditLead, (audit_id, principal.login)) is not None
    if named and principal.role in (Role.LEAD, Role.ADMIN):
        return
    raise _refuse(principal, doing, "only a lead named on this audit can")


def reads_case_text(session: Session) -> bool:
    """Whether the principal may read case-level text at all: everyone but the subgroup (a
    document the subgroup may export is then built from grades and counts alone)."""
    principal = principal_of(session)
    return principal is None or principal.role is not Role.SUBGROUP


def require_case_level(session: Session, doing: str) -> None:
    """Anything case by case: everyone but the subgroup, which sees aggregates and learning."""
    principal = principal_of(session)
    if principal is not None and not reads_case_text(session):
        raise _refuse(principal, doing, "the subgroup sees aggregates and learning only")


LEARNING_EDITORS = (Role.LEAD, Role.SUBGROUP, Role.ADMIN)
"""Who changes the learning log, recommendations and actions; everyone reads them."""
