"""The JSON bundle that moves or backs up one audit: its tool version, cohort, returns and history,
and what the audit led to (themes, second grades, learning items, recommendations, actions).

Everything is keyed by natural keys (case reference, agency code, criterion id, theme code,
learning item reference, recommendation number), never by database ids, so a bundle imports
into any database and exports again unchanged. Every part added after version 1 first shipped
is optional with an empty default, so older version 1 bundles still read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from schemas.audit import (
    AuditStatus,
    CaseProfile,
    CaseReference,
    ConcernStatus,
    ModerationHeading,
    ReturnStatus,
    VoiceSource,
)
from schemas.learning import ActionStatus, LearningSource, LearningStatus, SharedHow
from schemas.text import NO_NUL_PATTERN, FreeText, Label, Slug
from schemas.tools import ToolDefinition

BUNDLE_FORMAT = "case-audit-workbench/audit-bundle"
BUNDLE_VERSION = 1


LearningReference = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=NO_NUL_PATTERN)
]
"""A learning item's reference in the log, e.g. LL-2026-007."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BundleTheme(_Part):
    """A vocabulary entry used by something in the bundle (a database that already has the
    code keeps its own definition)."""

    code: Slug
    label: Label
    description: FreeText = ""
    keywords: tuple[Label, ...] = ()
    active: bool = True


class BundleFinding(_Part):
    criterion_id: Slug
    grade: str | None
    evidence: FreeText = ""
    strengths: FreeText = ""
    areas_for_development: FreeText = ""
    version: int = Field(ge=1)
    updated_at: AwareDatetime
    updated_by: Label
    themes: tuple[Slug, ...] = Field(default=(), description="theme codes, sorted")


class BundleSecondGrade(_Part):
    """Double grading: a second auditor's independent grade for one criterion of the return."""

    criterion_id: Slug
    grade: str
    graded_by: Label
    graded_at: AwareDatetime


class BundleReturn(_Part):
    agency: Slug
    status: ReturnStatus
    auditor: FreeText = ""
    submitted_at: AwareDatetime | None = None
    submitted_by: FreeText | None = None
    findings: tuple[BundleFinding, ...] = ()
    second_grades: tuple[BundleSecondGrade, ...] = ()


class BundleModeratedGrade(_Part):
    heading: ModerationHeading
    grade: str | None
    reasons: FreeText = ""
    version: int = Field(ge=1)
    updated_at: AwareDatetime
    updated_by: Label
    themes: tuple[Slug, ...] = Field(default=(), description="theme codes, sorted")


class BundleVoice(_Part):
    source: VoiceSource
    text: FreeText
    recorded_at: AwareDatetime
    recorded_by: Label
    themes: tuple[Slug, ...] = Field(default=(), description="theme codes, sorted")


class BundleConcern(_Part):
    agency: Slug | None = None
    concern: FreeText
    who_told: FreeText
    told_at: AwareDatetime
    raised_by: Label
    raised_at: AwareDatetime
    status: ConcernStatus
    closed_at: AwareDatetime | None = None
    closed_by: FreeText | None = None
    closure_note: FreeText = ""


class BundleCase(CaseProfile):
    returns: tuple[BundleReturn, ...] = ()
    moderated_grades: tuple[BundleModeratedGrade, ...] = ()
    voices: tuple[BundleVoice, ...] = ()
    concerns: tuple[BundleConcern, ...] = ()


class BundleAudit(_Part):
    uid: str = Field(pattern=r"^[0-9a-f-]{36}$")
    title: Label
    status: AuditStatus
    look_back_months: int = Field(ge=1, le=120)
    look_back_start: dt.date | None = None
    look_back_end: dt.date | None = None
    returns_due: dt.date | None = None
    audit_day: dt.date | None = None
    chair: FreeText = ""
    scope: FreeText = ""
    legal_hold: bool = False
    created_at: AwareDatetime
    created_by: Label
    closed_at: AwareDatetime | None = None
    agencies: tuple[Slug, ...] = Field(min_length=1)


class BundleEvidence(_Part):
    """A finding a learning item rests on, by its natural key."""

    case_reference: CaseReference
    agency: Slug
    criterion_id: Slug


class BundleLearningItem(_Part):
    """A learning log entry raised from this audit."""

    reference: LearningReference
    raised_on: dt.date
    source: LearningSource
    learning: FreeText
    evidence: FreeText = ""
    agencies: tuple[Slug, ...] = ()
    shared_how: tuple[SharedHow, ...] = ()
    impact_evidence: FreeText = ""
    reaudit_on: dt.date | None = None
    status: LearningStatus
    signed_off_by: Label | None = None
    signed_off_on: dt.date | None = None
    created_at: AwareDatetime
    created_by: Label
    themes: tuple[Slug, ...] = Field(default=(), description="theme codes, sorted")
    evidence_links: tuple[BundleEvidence, ...] = ()


