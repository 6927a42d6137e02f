"""The subgroup's overview across audits: grade distributions, change since last time, concerns,
actions and recurring themes, all counted in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NamedTuple

from sqlalchemy import String, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from schemas.audit import AuditStatus, ConcernStatus, Schema
from schemas.learning import ActionStatus
from schemas.tools import NOT_APPLICABLE, NOT_EVIDENCED, GradeScale, ToolDefinition
from workbench.services.theme_analysis import tag_mentions
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Action,
    Agency,
    AgencyReturn,
    Audit,
    Case,
    Finding,
    ImmediateConcern,
    Theme,
    ToolVersion,
)

# An action is open until it is complete.
ACTION_COMPLETE = ActionStatus.COMPLETE.value


class LevelInfo(Schema):
    key: str
    label: str
    short: str


class ScaleOverview(Schema):
    """A scale as the overview shows it: levels best first, and which count as favourable."""

    id: str
    title: str
    levels: tuple[LevelInfo, ...]
    favourable: tuple[str, ...]
    favourable_label: str

    def level(self, key: str) -> LevelInfo:
        for level in self.levels:
            if level.key == key:
                return level
        raise KeyError(key)


class LevelCount(Schema):
    grade: str
    count: int


class GradeBreakdown(Schema):
    """Findings of one group (an audit, an agency, a tool) on ONE scale: never mixed."""

    scale_id: str
    group: str
    label: str
    levels: tuple[LevelCount, ...] = ()
    not_applicable: int = 0
    not_evidenced: int = 0
    favourable_keys: tuple[str, ...] = ()

    @property
    def graded(self) -> int:
        """Findings given a level of the scale (the non-grade answers are not in it)."""
        return sum(level.count for level in self.levels)

    def count(self, grade: str) -> int:
        if grade == NOT_APPLICABLE:
            return self.not_applicable
        if grade == NOT_EVIDENCED:
            return self.not_evidenced
        return next((level.count for level in self.levels if level.grade == grade), 0)

    def share(self, grade: str) -> float | None:
        """The level's share of the graded findings; None when nothing is graded yet."""
        graded = self.graded
        return self.count(grade) / graded if graded else None

    @property
    def favourable_share(self) -> float | None:
        graded = self.graded
        if not graded:
            return None
        return sum(self.count(key) for key in self.favourable_keys) / graded


class LevelChange(Schema):
    grade: str
    before: float | None
    after: float | None

    @property
    def points(self) -> float | None:
        """Change in percentage points, None when either side has nothing graded."""
        if self.before is None or self.after is None:
            return None
        return (self.after - self.before) * 100


class AuditChange(Schema):
    """This audit against the previous audit on the same tool and scale."""

    previous_audit_id: int
    previous_title: str
    previous_day: dt.date | None
    favourable: LevelChange
    levels: tuple[LevelChange, ...]


class AuditOverview(Schema):
    id: int
    title: str
    tool_id: str
    tool_version: int
    tool_title: str
    scale_id: str
    status: AuditStatus
    audit_day: dt.date | None
    grades: GradeBreakdown
    open_concerns: int
    open_actions: int
    overdue_actions: int
    change: AuditChange | None


class OverviewTheme(Schema):
    """A theme across every audit: in how many audits and cases it was tagged, and how often."""

    code: str
    label: str
    audits: int
    cases: int
    findings: int
    voices: int
    moderation: int


class Overview(Schema):
    as_of: dt.date
    scales: tuple[ScaleOverview, ...]
    audits: tuple[AuditOverview, ...] = ()
    by_agency: tuple[GradeBreakdown, ...] = ()
    by_tool: tuple[GradeBreakdown, ...] = ()
    open_concerns: int = 0
    open_actions: int = 0
    overdue_actions: int = 0
    themes: tuple[OverviewTheme, ...] = ()

    def scale(self, scale_id: str) -> ScaleOverview:
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        raise KeyError(scale_id)


