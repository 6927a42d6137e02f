"""The audit store: SQLAlchemy 2 typed models for the whole audit cycle.

Tables follow DOMAIN.md's vocabulary. Cases carry a pseudonymous reference only: there
is deliberately no column for a name or a date of birth.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from workbench.store.types import JSONList, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Audited:
    """Marks audit content: every insert, update and delete is written to change_history."""

    def history_key(self) -> str:
        raise NotImplementedError

    def history_audit_id(self) -> int | None:
        raise NotImplementedError

    history_fields: tuple[str, ...] = ()


class ToolVersion(Base):
    """A tool definition as pinned by audits: never changed once an audit uses it."""

    __tablename__ = "tool_versions"
    __table_args__ = (UniqueConstraint("tool_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tool_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    checksum: Mapped[str] = mapped_column(String(64))
    definition: Mapped[str] = mapped_column(Text, doc="ToolDefinition as canonical JSON")
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Audit(Audited, Base):
    __tablename__ = "audits"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    tool_version_id: Mapped[int] = mapped_column(ForeignKey("tool_versions.id"))
    status: Mapped[str] = mapped_column(String(20), default="planning")
    look_back_months: Mapped[int] = mapped_column(Integer, default=12)
    look_back_start: Mapped[dt.date | None] = mapped_column(Date)
    look_back_end: Mapped[dt.date | None] = mapped_column(Date)
    returns_due: Mapped[dt.date | None] = mapped_column(Date)
    audit_day: Mapped[dt.date | None] = mapped_column(Date)
    chair: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(Text, default="")
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    tool_version: Mapped[ToolVersion] = relationship(lazy="joined")
    agencies: Mapped[list[AuditAgency]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="AuditAgency.agency_code"
    )
    cases: Mapped[list[Case]] = relationship(
        back_populates="audit", cascade="all, delete-orphan", order_by="Case.reference"
    )

    history_fields = (
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
        "closed_at",
    )

    def history_key(self) -> str:
        return f"audit {self.uid}"

    def history_audit_id(self) -> int | None:
        return self.id


class AuditAgency(Audited, Base):
    __tablename__ = "audit_agencies"

    audit_id: Mapped[int] = mapped_column(
        ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"), primary_key=True)

    audit: Mapped[Audit] = relationship(back_populates="agencies")
    history_fields = ("agency_code",)

    def history_key(self) -> str:
        return f"agency {self.agency_code}"

    def history_audit_id(self) -> int | None:
        return self.audit_id


class Case(Audited, Base):
    """One child's case in an audit's cohort, under a pseudonymous reference only."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("audit_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    level_of_need: Mapped[str] = mapped_column(String(40))
    age_band: Mapped[str] = mapped_column(String(20))
    gender: Mapped[str] = mapped_column(String(40))
    ethnicity: Mapped[str] = mapped_column(String(80))
    send: Mapped[str] = mapped_column(String(40))

    audit: Mapped[Audit] = relationship(back_populates="cases")
    returns: Mapped[list[AgencyReturn]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="AgencyReturn.agency_code"
    )
    moderated_grades: Mapped[list[ModeratedGrade]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="ModeratedGrade.heading"
    )
    voices: Mapped[list[Voice]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Voice.id"
    )
    concerns: Mapped[list[ImmediateConcern]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="ImmediateConcern.id"
    )

    history_fields = ("reference", "level_of_need", "age_band", "gender", "ethnicity", "send")

    def history_key(self) -> str:
        return f"case {self.reference}"

    def history_audit_id(self) -> int | None:
        return self.audit_id