class BundleRecommendation(_Part):
    number: int = Field(ge=1)
    text: FreeText
    learning_items: tuple[LearningReference, ...] = Field(
        default=(), description="references of the learning items it answers, sorted"
    )


class BundleActionUpdate(_Part):
    on: dt.date
    text: FreeText
    by: Label


class BundleAction(_Part):
    recommendation: int | None = Field(
        default=None, description="the number of the recommendation it delivers, if any"
    )
    description: FreeText
    owner_name: Label
    owner_agency: Slug
    due_on: dt.date
    status: ActionStatus
    evidence_of_impact: FreeText = ""
    escalation_route: FreeText = ""
    created_at: AwareDatetime
    created_by: Label
    updates: tuple[BundleActionUpdate, ...] = ()


class BundleChange(_Part):
    at: AwareDatetime
    actor: Label
    entity: Slug
    entity_key: FreeText
    operation: Literal["create", "update", "delete"]
    field: str | None = None
    before: FreeText | None = None
    after: FreeText | None = None


def _check_tags(codes: tuple[str, ...], where: str, themes: set[str]) -> None:
    if not codes:
        return
    if themes.issuperset(codes) and len(set(codes)) == len(codes):
        return
    seen: set[str] = set()
    for code in codes:
        if code not in themes:
            raise ValueError(f"{where}: theme {code!r} is not among the bundle's themes")
        if code in seen:
            raise ValueError(f"{where}: theme {code!r} twice")
        seen.add(code)


def _check_findings(
    definition: ToolDefinition,
    ret: BundleReturn,
    where: str,
    answers: set[str],
    themes: set[str],
) -> None:
    """Every finding names a criterion of the tool that applies to the agency, once, with an
    answer from the scale. Set arithmetic first (bundles hold tens of thousands of findings);
    the per-finding walk runs only to word the error."""
    tool = definition.tool
    applicable = {c.id for c in tool.criteria_for(ret.agency)}
    ids = [f.criterion_id for f in ret.findings]
    grades = {f.grade for f in ret.findings} - {None}
    for k, finding in enumerate(ret.findings):
        if finding.themes:
            _check_tags(finding.themes, f"{where}.findings[{k}]", themes)
    if ret.second_grades:
        _check_second_grades(definition, ret, where, answers, applicable)
    if applicable.issuperset(ids) and len(set(ids)) == len(ids) and grades <= answers:
        return
    seen: set[str] = set()
    for k, finding in enumerate(ret.findings):
        fwhere = f"{where}.findings[{k}]"
        if finding.criterion_id not in tool.criterion_ids:
            raise ValueError(
                f"{fwhere}: criterion {finding.criterion_id!r} is not in tool "
                f"{tool.id} version {tool.version}"
            )
        if finding.criterion_id not in applicable:
            raise ValueError(
                f"{fwhere}: criterion {finding.criterion_id!r} does not apply to {ret.agency!r}"
            )
        if finding.criterion_id in seen:
            raise ValueError(f"{fwhere}: criterion {finding.criterion_id!r} twice")
        seen.add(finding.criterion_id)
        if finding.grade is not None and finding.grade not in answers:
            raise ValueError(
                f"{fwhere}: grade {finding.grade!r} is not on scale {definition.scale.id}"
            )


def _check_second_grades(
    definition: ToolDefinition,
    ret: BundleReturn,
    where: str,
    answers: set[str],
    applicable: set[str],
) -> None:
    tool = definition.tool
    seen: set[str] = set()
    for k, second in enumerate(ret.second_grades):
        swhere = f"{where}.second_grades[{k}]"
        if second.criterion_id not in tool.criterion_ids:
            raise ValueError(
                f"{swhere}: criterion {second.criterion_id!r} is not in tool "
                f"{tool.id} version {tool.version}"
            )
        if second.criterion_id not in applicable:
            raise ValueError(
                f"{swhere}: criterion {second.criterion_id!r} does not apply to {ret.agency!r}"
            )
        if second.criterion_id in seen:
            raise ValueError(f"{swhere}: criterion {second.criterion_id!r} twice")
        seen.add(second.criterion_id)
        if second.grade not in answers:
            raise ValueError(
                f"{swhere}: grade {second.grade!r} is not on scale {definition.scale.id}"
            )


def _unique(values: Iterable[object], where: str, what: str) -> None:
    """Raise on the first value seen before, located by its index in `where`."""
    seen: set[object] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{where}[{i}]: {what} {value!r} twice")
        seen.add(value)


