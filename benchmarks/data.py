"""Generated audit data: years of CSE audits in a database, or one large audit as a bundle.

Reproducible from a seed; theme tags, when asked for, draw from a generator of their own, so
asking for them leaves every other row as it was. Rows go into the database with sqlite3
`executemany` in the formats SQLAlchemy itself writes, so generating 300,000 findings takes
seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from audit_tools import ToolRegistry
from schemas.audit import AgeBand, AuditStatus, Gender, LevelOfNeed, ReturnStatus, Send
from schemas.bundle import Bundle, BundleAudit, BundleCase, BundleFinding, BundleReturn
from schemas.tools import ToolDefinition
from workbench.services.tools import pin_tool_version
from workbench.services.unit import unit_of_work
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema
from workbench.store.models import Theme

TOOL_ID = "cse"

AGENCIES = (
    "acute-health",
    "camhs",
    "childrens-social-care",
    "gp",
    "police",
    "school",
    "sexual-health",
    "youth-justice",
)
"""A typical CSE audit's agencies (all seeded by the first migration)."""

# Weights for each scale answer in order (levels best first, then the non-grade answers),
# then for a finding not yet answered.
ANSWER_WEIGHTS = (8, 38, 26, 9, 5, 9)
UNANSWERED_WEIGHT = 5

# About a third of all findings carry themes: this share of the answered ones (an unanswered
# finding has no evidence to tag), each with one theme or, this often, two.
TAGGED_SHARE = 0.35
SECOND_THEME_SHARE = 0.3

FIRST_AUDIT_DAY = dt.date(2015, 3, 12)
YEARS = 10

_SOURCES = (
    "Case note",
    "Strategy meeting minutes",
    "Referral to the front door",
    "Exploitation screening tool",
    "Supervision record",
    "Return home interview",
    "Safeguarding lead log",
    "Chronology entry",
    "Health record",
    "Child protection conference minutes",
)
_OBSERVATIONS = (
    "records older associates, a new phone and money; referred to children's social care "
    "the same day",
    "shows the screening tool reviewed after the third missing episode, with risk raised "
    "to significant",
    "gives the child's own words about who she trusts and what would help",
    "shows attendance and missing information shared with school and police within 24 hours",
    "records the concern but no action followed for six weeks",
    "shows the plan reviewed with named owners and timescales at each core group",
    "notes repeat attendances at the sexual health clinic with no pattern identified",
    "records a disclosure to the school nurse, passed to the designated safeguarding lead",
    "shows the risk level unchanged for five months despite two new incidents",
    "records the mother's view of the risk and the support offered to her",
)
_STRENGTHS = (
    "",
    "",
    "Prompt referral and clear recording of the indicators seen.",
    "Persistent, relationship-based work: the child kept engaging.",
    "Good information sharing with the school and police.",
    "The child's voice is recorded in her own words.",
)
_DEVELOPMENT = (
    "",
    "",
    "Review the screening tool after each missing episode.",
    "Record the reasons for the risk level, not just the level.",
    "Share absence information with the social worker the same day.",
    "Avoid language that implies the child chose the risk.",
)
_AUDITORS = ("J. Patel", "S. Okafor", "M. Nowak", "R. Hughes", "L. Byrne", "A. Clarke")
_ETHNICITIES = ("White British", "White British", "Mixed", "Asian British", "Black British")


def cse_definition() -> ToolDefinition:
    """The shipped CSE tool with its resolved scale, as an audit pins it."""
    return ToolRegistry.load().definition(TOOL_ID)


def sql_datetime(value: dt.datetime) -> str:
    """An aware datetime as the store keeps it on SQLite: naive UTC text, microseconds."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def quotas(total: int, parts: int) -> list[int]:
    """`total` split into `parts` near-equal whole numbers (the first ones take the remainder)."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


