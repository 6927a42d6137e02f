"""The audit store: every table of the audit cycle, and the starting list of agencies.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 20:13:59.315711
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGENCIES = [
    ("childrens-social-care", "Children's social care"),
    ("early-help", "Early help"),
    ("police", "Police"),
    ("probation", "Probation"),
    ("youth-justice", "Youth justice"),
    ("acute-health", "Acute health trust (A&E, maternity)"),
    ("community-health", "Community health (health visiting, school nursing)"),
    ("gp", "General practice (GP)"),
    ("camhs", "CAMHS"),
    ("adult-mental-health", "Adult mental health"),
    ("school", "Schools"),
    ("early-years", "Early years settings"),
    ("housing", "Housing"),
    ("adult-social-care", "Adult social care"),
    ("substance-misuse", "Substance misuse services"),
    ("voluntary-sector", "Voluntary and faith organisations"),
    ("sexual-health", "Sexual health services"),
]


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_agencies")),
    )
    op.create_table(
        "change_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_key", sa.String(length=300), nullable=False),
        sa.Column("operation", sa.String(length=10), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_history")),
    )
    with op.batch_alter_table("change_history", schema=None) as batch_op:
        batch_op.create_index("ix_change_history_audit_at", ["audit_id", "at"], unique=False)

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_themes")),
        sa.UniqueConstraint("code", name=op.f("uq_themes_code")),
    )
    op.create_table(
        "tool_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_versions")),
        sa.UniqueConstraint("tool_id", "version", name=op.f("uq_tool_versions_tool_id")),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("audit_uid", sa.String(length=36), nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("tool_version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("look_back_months", sa.Integer(), nullable=False),
        sa.Column("look_back_start", sa.Date(), nullable=True),
        sa.Column("look_back_end", sa.Date(), nullable=True),
        sa.Column("returns_due", sa.Date(), nullable=True),
        sa.Column("audit_day", sa.Date(), nullable=True),
        sa.Column("chair", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tool_version_id"],
            ["tool_versions.id"],
            name=op.f("fk_audits_tool_version_id_tool_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
        sa.UniqueConstraint("uid", name=op.f("uq_audits_uid")),
    )
    op.create_table(
        "audit_agencies",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_audit_agencies_agency_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_agencies_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("audit_id", "agency_code", name=op.f("pk_audit_agencies")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("level_of_need", sa.String(length=40), nullable=False),
        sa.Column("age_band", sa.String(length=20), nullable=False),
        sa.Column("gender", sa.String(length=40), nullable=False),
        sa.Column("ethnicity", sa.String(length=80), nullable=False),
        sa.Column("send", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_cases_audit_id_audits"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("audit_id", "reference", name=op.f("uq_cases_audit_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_audit_id"), ["audit_id"], unique=False)

    op.create_table(
        "learning_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("learning", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("agencies", sa.Text(), nullable=False),
        sa.Column("shared_how", sa.Text(), nullable=False),
        sa.Column("impact_evidence", sa.Text(), nullable=False),
        sa.Column("reaudit_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("signed_off_by", sa.String(length=200), nullable=True),
        sa.Column("signed_off_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_learning_items_audit_id_audits"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_items")),
        sa.UniqueConstraint("reference", name=op.f("uq_learning_items_reference")),
    )
    with op.batch_alter_table("learning_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learning_items_audit_id"), ["audit_id"], unique=False)

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_recommendations_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint("audit_id", "number", name=op.f("uq_recommendations_audit_id")),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendations_audit_id"), ["audit_id"], unique=False)

    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("recommendation_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=False),
        sa.Column("owner_agency", sa.String(length=80), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence_of_impact", sa.Text(), nullable=False),
        sa.Column("escalation_route", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audits.id"], name=op.f("fk_actions_audit_id_audits"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_agency"], ["agencies.code"], name=op.f("fk_actions_owner_agency_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_actions_recommendation_id_recommendations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
    )
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actions_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_actions_due_on"), ["due_on"], unique=False)

    op.create_table(
        "agency_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("auditor", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name=op.f("fk_agency_returns_agency_code_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_agency_returns_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency_returns")),
        sa.UniqueConstraint("case_id", "agency_code", name=op.f("uq_agency_returns_case_id")),
    )
    with op.batch_alter_table("agency_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agency_returns_case_id"), ["case_id"], unique=False)

    op.create_table(
        "immediate_concerns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=80), nullable=True),
        sa.Column("concern", sa.Text(), nullable=False),
        sa.Column("who_told", sa.String(length=300), nullable=False),
        sa.Column("told_at", sa.DateTime(), nullable=False),
        sa.Column("raised_by", sa.String(length=200), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closure_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"],
            ["agencies.code"],
            name=op.f("fk_immediate_concerns_agency_code_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_immediate_concerns_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_immediate_concerns")),
    )
    with op.batch_alter_table("immediate_concerns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_immediate_concerns_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "learning_item_themes",
        sa.Column("learning_item_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learning_item_id"],
            ["learning_items.id"],
            name=op.f("fk_learning_item_themes_learning_item_id_learning_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_learning_item_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "learning_item_id", "theme_id", name=op.f("pk_learning_item_themes")
        ),
    )
    op.create_table(
        "moderated_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(length=40), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_moderated_grades_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderated_grades")),
        sa.UniqueConstraint("case_id", "heading", name=op.f("uq_moderated_grades_case_id")),
    )
    with op.batch_alter_table("moderated_grades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_moderated_grades_case_id"), ["case_id"], unique=False)

    op.create_table(
        "recommendation_learning_items",
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("learning_item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learning_item_id"],
            ["learning_items.id"],
            name=op.f("fk_recommendation_learning_items_learning_item_id_learning_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_learning_items_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "recommendation_id", "learning_item_id", name=op.f("pk_recommendation_learning_items")
        ),
    )
    op.create_table(
        "voices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_voices_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voices")),
    )
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voices_case_id"), ["case_id"], unique=False)

    op.create_table(
        "action_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["actions.id"],
            name=op.f("fk_action_updates_action_id_actions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_updates")),
    )
    with op.batch_alter_table("action_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_action_updates_action_id"), ["action_id"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.String(length=80), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("strengths", sa.Text(), nullable=False),
        sa.Column("areas_for_development", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["agency_returns.id"],
            name=op.f("fk_findings_return_id_agency_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("return_id", "criterion_id", name=op.f("uq_findings_return_id")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_return_id"), ["return_id"], unique=False)

    op.create_table(
        "moderation_themes",
        sa.Column("moderated_grade_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("tagged_by", sa.String(length=200), nullable=False),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["moderated_grade_id"],
            ["moderated_grades.id"],
            name=op.f("fk_moderation_themes_moderated_grade_id_moderated_grades"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_moderation_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "moderated_grade_id", "theme_id", name=op.f("pk_moderation_themes")
        ),
    )
    op.create_table(
        "voice_themes",
        sa.Column("voice_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("tagged_by", sa.String(length=200), nullable=False),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_voice_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["voice_id"],
            ["voices.id"],
            name=op.f("fk_voice_themes_voice_id_voices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("voice_id", "theme_id", name=op.f("pk_voice_themes")),
    )
    op.create_table(
        "finding_themes",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("tagged_by", sa.String(length=200), nullable=False),
        sa.Column("tagged_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_finding_themes_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"],
            ["themes.id"],
            name=op.f("fk_finding_themes_theme_id_themes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("finding_id", "theme_id", name=op.f("pk_finding_themes")),
    )
    op.create_table(
        "learning_item_findings",
        sa.Column("learning_item_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_learning_item_findings_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learning_item_id"],
            ["learning_items.id"],
            name=op.f("fk_learning_item_findings_learning_item_id_learning_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "learning_item_id", "finding_id", name=op.f("pk_learning_item_findings")
        ),
    )

    agencies = sa.table(
        "agencies",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(agencies, [{"code": c, "name": n, "active": True} for c, n in AGENCIES])


def downgrade() -> None:
    op.drop_table("learning_item_findings")
    op.drop_table("finding_themes")
    op.drop_table("voice_themes")
    op.drop_table("moderation_themes")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_return_id"))

    op.drop_table("findings")
    with op.batch_alter_table("action_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_updates_action_id"))

    op.drop_table("action_updates")
    with op.batch_alter_table("voices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voices_case_id"))

    op.drop_table("voices")
    op.drop_table("recommendation_learning_items")
    with op.batch_alter_table("moderated_grades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderated_grades_case_id"))

    op.drop_table("moderated_grades")
    op.drop_table("learning_item_themes")
    with op.batch_alter_table("immediate_concerns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_immediate_concerns_case_id"))

    op.drop_table("immediate_concerns")
    with op.batch_alter_table("agency_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agency_returns_case_id"))

    op.drop_table("agency_returns")
    with op.batch_alter_table("actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_due_on"))
        batch_op.drop_index(batch_op.f("ix_actions_audit_id"))

    op.drop_table("actions")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_audit_id"))

    op.drop_table("recommendations")
    with op.batch_alter_table("learning_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_items_audit_id"))

    op.drop_table("learning_items")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_audit_id"))

    op.drop_table("cases")
    op.drop_table("audit_agencies")
    op.drop_table("audits")
    op.drop_table("transfers")
    op.drop_table("tool_versions")
    op.drop_table("themes")
    with op.batch_alter_table("change_history", schema=None) as batch_op:
        batch_op.drop_index("ix_change_history_audit_at")

    op.drop_table("change_history")
    op.drop_table("agencies")
