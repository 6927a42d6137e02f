"""Audit tool and grade scale definitions, as loaded from YAML and pinned by audits."""

from __future__ import annotations

import enum
from functools import cached_property
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.text import FreeText, Label, Slug

NOT_APPLICABLE = "not_applicable"
NOT_EVIDENCED = "not_evidenced"
NON_GRADE_ANSWERS = (NOT_APPLICABLE, NOT_EVIDENCED)


class ToolKind(enum.StrEnum):
    MULTI_AGENCY = "multi-agency"
    SINGLE_AGENCY = "single-agency"
    SECTION_11 = "section-11"
    FACILITATED_DISCUSSION = "facilitated-discussion"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradeLevel(_Strict):
    """One level of a scale. Levels are listed best first; rank 1 is the best."""

    key: Slug
    label: Label
    descriptor: FreeText = Field(min_length=1)
    short: str | None = Field(default=None, max_length=12, description="Label for narrow cells")


class GradeScale(_Strict):
    id: Slug
    title: Label
    description: FreeText = ""
    ordered: bool = Field(
        default=True,
        description="True when levels are ordered best to worst (agreement statistics need it)",
    )
    levels: tuple[GradeLevel, ...] = Field(min_length=2)
    not_applicable_label: Label = "Not applicable"
    not_evidenced_label: Label = "Not evidenced in the record"

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        keys = [level.key for level in self.levels]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"duplicate level key {key!r}")
            if key in NON_GRADE_ANSWERS:
                raise ValueError(f"level key {key!r} is reserved for the non-grade answers")
        return self

    @property
    def answer_keys(self) -> tuple[str, ...]:
        """Every acceptable answer: the levels, best first, then the non-grade answers."""
        return (*(level.key for level in self.levels), *NON_GRADE_ANSWERS)

    def rank(self, key: str) -> int | None:
        """1 for the best level, None for a non-grade answer or an unknown key."""
        for index, level in enumerate(self.levels, start=1):
            if level.key == key:
                return index
        return None

    def label(self, key: str) -> str:
        if key == NOT_APPLICABLE:
            return self.not_applicable_label
        if key == NOT_EVIDENCED:
            return self.not_evidenced_label
        for level in self.levels:
            if level.key == key:
                return level.label
        raise KeyError(key)


class Criterion(_Strict):
    id: Slug
    question: FreeText = Field(min_length=1)
    guidance: FreeText = ""
    typical_evidence: tuple[FreeText, ...] = ()
    agencies: tuple[Slug, ...] | None = Field(
        default=None, description="Agencies the criterion applies to; None means every agency"
    )
    asks_strengths: bool = True
    asks_areas_for_development: bool = True

    def applies_to(self, agency: str) -> bool:
        return self.agencies is None or agency in self.agencies


class Section(_Strict):
    id: Slug
    title: Label
    criteria: tuple[Criterion, ...] = Field(min_length=1)


class AuditTool(_Strict):
    """A themed audit tool. `scale` names a scale; `ToolDefinition` carries it resolved."""

    id: Slug
    version: int = Field(ge=1)
    title: Label
    theme: Label
    kind: ToolKind
    scale: Slug
    description: FreeText = ""
    sections: tuple[Section, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for section in self.sections:
            for criterion in section.criteria:
                if criterion.id in seen:
                    raise ValueError(f"duplicate criterion id {criterion.id!r}")
                seen.add(criterion.id)
        section_ids = [section.id for section in self.sections]
        for section_id in section_ids:
            if section_ids.count(section_id) > 1:
                raise ValueError(f"duplicate section id {section_id!r}")
        return self

    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for section in self.sections for c in section.criteria)

    @cached_property
    def _criteria_by_id(self) -> dict[str, Criterion]:
        return {c.id: c for c in self.criteria}

    @property
    def criterion_ids(self) -> frozenset[str]:
        return frozenset(self._criteria_by_id)

    def criteria_for(self, agency: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.applies_to(agency))

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id; KeyError if the tool has none (looked up per finding)."""
        return self._criteria_by_id[criterion_id]


class ToolDefinition(_Strict):
    """A tool together with its resolved scale: what an audit pins and a bundle carries."""

    tool: AuditTool
    scale: GradeScale

    @model_validator(mode="after")
    def _scale_matches(self) -> Self:
        if self.tool.scale != self.scale.id:
            raise ValueError(
                f"tool {self.tool.id!r} names scale {self.tool.scale!r} "
                f"but carries {self.scale.id!r}"
            )
        return self

    @property
    def key(self) -> tuple[str, int]:
        return (self.tool.id, self.tool.version)


class ToolSummary(_Strict):
    id: Slug
    version: int
    title: str
    theme: str
    kind: ToolKind
    scale: str
    sections: int
    criteria: int
    source: str