@dataclass(frozen=True)
class PlannedReturn:
    agency: str
    criteria: tuple[str, ...]
    complete: bool

    @property
    def status(self) -> ReturnStatus:
        if self.complete:
            return ReturnStatus.SUBMITTED
        return ReturnStatus.IN_PROGRESS if self.criteria else ReturnStatus.NOT_STARTED


def plan_cohort(
    definition: ToolDefinition, agencies: Sequence[str], findings: int
) -> list[list[PlannedReturn]]:
    """Cases with one return per agency and a finding per criterion that applies to it, until
    `findings` are planned: the last case may be part-done, as in an audit still under way."""
    applicable = {a: tuple(c.id for c in definition.tool.criteria_for(a)) for a in agencies}
    cases: list[list[PlannedReturn]] = []
    left = findings
    while left > 0:
        returns: list[PlannedReturn] = []
        for agency in agencies:
            criteria = applicable[agency][:left]
            left -= len(criteria)
            returns.append(
                PlannedReturn(agency, criteria, len(criteria) == len(applicable[agency]))
            )
        cases.append(returns)
    return cases


@dataclass(frozen=True)
class Answer:
    grade: str | None
    evidence: str
    strengths: str
    areas_for_development: str


class Answers:
    """Plausible findings drawn from a seeded generator."""

    def __init__(self, definition: ToolDefinition, rng: random.Random) -> None:
        self._rng = rng
        self._grades: tuple[str | None, ...] = (*definition.scale.answer_keys, None)
        self._weights = (*ANSWER_WEIGHTS, UNANSWERED_WEIGHT)
        if len(self._weights) != len(self._grades):
            raise ValueError(f"ANSWER_WEIGHTS do not fit scale {definition.scale.id}")
        start = dt.date(2014, 1, 1)
        self._evidence = tuple(
            f"{rng.choice(_SOURCES)} dated "
            f"{start + dt.timedelta(days=rng.randrange(YEARS * 365)):%d/%m/%Y} "
            f"{rng.choice(_OBSERVATIONS)}."
            for _ in range(500)
        )

    def draw(self) -> Answer:
        rng = self._rng
        grade = rng.choices(self._grades, self._weights)[0]
        if grade is None:
            return Answer(None, "", "", "")
        return Answer(
            grade,
            rng.choice(self._evidence),
            rng.choice(_STRENGTHS),
            rng.choice(_DEVELOPMENT),
        )

    def auditor(self) -> str:
        return self._rng.choice(_AUDITORS)

    def profile(self) -> dict[str, str]:
        rng = self._rng
        return {
            "level_of_need": rng.choice(list(LevelOfNeed)).value,
            "age_band": rng.choice((AgeBand.EARLY_TEEN, AgeBand.OLDER)).value,
            "gender": rng.choices((Gender.FEMALE, Gender.MALE), (3, 1))[0].value,
            "ethnicity": rng.choice(_ETHNICITIES),
            "send": rng.choices(list(Send), (6, 2, 1, 1))[0].value,
        }


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


@dataclass(frozen=True)
class GeneratedDatabase:
    url: str
    audit_ids: tuple[int, ...]
    findings: int
    finding_themes: int = 0
    """Theme tags on findings: none unless `tag_themes` was asked for."""


def theme_tags(
    finding_rows: Sequence[tuple[object, ...]], theme_ids: Sequence[int], rng: random.Random
) -> list[tuple[object, ...]]:
    """finding_themes rows for about a third of the findings, one or two themes each, some
    themes far commoner than others, tagged by the finding's auditor when it was written."""
    if not theme_ids:
        raise ValueError("no themes in the vocabulary to tag findings with")
    weights = [len(theme_ids) - i for i in range(len(theme_ids))]
    rows: list[tuple[object, ...]] = []
    for finding_id, _, _, grade, _, _, _, _, updated_at, updated_by in finding_rows:
        if grade is None or rng.random() >= TAGGED_SHARE:
            continue
        first = rng.choices(theme_ids, weights)[0]
        rows.append((finding_id, first, updated_by, updated_at))
        if len(theme_ids) > 1 and rng.random() < SECOND_THEME_SHARE:
            second = first
            while second == first:
                second = rng.choices(theme_ids, weights)[0]
            rows.append((finding_id, second, updated_by, updated_at))
    return rows


