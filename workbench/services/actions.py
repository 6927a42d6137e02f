"""Recommendations and the action plan: owners, due dates, status, updates and escalation.

Overdue is never stored: it is worked out from the due date and `today` on every read, so
an action nobody touched still turns overdue on the morning after its due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schemas.audit import Actor
from schemas.learning import (
    ActionIn,
    ActionOut,
    ActionStatus,
    ActionUpdateIn,
    ActionUpdateOut,
    RecommendationIn,
    RecommendationOut,
)
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Action,
    ActionUpdate,
    Agency,
    Audit,
    LearningItem,
    Recommendation,
    RecommendationLearningItem,
)


def _audit(session: Session, audit_id: int) -> Audit:
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFoundError(f"no audit with id {audit_id}")
    return audit


# --- recommendations ----------------------------------------------------------------------------


def add_recommendation(
    factory: SessionFactory, actor: Actor, audit_id: int, new: RecommendationIn
) -> RecommendationOut:
    """The audit's next numbered recommendation, linked to the learning it answers."""
    with unit_of_work(factory, actor) as session:
        access.require_role(session, access.LEARNING_EDITORS, "change recommendations or actions")
        _audit(session, audit_id)
        number = (
            session.scalar(
                select(func.max(Recommendation.number)).where(Recommendation.audit_id == audit_id)
            )
            or 0
        ) + 1
        row = Recommendation(audit_id=audit_id, number=number, text=new.text.strip())
        session.add(row)
        session.flush()
        _link(session, row, new.learning_item_ids)
        session.flush()
        return _recommendation_out(session, row)


def _link(session: Session, row: Recommendation, item_ids: Iterable[int]) -> None:
    for item_id in sorted(set(item_ids)):
        item = session.get(LearningItem, item_id)
        if item is None:
            raise NotFoundError(f"no learning item with id {item_id}")
        session.add(RecommendationLearningItem(recommendation=row, learning_item=item))


def _recommendation_out(session: Session, row: Recommendation) -> RecommendationOut:
    items = session.scalars(
        select(RecommendationLearningItem.learning_item_id)
        .where(RecommendationLearningItem.recommendation_id == row.id)
        .order_by(RecommendationLearningItem.learning_item_id)
    ).all()
    return RecommendationOut(
        id=row.id,
        audit_id=row.audit_id,
        number=row.number,
        text=row.text,
        learning_item_ids=tuple(items),
    )


def list_recommendations(factory: SessionFactory, audit_id: int) -> list[RecommendationOut]:
    with unit_of_work(factory) as session:
        _audit(session, audit_id)
        rows = session.scalars(
            select(Recommendation)
            .where(Recommendation.audit_id == audit_id)
            .order_by(Recommendation.number)
        ).all()
        return [_recommendation_out(session, r) for r in rows]


# --- actions --------------------------------------------------------------------------------------


def _action(session: Session, action_id: int) -> Action:
    row = session.get(Action, action_id)
    if row is None:
        raise NotFoundError(f"no action with id {action_id}")
    return row


def _check_owner_agency(session: Session, code: str) -> None:
    if session.get(Agency, code) is None:
        raise InvalidRequestError(f"no agency called {code}")


def add_action(
    factory: SessionFactory, actor: Actor, new: ActionIn, *, today: dt.date
) -> ActionOut:
    """A new action, not started. It belongs to an audit, to one of its recommendations, or
    (for learning from other strands) to neither."""
    with unit_of_work(factory, actor) as session:
        access.require_role(session, access.LEARNING_EDITORS, "change recommendations or actions")
        _check_owner_agency(session, new.owner_agency)
        audit_id = new.audit_id
        if new.recommendation_id is not None:
            rec = session.get(Recommendation, new.recommendation_id)
            if rec is None:
                raise NotFoundError(f"no recommendation with id {new.recommendation_id}")
            if audit_id is not None and audit_id != rec.audit_id:
                raise InvalidRequestError("the recommendation belongs to another audit")
            audit_id = rec.audit_id
        if audit_id is not None:
            _audit(session, audit_id)
        row = Action(
            audit_id=audit_id,
            recommendation_id=new.recommendation_id,
            description=new.description.strip(),
            owner_name=new.owner_name.strip(),
            owner_agency=new.owner_agency,
            due_on=new.due_on,
            status=ActionStatus.NOT_STARTED.value,
            escalation_route=new.escalation_route.strip(),
            created_by=actor.name,
        )
        session.add(row)
        session.flush()
        return _outs(session, [row], today)[0]


