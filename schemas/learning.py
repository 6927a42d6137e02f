"""From findings to learning: themes, agreement, the learning log, recommendations, actions.

The same words as DOMAIN.md: a learning item comes from a source strand, rests on evidence
(traceable to findings when it came from an audit) and is signed off; an action has an
owner (person and agency), a due date, a status and a route upward.
"""

from __future__ import annotations

import datetime as dt
import enum

from pydantic import Field

from schemas.audit import Schema
from schemas.text import FreeText, Label, Slug


class LearningSource(enum.StrEnum):
    """The strands a learning log draws on (DOMAIN.md, step 8)."""

    CASE_AUDIT = "case-audit"
    CASE_REVIEW = "case-review"
    SECTION_11 = "section-11"
    PRACTITIONER_FEEDBACK = "practitioner-feedback"
    FAMILY_FEEDBACK = "family-feedback"
    PERFORMANCE_DATA = "performance-data"
    RESEARCH = "research"

    @property
    def label(self) -> str:
        return _SOURCE_LABELS[self]


_SOURCE_LABELS = {
    LearningSource.CASE_AUDIT: "Case audit",
    LearningSource.CASE_REVIEW: "Case review",
    LearningSource.SECTION_11: "Section 11",
    LearningSource.PRACTITIONER_FEEDBACK: "Practitioner feedback",
    LearningSource.FAMILY_FEEDBACK: "Family feedback",
    LearningSource.PERFORMANCE_DATA: "Performance data",
    LearningSource.RESEARCH: "Research",
}


class LearningStatus(enum.StrEnum):
    OPEN = "open"
    SHARED = "shared"
    EMBEDDED = "embedded"
    SIGNED_OFF = "signed-off"


class SharedHow(enum.StrEnum):
    BRIEFING = "briefing"
    TRAINING = "training"
    NEWSLETTER = "newsletter"
    CONFERENCE = "conference"
    SUPERVISION = "supervision"


class ActionStatus(enum.StrEnum):
    """An action's progress, shown as RAG in the learning log (DOMAIN.md)."""

    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    COMPLETE = "complete"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def rag(self) -> str:
        return _ACTION_RAG[self]


_ACTION_RAG = {
    ActionStatus.NOT_STARTED: "Amber",
    ActionStatus.ON_TRACK: "Green",
    ActionStatus.AT_RISK: "Red",
    ActionStatus.COMPLETE: "Complete",
}


class TaggedKind(enum.StrEnum):
    """What a theme can be attached to."""

    FINDING = "finding"
    VOICE = "voice"
    MODERATION = "moderation"


# --- themes ----------------------------------------------------------------------------------


class ThemeIn(Schema):
    """A theme as the audit lead writes it. Keywords and synonyms drive suggestions."""

    code: Slug
    label: Label
    description: FreeText = ""
    keywords: tuple[Label, ...] = ()
    active: bool = True


class ThemeOut(ThemeIn):
    id: int


class ThemeSuggestion(Schema):
    """A theme the text seems to be about, and the words that made it so (never applied
    without the user accepting)."""

    code: str
    label: str
    matched: tuple[str, ...] = Field(description="the vocabulary terms found in the text")
    score: int


class ThemeGridCell(Schema):
    """How many tagged findings of one agency, with one answer, carry one theme."""

    theme: str
    agency: str
    grade: str | None
    count: int


class ThemeGrid(Schema):
    """Theme x agency x grade for one audit (or every audit of one tool)."""

    scale_id: str
    cells: tuple[ThemeGridCell, ...]

    def count(self, theme: str, agency: str | None = None, grade: str | None = None) -> int:
        return sum(
            c.count
            for c in self.cells
            if c.theme == theme
            and (agency is None or c.agency == agency)
            and (grade is None or c.grade == grade)
        )


