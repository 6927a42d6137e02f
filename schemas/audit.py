"""Audits, cases, agency returns, findings, moderation, voices and immediate concerns."""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from schemas.text import FreeText, Label, Slug

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _/-]{0,39}$")


def _pseudonymous(value: str) -> str:
    if not _REFERENCE.match(value):
        raise ValueError(
            "a case reference is a pseudonymous code of letters, digits, spaces, '-', '_' "
            "or '/' (at most 40), e.g. CSE-24-03"
        )
    return value


CaseReference = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_pseudonymous)
]


class AuditStatus(enum.StrEnum):
    PLANNING = "planning"
    RETURNS = "returns"
    MODERATION = "moderation"
    REPORTING = "reporting"
    CLOSED = "closed"


class LevelOfNeed(enum.StrEnum):
    EARLY_HELP = "early-help"
    CHILD_IN_NEED = "child-in-need"
    CHILD_PROTECTION = "child-protection"
    LOOKED_AFTER = "looked-after"


class AgeBand(enum.StrEnum):
    UNBORN = "unborn"
    UNDER_5 = "0-4"
    PRIMARY = "5-10"
    EARLY_TEEN = "11-15"
    OLDER = "16-17"


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    NOT_KNOWN = "not-known"


class Send(enum.StrEnum):
    NONE = "none"
    SEN_SUPPORT = "sen-support"
    EHCP = "ehcp"
    NOT_KNOWN = "not-known"


class ReturnStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class VoiceSource(enum.StrEnum):
    CHILD = "child"
    FAMILY = "family"
    PRACTITIONER = "practitioner"


class ConcernStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ModerationHeading(enum.StrEnum):
    """DOMAIN.md's moderation headings, in the order a panel works through them."""

    RECOGNITION = "recognition"
    ASSESSMENT = "assessment"
    PLANNING = "planning"
    JOINT_WORKING = "joint-working"
    VOICE_OF_THE_CHILD = "voice-of-the-child"
    IMPACT = "impact"
    OVERALL = "overall"

    @property
    def label(self) -> str:
        return _HEADING_TITLES[self]


_HEADING_TITLES = {
    ModerationHeading.RECOGNITION: "Recognition of need and risk",
    ModerationHeading.ASSESSMENT: "Assessment",
    ModerationHeading.PLANNING: "Planning and intervention",
    ModerationHeading.JOINT_WORKING: "Joint working and information sharing",
    ModerationHeading.VOICE_OF_THE_CHILD: "Voice of the child",
    ModerationHeading.IMPACT: "Impact and outcome",
    ModerationHeading.OVERALL: "Overall",
}


# The words a person writes for the store's codes, where capitalising the code is not enough.
_VALUE_LABELS: dict[enum.Enum, str] = {
    AgeBand.UNBORN: "Unborn",
    AgeBand.UNDER_5: "0-4 years",
    AgeBand.PRIMARY: "5-10 years",
    AgeBand.EARLY_TEEN: "11-15 years",
    AgeBand.OLDER: "16-17 years",
    Send.NONE: "No SEND",
    Send.SEN_SUPPORT: "SEN support",
    Send.EHCP: "EHC plan",
    Send.NOT_KNOWN: "SEND not known",
    Gender.NOT_KNOWN: "Not known",
    AuditStatus.RETURNS: "Agency returns",
}


def value_label(value: enum.Enum) -> str:
    """`child-in-need` as a person writes it: `Child in need`; the planning form, the
    screens and the documents all use these words."""
    words = str(value.value).replace("-", " ").replace("_", " ")
    return _VALUE_LABELS.get(value, words.capitalize())


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True, extra="forbid")


class Actor(Schema):
    """Who is acting: recorded against every change."""

    name: Label
    agency: Slug | None = None


class CaseProfile(Schema):
    """A case as DOMAIN.md describes it. No name, no date of birth: by design."""

    reference: CaseReference
    level_of_need: LevelOfNeed
    age_band: AgeBand
    gender: Gender
    ethnicity: Label
    send: Send