def generate_database(
    path: Path, *, findings: int, audits: int = 40, seed: int = 2015, tag_themes: bool = False
) -> GeneratedDatabase:
    """A migrated SQLite file holding `audits` CSE audits spread over ten years, with about a
    third of the findings tagged from the seeded theme vocabulary if `tag_themes`."""
    url = f"sqlite:///{path}"
    definition = cse_definition()
    engine = make_engine(url)
    try:
        ensure_schema(engine, str(path), upgrade_if_needed=True)
        with unit_of_work(make_session_factory(engine)) as session:
            tool_version_id = pin_tool_version(session, definition).id
            theme_ids: tuple[int, ...] = (
                tuple(session.scalars(select(Theme.id).order_by(Theme.id))) if tag_themes else ()
            )
    finally:
        engine.dispose()

    rng = random.Random(seed)
    answers = Answers(definition, rng)
    spacing = YEARS * 365 // audits
    audit_rows: list[tuple[object, ...]] = []
    audit_agency_rows: list[tuple[object, ...]] = []
    case_rows: list[tuple[object, ...]] = []
    return_rows: list[tuple[object, ...]] = []
    finding_rows: list[tuple[object, ...]] = []
    for audit_id, quota in enumerate(quotas(findings, audits), start=1):
        audit_day = FIRST_AUDIT_DAY + dt.timedelta(days=(audit_id - 1) * spacing)
        latest = audit_id == audits
        status = AuditStatus.RETURNS if latest else AuditStatus.CLOSED
        audit_rows.append(
            (
                audit_id,
                _uid(rng),
                f"CSE multi-agency audit, {audit_day:%B %Y}",
                tool_version_id,
                status.value,
                12,
                (audit_day - dt.timedelta(days=400)).isoformat(),
                (audit_day - dt.timedelta(days=35)).isoformat(),
                (audit_day - dt.timedelta(days=14)).isoformat(),
                audit_day.isoformat(),
                "Panel chair",
                "Children open to services for CSE risk in the look-back period.",
                False,
                sql_datetime(_at(audit_day - dt.timedelta(days=60))),
                "partnership.manager",
                None if latest else sql_datetime(_at(audit_day + dt.timedelta(days=30))),
            )
        )
        audit_agency_rows.extend((audit_id, a) for a in AGENCIES)
        submitted = _at(audit_day - dt.timedelta(days=15))
        for number, planned in enumerate(plan_cohort(definition, AGENCIES, quota), start=1):
            case_id = len(case_rows) + 1
            reference = f"CSE-{audit_day:%y}-{audit_day:%m}-{number:03d}"
            profile = answers.profile()
            case_rows.append(
                (
                    case_id,
                    audit_id,
                    reference,
                    profile["level_of_need"],
                    profile["age_band"],
                    profile["gender"],
                    profile["ethnicity"],
                    profile["send"],
                )
            )
            for ret in planned:
                return_id = len(return_rows) + 1
                auditor = answers.auditor()
                state = ret.status
                done = state is ReturnStatus.SUBMITTED
                return_rows.append(
                    (
                        return_id,
                        case_id,
                        ret.agency,
                        state.value,
                        auditor,
                        sql_datetime(submitted) if done else None,
                        auditor if done else None,
                    )
                )
                for criterion_id in ret.criteria:
                    a = answers.draw()
                    finding_rows.append(
                        (
                            len(finding_rows) + 1,
                            return_id,
                            criterion_id,
                            a.grade,
                            a.evidence,
                            a.strengths,
                            a.areas_for_development,
                            1 if a.grade is None else 2,
                            sql_datetime(submitted),
                            auditor,
                        )
                    )

    tag_rows = theme_tags(finding_rows, theme_ids, random.Random(seed + 1)) if tag_themes else []

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        with connection:
            connection.executemany(
                "INSERT INTO audits (id, uid, title, tool_version_id, status, look_back_months,"
                " look_back_start, look_back_end, returns_due, audit_day, chair, scope,"
                " legal_hold, created_at, created_by, closed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                audit_rows,
            )
            connection.executemany(
                "INSERT INTO audit_agencies (audit_id, agency_code) VALUES (?, ?)",
                audit_agency_rows,
            )
            connection.executemany(
                "INSERT INTO cases (id, audit_id, reference, level_of_need, age_band, gender,"
                " ethnicity, send) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                case_rows,
            )
            connection.executemany(
                "INSERT INTO agency_returns (id, case_id, agency_code, status, auditor,"
                " submitted_at, submitted_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                return_rows,
            )
            connection.executemany(
                "INSERT INTO findings (id, return_id, criterion_id, grade, evidence, strengths,"
                " areas_for_development, version, updated_at, updated_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                finding_rows,
            )
            if tag_rows:
                connection.executemany(
                    "INSERT INTO finding_themes (finding_id, theme_id, tagged_by, tagged_at)"
                    " VALUES (?, ?, ?, ?)",
                    tag_rows,
                )
    finally:
        connection.close()
    return GeneratedDatabase(
        url, tuple(range(1, audits + 1)), len(finding_rows), finding_themes=len(tag_rows)
    )