class RecurringTheme(Schema):
    """A theme across one audit: in how many cases and agencies it appears."""

    code: str
    label: str
    cases: int
    agencies: int
    findings: int
    voices: int
    moderation: int
    finding_ids: tuple[int, ...] = Field(description="the evidence a learning item can link to")

    @property
    def mentions(self) -> int:
        return self.findings + self.voices + self.moderation


class CriterionComparison(Schema):
    """One criterion now and in the previous audit of the same tool: the share of its graded
    findings at a favourable level (the better half of the scale), then and now."""

    criterion_id: str
    question: str
    graded_now: int
    graded_before: int
    favourable_now: float | None
    favourable_before: float | None
    change: str = Field(description="'improved', 'declined', 'unchanged' or 'not comparable'")


class ThemeComparison(Schema):
    code: str
    label: str
    cases_now: int
    cases_before: int


class AuditComparison(Schema):
    """This audit beside the same tool's previous one: what improved and what did not."""

    audit_id: int
    previous_audit_id: int | None
    previous_title: str | None
    scale_id: str
    note: str = ""
    criteria: tuple[CriterionComparison, ...] = ()
    themes: tuple[ThemeComparison, ...] = ()

    def with_change(self, change: str) -> tuple[CriterionComparison, ...]:
        return tuple(c for c in self.criteria if c.change == change)


# --- agreement ---------------------------------------------------------------------------------


class AgreementFigure(Schema):
    """Agreement between two graders over one group of paired grades.

    Pairs where either side is not applicable or not evidenced are left out and counted;
    a pair where either side is unanswered is left out and counted too."""

    group: str
    pairs: int = Field(description="pairs where both sides carry a level of the scale")
    agreed: int
    percent_agreement: float | None = Field(description="0 to 100; None with no pairs")
    kappa: float | None = Field(description="quadratic-weighted Cohen's kappa; None if undefined")
    not_applicable: int
    not_evidenced: int
    unanswered: int


class AgreementReport(Schema):
    """Per criterion (or heading), per agency and overall, for one comparison."""

    audit_id: int
    comparison: str = Field(description="'double-grading' or 'agency-vs-moderated'")
    scale_id: str
    ordered: bool
    note: str = ""
    by_item: tuple[AgreementFigure, ...] = ()
    by_agency: tuple[AgreementFigure, ...] = ()
    overall: AgreementFigure | None = None


# Landis & Koch (1977), "The measurement of observer agreement for categorical data": the
# words most readers know for a kappa. Lowest value of each band, best first.
KAPPA_BANDS: tuple[tuple[float, str], ...] = (
    (0.81, "almost perfect"),
    (0.61, "substantial"),
    (0.41, "moderate"),
    (0.21, "fair"),
    (0.00, "slight"),
)
KAPPA_BELOW_CHANCE = "poor"


def kappa_band(kappa: float | None) -> str:
    """Landis & Koch's words for a kappa ('moderate'), judged on the value as shown to two
    decimals; '' when kappa is undefined."""
    if kappa is None:
        return ""
    shown = round(kappa, 2)
    for lowest, words in KAPPA_BANDS:
        if shown >= lowest:
            return words
    return KAPPA_BELOW_CHANCE


class SecondGradeOut(Schema):
    """A second, independent grade for a finding's criterion: double grading."""

    id: int
    return_id: int
    criterion_id: str
    grade: str
    graded_by: str
    graded_at: dt.datetime


# --- the learning log -----------------------------------------------------------------------


class LearningItemIn(Schema):
    raised_on: dt.date
    source: LearningSource
    learning: FreeText = Field(min_length=1)
    evidence: FreeText = ""
    audit_id: int | None = None
    themes: tuple[Slug, ...] = ()
    agencies: tuple[Slug, ...] = ()
    shared_how: tuple[SharedHow, ...] = ()
    impact_evidence: FreeText = ""
    reaudit_on: dt.date | None = None
    finding_ids: tuple[int, ...] = ()