class AuditPlan(Schema):
    title: Label
    tool_id: Slug
    tool_version: int | None = Field(default=None, description="None means the latest version")
    agencies: tuple[Slug, ...] = Field(min_length=1)
    cases: tuple[CaseProfile, ...] = ()
    look_back_months: int = Field(default=12, ge=1, le=120)
    look_back_end: dt.date | None = None
    returns_due: dt.date | None = None
    audit_day: dt.date | None = None
    chair: FreeText = ""
    scope: FreeText = ""


class AuditSummary(Schema):
    id: int
    uid: str
    title: str
    tool_id: str
    tool_version: int
    tool_title: str
    status: AuditStatus
    audit_day: dt.date | None
    returns_due: dt.date | None
    chair: str
    cases: int
    agencies: int
    returns_submitted: int
    returns_total: int
    findings_answered: int
    findings_expected: int

    @property
    def progress(self) -> float:
        return self.findings_answered / self.findings_expected if self.findings_expected else 0.0


class CaseOut(CaseProfile):
    id: int
    audit_id: int


class AuditDetail(Schema):
    id: int
    uid: str
    title: str
    tool_id: str
    tool_version: int
    status: AuditStatus
    look_back_months: int
    look_back_start: dt.date | None
    look_back_end: dt.date | None
    returns_due: dt.date | None
    audit_day: dt.date | None
    chair: str
    scope: str
    legal_hold: bool
    created_at: dt.datetime
    created_by: str
    agencies: tuple[str, ...]
    cases: tuple[CaseOut, ...]


class FindingChange(Schema):
    """What an auditor changed; fields left as None are not touched."""

    grade: str | None = None
    clear_grade: bool = False
    evidence: FreeText | None = None
    strengths: FreeText | None = None
    areas_for_development: FreeText | None = None


class FindingOut(Schema):
    id: int
    return_id: int
    criterion_id: str
    grade: str | None
    evidence: str
    strengths: str
    areas_for_development: str
    version: int
    updated_at: dt.datetime
    updated_by: str


class AgencyReturnOut(Schema):
    id: int
    case_id: int
    case_reference: str
    agency_code: str
    status: ReturnStatus
    auditor: str
    submitted_at: dt.datetime | None
    submitted_by: str | None
    findings: tuple[FindingOut, ...]


class UnansweredCriterion(Schema):
    criterion_id: str
    question: str


class ReturnProgress(Schema):
    return_id: int
    case_reference: str
    agency_code: str
    status: ReturnStatus
    answered: int
    total: int


class GradeCount(Schema):
    """How many findings got one answer, grouped by agency or by criterion."""

    group: str
    grade: str
    count: int


class GradeDistribution(Schema):
    audit_id: int
    scale_id: str
    by: str = Field(description="'agency' or 'criterion'")
    rows: tuple[GradeCount, ...]

    def count(self, group: str, grade: str) -> int:
        return sum(r.count for r in self.rows if r.group == group and r.grade == grade)


class ModeratedGradeOut(Schema):
    id: int
    case_id: int
    heading: ModerationHeading
    grade: str | None
    reasons: str
    version: int
    updated_at: dt.datetime
    updated_by: str


class VoiceOut(Schema):
    id: int
    case_id: int
    source: VoiceSource
    text: str
    recorded_at: dt.datetime
    recorded_by: str


class ImmediateConcernOut(Schema):
    id: int
    case_id: int
    agency_code: str | None
    concern: str
    who_told: str
    told_at: dt.datetime
    raised_by: str
    raised_at: dt.datetime
    status: ConcernStatus
    closed_at: dt.datetime | None
    closed_by: str | None
    closure_note: str


class ChangeRecordOut(Schema):
    at: dt.datetime
    actor: str
    entity: str
    entity_key: str
    operation: str
    field: str | None
    before: str | None
    after: str | None


class AgencyOut(Schema):
    code: str
    name: str
    active: bool