class Bundle(_Part):
    """One audit, complete. Its validator refuses anything inconsistent with its own tool."""

    format: Literal["case-audit-workbench/audit-bundle"] = "case-audit-workbench/audit-bundle"
    format_version: Literal[1] = 1
    exported_at: AwareDatetime
    tool: ToolDefinition
    audit: BundleAudit
    cases: tuple[BundleCase, ...] = ()
    history: tuple[BundleChange, ...] = ()
    themes: tuple[BundleTheme, ...] = ()
    learning_items: tuple[BundleLearningItem, ...] = ()
    recommendations: tuple[BundleRecommendation, ...] = ()
    actions: tuple[BundleAction, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        scale = self.tool.scale
        answers = set(scale.answer_keys)
        agencies = set(self.audit.agencies)
        if len(agencies) != len(self.audit.agencies):
            raise ValueError("audit.agencies lists an agency twice")
        _unique((t.code for t in self.themes), "themes", "theme")
        themes = {t.code for t in self.themes}
        references: set[str] = set()
        for i, case in enumerate(self.cases):
            where = f"cases[{i}] ({case.reference})"
            if case.reference in references:
                raise ValueError(f"{where}: duplicate case reference {case.reference!r}")
            references.add(case.reference)
            seen_agencies: set[str] = set()
            for j, ret in enumerate(case.returns):
                rwhere = f"{where}.returns[{j}] ({ret.agency})"
                if ret.agency not in agencies:
                    raise ValueError(f"{rwhere}: agency {ret.agency!r} is not in the audit")
                if ret.agency in seen_agencies:
                    raise ValueError(f"{rwhere}: a second return for {ret.agency!r}")
                seen_agencies.add(ret.agency)
                _check_findings(self.tool, ret, rwhere, answers, themes)
            headings: set[str] = set()
            for j, moderated in enumerate(case.moderated_grades):
                mwhere = f"{where}.moderated_grades[{j}]"
                if moderated.heading in headings:
                    raise ValueError(f"{mwhere}: heading {moderated.heading.value!r} twice")
                headings.add(moderated.heading)
                if moderated.grade is not None and moderated.grade not in answers:
                    raise ValueError(
                        f"{mwhere}: grade {moderated.grade!r} is not on scale {scale.id}"
                    )
                _check_tags(moderated.themes, mwhere, themes)
            for j, voice in enumerate(case.voices):
                _check_tags(voice.themes, f"{where}.voices[{j}]", themes)
            for j, concern in enumerate(case.concerns):
                if concern.agency is not None and concern.agency not in agencies:
                    raise ValueError(
                        f"{where}.concerns[{j}]: agency {concern.agency!r} not in audit"
                    )
        self._check_learning(themes)
        self._check_plan()
        return self

    def _check_learning(self, themes: set[str]) -> None:
        """Unique references; themes from the bundle; evidence links to the bundle's findings."""
        _unique((item.reference for item in self.learning_items), "learning_items", "reference")
        findings: set[tuple[str, str, str]] | None = None
        for i, item in enumerate(self.learning_items):
            where = f"learning_items[{i}]"
            _check_tags(item.themes, where, themes)
            if not item.evidence_links:
                continue
            if findings is None:
                # Built only when some item has evidence: most bundles have tens of thousands
                # of findings and no links at all.
                findings = {
                    (case.reference, ret.agency, f.criterion_id)
                    for case in self.cases
                    for ret in case.returns
                    for f in ret.findings
                }
            seen: set[tuple[str, str, str]] = set()
            for k, link in enumerate(item.evidence_links):
                key = (link.case_reference, link.agency, link.criterion_id)
                shown = " / ".join(key)
                if key not in findings:
                    raise ValueError(f"{where}.evidence_links[{k}]: no finding for case {shown}")
                if key in seen:
                    raise ValueError(f"{where}.evidence_links[{k}]: case {shown} linked twice")
                seen.add(key)

    def _check_plan(self) -> None:
        """Recommendations numbered once each, answering learning items of the bundle; actions
        delivering recommendations of the bundle."""
        _unique((r.number for r in self.recommendations), "recommendations", "number")
        references = {item.reference for item in self.learning_items}
        for i, rec in enumerate(self.recommendations):
            linked: set[str] = set()
            for reference in rec.learning_items:
                if reference not in references:
                    raise ValueError(
                        f"recommendations[{i}]: learning item {reference!r} is not in the bundle"
                    )
                if reference in linked:
                    raise ValueError(f"recommendations[{i}]: learning item {reference!r} twice")
                linked.add(reference)
        numbers = {r.number for r in self.recommendations}
        for i, action in enumerate(self.actions):
            if action.recommendation is not None and action.recommendation not in numbers:
                raise ValueError(
                    f"actions[{i}]: no recommendation number {action.recommendation} in the bundle"
                )