class LearningItemChange(Schema):
    """What changes on an item; None leaves a field as it is."""

    learning: FreeText | None = None
    evidence: FreeText | None = None
    themes: tuple[Slug, ...] | None = None
    agencies: tuple[Slug, ...] | None = None
    shared_how: tuple[SharedHow, ...] | None = None
    impact_evidence: FreeText | None = None
    reaudit_on: dt.date | None = None
    clear_reaudit: bool = False
    status: LearningStatus | None = None


class EvidenceLink(Schema):
    """A finding a learning item rests on, anonymised: case reference, agency, criterion."""

    finding_id: int
    case_reference: str
    agency: str
    criterion_id: str
    grade: str | None


class LearningItemOut(Schema):
    id: int
    reference: str
    raised_on: dt.date
    source: LearningSource
    audit_id: int | None
    audit_title: str | None
    learning: str
    evidence: str
    themes: tuple[str, ...]
    agencies: tuple[str, ...]
    shared_how: tuple[SharedHow, ...]
    impact_evidence: str
    reaudit_on: dt.date | None
    status: LearningStatus
    signed_off_by: str | None
    signed_off_on: dt.date | None
    created_by: str
    evidence_links: tuple[EvidenceLink, ...] = ()
    recommendations: tuple[int, ...] = Field(default=(), description="recommendation ids")


class LearningFilter(Schema):
    text: FreeText = ""
    theme: Slug | None = None
    agency: Slug | None = None
    source: LearningSource | None = None
    status: LearningStatus | None = None


# --- recommendations and actions --------------------------------------------------------------


class RecommendationIn(Schema):
    text: FreeText = Field(min_length=1)
    learning_item_ids: tuple[int, ...] = ()


class RecommendationOut(Schema):
    id: int
    audit_id: int
    number: int
    text: str
    learning_item_ids: tuple[int, ...]


class ActionIn(Schema):
    description: FreeText = Field(min_length=1)
    owner_name: Label
    owner_agency: Slug
    due_on: dt.date
    audit_id: int | None = None
    recommendation_id: int | None = None
    escalation_route: FreeText = ""


class ActionUpdateIn(Schema):
    """A dated progress note; may move the status and add evidence of impact."""

    on: dt.date
    text: FreeText = Field(min_length=1)
    status: ActionStatus | None = None
    evidence_of_impact: FreeText | None = None
    escalation_route: FreeText | None = None


class ActionUpdateOut(Schema):
    id: int
    on: dt.date
    text: str
    by: str


class ActionOut(Schema):
    id: int
    audit_id: int | None
    audit_title: str | None
    recommendation_id: int | None
    recommendation_number: int | None
    description: str
    owner_name: str
    owner_agency: str
    due_on: dt.date
    status: ActionStatus
    evidence_of_impact: str
    escalation_route: str
    created_by: str
    updates: tuple[ActionUpdateOut, ...] = ()
    overdue: bool = Field(description="due before today and not complete")
    days_overdue: int = 0

    @property
    def minute(self) -> str:
        """How minutes record an action: '(Action: Name)'."""
        return f"{self.description} (Action: {self.owner_name})"


__all__ = [
    "KAPPA_BANDS",
    "KAPPA_BELOW_CHANCE",
    "ActionIn",
    "ActionOut",
    "ActionStatus",
    "ActionUpdateIn",
    "ActionUpdateOut",
    "AgreementFigure",
    "AgreementReport",
    "AuditComparison",
    "CriterionComparison",
    "EvidenceLink",
    "LearningFilter",
    "LearningItemChange",
    "LearningItemIn",
    "LearningItemOut",
    "LearningSource",
    "LearningStatus",
    "RecommendationIn",
    "RecommendationOut",
    "RecurringTheme",
    "SecondGradeOut",
    "SharedHow",
    "TaggedKind",
    "ThemeComparison",
    "ThemeGrid",
    "ThemeGridCell",
    "ThemeIn",
    "ThemeOut",
    "ThemeSuggestion",
    "kappa_band",
]