class AgencyReturn(Audited, Base):
    """One agency's completed tool for one case."""

    __tablename__ = "agency_returns"
    __table_args__ = (UniqueConstraint("case_id", "agency_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    auditor: Mapped[str] = mapped_column(String(200), default="")
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="returns", lazy="joined")
    findings: Mapped[list[Finding]] = relationship(
        back_populates="agency_return", cascade="all, delete-orphan", order_by="Finding.id"
    )

    history_fields = ("status", "auditor", "submitted_at", "submitted_by")

    def history_key(self) -> str:
        return f"case {self.case.reference} / {self.agency_code}"

    def history_audit_id(self) -> int | None:
        return self.case.audit_id


class Finding(Audited, Base):
    """One graded answer to one criterion in one return. `version` refuses stale updates."""

    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("return_id", "criterion_id"),
        # Covering index for progress and distributions: counts read the index, not the text.
        Index("ix_findings_return_grade", "return_id", "grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("agency_returns.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[str] = mapped_column(String(80))
    grade: Mapped[str | None] = mapped_column(String(40))
    evidence: Mapped[str] = mapped_column(Text, default="")
    strengths: Mapped[str] = mapped_column(Text, default="")
    areas_for_development: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))

    agency_return: Mapped[AgencyReturn] = relationship(back_populates="findings", lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    history_fields = ("grade", "evidence", "strengths", "areas_for_development")

    def history_key(self) -> str:
        r = self.agency_return
        return f"case {r.case.reference} / {r.agency_code} / {self.criterion_id}"

    def history_audit_id(self) -> int | None:
        return self.agency_return.case.audit_id


class ModeratedGrade(Audited, Base):
    """The panel's grade for one case under one moderation heading, with its reasons."""

    __tablename__ = "moderated_grades"
    __table_args__ = (UniqueConstraint("case_id", "heading"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    heading: Mapped[str] = mapped_column(String(40))
    grade: Mapped[str | None] = mapped_column(String(40))
    reasons: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="moderated_grades", lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    history_fields = ("grade", "reasons")

    def history_key(self) -> str:
        return f"case {self.case.reference} / moderated {self.heading}"

    def history_audit_id(self) -> int | None:
        return self.case.audit_id


class Voice(Audited, Base):
    """What the child, family or a practitioner said: first-class content."""

    __tablename__ = "voices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200))

    case: Mapped[Case] = relationship(back_populates="voices", lazy="joined")
    history_fields = ("source", "text")

    def history_key(self) -> str:
        return f"case {self.case.reference} / voice of {self.source}"

    def history_audit_id(self) -> int | None:
        return self.case.audit_id


class ImmediateConcern(Audited, Base):
    """A child found at current risk: escalated at once and tracked until closed."""

    __tablename__ = "immediate_concerns"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"))
    concern: Mapped[str] = mapped_column(Text)
    who_told: Mapped[str] = mapped_column(String(300))
    told_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    raised_by: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="open")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    closure_note: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="concerns", lazy="joined")
    history_fields = (
        "concern",
        "who_told",
        "told_at",
        "status",
        "closed_at",
        "closed_by",
        "closure_note",
    )

    def history_key(self) -> str:
        return f"case {self.case.reference} / immediate concern {self.told_at.isoformat()}"

    def history_audit_id(self) -> int | None:
        return self.case.audit_id


class Theme(Audited, Base):
    """The partnership's vocabulary of learning themes, with keywords for suggestions."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSONList, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    history_fields = ("code", "label", "description", "keywords", "active")

    def history_key(self) -> str:
        return f"theme {self.code}"

    def history_audit_id(self) -> int | None:
        return None


class FindingTheme(Audited, Base):
    __tablename__ = "finding_themes"
    __table_args__ = (Index("ix_finding_themes_theme_id", "theme_id"),)

    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    tagged_by: Mapped[str] = mapped_column(String(200))
    tagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    finding: Mapped[Finding] = relationship()
    theme: Mapped[Theme] = relationship()

    history_fields = ("tagged_by",)

    def history_key(self) -> str:
        return f"{self.finding.history_key()} / theme {self.theme.code}"

    def history_audit_id(self) -> int | None:
        return self.finding.history_audit_id()


class VoiceTheme(Audited, Base):
    __tablename__ = "voice_themes"
    __table_args__ = (Index("ix_voice_themes_theme_id", "theme_id"),)

    voice_id: Mapped[int] = mapped_column(
        ForeignKey("voices.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    tagged_by: Mapped[str] = mapped_column(String(200))
    tagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    voice: Mapped[Voice] = relationship()
    theme: Mapped[Theme] = relationship()

    history_fields = ("tagged_by",)

    def history_key(self) -> str:
        return f"{self.voice.history_key()} / theme {self.theme.code}"

    def history_audit_id(self) -> int | None:
        return self.voice.history_audit_id()


class ModerationTheme(Audited, Base):
    __tablename__ = "moderation_themes"
    __table_args__ = (Index("ix_moderation_themes_theme_id", "theme_id"),)

    moderated_grade_id: Mapped[int] = mapped_column(
        ForeignKey("moderated_grades.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )
    tagged_by: Mapped[str] = mapped_column(String(200))
    tagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    moderated_grade: Mapped[ModeratedGrade] = relationship()
    theme: Mapped[Theme] = relationship()

    history_fields = ("tagged_by",)

    def history_key(self) -> str:
        return f"{self.moderated_grade.history_key()} / theme {self.theme.code}"

    def history_audit_id(self) -> int | None:
        return self.moderated_grade.history_audit_id()


class SecondGrade(Audited, Base):
    """Double grading: a second auditor's independent grade for one criterion of a return,
    kept beside (never replacing) the finding, so agreement between graders can be measured."""

    __tablename__ = "second_grades"
    __table_args__ = (UniqueConstraint("return_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(
        ForeignKey("agency_returns.id", ondelete="CASCADE"), index=True
    )
    criterion_id: Mapped[str] = mapped_column(String(80))
    grade: Mapped[str] = mapped_column(String(40))
    graded_by: Mapped[str] = mapped_column(String(200))
    graded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    agency_return: Mapped[AgencyReturn] = relationship(lazy="joined")
    history_fields = ("grade",)

    def history_key(self) -> str:
        r = self.agency_return
        return f"case {r.case.reference} / {r.agency_code} / {self.criterion_id} / second grade"

    def history_audit_id(self) -> int | None:
        return self.agency_return.case.audit_id


class LearningItem(Audited, Base):
    """One entry of the partnership's learning log, from any strand."""

    __tablename__ = "learning_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    raised_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40))
    audit_id: Mapped[int | None] = mapped_column(
        ForeignKey("audits.id", ondelete="SET NULL"), index=True
    )
    learning: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    agencies: Mapped[list[str]] = mapped_column(JSONList, default=list)
    shared_how: Mapped[list[str]] = mapped_column(JSONList, default=list)
    impact_evidence: Mapped[str] = mapped_column(Text, default="")
    reaudit_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")
    signed_off_by: Mapped[str | None] = mapped_column(String(200))
    signed_off_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    history_fields = (
        "raised_on",
        "source",
        "learning",
        "evidence",
        "agencies",
        "shared_how",
        "impact_evidence",
        "reaudit_on",
        "status",
        "signed_off_by",
        "signed_off_on",
    )

    def history_key(self) -> str:
        return f"learning {self.reference}"

    def history_audit_id(self) -> int | None:
        return self.audit_id


class LearningItemTheme(Audited, Base):
    __tablename__ = "learning_item_themes"

    learning_item_id: Mapped[int] = mapped_column(
        ForeignKey("learning_items.id", ondelete="CASCADE"), primary_key=True
    )
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), primary_key=True
    )

    learning_item: Mapped[LearningItem] = relationship()
    theme: Mapped[Theme] = relationship()
    history_fields = ()

    def history_key(self) -> str:
        return f"learning {self.learning_item.reference} / theme {self.theme.code}"

    def history_audit_id(self) -> int | None:
        return self.learning_item.audit_id


