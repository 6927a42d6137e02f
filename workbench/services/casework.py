"""Per-case content beyond the returns: voices, immediate concerns and moderated grades."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from schemas.audit import (
    Actor,
    ConcernStatus,
    ImmediateConcernOut,
    ModeratedGradeOut,
    ModerationHeading,
    VoiceOut,
    VoiceSource,
)
from workbench.services import access
from workbench.services.errors import (
    InvalidRequestError,
    NotFoundError,
    StaleModeratedGradeError,
)
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import Case, ImmediateConcern, ModeratedGrade, Voice


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFoundError(f"no case with id {case_id}")
    return case


def add_voice(
    factory: SessionFactory, actor: Actor, case_id: int, source: VoiceSource, text: str
) -> VoiceOut:
    if not text.strip():
        raise InvalidRequestError("a voice needs what was said")
    with unit_of_work(factory, actor) as session:
        case = _case(session, case_id)
        access.require_case_work(session, case, "record a voice for this case")
        voice = Voice(source=source.value, text=text, recorded_by=actor.name)
        voice.case = case
        session.add(voice)
        session.flush()
        return VoiceOut.model_validate(voice)


def list_voices(factory: SessionFactory, case_id: int) -> list[VoiceOut]:
    with unit_of_work(factory) as session:
        case = _case(session, case_id)
        access.require_case_work(session, case, "read the voices of this case")
        return [VoiceOut.model_validate(v) for v in case.voices]


def raise_concern(
    factory: SessionFactory,
    actor: Actor,
    case_id: int,
    *,
    concern: str,
    who_told: str,
    told_at: dt.datetime,
    agency_code: str | None = None,
) -> ImmediateConcernOut:
    """Record a child found at current risk, escalated outside the audit; open until closed."""
    if not concern.strip() or not who_told.strip():
        raise InvalidRequestError("an immediate concern needs what it is and who was told")
    with unit_of_work(factory, actor) as session:
        case = _case(session, case_id)
        access.require_case_work(session, case, "raise a concern for this case")
        row = ImmediateConcern(
            concern=concern,
            who_told=who_told,
            told_at=told_at,
            agency_code=agency_code,
            raised_by=actor.name,
            status=ConcernStatus.OPEN.value,
        )
        row.case = case
        session.add(row)
        session.flush()
        return ImmediateConcernOut.model_validate(row)


def close_concern(
    factory: SessionFactory, actor: Actor, concern_id: int, note: str
) -> ImmediateConcernOut:
    with unit_of_work(factory, actor) as session:
        row = session.get(ImmediateConcern, concern_id)
        if row is None:
            raise NotFoundError(f"no immediate concern with id {concern_id}")
        access.require_lead(session, row.case.audit_id, "close an immediate concern")
        if row.status == ConcernStatus.CLOSED.value:
            raise InvalidRequestError("this concern is already closed")
        row.status = ConcernStatus.CLOSED.value
        row.closed_at = dt.datetime.now(dt.UTC)
        row.closed_by = actor.name
        row.closure_note = note
        session.flush()
        return ImmediateConcernOut.model_validate(row)


def open_concerns(factory: SessionFactory, audit_id: int) -> list[ImmediateConcernOut]:
    with unit_of_work(factory) as session:
        access.require_lead(session, audit_id, "list the audit's immediate concerns")
        rows = session.scalars(
            select(ImmediateConcern)
            .join(Case)
            .where(Case.audit_id == audit_id, ImmediateConcern.status == ConcernStatus.OPEN.value)
            .order_by(ImmediateConcern.raised_at, ImmediateConcern.id)
        )
        return [ImmediateConcernOut.model_validate(r) for r in rows]


def moderated_grades(factory: SessionFactory, case_id: int) -> list[ModeratedGradeOut]:
    with unit_of_work(factory) as session:
        case = _case(session, case_id)
        access.require_panel_view(session, case.audit, "read the moderated grades")
        return [ModeratedGradeOut.model_validate(m) for m in case.moderated_grades]


def set_moderated_grade(
    factory: SessionFactory,
    actor: Actor,
    case_id: int,
    heading: ModerationHeading,
    *,
    grade: str | None,
    reasons: str,
    expected_version: int | None,
) -> ModeratedGradeOut:
    """The panel's grade for a heading; each agency's own grade stays on its findings."""
    try:
        with unit_of_work(factory, actor) as session:
            case = _case(session, case_id)
            access.require_lead(session, case.audit_id, "moderate a grade")
            scale = definition_of(case.audit.tool_version).scale
            if grade is not None and grade not in scale.answer_keys:
                raise InvalidRequestError(f"{grade!r} is not an answer on the {scale.title}")
            row = next((m for m in case.moderated_grades if m.heading == heading.value), None)
            if row is None:
                if expected_version:
                    raise NotFoundError("that moderated grade no longer exists")
                row = ModeratedGrade(heading=heading.value, updated_by=actor.name)
                row.case = case
                session.add(row)
            elif expected_version is not None and expected_version != row.version:
                raise StaleModeratedGradeError(ModeratedGradeOut.model_validate(row))
            row.grade = grade
            row.reasons = reasons
            row.updated_by = actor.name
            row.updated_at = dt.datetime.now(dt.UTC)
            session.flush()
            return ModeratedGradeOut.model_validate(row)
    except (StaleDataError, IntegrityError):
        with unit_of_work(factory) as session:
            current = session.scalar(
                select(ModeratedGrade).where(
                    ModeratedGrade.case_id == case_id, ModeratedGrade.heading == heading.value
                )
            )
            if current is None:  # pragma: no cover
                raise
            raise StaleModeratedGradeError(ModeratedGradeOut.model_validate(current)) from None
