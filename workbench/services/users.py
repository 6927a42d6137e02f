"""Workbench users: who is connected, their role, the audits they lead; on PostgreSQL, the
database privileges that go with each role."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from schemas.access import Principal, Role, UserIn, UserOut
from schemas.audit import Actor
from workbench.services import access
from workbench.services.errors import AccessDeniedError, InvalidRequestError, NotFoundError
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import Agency, Audit, AuditLead, User

# What each role writes, table by table: "ALL" for insert, update and delete, else the
# privileges named; an UPDATE with columns in brackets is granted on those columns only, so
# a row can never be moved to another return, case or audit (the policies check the row's
# audit and agency, and an auditor's own agency is the same in every audit).
_LEARNING = (
    "learning_items",
    "learning_item_themes",
    "learning_item_findings",
    "recommendations",
    "recommendation_learning_items",
    "actions",
    "action_updates",
)
_AUDITOR_WRITES: dict[str, tuple[str, ...]] = {
    "agency_returns": ("UPDATE (status, auditor, submitted_at, submitted_by)",),
    "findings": (
        "INSERT",
        "UPDATE (grade, evidence, strengths, areas_for_development, version, updated_at,"
        " updated_by)",
    ),
    "second_grades": ("INSERT", "UPDATE (grade, graded_by, graded_at)"),
    # Voices and concerns are recorded, never edited: closing a concern is the lead's.
    "voices": ("INSERT",),
    "immediate_concerns": ("INSERT",),
    "finding_themes": ("INSERT", "DELETE"),
    "voice_themes": ("INSERT", "DELETE"),
    "change_history": ("INSERT",),
}
_SUBGROUP_WRITES: dict[str, tuple[str, ...]] = {
    **{table: ("ALL",) for table in _LEARNING},
    "change_history": ("INSERT",),
    "transfers": ("INSERT",),
}
# A lead changes the content of the audits they lead (the policies keep it to those), the
# vocabulary and the learning; never users, legal holds, the export log or history.
_LEAD_WRITES: dict[str, tuple[str, ...]] = {
    **{
        table: ("ALL",)
        for table in (
            "cases",
            "audit_agencies",
            "agency_returns",
            "findings",
            "second_grades",
            "moderated_grades",
            "voices",
            "immediate_concerns",
            "finding_themes",
            "voice_themes",
            "moderation_themes",
            "case_identifiers",
            "themes",
            *_LEARNING,
        )
    },
    "audits": (
        "INSERT",
        "UPDATE (title, status, look_back_months, look_back_start, look_back_end, returns_due,"
        " audit_day, chair, scope, closed_at)",
    ),
    "audit_leads": ("INSERT",),
    # A bundle's import may add agencies and tool versions this database has not seen.
    "agencies": ("INSERT",),
    "tool_versions": ("INSERT",),
    "change_history": ("INSERT",),
    "transfers": ("INSERT",),
}
# Tables holding case-level text, which a subgroup member never reads.
_CASE_TEXT = (
    "findings",
    "moderated_grades",
    "voices",
    "immediate_concerns",
    "change_history",
    "case_identifiers",
)
# The columns of case-level tables that aggregates need and that carry no free text.
_SUBGROUP_COLUMNS = {
    "findings": "id, return_id, criterion_id, grade, version, updated_at, updated_by",
    "moderated_grades": "id, case_id, heading, grade, version, updated_at, updated_by",
    "immediate_concerns": "id, case_id, agency_code, status, told_at, raised_at, closed_at",
    "voices": "id, case_id, source, recorded_at",
}


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def connected_login(session: Session, local_user: str) -> str:
    """The PostgreSQL login, or on SQLite (one person's file) the local user's name."""
    if _is_postgres(session):
        return str(session.scalar(text("SELECT current_user")))
    return local_user


def _owns_database(session: Session) -> bool:
    """A superuser, or a member of the role that owns the workbench tables (who ran the
    migrations): the partnership's administrator on a fresh server."""
    row = session.execute(
        text(
            "SELECT r.rolsuper OR pg_has_role(current_user, t.tableowner, 'MEMBER')"
            " FROM pg_roles r, pg_tables t WHERE r.rolname = current_user"
            " AND t.schemaname = current_schema() AND t.tablename = 'audits'"
        )
    ).scalar()
    return bool(row)


def resolve_principal(factory: SessionFactory, local_user: str, agency: str | None) -> Principal:
    """Who the workbench acts for. On SQLite the local user is the administrator unless the
    users table says otherwise; on PostgreSQL it is the login's workbench user, or the
    administrator for the database's owner."""
    with unit_of_work(factory) as session:
        login = connected_login(session, local_user)
        try:
            user = session.get(User, login)
        except ProgrammingError:
            # No privileges at all: a login never added, or a user switched off.
            raise AccessDeniedError(
                f"login {login!r} may not use this workbench database (not a workbench user, "
                "or switched off); ask the administrator"
            ) from None
        if user is not None:
            if not user.active:
                raise AccessDeniedError(
                    f"{login} is switched off as a workbench user; ask the administrator"
                )
            return Principal(
                login=login, name=user.name, role=Role(user.role), agency=user.agency_code
            )
        if not _is_postgres(session) or _owns_database(session):
            return Principal(login=login, role=Role.ADMIN, agency=agency)
    raise AccessDeniedError(
        f"login {login!r} is not a workbench user; an administrator adds it with "
        f"`workbench users add {login} --role ROLE`"
    )


def _out(user: User) -> UserOut:
    return UserOut(
        login=user.login,
        name=user.name,
        role=Role(user.role),
        agency=user.agency_code,
        active=user.active,
        created_at=user.created_at,
    )


def list_users(factory: SessionFactory) -> list[UserOut]:
    with unit_of_work(factory) as session:
        access.require_role(session, (Role.ADMIN,), "list the workbench users")
        return [_out(u) for u in session.scalars(select(User).order_by(User.login))]


def save_user(factory: SessionFactory, actor: Actor, user: UserIn) -> UserOut:
    """Add a user or change one's role, agency or name; on PostgreSQL grant the privileges
    of the role to the login (which must exist: creating logins is the server's business)."""
    with unit_of_work(factory, actor) as session:
        access.require_role(session, (Role.ADMIN,), "change workbench users")
        if user.agency is not None and session.get(Agency, user.agency) is None:
            raise NotFoundError(f"no agency {user.agency!r}; see `workbench tools show` for codes")
        if _is_postgres(session):
            exists = session.scalar(
                text("SELECT 1 FROM pg_roles WHERE rolname = :login"), {"login": user.login}
            )
            if exists is None:
                raise InvalidRequestError(
                    f"PostgreSQL has no login {user.login!r}; create it first "
                    f"(CREATE ROLE \"{user.login}\" LOGIN PASSWORD '...')"
                )
        row = session.get(User, user.login)
        if row is None:
            row = User(login=user.login)
            session.add(row)
        row.name = user.name
        row.role = user.role.value
        row.agency_code = user.agency
        row.active = user.active
        session.flush()
        if _is_postgres(session):
            grant_privileges(session, user.login, user.role if user.active else None)
        return _out(row)


def grant_privileges(session: Session, login: str, role: Role | None) -> None:
    """Replace the login's table privileges with those of `role` (None: none at all)."""
    quote = session.get_bind().dialect.identifier_preparer.quote
    who = quote(login)
    schema = quote(str(session.scalar(text("SELECT current_schema()"))))

    def run(statement: str) -> None:
        session.execute(text(statement))

    run(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}")
    run(f"REVOKE ALL ON FUNCTION {schema}.wb_held_found(text[]) FROM {who}")
    # Column grants outlive REVOKE ... ON ALL TABLES, so each one the login holds is revoked
    # by name (those of an earlier role included).
    granted = session.execute(
        text(
            "SELECT c.relname, string_agg(quote_ident(a.attname), ', ')"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace AND a.attacl IS NOT NULL"
            " AND EXISTS (SELECT 1 FROM aclexplode(a.attacl) x"
            " WHERE x.grantee = (SELECT oid FROM pg_roles WHERE rolname = :login))"
            " GROUP BY c.relname"
        ),
        {"login": login},
    ).all()
    for table, columns in granted:
        run(f"REVOKE ALL ({columns}) ON {schema}.{quote(table)} FROM {who}")
    if role is None:
        return
    run(f"GRANT USAGE ON SCHEMA {schema} TO {who}")
    run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}")
    # Every user's exports are checked for held identifiers they may not read themselves.
    run(f"GRANT EXECUTE ON FUNCTION {schema}.wb_held_found(text[]) TO {who}")
    listed = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    tables = list(session.scalars(text(listed)))
    if role is Role.SUBGROUP:
        for table in tables:
            if table not in _CASE_TEXT:
                run(f"GRANT SELECT ON {schema}.{table} TO {who}")
        for table, columns in _SUBGROUP_COLUMNS.items():
            run(f"GRANT SELECT ({columns}) ON {schema}.{table} TO {who}")
    else:
        run(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {who}")
    if role is Role.ADMIN:
        for table in tables:
            if table not in {"change_history", "alembic_version"}:
                run(f"GRANT INSERT, UPDATE, DELETE ON {schema}.{table} TO {who}")
        # History: appended to, and changed or deleted by retention only.
        run(f"GRANT INSERT, UPDATE, DELETE ON {schema}.change_history TO {who}")
        return
    writes = {Role.AUDITOR: _AUDITOR_WRITES, Role.SUBGROUP: _SUBGROUP_WRITES}.get(
        role, _LEAD_WRITES
    )
    for table, privileges in writes.items():
        if table in tables:
            for privilege in privileges:
                granting = "INSERT, UPDATE, DELETE" if privilege == "ALL" else privilege
                run(f"GRANT {granting} ON {schema}.{table} TO {who}")


def leads_of(factory: SessionFactory, audit_id: int) -> list[str]:
    with unit_of_work(factory) as session:
        query = select(AuditLead.login).where(AuditLead.audit_id == audit_id)
        return sorted(session.scalars(query))


def add_lead(factory: SessionFactory, actor: Actor, audit_id: int, login: str) -> list[str]:
    with unit_of_work(factory, actor) as session:
        if session.get(Audit, audit_id) is None:
            raise NotFoundError(f"no audit {audit_id}")
        access.require_lead(session, audit_id, "name the audit's leads")
        user = session.get(User, login)
        if user is not None and user.role not in {Role.LEAD.value, Role.ADMIN.value}:
            raise InvalidRequestError(
                f"{login} is an {Role(user.role).label}; only an audit lead can lead an audit"
            )
        if session.get(AuditLead, (audit_id, login)) is None:
            session.add(AuditLead(audit_id=audit_id, login=login))
        session.flush()
        query = select(AuditLead.login).where(AuditLead.audit_id == audit_id)
        return sorted(session.scalars(query))