class LearningItemFinding(Audited, Base):
    """Traceability: the findings a learning item's evidence rests on."""

    __tablename__ = "learning_item_findings"

    learning_item_id: Mapped[int] = mapped_column(
        ForeignKey("learning_items.id", ondelete="CASCADE"), primary_key=True
    )
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), primary_key=True
    )

    learning_item: Mapped[LearningItem] = relationship()
    finding: Mapped[Finding] = relationship()
    history_fields = ()

    def history_key(self) -> str:
        return f"learning {self.learning_item.reference} / evidence {self.finding.history_key()}"

    def history_audit_id(self) -> int | None:
        return self.learning_item.audit_id


class Recommendation(Audited, Base):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("audit_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    history_fields = ("number", "text")

    def history_key(self) -> str:
        return f"recommendation {self.number}"

    def history_audit_id(self) -> int | None:
        return self.audit_id


class RecommendationLearningItem(Audited, Base):
    __tablename__ = "recommendation_learning_items"

    recommendation_id: Mapped[int] = mapped_column(
        ForeignKey("recommendations.id", ondelete="CASCADE"), primary_key=True
    )
    learning_item_id: Mapped[int] = mapped_column(
        ForeignKey("learning_items.id", ondelete="CASCADE"), primary_key=True
    )

    recommendation: Mapped[Recommendation] = relationship()
    learning_item: Mapped[LearningItem] = relationship()
    history_fields = ()

    def history_key(self) -> str:
        return (
            f"recommendation {self.recommendation.number} / learning {self.learning_item.reference}"
        )

    def history_audit_id(self) -> int | None:
        return self.recommendation.audit_id


class Action(Audited, Base):
    """An action with an owner (person and agency), a due date, a status and a route upward."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int | None] = mapped_column(
        ForeignKey("audits.id", ondelete="CASCADE"), index=True
    )
    recommendation_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendations.id", ondelete="SET NULL")
    )
    description: Mapped[str] = mapped_column(Text)
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_agency: Mapped[str] = mapped_column(ForeignKey("agencies.code"))
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    evidence_of_impact: Mapped[str] = mapped_column(Text, default="")
    escalation_route: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    history_fields = (
        "description",
        "owner_name",
        "owner_agency",
        "due_on",
        "status",
        "evidence_of_impact",
        "escalation_route",
        "recommendation_id",
    )

    def history_key(self) -> str:
        return f"action {self.id}"

    def history_audit_id(self) -> int | None:
        return self.audit_id


class ActionUpdate(Audited, Base):
    __tablename__ = "action_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(200))

    action: Mapped[Action] = relationship()
    history_fields = ("on", "text")

    def history_key(self) -> str:
        return f"action {self.action_id} / update"

    def history_audit_id(self) -> int | None:
        return self.action.audit_id


class ChangeRecord(Base):
    """Append-only history: who changed what, when, and the value before and after."""

    __tablename__ = "change_history"
    __table_args__ = (Index("ix_change_history_audit_at", "audit_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    # No foreign key: history outlives nothing it describes, and retention removes it explicitly.
    audit_id: Mapped[int | None] = mapped_column(Integer)
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(300))
    operation: Mapped[str] = mapped_column(String(10))
    field: Mapped[str | None] = mapped_column(String(80))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class TransferRecord(Base):
    """Every bundle or document that left or entered the store: what, for whom, when, by whom."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    audit_uid: Mapped[str | None] = mapped_column(String(36))
    target: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class User(Audited, Base):
    """A workbench user and their role. On PostgreSQL `login` is the database login, so the
    row-level security policies can find the role of whoever is connected."""

    __tablename__ = "users"

    login: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    agency_code: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    history_fields = ("name", "role", "agency_code", "active")

    def history_key(self) -> str:
        return f"user {self.login}"

    def history_audit_id(self) -> int | None:
        return None


class AuditLead(Audited, Base):
    """An audit lead of one audit: the lead sees and changes everything in it."""

    __tablename__ = "audit_leads"

    audit_id: Mapped[int] = mapped_column(
        ForeignKey("audits.id", ondelete="CASCADE"), primary_key=True
    )
    login: Mapped[str] = mapped_column(String(200), primary_key=True)

    history_fields = ("login",)

    def history_key(self) -> str:
        return f"lead {self.login}"

    def history_audit_id(self) -> int | None:
        return self.audit_id


class CaseIdentifier(Base):
    """A real identifier of a case (a name, a date of birth, a system number), held apart from
    the audit content where a partnership chooses to hold them.

    Deliberately not `Audited`: change history is readable more widely than this table, so
    changes are recorded by hand as who and when, without the value."""

    __tablename__ = "case_identifiers"
    __table_args__ = (UniqueConstraint("case_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
