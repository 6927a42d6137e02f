"""Recommendations and the action plan: numbering, owners, overdue from today, updates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail
from schemas.learning import (
    ActionIn,
    ActionOut,
    ActionStatus,
    ActionUpdateIn,
    LearningItemIn,
    LearningSource,
    RecommendationIn,
)
from tests.conftest import cse_plan
from workbench.services import audits
from workbench.services.actions import (
    add_action,
    add_recommendation,
    change_due_date,
    get_action,
    list_actions,
    list_recommendations,
    update_action,
)
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.learning import create_learning_item, get_learning_item
from workbench.store.models import ChangeRecord

TODAY = dt.date(2026, 6, 10)


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan())


def action(
    factory: sessionmaker[Session],
    actor: Actor,
    due_on: dt.date,
    description: str = "Brief designated safeguarding leads",
    **fields: object,
) -> ActionOut:
    new = ActionIn.model_validate(
        {
            "description": description,
            "owner_name": "Sam Patel",
            "owner_agency": "school",
            "due_on": due_on,
        }
        | fields
    )
    return add_action(factory, actor, new, today=TODAY)


def note(on: dt.date, text: str = "Progress noted", **fields: object) -> ActionUpdateIn:
    return ActionUpdateIn.model_validate({"on": on, "text": text} | fields)


# --- recommendations --------------------------------------------------------------------------


def test_recommendations_are_numbered_per_audit_and_link_learning(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    other = audits.create_audit(factory, actor, registry, cse_plan())
    items = [
        create_learning_item(
            factory,
            actor,
            LearningItemIn(
                raised_on=TODAY, source=LearningSource.CASE_AUDIT, learning=f"Learning {n}"
            ),
        )
        for n in range(2)
    ]
    first = add_recommendation(
        factory,
        actor,
        audit.id,
        RecommendationIn(
            text="  Partners review missing-from-home protocols.  ",
            learning_item_ids=(items[1].id, items[0].id, items[1].id),
        ),
    )
    second = add_recommendation(factory, actor, audit.id, RecommendationIn(text="Train DSLs"))
    elsewhere = add_recommendation(factory, actor, other.id, RecommendationIn(text="Other"))
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert first.text == "Partners review missing-from-home protocols."
    assert first.learning_item_ids == tuple(sorted((items[0].id, items[1].id)))
    assert second.learning_item_ids == ()
    assert list_recommendations(factory, audit.id) == [first, second]
    assert list_recommendations(factory, other.id) == [elsewhere]
    # The link shows from the learning item's side too.
    assert get_learning_item(factory, items[0].id).recommendations == (first.id,)

    with pytest.raises(NotFoundError):
        add_recommendation(
            factory, actor, audit.id, RecommendationIn(text="x", learning_item_ids=(98765,))
        )
    with pytest.raises(NotFoundError):
        add_recommendation(factory, actor, 98765, RecommendationIn(text="x"))
    # A refused recommendation takes no number.
    assert add_recommendation(factory, actor, audit.id, RecommendationIn(text="Third")).number == 3


# --- adding actions ---------------------------------------------------------------------------


def test_add_action_checks_owner_and_recommendation(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    other = audits.create_audit(factory, actor, registry, cse_plan())
    rec = add_recommendation(factory, actor, audit.id, RecommendationIn(text="Train DSLs"))
    add_recommendation(factory, actor, audit.id, RecommendationIn(text="Second"))
    theirs = add_recommendation(factory, actor, other.id, RecommendationIn(text="Theirs"))

    linked = action(factory, actor, dt.date(2026, 7, 1), recommendation_id=rec.id)
    # The audit comes with the recommendation.
    assert (linked.audit_id, linked.audit_title) == (audit.id, audit.title)
    assert (linked.recommendation_id, linked.recommendation_number) == (rec.id, 1)
    assert linked.status is ActionStatus.NOT_STARTED and linked.created_by == "a.auditor"
    assert linked.owner_name == "Sam Patel" and linked.owner_agency == "school"
    assert linked.updates == () and not linked.overdue and linked.days_overdue == 0
    assert linked.minute == "Brief designated safeguarding leads (Action: Sam Patel)"

    standalone = action(factory, actor, dt.date(2026, 7, 1))
    assert standalone.audit_id is None and standalone.recommendation_number is None

    with pytest.raises(InvalidRequestError, match="no agency called nowhere"):
        action(factory, actor, dt.date(2026, 7, 1), owner_agency="nowhere")
    with pytest.raises(InvalidRequestError, match="another audit"):
        action(factory, actor, dt.date(2026, 7, 1), audit_id=audit.id, recommendation_id=theirs.id)
    with pytest.raises(NotFoundError):
        action(factory, actor, dt.date(2026, 7, 1), recommendation_id=98765)
    with pytest.raises(NotFoundError):
        action(factory, actor, dt.date(2026, 7, 1), audit_id=98765)
    assert [a.id for a in list_actions(factory, today=TODAY)] == [linked.id, standalone.id]


# --- the plan's order and overdue -------------------------------------------------------------


def test_list_actions_puts_the_most_overdue_first_then_open_by_due_then_complete(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    nine_days = action(factory, actor, dt.date(2026, 6, 1), "nine days late")
    forty_days = action(factory, actor, dt.date(2026, 5, 1), "forty days late")
    update_action(
        factory, actor, forty_days.id, note(dt.date(2026, 4, 1), status="on_track"), today=TODAY
    )
    later = action(factory, actor, dt.date(2026, 7, 1), "due in July")
    sooner = action(factory, actor, dt.date(2026, 6, 20), "due on the 20th")
    done = action(factory, actor, dt.date(2026, 3, 1), "done long ago", audit_id=audit.id)
    update_action(
        factory,
        actor,
        done.id,
        note(dt.date(2026, 2, 20), status="complete", evidence_of_impact="Audit shows it"),
        today=TODAY,
    )
    due_today = action(factory, actor, TODAY, "due today")

    plan = list_actions(factory, today=TODAY)
    assert [a.description for a in plan] == [
        "forty days late",
        "nine days late",
        "due today",
        "due on the 20th",
        "due in July",
        "done long ago",
    ]
    # 10 June less 1 May is 31 + 9 days; less 1 June, 9 days.
    assert [(a.overdue, a.days_overdue) for a in plan] == [
        (True, 40),
        (True, 9),
        (False, 0),
        (False, 0),
        (False, 0),
        (False, 0),  # past its date, but complete
    ]
    overdue = list_actions(factory, today=TODAY, overdue_only=True)
    assert [a.id for a in overdue] == [forty_days.id, nine_days.id]
    open_only = list_actions(factory, today=TODAY, include_complete=False)
    assert [a.id for a in open_only] == [
        forty_days.id,
        nine_days.id,
        due_today.id,
        sooner.id,
        later.id,
    ]
    assert [a.id for a in list_actions(factory, today=TODAY, audit_id=audit.id)] == [done.id]
    # A month on, the July action has slipped too, and is less overdue than the others.
    month_on = list_actions(factory, today=dt.date(2026, 7, 10), overdue_only=True)
    assert [(a.id, a.days_overdue) for a in month_on] == [
        (forty_days.id, 70),
        (nine_days.id, 39),
        (due_today.id, 30),
        (sooner.id, 20),
        (later.id, 9),
    ]


def test_overdue_is_worked_out_from_today(factory: sessionmaker[Session], actor: Actor) -> None:
    due = dt.date(2026, 6, 10)
    made = action(factory, actor, due)
    day = dt.timedelta(days=1)
    assert not get_action(factory, made.id, today=due - day).overdue
    assert not get_action(factory, made.id, today=due).overdue
    after = get_action(factory, made.id, today=due + day)
    assert after.overdue and after.days_overdue == 1
    assert list_actions(factory, today=due, overdue_only=True) == []
    assert [a.id for a in list_actions(factory, today=due + day, overdue_only=True)] == [made.id]
    with pytest.raises(NotFoundError):
        get_action(factory, 98765, today=due)


# --- updates ----------------------------------------------------------------------------------


def test_updates_are_dated_appended_and_move_the_status(
    factory: sessionmaker[Session], actor: Actor
) -> None:
    made = action(factory, actor, dt.date(2026, 9, 1))
    lead = Actor(name="dsl.lead")
    first = update_action(
        factory,
        lead,
        made.id,
        note(dt.date(2026, 6, 1), "Briefing booked", status="on_track"),
        today=TODAY,
    )
    assert first.status is ActionStatus.ON_TRACK
    assert first.status.rag == "Green"
    second = update_action(
        factory,
        actor,
        made.id,
        note(
            dt.date(2026, 5, 20),
            "Venue fell through",
            status="at_risk",
            escalation_route="Subgroup chair",
        ),
        today=TODAY,
    )
    assert second.status is ActionStatus.AT_RISK and second.status.rag == "Red"
    assert second.escalation_route == "Subgroup chair"
    # Kept in date order, whoever wrote them and in whatever order they were added.
    assert [(u.on, u.text, u.by) for u in second.updates] == [
        (dt.date(2026, 5, 20), "Venue fell through", "a.auditor"),
        (dt.date(2026, 6, 1), "Briefing booked", "dsl.lead"),
    ]
    # A note without a status leaves the status as it is; dated today is allowed.
    third = update_action(factory, actor, made.id, note(TODAY, "Chased"), today=TODAY)
    assert third.status is ActionStatus.AT_RISK and len(third.updates) == 3


def test_complete_needs_evidence_of_impact(factory: sessionmaker[Session], actor: Actor) -> None:
    made = action(factory, actor, dt.date(2026, 6, 1))
    with pytest.raises(InvalidRequestError, match="evidence of its impact"):
        update_action(factory, actor, made.id, note(TODAY, "Done", status="complete"), today=TODAY)
    with pytest.raises(InvalidRequestError, match="evidence of its impact"):
        update_action(
            factory,
            actor,
            made.id,
            note(TODAY, "Done", status="complete", evidence_of_impact="   "),
            today=TODAY,
        )
    unchanged = get_action(factory, made.id, today=TODAY)
    assert unchanged.status is ActionStatus.NOT_STARTED and unchanged.updates == ()

    # Evidence recorded earlier counts.
    update_action(
        factory,
        actor,
        made.id,
        note(TODAY, "Dip sample", evidence_of_impact="8 of 10 files now show it"),
        today=TODAY,
    )
    done = update_action(
        factory, actor, made.id, note(TODAY, "Done", status="complete"), today=TODAY
    )
    assert done.status is ActionStatus.COMPLETE and done.status.rag == "Complete"
    assert done.evidence_of_impact == "8 of 10 files now show it"
    assert not done.overdue


def test_an_update_cannot_be_dated_after_today(
    factory: sessionmaker[Session], actor: Actor
) -> None:
    made = action(factory, actor, dt.date(2026, 9, 1))
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(InvalidRequestError, match="after today"):
        update_action(factory, actor, made.id, note(tomorrow, status="on_track"), today=TODAY)
    assert get_action(factory, made.id, today=TODAY).updates == ()
    # The same note is fine once that day comes.
    later = update_action(
        factory, actor, made.id, note(tomorrow, status="on_track"), today=tomorrow
    )
    assert later.status is ActionStatus.ON_TRACK
    with pytest.raises(NotFoundError):
        update_action(factory, actor, 98765, note(TODAY), today=TODAY)


def test_change_due_date_keeps_the_old_date_in_history(
    factory: sessionmaker[Session], actor: Actor
) -> None:
    made = action(factory, actor, dt.date(2026, 6, 1))
    assert get_action(factory, made.id, today=TODAY).overdue
    moved = change_due_date(
        factory, Actor(name="subgroup.chair"), made.id, dt.date(2026, 8, 1), today=TODAY
    )
    assert moved.due_on == dt.date(2026, 8, 1) and not moved.overdue
    with factory() as session:
        [row] = session.scalars(
            select(ChangeRecord).where(
                ChangeRecord.entity == "actions", ChangeRecord.field == "due_on"
            )
        ).all()
    assert (row.before, row.after, row.actor) == ("2026-06-01", "2026-08-01", "subgroup.chair")
    assert row.entity_key == f"action {made.id}"
    with pytest.raises(NotFoundError):
        change_due_date(factory, actor, 98765, dt.date(2026, 8, 1), today=TODAY)