def generate_bundle(*, findings: int, seed: int = 2025) -> Bundle:
    """One CSE audit with `findings` findings across its cases and agencies, as a Bundle."""
    definition = cse_definition()
    rng = random.Random(seed)
    answers = Answers(definition, rng)
    audit_day = dt.date(2025, 3, 12)
    submitted = _at(audit_day - dt.timedelta(days=15))
    cases: list[BundleCase] = []
    for number, planned in enumerate(plan_cohort(definition, AGENCIES, findings), start=1):
        returns: list[BundleReturn] = []
        for ret in planned:
            auditor = answers.auditor()
            found: list[BundleFinding] = []
            for criterion_id in ret.criteria:
                a = answers.draw()
                found.append(
                    BundleFinding(
                        criterion_id=criterion_id,
                        grade=a.grade,
                        evidence=a.evidence,
                        strengths=a.strengths,
                        areas_for_development=a.areas_for_development,
                        version=1 if a.grade is None else 2,
                        updated_at=submitted,
                        updated_by=auditor,
                    )
                )
            state = ret.status
            done = state is ReturnStatus.SUBMITTED
            returns.append(
                BundleReturn(
                    agency=ret.agency,
                    status=state,
                    auditor=auditor,
                    submitted_at=submitted if done else None,
                    submitted_by=auditor if done else None,
                    findings=tuple(found),
                )
            )
        cases.append(
            BundleCase.model_validate(
                {
                    "reference": f"CSE-25-{number:03d}",
                    **answers.profile(),
                    "returns": tuple(returns),
                }
            )
        )
    return Bundle(
        exported_at=_at(audit_day + dt.timedelta(days=1)),
        tool=definition,
        audit=BundleAudit(
            uid=_uid(rng),
            title=f"CSE multi-agency audit, {audit_day:%B %Y}",
            status=AuditStatus.MODERATION,
            look_back_months=12,
            look_back_start=audit_day - dt.timedelta(days=400),
            look_back_end=audit_day - dt.timedelta(days=35),
            returns_due=audit_day - dt.timedelta(days=14),
            audit_day=audit_day,
            chair="Panel chair",
            scope="Children open to services for CSE risk in the look-back period.",
            created_at=_at(audit_day - dt.timedelta(days=60)),
            created_by="partnership.manager",
            agencies=AGENCIES,
        ),
        cases=tuple(cases),
    )
