"""The JSON bundle that moves or backs up one audit: its tool version, cohort, returns and history.

Everything is keyed by natural keys (case reference, agency code, criterion id), never by
database ids, so a bundle imports into any database and exports again unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.audit import (
    AuditStatus,
    CaseProfile,
    ConcernStatus,
    ModerationHeading,
    ReturnStatus,
    VoiceSource,
)
from schemas.text import FreeText, Label, Slug
from schemas.tools import ToolDefinition

BUNDLE_FORMAT = "case-audit-workbench/audit-bundle"
BUNDLE_VERSION = 1


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BundleFinding(_Part):
    criterion_id: Slug
    grade: str | None
    evidence: FreeText = ""
    strengths: FreeText = ""
    areas_for_development: FreeText = ""
    version: int = Field(ge=1)
    updated_at: AwareDatetime
    updated_by: Label


class BundleReturn(_Part):
    agency: Slug
    status: ReturnStatus
    auditor: FreeText = ""
    submitted_at: AwareDatetime | None = None
    submitted_by: FreeText | None = None
    findings: tuple[BundleFinding, ...] = ()


class BundleModeratedGrade(_Part):
    heading: ModerationHeading
    grade: str | None
    reasons: FreeText = ""
    version: int = Field(ge=1)
    updated_at: AwareDatetime
    updated_by: Label


class BundleVoice(_Part):
    source: VoiceSource
    text: FreeText
    recorded_at: AwareDatetime
    recorded_by: Label


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


class BundleChange(_Part):
    at: AwareDatetime
    actor: Label
    entity: Slug
    entity_key: FreeText
    operation: Literal["create", "update", "delete"]
    field: str | None = None
    before: FreeText | None = None
    after: FreeText | None = None


def _check_findings(
    definition: ToolDefinition, ret: BundleReturn, where: str, answers: set[str]
) -> None:
    """Every finding names a criterion of the tool that applies to the agency, once, with an
    answer from the scale. Set arithmetic first (bundles hold tens of thousands of findings);
    the per-finding walk runs only to word the error."""
    tool = definition.tool
    applicable = {c.id for c in tool.criteria_for(ret.agency)}
    ids = [f.criterion_id for f in ret.findings]
    grades = {f.grade for f in ret.findings} - {None}
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


class Bundle(_Part):
    """One audit, complete. Its validator refuses anything inconsistent with its own tool."""

    format: Literal["case-audit-workbench/audit-bundle"] = "case-audit-workbench/audit-bundle"
    format_version: Literal[1] = 1
    exported_at: AwareDatetime
    tool: ToolDefinition
    audit: BundleAudit
    cases: tuple[BundleCase, ...] = ()
    history: tuple[BundleChange, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        scale = self.tool.scale
        answers = set(scale.answer_keys)
        agencies = set(self.audit.agencies)
        if len(agencies) != len(self.audit.agencies):
            raise ValueError("audit.agencies lists an agency twice")
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
                _check_findings(self.tool, ret, rwhere, answers)
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
            for j, concern in enumerate(case.concerns):
                if concern.agency is not None and concern.agency not in agencies:
                    raise ValueError(
                        f"{where}.concerns[{j}]: agency {concern.agency!r} not in audit"
                    )
        return self
