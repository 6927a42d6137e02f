"""The terminal app follows the user's role: verbs a role cannot use are not offered, and an
auditor's audit screen shows their own agency's column until moderation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Select, TextArea

from audit_tools import ToolRegistry
from schemas.access import Principal, Role
from schemas.audit import AuditStatus
from tests.tui.pilot_helpers import settle
from tests.tui.test_home import ACTOR, notifications_from, plan_audits
from workbench.config import Settings
from workbench.services.access import bind
from workbench.services.audits import set_status
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.commands import screen_verbs
from workbench.tui.home import HomeScreen
from workbench.tui.matrix_screen import AuditScreen
from workbench.tui.moderation_screen import ModerationScreen
from workbench.tui.plan_audit import PlanAuditScreen

SnapCompare = Callable[..., bool]
SUBGROUP = Principal(login="sue.subgroup", role=Role.SUBGROUP)
AUDITOR = Principal(login="ann.auditor", role=Role.AUDITOR, agency="police")


def _app(settings: Settings, factory: sessionmaker[Session], who: Principal) -> WorkbenchApp:
    app = make_app(settings, bind(factory, who), database_label="workbench.db")
    return app


async def test_the_subgroup_is_offered_aggregates_and_learning_not_audits(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    plan_audits(sqlite_factory, registry)
    app = _app(settings, sqlite_factory, SUBGROUP)
    seen: list[Message] = []
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "sue.subgroup (subgroup member)" in app.sub_title
        shown = {b.binding.action for b in app.screen.active_bindings.values()}
        assert {"overview", "learning_log", "actions"} <= shown
        enabled = {
            name
            for name in ("plan", "vocabulary", "open_audit", "overview")
            if app.screen.check_action(name, ())
        }
        assert enabled == {"overview"}
        assert "New audit" not in {v.name for v in screen_verbs(app.screen)}
        assert "Overview" in {v.name for v in screen_verbs(app.screen)}
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, PlanAuditScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert any(
            "aggregates and learning" in n.notification.message for n in notifications_from(seen)
        )
        await pilot.press("o")
        await settle(pilot)
        assert type(app.screen).__name__ == "OverviewScreen"


async def test_an_auditor_sees_their_own_column_until_moderation(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    first, _ = plan_audits(sqlite_factory, registry)
    app = _app(settings, sqlite_factory, AUDITOR)
    assert app.actor.name == "ann.auditor" and app.actor.agency == "police"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.check_action("plan", ()) is False
        await app.push_screen(AuditScreen(app.factory, app.actor, first.id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen) and screen.matrix is not None
        assert [a.code for a in screen.matrix.agencies] == ["police"]
        verbs = {v.name for v in screen_verbs(screen)}
        assert "Open" in verbs and not {"Moderate", "Concerns", "Export"} & verbs
        await pilot.press("m")
        await settle(pilot)
        assert app.screen is screen  # moderation is not opened for them
        await pilot.press("escape")
        await settle(pilot)

        set_status(sqlite_factory, ACTOR, first.id, AuditStatus.MODERATION)
        await app.push_screen(AuditScreen(app.factory, app.actor, first.id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen) and screen.matrix is not None
        assert [a.code for a in screen.matrix.agencies] == ["gp", "police", "school"]
        verbs = {v.name for v in screen_verbs(screen)}
        assert "Moderate" in verbs and not {"Concerns", "Export"} & verbs
        # Moderation opens for them to read: the panel's grades, no editing.
        await pilot.press("m")
        await settle(pilot)
        moderation = app.screen
        assert isinstance(moderation, ModerationScreen) and moderation.sheet is not None
        assert moderation.query_one("#reasons", TextArea).read_only
        assert moderation.query_one("#grade", Select).disabled
        verbs = {v.name for v in screen_verbs(moderation)}
        assert "Save" not in verbs and "Agreement" in verbs


def test_subgroup_home_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    plan_audits(sqlite_factory, registry)
    app = _app(settings, sqlite_factory, SUBGROUP)

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)


async def test_only_those_who_keep_the_learning_log_are_offered_drafting_from_a_theme(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    from workbench.tui.audit_themes_screen import AuditThemesScreen

    first, _ = plan_audits(sqlite_factory, registry)
    offered: dict[Role, bool] = {}
    for who in (AUDITOR, Principal(login="lee.lead", role=Role.LEAD)):
        app = _app(settings, sqlite_factory, who)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = AuditThemesScreen(app.factory, app.actor, first.id, dt.date(2026, 11, 24))
            await app.push_screen(screen)
            await settle(pilot)
            offered[who.role] = "Learning item" in {v.name for v in screen_verbs(screen)}
            if who.role is Role.AUDITOR:
                await pilot.press("l")
                await settle(pilot)
                assert app.screen is screen  # no learning dialog opened
    assert offered == {Role.AUDITOR: False, Role.LEAD: True}
