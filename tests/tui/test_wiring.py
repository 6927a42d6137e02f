"""The journeys joined up: home to an audit, planning, overview, help, and the remembered agency."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from textual.widgets import DataTable

from audit_tools import ToolRegistry
from schemas.audit import Actor
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.help_screen import HelpScreen
from workbench.tui.home import HomeScreen
from workbench.tui.matrix_screen import AuditScreen
from workbench.tui.overview_screen import OverviewScreen
from workbench.tui.plan_audit import PlanAuditScreen
from workbench.tui.preferences import load_preferences
from workbench.tui.return_screen import ReturnScreen

SIZE = (120, 40)


def app_for(settings: Settings, factory: sessionmaker[Session]) -> WorkbenchApp:
    return make_app(settings, factory, "workbench.db", registry=ToolRegistry.load())


async def test_enter_on_home_opens_the_audits_matrix_and_escape_returns(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    detail = audits.create_audit(sqlite_factory, Actor(name="lead"), registry, cse_plan())
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        matrix = app.screen.query_one(DataTable)
        assert matrix.row_count == len(detail.cases)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_home_keys_open_planning_overview_and_help(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, PlanAuditScreen)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)


async def test_theme_key_switches_light_and_dark(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        before = app.theme
        await pilot.press("f2")
        await pilot.pause()
        assert app.theme != before
        assert {before, app.theme} == {"textual-dark", "textual-light"}


async def test_the_agency_opened_last_is_remembered_and_the_matrix_starts_there(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    detail = audits.create_audit(sqlite_factory, Actor(name="lead"), registry, cse_plan())
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, app.actor, detail.id))
        await settle(pilot)
        matrix = app.screen.query_one(DataTable)
        # Columns: case, need, then agencies in the audit's order (gp, police, school).
        matrix.move_cursor(row=0, column=3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReturnScreen)
    assert load_preferences(settings.config_dir).agency == "police"

    again = app_for(settings, sqlite_factory)
    assert again.actor.agency == "police"
    async with again.run_test(size=SIZE) as pilot:
        await again.push_screen(AuditScreen(sqlite_factory, again.actor, detail.id))
        await settle(pilot)
        assert again.screen.query_one(DataTable).cursor_coordinate.column == 3


async def test_a_concern_can_be_raised_from_moderation_too(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    from textual.widgets import Input, TextArea

    from workbench.services import casework
    from workbench.tui.concern_dialog import ConcernDialog
    from workbench.tui.moderation_screen import ModerationScreen

    detail = audits.create_audit(sqlite_factory, Actor(name="lead"), registry, cse_plan())
    case = detail.cases[1]
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ModerationScreen(sqlite_factory, app.actor, case.id))
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConcernDialog)
        dialog.query_one("#what", TextArea).text = "Child still going missing; not known to MASH"
        dialog.query_one("#who", Input).value = "Duty team manager"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ModerationScreen)
    [concern] = casework.open_concerns(sqlite_factory, detail.id)
    assert concern.case_id == case.id
    assert concern.who_told == "Duty team manager"
    assert concern.concern.startswith("Child still going missing")
