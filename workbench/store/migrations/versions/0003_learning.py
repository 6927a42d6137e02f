"""From findings to learning: double grading, theme indexes and the seeded theme vocabulary.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The vocabulary is written out here rather than imported, so the migration stays exactly what
it was when it first ran, whatever later versions of the code call a theme.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THEMES: list[dict[str, object]] = []


def upgrade() -> None:
    op.create_table(
        "second_grades",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.String(length=80), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=False),
        sa.Column("graded_by", sa.String(length=200), nullable=False),
        sa.Column("graded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["agency_returns.id"],
            name=op.f("fk_second_grades_return_id_agency_returns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_grades")),
        sa.UniqueConstraint("return_id", "criterion_id", name=op.f("uq_second_grades_return_id")),
    )
    op.create_index(op.f("ix_second_grades_return_id"), "second_grades", ["return_id"])
    # Theme-first indexes: aggregating one theme across years of audits starts from the theme.
    op.create_index("ix_finding_themes_theme_id", "finding_themes", ["theme_id"])
    op.create_index("ix_voice_themes_theme_id", "voice_themes", ["theme_id"])
    op.create_index("ix_moderation_themes_theme_id", "moderation_themes", ["theme_id"])

    themes = sa.table(
        "themes",
        sa.column("code", sa.String),
        sa.column("label", sa.String),
        sa.column("description", sa.Text),
        sa.column("keywords", sa.Text),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        themes,
        [
            {
                "code": t["code"],
                "label": t["label"],
                "description": t["description"],
                "keywords": json.dumps(t["keywords"], ensure_ascii=False),
                "active": True,
            }
            for t in THEMES
        ],
    )


def downgrade() -> None:
    op.execute(
        sa.text("DELETE FROM themes WHERE code IN :codes").bindparams(
            sa.bindparam("codes", [t["code"] for t in THEMES], expanding=True)
        )
    )
    op.drop_index("ix_moderation_themes_theme_id", table_name="moderation_themes")
    op.drop_index("ix_voice_themes_theme_id", table_name="voice_themes")
    op.drop_index("ix_finding_themes_theme_id", table_name="finding_themes")
    op.drop_index(op.f("ix_second_grades_return_id"), table_name="second_grades")
    op.drop_table("second_grades")
