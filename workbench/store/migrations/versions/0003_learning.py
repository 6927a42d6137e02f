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

THEMES: list[dict[str, object]] = [
    {
        "code": "voice-of-the-child",
        "label": "Voice of the child",
        "description": (
            "Whether the child's wishes, feelings and lived experience were sought, recorded "
            "and shaped the plan, including for babies and non-verbal children."
        ),
        "keywords": [
            "voice of the child",
            "child's voice",
            "wishes and feelings",
            "lived experience",
            "seen alone",
            "spoken to alone",
            "direct work",
            "day in the life",
            "child's views",
            "what the child said",
            "non-verbal",
            "three houses",
            "advocate",
        ],
    },
    {
        "code": "information-sharing",
        "label": "Information sharing",
        "description": (
            "Whether agencies shared relevant information promptly and with the right people,"
            " with consent or a recorded reason to share without it."
        ),
        "keywords": [
            "information sharing",
            "shared information",
            "consent to share",
            "not shared",
            "not passed on",
            "MASH",
            "intelligence",
            "information request",
            "notification",
            "notified",
            "GDPR",
        ],
    },
    {
        "code": "professional-curiosity",
        "label": "Professional curiosity",
        "description": (
            "Whether practitioners looked beyond what they were told, asked questions, "
            "checked explanations and considered what might be hidden."
        ),
        "keywords": [
            "curiosity",
            "didn't ask",
            "not explored",
            "not questioned",
            "face value",
            "disguised compliance",
            "respectful uncertainty",
            "triangulate",
            "self-reported",
            "unverified",
            "plausible explanation",
        ],
    },
    {
        "code": "thresholds-escalation",
        "label": "Thresholds and escalation",
        "description": (
            "Whether the right level of need was identified and applied, and whether rising "
            "risk or professional disagreement was escalated and resolved."
        ),
        "keywords": [
            "threshold",
            "level of need",
            "continuum of need",
            "escalation",
            "escalation policy",
            "professional challenge",
            "professional disagreement",
            "step up",
            "step down",
            "re-referral",
            "no further action",
            "NFA",
        ],
    },
    {
        "code": "recording-chronology",
        "label": "Recording and chronologies",
        "description": (
            "Whether records are accurate, timely and analytical, with a chronology that "
            "brings out history and patterns."
        ),
        "keywords": [
            "chronology",
            "case recording",
            "record keeping",
            "case notes",
            "case records",
            "case summary",
            "contemporaneous",
            "genogram",
            "timeline",
            "previous history",
            "historical concerns",
            "pattern of incidents",
            "accumulating incidents",
        ],
    },
    {
        "code": "management-oversight",
        "label": "Management oversight and supervision",
        "description": (
            "Whether managers gave recorded direction, reviewed progress and challenged "
            "drift, and practitioners had reflective supervision."
        ),
        "keywords": [
            "oversight",
            "supervision",
            "supervisor",
            "line manager",
            "team manager",
            "management decision",
            "case direction",
            "management direction",
            "signed off",
            "quality assurance",
            "caseload",
        ],
    },
    {
        "code": "risk-assessment",
        "label": "Risk assessment",
        "description": (
            "Whether risk and need were assessed child by child with the right tools, "
            "analysed rather than described, and reviewed when circumstances changed."
        ),
        "keywords": [
            "risk assessment",
            "single assessment",
            "child and family assessment",
            "screening tool",
            "analysis",
            "risk factors",
            "protective factors",
            "cumulative risk",
            "Signs of Safety",
            "reassessment",
            "risk reviewed",
            "change in circumstances",
        ],
    },
    {
        "code": "multi-agency-working",
        "label": "Multi-agency working",
        "description": (
            "Whether agencies worked together through shared meetings, joint visits and clear"
            " roles rather than in parallel."
        ),
        "keywords": [
            "multi-agency",
            "joint working",
            "partnership working",
            "joint visit",
            "strategy meeting",
            "strategy discussion",
            "professionals meeting",
            "core group",
            "child protection conference",
            "case conference",
            "working together",
            "in isolation",
            "silo",
        ],
    },
    {
        "code": "missing-children",
        "label": "Missing children",
        "description": (
            "Whether missing episodes were reported and responded to, with a timely, "
            "independent return home interview whose findings were shared and acted on."
        ),
        "keywords": [
            "missing episode",
            "went missing",
            "reported missing",
            "missing from home",
            "missing from care",
            "missing person",
            "return home interview",
            "RHI",
            "absconded",
            "ran away",
            "whereabouts unknown",
            "Philomena protocol",
        ],
    },
    {
        "code": "exploitation",
        "label": "Exploitation and disruption",
        "description": (
            "Whether signs of sexual or criminal exploitation were recognised, screened and "
            "mapped, and agencies acted to disrupt perpetrators and protect the child."
        ),
        "keywords": [
            "exploitation",
            "CSE",
            "CCE",
            "county lines",
            "grooming",
            "older boyfriend",
            "associates",
            "mapping",
            "disruption",
            "CAWN",
            "child abduction warning notice",
            "hotspot",
            "NRM",
            "contextual safeguarding",
        ],
    },
    {
        "code": "domestic-abuse",
        "label": "Domestic abuse",
        "description": (
            "Whether domestic abuse was identified, the adult victim's risk assessed with "
            "DASH and high-risk cases taken to MARAC, and each child treated as a victim in "
            "their own right."
        ),
        "keywords": [
            "domestic abuse",
            "domestic violence",
            "DA",
            "DASH",
            "MARAC",
            "IDVA",
            "coercive control",
            "controlling behaviour",
            "victim in their own right",
            "Operation Encompass",
            "non-molestation order",
            "Clare's Law",
            "DVPO",
            "DVPN",
        ],
    },
    {
        "code": "perpetrator-visibility",
        "label": "Perpetrator visibility",
        "description": (
            "Whether the person causing harm was seen, assessed and held to account in the "
            "plan, without shifting responsibility onto the victim."
        ),
        "keywords": [
            "perpetrator",
            "abuser",
            "hidden men",
            "invisible men",
            "new partner",
            "mother's partner",
            "male carer",
            "victim blaming",
            "failure to protect",
            "held to account",
            "behaviour change programme",
            "Safe and Together",
        ],
    },
    {
        "code": "safety-planning",
        "label": "Safety planning",
        "description": (
            "Whether a timely, specific safety plan was agreed with the family, covering "
            "housing and the higher risk around separation."
        ),
        "keywords": [
            "safety plan",
            "separation",
            "refuge",
            "sanctuary scheme",
            "contingency plan",
            "written agreement",
            "safe contact",
            "safe adult",
            "protective measures",
        ],
    },
    {
        "code": "health-involvement",
        "label": "Health involvement",
        "description": (
            "Whether health services such as the GP, maternity, health visiting, school "
            "nursing, A&E, sexual health and CAMHS recognised concerns, contributed and "
            "referred on."
        ),
        "keywords": [
            "GP",
            "health visitor",
            "health visiting",
            "midwife",
            "maternity",
            "school nurse",
            "A&E",
            "emergency department",
            "sexual health",
            "paediatrician",
            "CAMHS",
            "self-harm",
            "was not brought",
            "missed appointments",
            "immunisations",
        ],
    },
    {
        "code": "education",
        "label": "Education: attendance, exclusion and SEND",
        "description": (
            "Whether schools and settings were involved, and attendance, suspensions, "
            "exclusions and special educational needs were seen as possible signs of unmet "
            "need or risk."
        ),
        "keywords": [
            "attendance",
            "persistent absence",
            "exclusion",
            "suspension",
            "part-time timetable",
            "children missing education",
            "elective home education",
            "alternative provision",
            "special educational needs",
            "SEN",
            "SENCO",
            "EHCP",
            "Virtual School",
            "designated safeguarding lead",
            "DSL",
        ],
    },
    {
        "code": "early-help",
        "label": "Early help",
        "description": (
            "Whether an early help assessment was completed with consent, with a lead "
            "professional, a team around the family and one family plan reviewed for "
            "progress."
        ),
        "keywords": [
            "early help",
            "EHA",
            "lead professional",
            "team around the family",
            "TAF",
            "team around the child",
            "TAC",
            "family support worker",
            "family plan",
            "CAF",
            "targeted support",
            "universal services",
        ],
    },
    {
        "code": "drift-delay",
        "label": "Drift and delay",
        "description": (
            "Whether plans moved at the child's pace, or cases stayed open, repeated reviews "
            "or waited without change or purpose."
        ),
        "keywords": [
            "drift",
            "delay",
            "timescales",
            "timeliness",
            "no progress",
            "lack of progress",
            "waiting list",
            "unallocated",
            "repeat plan",
            "repeat child protection plan",
            "stuck",
        ],
    },
    {
        "code": "family-engagement",
        "label": "Family engagement",
        "description": (
            "Whether parents and carers were engaged and their views recorded, and their own "
            "needs and barriers such as language, disability or mistrust understood."
        ),
        "keywords": [
            "engagement",
            "voice of the family",
            "parents' views",
            "family's views",
            "family group conference",
            "FGC",
            "interpreter",
            "hard to reach",
            "declined",
            "working with parents",
        ],
    },
    {
        "code": "think-family",
        "label": "Think family and siblings",
        "description": (
            "Whether the whole household was considered, including siblings, fathers, other "
            "adults and the extended family, and how adults' needs affect each child."
        ),
        "keywords": [
            "think family",
            "siblings",
            "whole family",
            "household",
            "father",
            "dad",
            "extended family",
            "grandparent",
            "kinship",
            "family network",
            "young carer",
            "private fostering",
            "each child",
        ],
    },
    {
        "code": "referrer-feedback",
        "label": "Feedback to referrers",
        "description": (
            "Whether the agency that raised a concern was told the outcome and what it should"
            " do next."
        ),
        "keywords": [
            "referrer",
            "outcome of the referral",
            "outcome letter",
            "informed of the outcome",
            "not told the outcome",
            "closing the loop",
            "feedback loop",
            "acknowledgement",
            "no feedback",
        ],
    },
    {
        "code": "neglect",
        "label": "Neglect",
        "description": (
            "Whether neglect was recognised from the build-up of unmet needs, measured with a"
            " tool such as the Graded Care Profile, and not normalised."
        ),
        "keywords": [
            "neglect",
            "neglectful",
            "graded care profile",
            "GCP2",
            "home conditions",
            "poor hygiene",
            "unkempt",
            "hungry",
            "basic needs",
            "dental decay",
            "head lice",
            "unwashed",
        ],
    },
    {
        "code": "parental-mental-health-substance-misuse",
        "label": "Parental mental health and substance misuse",
        "description": (
            "Whether adult mental ill health or drug and alcohol misuse was identified, its "
            "impact on parenting assessed and adult services involved."
        ),
        "keywords": [
            "mental health",
            "substance misuse",
            "drug",
            "alcohol",
            "drinking",
            "cannabis",
            "overdose",
            "depression",
            "psychosis",
            "CMHT",
            "dual diagnosis",
            "toxic trio",
            "parenting capacity",
        ],
    },
    {
        "code": "housing",
        "label": "Housing and homelessness",
        "description": (
            "Whether housing need, homelessness, overcrowding or frequent moves were seen as "
            "part of the risk, and housing services involved."
        ),
        "keywords": [
            "housing",
            "homelessness",
            "temporary accommodation",
            "B&B",
            "bed and breakfast",
            "overcrowding",
            "eviction",
            "rent arrears",
            "tenancy",
            "sofa surfing",
            "no fixed abode",
            "frequent moves",
            "damp",
        ],
    },
    {
        "code": "outcomes-impact",
        "label": "Outcomes and impact",
        "description": (
            "Whether the record shows what changed for the child because of the work, and "
            "outcomes were reviewed at closure."
        ),
        "keywords": [
            "outcomes for the child",
            "improved outcomes",
            "difference made",
            "made a difference",
            "what changed",
            "sustained change",
            "impact of the intervention",
            "case closure",
            "closure summary",
            "SMART",
        ],
    },
]


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