def update_action(
    factory: SessionFactory,
    actor: Actor,
    action_id: int,
    update: ActionUpdateIn,
    *,
    today: dt.date,
) -> ActionOut:
    """A dated progress note, with the status, evidence of impact and escalation it brings."""
    if update.on > today:
        raise InvalidRequestError(f"an update cannot be dated after today ({today:%d %b %Y})")
    with unit_of_work(factory, actor) as session:
        access.require_role(session, access.LEARNING_EDITORS, "change recommendations or actions")
        row = _action(session, action_id)
        if (
            update.status is ActionStatus.COMPLETE
            and not (update.evidence_of_impact or row.evidence_of_impact).strip()
        ):
            raise InvalidRequestError(
                "an action is complete when there is evidence of its impact: add it with the update"
            )
        session.add(ActionUpdate(action=row, on=update.on, text=update.text.strip(), by=actor.name))
        if update.status is not None:
            row.status = update.status.value
        if update.evidence_of_impact is not None:
            row.evidence_of_impact = update.evidence_of_impact
        if update.escalation_route is not None:
            row.escalation_route = update.escalation_route.strip()
        session.flush()
        return _outs(session, [row], today)[0]


def change_due_date(
    factory: SessionFactory, actor: Actor, action_id: int, due_on: dt.date, *, today: dt.date
) -> ActionOut:
    """Move a due date: history keeps the old one, so slippage stays visible."""
    with unit_of_work(factory, actor) as session:
        access.require_role(session, access.LEARNING_EDITORS, "change recommendations or actions")
        row = _action(session, action_id)
        row.due_on = due_on
        session.flush()
        return _outs(session, [row], today)[0]


def get_action(factory: SessionFactory, action_id: int, *, today: dt.date) -> ActionOut:
    with unit_of_work(factory) as session:
        return _outs(session, [_action(session, action_id)], today)[0]


def list_actions(
    factory: SessionFactory,
    *,
    today: dt.date,
    audit_id: int | None = None,
    overdue_only: bool = False,
    include_complete: bool = True,
) -> list[ActionOut]:
    """Overdue first (most overdue at the top), then open by due date, then complete."""
    statement = select(Action)
    if audit_id is not None:
        statement = statement.where(Action.audit_id == audit_id)
    if overdue_only:
        statement = statement.where(
            Action.due_on < today, Action.status != ActionStatus.COMPLETE.value
        )
    elif not include_complete:
        statement = statement.where(Action.status != ActionStatus.COMPLETE.value)
    with unit_of_work(factory) as session:
        rows = list(session.scalars(statement))
        out = _outs(session, rows, today)
    return sorted(out, key=_plan_order)


def _plan_order(action: ActionOut) -> tuple[int, int, dt.date, int]:
    if action.overdue:
        return (0, -action.days_overdue, action.due_on, action.id)
    if action.status is not ActionStatus.COMPLETE:
        return (1, 0, action.due_on, action.id)
    return (2, 0, action.due_on, action.id)


def is_overdue(status: ActionStatus, due_on: dt.date, today: dt.date) -> bool:
    return status is not ActionStatus.COMPLETE and due_on < today


def _outs(session: Session, rows: list[Action], today: dt.date) -> list[ActionOut]:
    ids = [r.id for r in rows]
    updates: dict[int, list[ActionUpdateOut]] = {}
    titles: dict[int, str] = {}
    numbers: dict[int, int] = {}
    if ids:
        for update in session.scalars(
            select(ActionUpdate)
            .where(ActionUpdate.action_id.in_(ids))
            .order_by(ActionUpdate.on, ActionUpdate.id)
        ):
            updates.setdefault(update.action_id, []).append(
                ActionUpdateOut(id=update.id, on=update.on, text=update.text, by=update.by)
            )
        audit_ids = {r.audit_id for r in rows if r.audit_id is not None}
        if audit_ids:
            titles = dict(
                session.execute(select(Audit.id, Audit.title).where(Audit.id.in_(audit_ids))).all()
            )
        rec_ids = {r.recommendation_id for r in rows if r.recommendation_id is not None}
        if rec_ids:
            numbers = dict(
                session.execute(
                    select(Recommendation.id, Recommendation.number).where(
                        Recommendation.id.in_(rec_ids)
                    )
                ).all()
            )
    out = []
    for row in rows:
        status = ActionStatus(row.status)
        overdue = is_overdue(status, row.due_on, today)
        out.append(
            ActionOut(
                id=row.id,
                audit_id=row.audit_id,
                audit_title=titles.get(row.audit_id) if row.audit_id is not None else None,
                recommendation_id=row.recommendation_id,
                recommendation_number=(
                    numbers.get(row.recommendation_id)
                    if row.recommendation_id is not None
                    else None
                ),
                description=row.description,
                owner_name=row.owner_name,
                owner_agency=row.owner_agency,
                due_on=row.due_on,
                status=status,
                evidence_of_impact=row.evidence_of_impact,
                escalation_route=row.escalation_route,
                created_by=row.created_by,
                updates=tuple(updates.get(row.id, ())),
                overdue=overdue,
                days_overdue=(today - row.due_on).days if overdue else 0,
            )
        )
    return out
