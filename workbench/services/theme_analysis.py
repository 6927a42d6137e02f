"""Themes counted in SQL: theme x agency x grade, recurring themes, and the previous audit.

Every figure is one grouped statement in the database, never a loop over rows in Python, so
the same code serves one audit of 800 findings and ten years of 300,000.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, Subquery, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from schemas.learning import (
    AuditComparison,
    CriterionComparison,
    RecurringTheme,
    ThemeComparison,
    ThemeGrid,
)
from schemas.tools import GradeScale, ToolDefinition
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    AgencyReturn,
    Audit,
    Case,
    Finding,
    FindingTheme,
    ModeratedGrade,
    ModerationTheme,
    Theme,
    ToolVersion,
    Voice,
    VoiceTheme,
)

# A criterion "improved" or "declined" when its favourable share moved by at least this many
# percentage points: with 20-40 findings a criterion, one finding moving is 3-5 points, and
# the panel should not read a single finding as a trend.
MEANINGFUL_POINTS = 10.0


def _audit(session: Session, audit_id: int) -> Audit:
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFoundError(f"no audit with id {audit_id}")
    return audit


# --- theme x agency x grade -------------------------------------------------------------------


def theme_grid_statement(
    audit_ids: Sequence[int] | None,
) -> Select[str, str, str | None, int]:
    """Tagged findings counted by theme code, agency and grade, for some audits or all.

    The tags are grouped by theme id (codes are unique, so the groups are the same) and the
    code is looked up once a group, not once a tag: integer keys group faster than text."""
    counted = (
        select(
            FindingTheme.theme_id,
            AgencyReturn.agency_code,
            Finding.grade,
            func.count().label("count"),
        )
        .join(Finding, Finding.id == FindingTheme.finding_id)
        .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
        .group_by(FindingTheme.theme_id, AgencyReturn.agency_code, Finding.grade)
    )
    if audit_ids is not None:
        counted = counted.join(Case, Case.id == AgencyReturn.case_id).where(
            Case.audit_id.in_(audit_ids)
        )
    grouped = counted.subquery("counted")
    return select(Theme.code, grouped.c.agency_code, grouped.c.grade, grouped.c["count"]).join(
        grouped, grouped.c.theme_id == Theme.id
    )


def theme_grid(
    factory: SessionFactory, *, audit_id: int | None = None, tool_id: str | None = None
) -> ThemeGrid:
    """Theme x agency x grade for one audit, or for every audit of one tool over the years.

    Audits of one tool whose versions use different scales are refused: a report must never
    add up grades from different scales."""
    if (audit_id is None) == (tool_id is None):
        raise InvalidRequestError("give either an audit or a tool")
    with unit_of_work(factory) as session:
        if audit_id is not None:
            audit = _audit(session, audit_id)
            ids: list[int] = [audit.id]
            scale_ids = {definition_of(audit.tool_version).scale.id}
        else:
            versions = list(
                session.scalars(select(ToolVersion).where(ToolVersion.tool_id == tool_id))
            )
            if not versions:
                raise NotFoundError(f"no audits use the tool {tool_id}")
            scale_ids = {definition_of(v).scale.id for v in versions}
            ids = list(
                session.scalars(
                    select(Audit.id).where(Audit.tool_version_id.in_([v.id for v in versions]))
                )
            )
        if len(scale_ids) > 1:
            raise InvalidRequestError(
                f"the audits of {tool_id} use different scales ({', '.join(sorted(scale_ids))});"
                " their grades cannot be added up"
            )
        rows = session.execute(theme_grid_statement(ids)).all()
    # One validation of the whole grid: a thousand cells built one by one cost more than the
    # query over a single audit.
    return ThemeGrid.model_validate(
        {
            "scale_id": scale_ids.pop(),
            "cells": [
                {"theme": code, "agency": agency, "grade": grade, "count": int(n)}
                for code, agency, grade, n in sorted(
                    rows, key=lambda r: (r[0], r[1], r[2] or "", r[3])
                )
            ],
        }
    )


# --- recurring themes --------------------------------------------------------------------------


def tag_mentions(audit_id: int | None) -> Subquery:
    """One row per tag, in one audit or (None) every audit: theme, audit, case, agency
    (findings only), what was tagged and the finding's id. Recurring themes here and across
    audits in the overview are both counted from it."""
    findings = (
        select(
            FindingTheme.theme_id.label("theme_id"),
            Case.audit_id.label("audit_id"),
            Case.id.label("case_id"),
            AgencyReturn.agency_code.label("agency"),
            literal("finding").label("kind"),
            Finding.id.label("finding_id"),
        )
        .join(Finding, Finding.id == FindingTheme.finding_id)
        .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
        .join(Case, Case.id == AgencyReturn.case_id)
    )
    voices = (
        select(
            VoiceTheme.theme_id,
            Case.audit_id,
            Case.id,
            literal(None).label("agency"),
            literal("voice"),
            literal(None).label("finding_id"),
        )
        .join(Voice, Voice.id == VoiceTheme.voice_id)
        .join(Case, Case.id == Voice.case_id)
    )
    moderation = (
        select(
            ModerationTheme.theme_id,
            Case.audit_id,
            Case.id,
            literal(None),
            literal("moderation"),
            literal(None),
        )
        .join(ModeratedGrade, ModeratedGrade.id == ModerationTheme.moderated_grade_id)
        .join(Case, Case.id == ModeratedGrade.case_id)
    )
    if audit_id is not None:
        findings = findings.where(Case.audit_id == audit_id)
        voices = voices.where(Case.audit_id == audit_id)
        moderation = moderation.where(Case.audit_id == audit_id)
    return union_all(findings, voices, moderation).subquery("mentions")


def recurring_themes(factory: SessionFactory, audit_id: int) -> list[RecurringTheme]:
    """Each theme used in the audit: in how many cases and agencies, most widespread first."""
    with unit_of_work(factory) as session:
        _audit(session, audit_id)
        mentions = tag_mentions(audit_id)
        m = mentions.c
        rows = session.execute(
            select(
                Theme.code,
                Theme.label,
                func.count(func.distinct(m.case_id)),
                func.count(func.distinct(m.agency)),
                func.count().filter(m.kind == "finding"),
                func.count().filter(m.kind == "voice"),
                func.count().filter(m.kind == "moderation"),
            )
            .select_from(mentions)
            .join(Theme, Theme.id == m.theme_id)
            .group_by(Theme.code, Theme.label)
        ).all()
        evidence: dict[str, list[int]] = {}
        for code, finding_id in session.execute(
            select(Theme.code, m.finding_id)
            .select_from(mentions)
            .join(Theme, Theme.id == m.theme_id)
            .where(m.finding_id.is_not(None))
            .order_by(Theme.code, m.finding_id)
        ):
            evidence.setdefault(code, []).append(int(finding_id))
    themes = [
        RecurringTheme(
            code=code,
            label=label,
            cases=int(cases),
            agencies=int(agencies),
            findings=int(findings),
            voices=int(voices),
            moderation=int(moderation),
            finding_ids=tuple(evidence.get(code, ())),
        )
        for code, label, cases, agencies, findings, voices, moderation in rows
    ]
    return sorted(themes, key=lambda t: (-t.cases, -t.agencies, -t.mentions, t.code))


# --- the previous audit -------------------------------------------------------------------------


def _when(audit: Audit) -> tuple[dt.date, dt.datetime, int]:
    # As in the overview: the audit day when the panel met, else when the audit was planned.
    return (audit.audit_day or audit.created_at.date(), audit.created_at, audit.id)


def previous_audit(session: Session, audit: Audit) -> Audit | None:
    """The latest earlier audit of the same tool, on the same scale."""
    tool_id = audit.tool_version.tool_id
    scale = definition_of(audit.tool_version).scale
    earlier = [
        a
        for a in session.scalars(
            select(Audit)
            .join(ToolVersion, ToolVersion.id == Audit.tool_version_id)
            .where(ToolVersion.tool_id == tool_id, Audit.id != audit.id)
        )
        if _when(a) < _when(audit) and _same_scale(definition_of(a.tool_version).scale, scale)
    ]
    return max(earlier, key=_when) if earlier else None


def _same_scale(a: GradeScale, b: GradeScale) -> bool:
    return a.id == b.id and [lv.key for lv in a.levels] == [lv.key for lv in b.levels]


def favourable_keys(scale: GradeScale) -> tuple[str, ...]:
    """The better half of the scale, as the overview counts it (Outstanding and Good)."""
    return tuple(level.key for level in scale.levels[: max(1, len(scale.levels) // 2)])


def _criterion_shares(
    session: Session, audit_id: int, scale: GradeScale
) -> dict[str, tuple[int, int]]:
    """{criterion: (graded findings, favourable findings)} in one grouped statement."""
    levels = [level.key for level in scale.levels]
    favourable = favourable_keys(scale)
    rows = session.execute(
        select(
            Finding.criterion_id,
            func.count(),
            func.sum(case((Finding.grade.in_(favourable), 1), else_=0)),
        )
        .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
        .join(Case, Case.id == AgencyReturn.case_id)
        .where(Case.audit_id == audit_id, Finding.grade.in_(levels))
        .group_by(Finding.criterion_id)
    ).all()
    return {criterion: (int(n), int(good or 0)) for criterion, n, good in rows}


def _theme_cases(session: Session, audit_id: int) -> dict[str, tuple[str, int]]:
    mentions = tag_mentions(audit_id)
    m = mentions.c
    return {
        code: (label, int(n))
        for code, label, n in session.execute(
            select(Theme.code, Theme.label, func.count(func.distinct(m.case_id)))
            .select_from(mentions)
            .join(Theme, Theme.id == m.theme_id)
            .group_by(Theme.code, Theme.label)
        )
    }


def _change(
    now: tuple[int, int] | None, before: tuple[int, int] | None
) -> tuple[float | None, float | None, str]:
    share_now = now[1] / now[0] if now and now[0] else None
    share_before = before[1] / before[0] if before and before[0] else None
    if share_now is None or share_before is None:
        return share_now, share_before, "not comparable"
    points = (share_now - share_before) * 100
    if points >= MEANINGFUL_POINTS:
        return share_now, share_before, "improved"
    if points <= -MEANINGFUL_POINTS:
        return share_now, share_before, "declined"
    return share_now, share_before, "unchanged"


def compare_with_previous(factory: SessionFactory, audit_id: int) -> AuditComparison:
    """This audit and the same tool's previous one side by side, criterion by criterion
    (matched by id, so a criterion a new version added shows as not comparable) and theme
    by theme."""
    with unit_of_work(factory) as session:
        audit = _audit(session, audit_id)
        definition: ToolDefinition = definition_of(audit.tool_version)
        scale = definition.scale
        before = previous_audit(session, audit)
        if before is None:
            return AuditComparison(
                audit_id=audit.id,
                previous_audit_id=None,
                previous_title=None,
                scale_id=scale.id,
                note=f"no earlier audit of {definition.tool.title} on the same scale",
            )
        now_shares = _criterion_shares(session, audit.id, scale)
        before_shares = _criterion_shares(session, before.id, scale)
        criteria = []
        for criterion in definition.tool.criteria:
            now_n = now_shares.get(criterion.id)
            before_n = before_shares.get(criterion.id)
            share_now, share_before, change = _change(now_n, before_n)
            criteria.append(
                CriterionComparison(
                    criterion_id=criterion.id,
                    question=criterion.question,
                    graded_now=now_n[0] if now_n else 0,
                    graded_before=before_n[0] if before_n else 0,
                    favourable_now=share_now,
                    favourable_before=share_before,
                    change=change,
                )
            )
        themes_now = _theme_cases(session, audit.id)
        themes_before = _theme_cases(session, before.id)
        themes = [
            ThemeComparison(
                code=code,
                label=(themes_now.get(code) or themes_before[code])[0],
                cases_now=themes_now.get(code, ("", 0))[1],
                cases_before=themes_before.get(code, ("", 0))[1],
            )
            for code in sorted(set(themes_now) | set(themes_before))
        ]
        return AuditComparison(
            audit_id=audit.id,
            previous_audit_id=before.id,
            previous_title=before.title,
            scale_id=scale.id,
            criteria=tuple(criteria),
            themes=tuple(sorted(themes, key=lambda t: (-t.cases_now, -t.cases_before, t.code))),
        )
