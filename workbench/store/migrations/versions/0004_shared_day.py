"""A shared audit day: users and roles, audit leads, held case identifiers; on PostgreSQL,
row-level security that mirrors the services' rules and a notification on every change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

The SQL is written out here rather than built from the code, so the migration stays exactly
what it was when it first ran.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The audit statuses in which every agency's returns are shared with the panel.
SHARED = "('moderation', 'reporting', 'closed')"

# `SET search_path FROM CURRENT` pins each function to the schema it was made in, so a login
# whose own search path differs still reads this schema's users and leads.
FUNCTIONS = [
    """CREATE FUNCTION wb_role() RETURNS text LANGUAGE sql STABLE SET search_path FROM CURRENT
    AS $$ SELECT role FROM users WHERE login = current_user AND active $$""",
    """CREATE FUNCTION wb_agency() RETURNS text LANGUAGE sql STABLE SET search_path FROM CURRENT
    AS $$ SELECT agency_code FROM users WHERE login = current_user AND active $$""",
    """CREATE FUNCTION wb_leads(p_audit integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT coalesce(wb_role() IN ('lead', 'admin'), false) AND EXISTS (
        SELECT 1 FROM audit_leads WHERE audit_id = p_audit AND login = current_user) $$""",
    # A lead fills in an audit they lead, or one nobody leads yet (planning, importing).
    """CREATE FUNCTION wb_plans(p_audit integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT coalesce(wb_role() = 'admin', false) OR wb_leads(p_audit)
        OR (coalesce(wb_role() = 'lead', false)
            AND NOT EXISTS (SELECT 1 FROM audit_leads WHERE audit_id = p_audit)) $$""",
    # The export's check for held identifiers, made by the database for a login that may not
    # read them: which of the texts hold a held value (whole words, any case, any run of
    # spaces), never the value. SECURITY DEFINER reads as the owner; who may call it at all
    # is decided by EXECUTE, revoked from PUBLIC below and granted to each workbench user.
    r"""CREATE FUNCTION wb_held_found(p_texts text[]) RETURNS SETOF integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$ SELECT t.n::integer
        FROM unnest(p_texts) WITH ORDINALITY AS t(body, n)
        JOIN (SELECT regexp_replace(regexp_replace(regexp_replace(value, '^\s+|\s+$', '', 'g'),
                     '([^[:alnum:][:space:]])', '\\\1', 'g'), '\s+', '\\s+', 'g') AS pattern
              FROM case_identifiers WHERE value ~ '\S') AS held
          ON t.body ~* ('(^|[^[:alnum:]_])' || held.pattern || '($|[^[:alnum:]_])')
        ORDER BY t.n $$""",
    f"""CREATE FUNCTION wb_shared(p_audit integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT EXISTS (SELECT 1 FROM audits WHERE id = p_audit AND status IN {SHARED}) $$""",
    """CREATE FUNCTION wb_sees_return(p_audit integer, p_agency text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path FROM CURRENT
    AS $$ SELECT coalesce(wb_role() IN ('admin', 'subgroup'), false) OR wb_leads(p_audit)
        OR (coalesce(wb_role() = 'auditor', false)
            AND (p_agency = wb_agency() OR wb_shared(p_audit))) $$""",
    """CREATE FUNCTION wb_writes_return(p_audit integer, p_agency text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path FROM CURRENT
    AS $$ SELECT coalesce(wb_role() = 'admin', false) OR wb_leads(p_audit)
        OR (coalesce(wb_role() = 'auditor', false) AND p_agency = wb_agency()) $$""",
    """CREATE FUNCTION wb_sees_return_id(p_return integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT coalesce((SELECT wb_sees_return(c.audit_id, r.agency_code)
        FROM agency_returns r JOIN cases c ON c.id = r.case_id WHERE r.id = p_return), false) $$""",
    """CREATE FUNCTION wb_writes_return_id(p_return integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT coalesce((SELECT wb_writes_return(c.audit_id, r.agency_code)
        FROM agency_returns r JOIN cases c ON c.id = r.case_id WHERE r.id = p_return), false) $$""",
    """CREATE FUNCTION wb_case_audit(p_case integer) RETURNS integer LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT audit_id FROM cases WHERE id = p_case $$""",
    # Case-level content other than returns (voices, concerns): the admin, the audit's leads,
    # an auditor whose agency audits the case, and every auditor once returns are shared.
    """CREATE FUNCTION wb_works_case(p_case integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT coalesce(wb_role() = 'admin', false) OR wb_leads(wb_case_audit(p_case))
        OR (coalesce(wb_role() = 'auditor', false) AND (wb_shared(wb_case_audit(p_case))
            OR EXISTS (SELECT 1 FROM agency_returns r
                       WHERE r.case_id = p_case AND r.agency_code = wb_agency()))) $$""",
    # Moderation is the panel's: everyone working the audit sees it once returns are shared,
    # the subgroup sees the grades (its column grants leave out the reasons).
    """CREATE FUNCTION wb_sees_moderation(p_case integer) RETURNS boolean LANGUAGE sql STABLE
    SET search_path FROM CURRENT
    AS $$ SELECT coalesce(wb_role() IN ('admin', 'subgroup'), false)
        OR wb_leads(wb_case_audit(p_case))
        OR (coalesce(wb_role() = 'auditor', false) AND wb_shared(wb_case_audit(p_case))) $$""",
    """CREATE FUNCTION wb_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('workbench_changes', a)
        FROM (SELECT DISTINCT coalesce(audit_id::text, '') AS a FROM new_rows) AS changed;
        RETURN NULL;
    END $$""",
]

FUNCTION_NAMES = [
    "wb_held_found(text[])",
    "wb_plans(integer)",
    "wb_notify_change()",
    "wb_sees_moderation(integer)",
    "wb_works_case(integer)",
    "wb_case_audit(integer)",
    "wb_writes_return_id(integer)",
    "wb_sees_return_id(integer)",
    "wb_writes_return(integer, text)",
    "wb_sees_return(integer, text)",
    "wb_shared(integer)",
    "wb_leads(integer)",
    "wb_agency()",
    "wb_role()",
]

ADMIN_OR_LEAD = "coalesce(wb_role() = 'admin', false) OR wb_leads({audit})"

# table -> {command: (USING, WITH CHECK)}; a command without a policy is refused.
POLICIES: dict[str, dict[str, tuple[str | None, str | None]]] = {
    # A lead names leads only on an audit they may plan; the administrator removes them.
    "audit_leads": {
        "SELECT": ("true", None),
        "INSERT": (
            None,
            "wb_plans(audit_id) AND (login = current_user"
            " OR coalesce(wb_role() = 'admin', false) OR wb_leads(audit_id))",
        ),
        "DELETE": ("coalesce(wb_role() = 'admin', false)", None),
    },
    # Every role reads the audits and their pseudonymised cohorts; a lead changes only the
    # audits they lead.
    "audits": {
        "SELECT": ("true", None),
        "INSERT": (None, "coalesce(wb_role() IN ('admin', 'lead'), false)"),
        "UPDATE": ("wb_plans(id)", "wb_plans(id)"),
        "DELETE": ("coalesce(wb_role() = 'admin', false)", None),
    },
    "cases": {
        "SELECT": ("true", None),
        "INSERT": (None, "wb_plans(audit_id)"),
        "UPDATE": ("wb_plans(audit_id)", "wb_plans(audit_id)"),
        "DELETE": ("wb_plans(audit_id)", None),
    },
    "audit_agencies": {
        "SELECT": ("true", None),
        "INSERT": (None, "wb_plans(audit_id)"),
        "UPDATE": ("wb_plans(audit_id)", "wb_plans(audit_id)"),
        "DELETE": ("wb_plans(audit_id)", None),
    },
    "agency_returns": {
        "SELECT": ("wb_sees_return(wb_case_audit(case_id), agency_code)", None),
        "INSERT": (None, ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)")),
        "UPDATE": (
            "wb_writes_return(wb_case_audit(case_id), agency_code)",
            "wb_writes_return(wb_case_audit(case_id), agency_code)",
        ),
        "DELETE": (ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)"), None),
    },
    "findings": {
        "SELECT": ("wb_sees_return_id(return_id)", None),
        "INSERT": (None, "wb_writes_return_id(return_id)"),
        "UPDATE": ("wb_writes_return_id(return_id)", "wb_writes_return_id(return_id)"),
        "DELETE": ("wb_writes_return_id(return_id)", None),
    },
    "second_grades": {
        "SELECT": ("wb_sees_return_id(return_id)", None),
        "INSERT": (None, "wb_writes_return_id(return_id)"),
        "UPDATE": ("wb_writes_return_id(return_id)", "wb_writes_return_id(return_id)"),
        "DELETE": ("wb_writes_return_id(return_id)", None),
    },
    "finding_themes": {
        "SELECT": (
            "wb_sees_return_id((SELECT f.return_id FROM findings f WHERE f.id = finding_id))",
            None,
        ),
        "INSERT": (
            None,
            "wb_writes_return_id((SELECT f.return_id FROM findings f WHERE f.id = finding_id))",
        ),
        "DELETE": (
            "wb_writes_return_id((SELECT f.return_id FROM findings f WHERE f.id = finding_id))",
            None,
        ),
    },
    # The subgroup counts voices and concerns (its column grants keep their text out).
    "voices": {
        "SELECT": ("coalesce(wb_role() = 'subgroup', false) OR wb_works_case(case_id)", None),
        "INSERT": (None, "wb_works_case(case_id)"),
        "UPDATE": ("wb_works_case(case_id)", "wb_works_case(case_id)"),
        "DELETE": ("wb_works_case(case_id)", None),
    },
    "voice_themes": {
        "SELECT": (
            "coalesce(wb_role() = 'subgroup', false)"
            " OR wb_works_case((SELECT v.case_id FROM voices v WHERE v.id = voice_id))",
            None,
        ),
        "INSERT": (
            None,
            "wb_works_case((SELECT v.case_id FROM voices v WHERE v.id = voice_id))",
        ),
        "DELETE": ("wb_works_case((SELECT v.case_id FROM voices v WHERE v.id = voice_id))", None),
    },
    "immediate_concerns": {
        "SELECT": ("coalesce(wb_role() = 'subgroup', false) OR wb_works_case(case_id)", None),
        "INSERT": (None, "wb_works_case(case_id)"),
        "UPDATE": ("wb_works_case(case_id)", "wb_works_case(case_id)"),
        "DELETE": (ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)"), None),
    },
    "moderated_grades": {
        "SELECT": ("wb_sees_moderation(case_id)", None),
        "INSERT": (None, ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)")),
        "UPDATE": (
            ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)"),
            ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)"),
        ),
        "DELETE": (ADMIN_OR_LEAD.format(audit="wb_case_audit(case_id)"), None),
    },
    "moderation_themes": {
        "SELECT": (
            "wb_sees_moderation((SELECT m.case_id FROM moderated_grades m"
            " WHERE m.id = moderated_grade_id))",
            None,
        ),
        "INSERT": (
            None,
            ADMIN_OR_LEAD.format(
                audit="wb_case_audit((SELECT m.case_id FROM moderated_grades m"
                " WHERE m.id = moderated_grade_id))"
            ),
        ),
        "DELETE": (
            ADMIN_OR_LEAD.format(
                audit="wb_case_audit((SELECT m.case_id FROM moderated_grades m"
                " WHERE m.id = moderated_grade_id))"
            ),
            None,
        ),
    },
    # Held identifiers: the audit's leads and nobody else, not even the administrator.
    "case_identifiers": {
        "SELECT": ("wb_leads(wb_case_audit(case_id))", None),
        "INSERT": (None, "wb_leads(wb_case_audit(case_id))"),
        "UPDATE": ("wb_leads(wb_case_audit(case_id))", "wb_leads(wb_case_audit(case_id))"),
        "DELETE": ("wb_leads(wb_case_audit(case_id))", None),
    },
    # History is append-only for everyone but the administrator: each record
    # must name the login that wrote it, and only the administrator changes or deletes it
    # (retention, which the application does; the application never edits history).
    # An auditor reads the history of the returns they may read: agency_returns' own policy
    # filters the EXISTS, and keys are compared as exact prefixes, never with LIKE.
    "change_history": {
        "SELECT": (
            "coalesce(wb_role() = 'admin', false) OR wb_leads(audit_id)"
            " OR (coalesce(wb_role() = 'auditor', false)"
            " AND entity IN ('agency_returns', 'findings', 'second_grades', 'finding_themes')"
            " AND EXISTS (SELECT 1 FROM agency_returns r JOIN cases c ON c.id = r.case_id"
            " WHERE c.audit_id = change_history.audit_id"
            " AND (change_history.entity_key = 'case ' || c.reference || ' / ' || r.agency_code"
            " OR left(change_history.entity_key, length(c.reference) + length(r.agency_code) + 11)"
            " = 'case ' || c.reference || ' / ' || r.agency_code || ' / ')))",
            None,
        ),
        "INSERT": (None, "actor = current_user"),
        # Retention detaches kept rows from a deleted audit and removes the rest.
        "UPDATE": ("coalesce(wb_role() = 'admin', false)", "coalesce(wb_role() = 'admin', false)"),
        "DELETE": ("coalesce(wb_role() = 'admin', false)", None),
    },
}


def _create_tables() -> None:
    op.create_table(
        "users",
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("agency_code", sa.String(length=80), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_users_agency_code_agencies")
        ),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_users")),
    )
    op.create_table(
        "audit_leads",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_leads_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", "login", name=op.f("pk_audit_leads")),
    )
    op.create_table(
        "case_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_identifiers_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_identifiers")),
        sa.UniqueConstraint("case_id", "kind", name=op.f("uq_case_identifiers_case_id")),
    )
    op.create_index(op.f("ix_case_identifiers_case_id"), "case_identifiers", ["case_id"])
    # Whoever created an audit before roles existed leads it, so nobody loses sight of theirs.
    op.execute("INSERT INTO audit_leads (audit_id, login) SELECT id, created_by FROM audits")


def _postgres_security() -> None:
    for statement in FUNCTIONS:
        op.execute(statement)
    op.execute("REVOKE ALL ON FUNCTION wb_held_found(text[]) FROM PUBLIC")
    for table, commands in POLICIES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for command, (using, check) in commands.items():
            clauses = ""
            if using is not None:
                clauses += f" USING ({using})"
            if check is not None:
                clauses += f" WITH CHECK ({check})"
            op.execute(
                f"CREATE POLICY wb_{table}_{command.lower()} ON {table} FOR {command}{clauses}"
            )
    op.execute(
        "CREATE TRIGGER wb_change_notify AFTER INSERT ON change_history"
        " REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT"
        " EXECUTE FUNCTION wb_notify_change()"
    )


def upgrade() -> None:
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgres_security()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER wb_change_notify ON change_history")
        for table, commands in POLICIES.items():
            for command in commands:
                op.execute(f"DROP POLICY wb_{table}_{command.lower()} ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        for name in FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {name}")
    op.drop_index(op.f("ix_case_identifiers_case_id"), table_name="case_identifiers")
    op.drop_table("case_identifiers")
    op.drop_table("audit_leads")
    op.drop_table("users")
