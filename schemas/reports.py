"""What the Word and spreadsheet exports are made from: everything already counted and worded.

The services fill these from the database; `exports/` turns them into files and computes
nothing about audits itself. So a document shows exactly what the workbench's screens show,
and an export test can build the data by hand.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from schemas.audit import Schema
from schemas.learning import (
    ActionOut,
    AgreementReport,
    AuditComparison,
    LearningItemOut,
    RecommendationOut,
    RecurringTheme,
)

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"


class DocumentMeta(Schema):
    """Cover and properties: the title, who it is for, and its protective marking."""

    title: str
    subtitle: str = ""
    partnership: str = "Safeguarding children partnership"
    author: str
    prepared_for: str = ""
    protective_marking: str = DEFAULT_MARKING
    created: dt.datetime
    subject: str = ""
    keywords: tuple[str, ...] = ()


class LevelInfo(Schema):
    key: str
    label: str
    short: str


class ScaleInfo(Schema):
    """A scale as a document shows it: levels best first, and the favourable ones."""

    id: str
    title: str
    levels: tuple[LevelInfo, ...]
    favourable: tuple[str, ...]
    favourable_label: str
    not_applicable_label: str
    not_evidenced_label: str

    def label(self, key: str | None) -> str:
        if key is None:
            return "Not graded"
        if key == "not_applicable":
            return self.not_applicable_label
        if key == "not_evidenced":
            return self.not_evidenced_label
        for level in self.levels:
            if level.key == key:
                return level.label
        return key


class GradeRow(Schema):
    """One group's findings on one scale: a count per level (best first), then the rest."""

    label: str
    counts: tuple[int, ...]
    not_applicable: int = 0
    not_evidenced: int = 0

    @property
    def graded(self) -> int:
        return sum(self.counts)


class Tally(Schema):
    label: str
    count: int


class CohortSummary(Schema):
    """The cohort without identifiers: how many cases by level of need, age, gender, SEND."""

    cases: int
    by_level_of_need: tuple[Tally, ...]
    by_age_band: tuple[Tally, ...]
    by_gender: tuple[Tally, ...]
    by_ethnicity: tuple[Tally, ...]
    by_send: tuple[Tally, ...]
    agencies: tuple[str, ...] = Field(description="agency names taking part")


class CohortCase(Schema):
    """A row of the cohort appendix: the pseudonymous reference and the cohort fields."""

    reference: str
    level_of_need: str
    age_band: str
    gender: str
    ethnicity: str
    send: str
    agencies: tuple[str, ...]


class ModeratedHeadingOut(Schema):
    heading: str
    agency_grades: tuple[tuple[str, str], ...] = Field(
        description="(agency name, its own grade label) pairs, kept beside the panel's"
    )
    grade: str | None = Field(description="the moderated grade's label")
    reasons: str


class ModeratedCase(Schema):
    reference: str
    level_of_need: str
    headings: tuple[ModeratedHeadingOut, ...]


class Excerpt(Schema):
    """A piece of what an auditor wrote, with where it came from (never who it is about)."""

    case_reference: str
    agency: str
    criterion_id: str
    text: str


class SectionFindings(Schema):
    title: str
    strengths: tuple[Excerpt, ...]
    areas_for_development: tuple[Excerpt, ...]


class VoiceQuote(Schema):
    case_reference: str
    source: str
    text: str


class AuditInfo(Schema):
    title: str
    tool_title: str
    tool_version: int
    theme: str
    status: str
    scope: str
    look_back: str = Field(description="e.g. '12 months to 31 Oct 2026'")
    audit_day: dt.date | None
    chair: str
    agencies: tuple[str, ...]


class AuditReportData(Schema):
    """DOMAIN.md's audit report, in its order."""

    meta: DocumentMeta
    audit: AuditInfo
    purpose: str
    scale: ScaleInfo
    cohort: CohortSummary
    by_agency: tuple[GradeRow, ...]
    overall: GradeRow
    moderated: tuple[ModeratedCase, ...]
    sections: tuple[SectionFindings, ...]
    comparison: AuditComparison
    themes: tuple[RecurringTheme, ...]
    voices: tuple[VoiceQuote, ...]
    agreement: tuple[AgreementReport, ...]
    learning: tuple[LearningItemOut, ...]
    recommendations: tuple[RecommendationOut, ...]
    actions: tuple[ActionOut, ...]
    cohort_cases: tuple[CohortCase, ...]
    agency_names: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="(code, name) for the agencies named by code: action owners, learning items",
    )
    theme_labels: tuple[tuple[str, str], ...] = Field(
        default=(), description="(code, label) for the theme codes named: themes, learning items"
    )


class BriefingData(Schema):
    """The one-page "lessons learnt" / 7-minute briefing for one audit."""

    meta: DocumentMeta
    audit_title: str
    why_it_matters: str
    what_we_found: tuple[str, ...]
    what_good_looks_like: tuple[str, ...]
    what_to_do_differently: tuple[str, ...]
    questions_for_reflection: tuple[str, ...]
    where_to_find_more: tuple[str, ...]


class LearningLogEntry(Schema):
    item: LearningItemOut
    theme_labels: tuple[str, ...]
    agency_names: tuple[str, ...]
    recommendations: tuple[RecommendationOut, ...]
    actions: tuple[ActionOut, ...]


class LearningLogData(Schema):
    meta: DocumentMeta
    description: str = Field(description="what was selected, e.g. 'theme: Missing children'")
    entries: tuple[LearningLogEntry, ...]
    agency_names: tuple[tuple[str, str], ...] = Field(
        default=(), description="(code, name) for the agencies named by code: action owners"
    )


class AuditDone(Schema):
    """One audit in the subgroup's period and what it found."""

    title: str
    tool_title: str
    kind: str
    audit_day: dt.date | None
    status: str
    cases: int
    agencies: int
    favourable_share: float | None
    favourable_label: str
    top_themes: tuple[str, ...]
    recommendations: tuple[str, ...]


class PlannedAudit(Schema):
    title: str
    tool_title: str
    audit_day: dt.date | None
    returns_due: dt.date | None
    status: str


class SubgroupSummaryData(Schema):
    """The six-monthly subgroup summary (DOMAIN.md)."""

    meta: DocumentMeta
    period_start: dt.date
    period_end: dt.date
    audits: tuple[AuditDone, ...]
    facilitated_discussions: tuple[AuditDone, ...]
    learning: tuple[LearningItemOut, ...]
    actions: tuple[ActionOut, ...]
    forward_plan: tuple[PlannedAudit, ...]
    for_the_board: tuple[str, ...] = Field(
        description="what goes to the full board or other boards: escalations and overdue actions"
    )
    agency_names: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="(code, name) for the agencies named by code: action owners, learning items",
    )
    theme_labels: tuple[tuple[str, str], ...] = Field(
        default=(), description="(code, label) for the theme codes named: themes, learning items"
    )
