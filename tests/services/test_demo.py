"""The demo partnership: what it loads, and that it loads only once, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    AuditStatus,
    ConcernStatus,
    ModerationHeading,
    ReturnStatus,
    VoiceSource,
)
from schemas.tools import NOT_APPLICABLE, NOT_EVIDENCED
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.demo import load_demo
from workbench.services.errors import InvalidRequestError
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema
from workbench.store.models import ImmediateConcern

Factory = sessionmaker[Session]

TODAY = dt.date(2026, 3, 16)
PREFIX = {"cse": "CSE", "domestic-abuse": "DA", "early-help-exclusions": "EHE"}
LEVELS = ("outstanding", "good", "requires_improvement", "inadequate")

# Things that would identify a real person if they ever slipped into demo content.
IDENTIFIERS = {
    "e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.\w"),
    "postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"),
    "NHS number": re.compile(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b"),
    "phone number": re.compile(r"(?:\+44|\b0)\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}\b"),
    "full date (a date of birth would be one)": re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
}


def _by_tool(details: list[AuditDetail]) -> dict[str, list[AuditDetail]]:
    out: dict[str, list[AuditDetail]] = {}
    for detail in details:
        out.setdefault(detail.tool_id, []).append(detail)
    return out


def _check_audits(factory: Factory, details: list[AuditDetail]) -> None:
    summaries = audits.list_audits(factory)
    assert sorted(s.id for s in summaries) == sorted(d.id for d in details)
    assert Counter(s.tool_id for s in summaries) == {
        "cse": 2,
        "domestic-abuse": 1,
        "early-help-exclusions": 1,
    }
    by_tool = _by_tool(details)
    previous, current = sorted(by_tool["cse"], key=lambda d: d.audit_day or dt.date.min)
    # The earlier CSE audit is the one the current report compares with: a year before.
    assert previous.status is AuditStatus.CLOSED
    assert current.status is AuditStatus.MODERATION
    assert current.audit_day is not None
    assert current.audit_day < TODAY
    assert previous.audit_day == current.audit_day.replace(year=current.audit_day.year - 1)
    for later in (*by_tool["domestic-abuse"], *by_tool["early-help-exclusions"]):
        assert later.status is AuditStatus.RETURNS
        assert later.returns_due is not None
        assert later.returns_due > TODAY
    known = {a.code for a in audits.list_agencies(factory)}
    for detail in details:
        assert 4 <= len(detail.cases) <= 6, detail.title
        assert len(detail.agencies) >= 5, detail.title
        assert set(detail.agencies) <= known
        assert detail.chair
        assert detail.scope


def _check_cohorts(details: list[AuditDetail]) -> None:
    cases = [(d.tool_id, c) for d in details for c in d.cases]
    for tool_id, case in cases:
        # A pseudonymous code, never anything that reads like a name.
        assert re.fullmatch(rf"{PREFIX[tool_id]}-\d{{2}}-\d{{2}}", case.reference), case.reference
    for detail in details:
        assert len({c.level_of_need for c in detail.cases}) >= 2, detail.title
        assert len({c.ethnicity for c in detail.cases}) >= 3, detail.title
    profiles = [c for _, c in cases]
    assert len({c.level_of_need for c in profiles}) == 4
    assert len({c.age_band for c in profiles}) >= 4
    assert {"female", "male"} <= {c.gender.value for c in profiles}
    assert len({c.send for c in profiles}) >= 3
    assert len({c.ethnicity for c in profiles}) >= 6


def _check_returns(factory: Factory, details: list[AuditDetail]) -> list[Any]:
    """Statuses per audit, and every finding of the demo (returned for later checks)."""
    findings: list[Any] = []
    seen: Counter[ReturnStatus] = Counter()
    for detail in details:
        progress = returns.progress(factory, detail.id)
        assert len(progress) == len(detail.cases) * len(detail.agencies)
        statuses = Counter(p.status for p in progress)
        seen.update(statuses)
        if detail.status is AuditStatus.CLOSED:
            assert set(statuses) == {ReturnStatus.SUBMITTED}
        elif detail.status is AuditStatus.MODERATION:
            assert statuses[ReturnStatus.SUBMITTED] >= 0.9 * len(progress)
        else:
            assert set(statuses) == set(ReturnStatus), detail.title
        for p in progress:
            if p.status is ReturnStatus.SUBMITTED:
                assert p.answered == p.total > 0
            elif p.status is ReturnStatus.IN_PROGRESS:
                assert 0 < p.answered < p.total
            else:
                assert p.answered == 0
            if p.status is not ReturnStatus.NOT_STARTED:
                findings.extend(returns.get_return(factory, p.return_id).findings)
    assert all(seen[s] >= 5 for s in ReturnStatus), seen
    return findings


def _check_findings(findings: list[Any]) -> None:
    grades = Counter(f.grade for f in findings)
    # Every answer on the scale turns up, with good and requires improvement the usual ones.
    assert set(grades) >= {*LEVELS, NOT_APPLICABLE, NOT_EVIDENCED, None}
    graded = sum(grades[level] for level in LEVELS)
    assert grades["good"] == max(grades[level] for level in LEVELS)
    assert grades["good"] + grades["requires_improvement"] >= 0.7 * graded
    assert grades["outstanding"] < grades["requires_improvement"]
    assert grades["inadequate"] < grades["requires_improvement"]
    assert grades[None] < 0.02 * len(findings)  # a few drafts typed but not yet graded
    for f in findings:
        assert f.evidence.strip(), f
        assert "{" not in f.evidence + f.strengths + f.areas_for_development
        if f.grade in ("outstanding", "good"):
            assert f.strengths
        if f.grade in ("requires_improvement", "inadequate", NOT_EVIDENCED):
            assert f.areas_for_development
    # Written as an auditor would: pointing at dated records, and not one sentence repeated.
    dated = [f for f in findings if re.search(r"\b\d{2}/\d{2}\b", f.evidence)]
    assert len(dated) >= 0.5 * len(findings)
    assert len({f.evidence for f in findings}) >= 0.6 * len(findings)


def _check_casework(factory: Factory, details: list[AuditDetail]) -> None:
    sources: set[VoiceSource] = set()
    for detail in details:
        voices = [v for c in detail.cases for v in casework.list_voices(factory, c.id)]
        assert voices, detail.title
        sources |= {v.source for v in voices}
        moderated = {c.reference: casework.moderated_grades(factory, c.id) for c in detail.cases}
        overall = {
            ref: m
            for ref, grades in moderated.items()
            for m in grades
            if m.heading.value == "overall"
        }
        if detail.status is AuditStatus.CLOSED:
            assert set(overall) == {c.reference for c in detail.cases}
        elif detail.status is AuditStatus.MODERATION:
            # Moderation is under way: most cases done, at least one still to come.
            assert 3 <= len(overall) < len(detail.cases)
            headings = {m.heading for grades in moderated.values() for m in grades}
            assert len(headings - {ModerationHeading.OVERALL}) >= 3
        else:
            assert not any(moderated.values()), detail.title
        for m in overall.values():
            assert m.grade in LEVELS
            assert len(m.reasons) > 40
    assert sources == set(VoiceSource)
    cse = {d.id for d in details if d.tool_id == "cse"}
    domestic = {d.id for d in details if d.tool_id == "domestic-abuse"}
    open_by_audit = {d.id: casework.open_concerns(factory, d.id) for d in details}
    assert [a for a, found in open_by_audit.items() if found] == [*domestic]
    [still_open] = [c for found in open_by_audit.values() for c in found]
    assert still_open.closed_at is None
    assert still_open.who_told
    with factory() as session:
        rows = session.scalars(select(ImmediateConcern)).all()
        closed = [r for r in rows if r.status == ConcernStatus.CLOSED.value]
        assert len(rows) == 2
        assert len(closed) == 1
        assert closed[0].case.audit_id in cse
        assert closed[0].closure_note


def _all_text(factory: Factory, details: list[AuditDetail], findings: list[Any]) -> list[str]:
    text = [f"{d.title} {d.chair} {d.scope}" for d in details]
    text += [
        f"{f.evidence} {f.strengths} {f.areas_for_development} {f.updated_by}" for f in findings
    ]
    for d in details:
        for c in d.cases:
            text += [v.text + " " + v.recorded_by for v in casework.list_voices(factory, c.id)]
            text += [m.reasons for m in casework.moderated_grades(factory, c.id)]
    with factory() as session:
        text += [
            f"{r.concern} {r.who_told} {r.closure_note}"
            for r in session.scalars(select(ImmediateConcern))
        ]
    return text


def _check_no_identifiers(text: list[str]) -> None:
    for chunk in text:
        for what, pattern in IDENTIFIERS.items():
            assert not pattern.search(chunk), f"{what} in demo text: {chunk!r}"


def test_demo_partnership(factory: Factory, registry: ToolRegistry) -> None:
    details = load_demo(factory, registry, today=TODAY)

    assert len(details) == 4
    _check_audits(factory, details)
    _check_cohorts(details)
    findings = _check_returns(factory, details)
    _check_findings(findings)
    _check_casework(factory, details)
    _check_no_identifiers(_all_text(factory, details, findings))
    # Several auditors, each named by role, wrote the returns.
    assert len({f.updated_by for f in findings}) >= 8

    # A second load is refused rather than adding a second copy of the cohort.
    with pytest.raises(InvalidRequestError, match="empty database"):
        load_demo(factory, registry, today=TODAY)
    assert len(audits.list_audits(factory)) == 4


def test_demo_refuses_a_database_with_a_real_audit(
    factory: Factory, registry: ToolRegistry, actor: Actor
) -> None:
    audits.create_audit(factory, actor, registry, cse_plan())

    with pytest.raises(InvalidRequestError, match="already holds 1 audit"):
        load_demo(factory, registry, today=TODAY)
    assert len(audits.list_audits(factory)) == 1


def _content(factory: Factory, details: list[AuditDetail]) -> list[object]:
    """Everything the demo wrote, without ids or clock times."""
    out: list[object] = []
    for d in details:
        out.append(d.model_dump(exclude={"id", "uid", "created_at", "cases"}))
        out.append([c.model_dump(exclude={"id", "audit_id"}) for c in d.cases])
        for p in returns.progress(factory, d.id):
            r = returns.get_return(factory, p.return_id)
            out.append((p.case_reference, p.agency_code, p.status, r.auditor))
            out.extend(
                f.model_dump(include={"criterion_id", "grade", "evidence", "strengths"})
                for f in r.findings
            )
        for c in d.cases:
            out.extend((v.source, v.text) for v in casework.list_voices(factory, c.id))
            out.extend(
                (m.heading, m.grade, m.reasons) for m in casework.moderated_grades(factory, c.id)
            )
        out.extend(
            (c.concern, c.who_told, c.told_at) for c in casework.open_concerns(factory, d.id)
        )
    return out


@pytest.mark.slow
def test_demo_is_the_same_every_time(
    factory: Factory, registry: ToolRegistry, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'second.db'}")
    ensure_schema(engine, "second database", upgrade_if_needed=True)
    try:
        second = make_session_factory(engine)
        first_content = _content(factory, load_demo(factory, registry, today=TODAY))
        second_content = _content(second, load_demo(second, registry, today=TODAY))
    finally:
        engine.dispose()

    assert first_content == second_content
