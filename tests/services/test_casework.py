"""Voices, immediate concerns and moderated grades."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    ConcernStatus,
    FindingChange,
    ModerationHeading,
    VoiceSource,
)
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.errors import InvalidRequestError, StaleModeratedGradeError
from workbench.store.models import ChangeRecord


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan())


def test_voices_are_recorded_per_case(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    case_id = audit.cases[0].id
    casework.add_voice(factory, actor, case_id, VoiceSource.CHILD, "Nobody asked what I wanted")
    casework.add_voice(factory, actor, case_id, VoiceSource.FAMILY, "We were passed around")
    voices = casework.list_voices(factory, case_id)
    assert [(v.source, v.text) for v in voices] == [
        (VoiceSource.CHILD, "Nobody asked what I wanted"),
        (VoiceSource.FAMILY, "We were passed around"),
    ]
    assert casework.list_voices(factory, audit.cases[1].id) == []
    with pytest.raises(InvalidRequestError):
        casework.add_voice(factory, actor, case_id, VoiceSource.CHILD, "   ")


def test_immediate_concern_stays_open_until_closed(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    told = dt.datetime(2026, 3, 2, 11, 30, tzinfo=dt.UTC)
    concern = casework.raise_concern(
        factory,
        actor,
        audit.cases[1].id,
        concern="Child went missing overnight again",
        who_told="Duty team manager",
        told_at=told,
        agency_code="police",
    )
    assert concern.status is ConcernStatus.OPEN and concern.told_at == told
    assert [c.id for c in casework.open_concerns(factory, audit.id)] == [concern.id]
    lead = Actor(name="audit.lead")
    closed = casework.close_concern(factory, lead, concern.id, "Strategy meeting held same day")
    assert closed.status is ConcernStatus.CLOSED and closed.closed_by == "audit.lead"
    assert casework.open_concerns(factory, audit.id) == []
    with pytest.raises(InvalidRequestError, match="already closed"):
        casework.close_concern(factory, lead, concern.id, "again")


def test_moderated_grade_keeps_agency_grades_and_refuses_stale_saves(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    case = audit.cases[0]
    rid = returns.find_return(factory, audit.id, case.reference, "police")
    returns.record_finding(
        factory, actor, rid, "cse-1.1", FindingChange(grade="good"), expected_version=None
    )
    first = casework.set_moderated_grade(
        factory,
        actor,
        case.id,
        ModerationHeading.OVERALL,
        grade="requires_improvement",
        reasons="Missing episodes not reviewed",
        expected_version=None,
    )
    panel = Actor(name="panel.member")
    casework.set_moderated_grade(
        factory,
        panel,
        case.id,
        ModerationHeading.OVERALL,
        grade="inadequate",
        reasons="No strategy meeting after the third episode",
        expected_version=first.version,
    )
    with pytest.raises(StaleModeratedGradeError) as caught:
        casework.set_moderated_grade(
            factory,
            actor,
            case.id,
            ModerationHeading.OVERALL,
            grade="good",
            reasons="x",
            expected_version=first.version,
        )
    assert caught.value.current.grade == "inadequate"
    assert caught.value.current.updated_by == "panel.member"
    # The agency's own grade is untouched by moderation.
    assert returns.get_return(factory, rid).findings[0].grade == "good"
    with factory() as session:
        reasons = session.scalars(
            select(ChangeRecord).where(
                ChangeRecord.entity == "moderated_grades", ChangeRecord.field == "reasons"
            )
        ).one()
    assert reasons.before == "Missing episodes not reviewed"
    assert reasons.actor == "panel.member"


def test_moderated_grade_must_be_on_the_tools_scale(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    with pytest.raises(InvalidRequestError, match="not an answer"):
        casework.set_moderated_grade(
            factory,
            actor,
            audit.cases[0].id,
            ModerationHeading.OVERALL,
            grade="green",
            reasons="",
            expected_version=None,
        )
    assert casework.moderated_grades(factory, audit.cases[0].id) == []