def scale_overview(scale: GradeScale) -> ScaleOverview:
    # The better half of the scale counts as favourable: Outstanding and Good on the Ofsted
    # scale, Green on RAG. Rounding down keeps a middling level out of "good or better".
    top = max(1, len(scale.levels) // 2)
    favourable = tuple(level.key for level in scale.levels[:top])
    last = scale.levels[top - 1].label
    return ScaleOverview(
        id=scale.id,
        title=scale.title,
        levels=tuple(
            LevelInfo(key=level.key, label=level.label, short=level.short or level.label)
            for level in scale.levels
        ),
        favourable=favourable,
        favourable_label=last if top == 1 else f"{last} or better",
    )


def _breakdown(
    scale: ScaleOverview, group: str, label: str, counts: Mapping[str, int]
) -> GradeBreakdown:
    return GradeBreakdown(
        scale_id=scale.id,
        group=group,
        label=label,
        levels=tuple(
            LevelCount(grade=level.key, count=counts.get(level.key, 0)) for level in scale.levels
        ),
        not_applicable=counts.get(NOT_APPLICABLE, 0),
        not_evidenced=counts.get(NOT_EVIDENCED, 0),
        favourable_keys=scale.favourable,
    )


def _grade_counts(
    session: Session, scale_by_version: Mapping[int, str]
) -> dict[str, dict[tuple[str, str], dict[str, int]]]:
    """{"audit" | "agency" | "tool": {(scale id, key): {grade: count}}} in one statement.

    Counting per return first reads the (return_id, grade) index; those counts roll up to
    (audit, agency, grade) in a CTE, and three groupings of that CTE are sent back together,
    so the findings are scanned once, not once per grouping. The scale comes from a CASE
    over the few tool versions: grouping by scale happens in SQL as well.
    """
    per_return = (
        select(Finding.return_id, Finding.grade, func.count().label("n"))
        .where(Finding.grade.is_not(None))
        .group_by(Finding.return_id, Finding.grade)
        .subquery("per_return")
    )
    graded = (
        select(
            Case.audit_id.label("audit_id"),
            # Built from the grouped tool_version_id, so PostgreSQL accepts it ungrouped.
            case(dict(scale_by_version), value=Audit.tool_version_id, else_="").label("scale_id"),
            ToolVersion.tool_id.label("tool_id"),
            AgencyReturn.agency_code.label("agency"),
            per_return.c.grade.label("grade"),
            func.sum(per_return.c.n).label("n"),
        )
        .select_from(per_return)
        .join(AgencyReturn, AgencyReturn.id == per_return.c.return_id)
        .join(Case, Case.id == AgencyReturn.case_id)
        .join(Audit, Audit.id == Case.audit_id)
        .join(ToolVersion, ToolVersion.id == Audit.tool_version_id)
        .group_by(
            Case.audit_id,
            Audit.tool_version_id,
            ToolVersion.tool_id,
            AgencyReturn.agency_code,
            per_return.c.grade,
        )
        .cte("graded")
    )
    by = {
        "audit": cast(graded.c.audit_id, String),
        "agency": graded.c.agency,
        "tool": graded.c.tool_id,
    }
    statement = union_all(
        *(
            select(
                literal(kind).label("kind"),
                graded.c.scale_id,
                key.label("key"),
                graded.c.grade,
                func.sum(graded.c.n).label("n"),
            ).group_by(graded.c.scale_id, key, graded.c.grade)
            for kind, key in by.items()
        )
    )
    out: dict[str, dict[tuple[str, str], dict[str, int]]] = {kind: {} for kind in by}
    for kind, scale_id, key, grade, n in session.execute(statement):
        # PostgreSQL's SUM of counts is a numeric: int() makes it a count again.
        out[kind].setdefault((scale_id, key), {})[grade] = int(n)
    return out


class _AuditRow(NamedTuple):
    id: int
    title: str
    status: str
    audit_day: dt.date | None
    created_at: dt.datetime
    tool_version_id: int


def _chronological(audit: _AuditRow) -> tuple[dt.date, dt.datetime, int]:
    # The audit day is when the panel met; an audit not yet given one sorts by when it was planned.
    return (audit.audit_day or audit.created_at.date(), audit.created_at, audit.id)


def overview(factory: SessionFactory, *, today: dt.date | None = None) -> Overview:
    """Everything the subgroup's overview shows. `today` decides which actions are overdue."""
    as_of = today or dt.datetime.now(dt.UTC).date()
    with unit_of_work(factory) as session:
        tool_rows = list(session.scalars(select(ToolVersion)))
        definitions: dict[int, ToolDefinition] = {row.id: definition_of(row) for row in tool_rows}
        scales = {d.scale.id: scale_overview(d.scale) for d in definitions.values()}
        # Columns, not Audit objects: those would join each audit's whole tool definition.
        audits = sorted(
            (
                _AuditRow(*row)
                for row in session.execute(
                    select(
                        Audit.id,
                        Audit.title,
                        Audit.status,
                        Audit.audit_day,
                        Audit.created_at,
                        Audit.tool_version_id,
                    )
                )
            ),
            key=_chronological,
        )
        totals = _action_and_concern_totals(session, as_of)
        if not audits:
            return Overview(as_of=as_of, scales=tuple(scales[s] for s in sorted(scales)), **totals)
        counts = _grade_counts(session, {v: d.scale.id for v, d in definitions.items()})
        per_audit = {int(key): tally for (_, key), tally in counts["audit"].items()}
        concerns = dict(
            session.execute(
                select(Case.audit_id, func.count())
                .select_from(ImmediateConcern)
                .join(Case, Case.id == ImmediateConcern.case_id)
                .where(ImmediateConcern.status == ConcernStatus.OPEN.value)
                .group_by(Case.audit_id)
            ).all()
        )
        actions = {
            audit_id: (int(open_), int(overdue))
            for audit_id, open_, overdue in session.execute(
                select(
                    Action.audit_id,
                    func.count(),
                    func.count().filter(Action.due_on < as_of),
                )
                .where(Action.status != ACTION_COMPLETE, Action.audit_id.is_not(None))
                .group_by(Action.audit_id)
            ).all()
        }
        agency_names = dict(session.execute(select(Agency.code, Agency.name)).all())
        themes = _recurring_themes(session)

        # The newest version's title names a tool across its versions.
        tool_titles: dict[str, str] = {}
        for d in sorted(definitions.values(), key=lambda d: d.tool.version):
            tool_titles[d.tool.id] = d.tool.title

        rows: list[AuditOverview] = []
        previous: dict[tuple[str, str], AuditOverview] = {}
        for audit in audits:
            definition = definitions[audit.tool_version_id]
            scale = scales[definition.scale.id]
            grades = _breakdown(scale, str(audit.id), audit.title, per_audit.get(audit.id, {}))
            same_tool = (definition.tool.id, scale.id)
            before = previous.get(same_tool)
            open_actions, overdue = actions.get(audit.id, (0, 0))
            row = AuditOverview(
                id=audit.id,
                title=audit.title,
                tool_id=definition.tool.id,
                tool_version=definition.tool.version,
                tool_title=definition.tool.title,
                scale_id=scale.id,
                status=AuditStatus(audit.status),
                audit_day=audit.audit_day,
                grades=grades,
                open_concerns=int(concerns.get(audit.id, 0)),
                open_actions=open_actions,
                overdue_actions=overdue,
                change=None if before is None else _change(before, grades),
            )
            previous[same_tool] = row
            rows.append(row)

        by_agency = [
            _breakdown(scales[s], a, agency_names.get(a, a), tally)
            for (s, a), tally in counts["agency"].items()
        ]
        by_tool = [
            _breakdown(scales[s], t, tool_titles.get(t, t), tally)
            for (s, t), tally in counts["tool"].items()
        ]
        return Overview(
            as_of=as_of,
            scales=tuple(scales[s] for s in sorted(scales)),
            # Newest first, as on the home screen: the latest audit is what the subgroup asks about.
            audits=tuple(reversed(rows)),
            by_agency=tuple(sorted(by_agency, key=_by_scale_then_label)),
            by_tool=tuple(sorted(by_tool, key=_by_scale_then_label)),
            themes=themes,
            **totals,
        )


def _by_scale_then_label(breakdown: GradeBreakdown) -> tuple[str, str]:
    return (breakdown.scale_id, breakdown.label.casefold())


def _change(before: AuditOverview, now: GradeBreakdown) -> AuditChange:
    was = before.grades
    return AuditChange(
        previous_audit_id=before.id,
        previous_title=before.title,
        previous_day=before.audit_day,
        favourable=LevelChange(
            grade="favourable", before=was.favourable_share, after=now.favourable_share
        ),
        levels=tuple(
            LevelChange(
                grade=level.grade, before=was.share(level.grade), after=now.share(level.grade)
            )
            for level in now.levels
        ),
    )


def _recurring_themes(session: Session) -> tuple[OverviewTheme, ...]:
    """Every theme tagged anywhere, in one grouped statement: the ones found in most audits
    (then most cases) first, as the subgroup asks "what keeps coming up?"."""
    tags = tag_mentions(None)
    t = tags.c
    audits = func.count(func.distinct(t.audit_id))
    cases = func.count(func.distinct(t.case_id))
    rows = session.execute(
        select(
            Theme.code,
            Theme.label,
            audits,
            cases,
            func.count().filter(t.kind == "finding"),
            func.count().filter(t.kind == "voice"),
            func.count().filter(t.kind == "moderation"),
        )
        .select_from(tags)
        .join(Theme, Theme.id == t.theme_id)
        .group_by(Theme.code, Theme.label)
        .order_by(audits.desc(), cases.desc(), func.count().desc(), Theme.code)
    ).all()
    return tuple(
        OverviewTheme(
            code=code,
            label=label,
            audits=int(n_audits),
            cases=int(n_cases),
            findings=int(findings),
            voices=int(voices),
            moderation=int(moderation),
        )
        for code, label, n_audits, n_cases, findings, voices, moderation in rows
    )


def _action_and_concern_totals(session: Session, as_of: dt.date) -> dict[str, int]:
    """Totals across the partnership, actions not tied to an audit included."""
    open_actions, overdue = session.execute(
        select(func.count(), func.count().filter(Action.due_on < as_of)).where(
            Action.status != ACTION_COMPLETE
        )
    ).one()
    concerns = session.scalar(
        select(func.count()).where(ImmediateConcern.status == ConcernStatus.OPEN.value)
    )
    return {
        "open_concerns": int(concerns or 0),
        "open_actions": int(open_actions),
        "overdue_actions": int(overdue),
    }
