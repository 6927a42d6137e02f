"""The action plan: updating an action, refusals that keep what was typed, new actions, the look."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static, TextArea

from audit_tools import ToolRegistry
from schemas.audit import Actor
from schemas.learning import ActionIn, ActionOut, ActionStatus, ActionUpdateIn, RecommendationIn
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import actions, audits
from workbench.tui.action_dialogs import ActionDialog, ActionUpdateDialog, DueDateDialog
from workbench.tui.actions_screen import ActionsScreen
from workbench.tui.app import WorkbenchApp

TODAY = dt.date(2026, 11, 23)
LEAD = Actor(name="t.tester")  # the settings fixture's actor: the app acts as this person
SEEDER = Actor(name="s.subgroup", agency="police")
SIZE = (120, 34)
SnapCompare = Callable[..., bool]


@dataclass(frozen=True)
class Plan:
    audit_id: int
    recommendation_id: int
    late: ActionOut  # 20 days overdue, on a recommendation
    slightly_late: ActionOut  # 3 days overdue
    open: ActionOut  # due next month
    done: ActionOut  # complete


def seed(factory: sessionmaker[Session], registry: ToolRegistry) -> Plan:
    """One audit with a recommendation and four actions in every state the plan shows."""
    audit = audits.create_audit(
        factory,
        SEEDER,
        registry,
        cse_plan().model_copy(update={"title": "CSE audit 2026"}),
    )
    rec = actions.add_recommendation(
        factory,
        SEEDER,
        audit.id,
        RecommendationIn(text="Schools attend every CSE strategy meeting"),
    )

    def add(description: str, owner: str, agency: str, due: dt.date, **more: Any) -> ActionOut:
        new = ActionIn(
            description=description,
            owner_name=owner,
            owner_agency=agency,
            due_on=due,
            **more,
        )
        return actions.add_action(factory, SEEDER, new, today=TODAY)

    open_one = add("Refresh the CSE screening tool", "A. Khan", "school", dt.date(2026, 12, 15))
    late = add(
        "Invite schools to strategy meetings",
        "J. Patel",
        "police",
        dt.date(2026, 11, 3),
        recommendation_id=rec.id,
        escalation_route="Head of public protection",
    )
    slightly_late = add(
        "Audit strategy meeting minutes", "M. Jones", "childrens-social-care", dt.date(2026, 11, 20)
    )
    done = add("Brief GPs on CSE indicators", "R. Shah", "gp", dt.date(2026, 10, 1))
    done = actions.update_action(
        factory,
        SEEDER,
        done.id,
        ActionUpdateIn(
            on=dt.date(2026, 9, 30),
            text="Briefing given at the GP forum",
            status=ActionStatus.COMPLETE,
            evidence_of_impact="GP referrals now name CSE indicators",
        ),
        today=TODAY,
    )
    return Plan(audit.id, rec.id, late, slightly_late, open_one, done)


def top(app: WorkbenchApp) -> Screen[Any]:
    """The screen on top now (a function, so a type checker does not carry narrowing over)."""
    return app.screen


def build_app(settings: Settings, factory: sessionmaker[Session]) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, database_label="workbench.db", today=TODAY)


def cells(app: WorkbenchApp) -> dict[str, list[str]]:
    table: DataTable[Any] = app.screen.query_one("#actions", DataTable)
    return {
        str(key.value): [c.plain if isinstance(c, Text) else str(c) for c in table.get_row(key)]
        for key in table.rows
    }


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


async def open_actions(app: WorkbenchApp, pilot: Pilot[Any]) -> ActionsScreen:
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, ActionsScreen)
    return screen


async def type_text(pilot: Pilot[Any], selector: str, text: str) -> None:
    """Focus a field and type into it key by key, as a person would."""
    pilot.app.screen.query_one(selector).focus()
    await pilot.pause()
    await pilot.press(*text)


async def test_updating_an_action(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    plan = seed(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_actions(app, pilot)

        # Overdue first, most overdue at the top, marked in words; complete last.
        rows = cells(app)
        assert list(rows) == [
            str(a.id) for a in (plan.late, plan.slightly_late, plan.open, plan.done)
        ]
        late_row = rows[str(plan.late.id)]
        assert late_row[:4] == ["3 Nov 2026", "20 days overdue", "● Not started", "J. Patel"]
        assert late_row[4].startswith("Invite schools to")
        assert late_row[5:] == ["police", "R1 · CSE audi…"]  # the number first: titles are cut
        assert rows[str(plan.slightly_late.id)][1] == "3 days overdue"
        assert rows[str(plan.open.id)][1] == ""
        assert rows[str(plan.done.id)][2] == "● Complete"
        table = screen.query_one("#actions", DataTable)
        first = table.get_row_at(0)
        assert first[1].style == first[0].style != ""  # styled to stand out, not only worded
        detail = str(screen.query_one("#detail-text", Static).render())
        assert "Invite schools to strategy meetings (Action: J. Patel)" in detail
        assert "Head of public protection" in detail
        assert "Not started (Amber)" in detail

        await pilot.press("u")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ActionUpdateDialog)
        assert dialog.query_one("#on", Input).value == "2026-11-23"  # today by default
        await type_text(pilot, "#text", "Met the heads")
        dialog.query_one("#status", Select).value = ActionStatus.ON_TRACK.value
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert top(app) is screen
        saved = actions.get_action(sqlite_factory, plan.late.id, today=TODAY)
        assert saved.status is ActionStatus.ON_TRACK
        assert [(u.on, u.text, u.by) for u in saved.updates] == [
            (TODAY, "Met the heads", LEAD.name)
        ]
        # The table read the action again: the new status, still overdue, still first.
        rows = cells(app)
        assert next(iter(rows)) == str(plan.late.id)
        assert rows[str(plan.late.id)][1:3] == ["20 days overdue", "● On track"]
        detail = str(screen.query_one("#detail-text", Static).render())
        assert "23 Nov 2026, t.tester: Met the heads" in detail


async def test_completing_without_evidence_is_refused_and_keeps_the_update(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    plan = seed(sqlite_factory, registry)
    seen: list[Message] = []
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_actions(app, pilot)
        screen.query_one("#actions", DataTable).move_cursor(row=1)  # 3 days overdue
        await pilot.pause()
        await pilot.press("u")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ActionUpdateDialog)
        assert dialog.action.id == plan.slightly_late.id
        await type_text(pilot, "#text", "All done")
        dialog.query_one("#status", Select).value = ActionStatus.COMPLETE.value
        await pilot.press("ctrl+s")
        await settle(pilot)

        # Refused in one line, in the dialog that came back with everything typed.
        reason = (
            "an action is complete when there is evidence of its impact: add it with the update"
        )
        again = app.screen
        assert isinstance(again, ActionUpdateDialog)
        assert str(again.query_one("#problem", Static).render()) == f"Not saved: {reason}"
        assert again.query_one("#text", TextArea).text == "All done"
        assert again.query_one("#status", Select).value == ActionStatus.COMPLETE.value
        assert f"Not saved: {reason}" in notes(seen)
        unchanged = actions.get_action(sqlite_factory, plan.slightly_late.id, today=TODAY)
        assert unchanged.updates == ()
        assert unchanged.status is ActionStatus.NOT_STARTED

        # With evidence of impact it goes through, and leaves the overdue list.
        await type_text(pilot, "#evidence", "Minutes show schools present")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(app) is screen
        done = actions.get_action(sqlite_factory, plan.slightly_late.id, today=TODAY)
        assert done.status is ActionStatus.COMPLETE
        assert done.evidence_of_impact == "Minutes show schools present"
        assert [u.text for u in done.updates] == ["All done"]
        assert not done.overdue
        assert cells(app)[str(done.id)][1] == ""

        await pilot.press("o")
        await settle(pilot)
        assert list(cells(app)) == [str(plan.late.id)]
        await pilot.press("o")
        await settle(pilot)
        assert len(cells(app)) == 4


async def test_new_action_on_a_recommendation_and_a_moved_due_date(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    plan = seed(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = ActionsScreen(sqlite_factory, app.actor, TODAY, audit_id=plan.audit_id)
        await app.push_screen(screen)
        await settle(pilot)
        assert list(cells(app)) == [str(plan.late.id)]  # only this audit's actions

        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        await type_text(pilot, "#description", "Add schools to the invite list")
        dialog.query_one("#owner", Input).value = "D. Evans"
        dialog.query_one("#agency", Select).value = "childrens-social-care"
        dialog.query_one("#due", Input).value = "2027-31-01"  # the wrong way round
        dialog.query_one("#recommendation", Select).value = plan.recommendation_id
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert top(app) is dialog
        problem = str(dialog.query_one("#problem", Static).render())
        assert problem == "Not saved yet: Due on: '2027-31-01' is not a date like 2026-11-23."
        dialog.query_one("#due", Input).value = "2027-01-31"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert top(app) is screen

        [new] = [
            a
            for a in actions.list_actions(sqlite_factory, today=TODAY, audit_id=plan.audit_id)
            if a.description == "Add schools to the invite list"
        ]
        assert (new.owner_name, new.owner_agency, new.due_on) == (
            "D. Evans",
            "childrens-social-care",
            dt.date(2027, 1, 31),
        )
        assert (new.audit_id, new.recommendation_id) == (plan.audit_id, plan.recommendation_id)
        assert new.created_by == LEAD.name
        assert len(cells(app)) == 2

        # Moving the late action's date a month on: no longer overdue, so no longer first.
        screen.query_one("#actions", DataTable).move_cursor(row=0)
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        due = app.screen
        assert isinstance(due, DueDateDialog)
        due.query_one("#due", Input).value = "2026-12-23"
        await pilot.press("enter")
        await settle(pilot)
        moved = actions.get_action(sqlite_factory, plan.late.id, today=TODAY)
        assert moved.due_on == dt.date(2026, 12, 23)
        assert not moved.overdue
        assert cells(app)[str(plan.late.id)][1] == ""
        highlighted = screen.highlighted()
        assert highlighted is not None and highlighted.id == plan.late.id  # the cursor stays


def test_actions_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    seed(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory)

    async def open_screen(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_screen)
