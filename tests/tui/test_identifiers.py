"""Held identifiers from the audit screen: the named lead holds, shows and forgets them; the
values stay off screen until asked for; anyone else gets the service's refusal and no form."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

import pytest
from rich.pretty import pretty_repr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static
from textual.worker import Worker

from audit_tools import ToolRegistry
from schemas.access import Principal, Role
from schemas.audit import Actor, AuditDetail
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from tests.tui.test_home import notifications_from
from workbench.config import Settings
from workbench.services import identifiers
from workbench.services.access import bind
from workbench.services.audits import create_audit
from workbench.services.identifiers import held_values
from workbench.store.models import ChangeRecord
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.commands import screen_verbs
from workbench.tui.identifiers_dialog import ForgetConfirm, HeldIdentifiersDialog
from workbench.tui.matrix_screen import AuditScreen

SnapCompare = Callable[..., bool]
LEAD = Principal(login="lee.lead", role=Role.LEAD)
AUDITOR = Principal(login="ann.auditor", role=Role.AUDITOR, agency="police")
OTHER_LEAD = Principal(login="olu.otherlead", role=Role.LEAD)  # a lead, not of this audit
NAME = "Jordan Example"
SIZE = (100, 30)


def plan(factory: sessionmaker[Session], registry: ToolRegistry) -> AuditDetail:
    """An audit planned by LEAD, which names them its lead."""
    return create_audit(
        factory,
        Actor(name=LEAD.login),
        registry,
        cse_plan(cases=2).model_copy(
            update={"title": "CSE audit, spring 2026", "audit_day": dt.date(2026, 3, 31)}
        ),
    )


def app_as(settings: Settings, factory: sessionmaker[Session], who: Principal) -> WorkbenchApp:
    return make_app(settings, bind(factory, who), database_label="workbench.db")


async def open_dialog(pilot: Pilot[None], app: WorkbenchApp, audit_id: int) -> None:
    """The audit screen with the first case highlighted, then i."""
    await settle(pilot)
    await app.push_screen(AuditScreen(app.factory, app.actor, audit_id))
    await settle(pilot)
    await pilot.press("i")
    await settle(pilot)


def on_screen(app: WorkbenchApp) -> str:
    """Every character the terminal shows now, as a projector would show it."""
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def identifier_records(factory: sessionmaker[Session]) -> list[ChangeRecord]:
    with factory() as session:
        query = (
            select(ChangeRecord)
            .where(ChangeRecord.entity == identifiers.ENTITY)
            .order_by(ChangeRecord.id)
        )
        return list(session.scalars(query))


def assert_never_logged(seen: list[Message]) -> None:
    """Nothing Textual's log would print of these messages (their rich repr), nor the plain
    repr of the dialog's own messages and workers, quotes the value."""
    assert not any("Jordan" in pretty_repr(m) for m in seen)
    ours = (
        HeldIdentifiersDialog.Shown,
        HeldIdentifiersDialog.Held,
        HeldIdentifiersDialog.Forgotten,
        HeldIdentifiersDialog.Failed,
    )
    assert any(isinstance(m, HeldIdentifiersDialog.Held) for m in seen)
    assert not any("Jordan" in repr(m) for m in seen if isinstance(m, ours))
    workers = [m.worker for m in seen if isinstance(m, Worker.StateChanged)]
    assert {w.group for w in workers} >= {"identifiers.hold", "identifiers.show"}
    assert not any("Jordan" in f"{w!r} {w.name} {w.description}" for w in workers)


def stored(factory: sessionmaker[Session], audit_id: int) -> list[str]:
    # The system's own path: no access check and no reading recorded.
    with factory() as session:
        return held_values(session, audit_id)


async def test_the_named_lead_holds_shows_and_forgets_an_identifier(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    audit = plan(sqlite_factory, registry)
    case = audit.cases[0]
    app = app_as(settings, sqlite_factory, LEAD)
    seen: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await open_dialog(pilot, app, audit.id)
        dialog = app.screen
        assert isinstance(dialog, HeldIdentifiersDialog)
        assert dialog.case_id == case.id
        text = on_screen(app)
        assert f"Held identifiers: case {case.reference}" in text
        assert "never exported" in text.lower() and "recorded" in text

        dialog.query_one("#kind", Input).value = "name"
        dialog.query_one("#value", Input).value = NAME
        await settle(pilot)
        assert NAME not in on_screen(app)  # typed into a password field: dots, not letters
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert stored(sqlite_factory, audit.id) == [NAME]
        assert dialog.query_one("#value", Input).value == ""
        assert "Held the name" in str(dialog.query_one("#status", Static).render())
        # Held, but not shown: nothing has been read yet.
        assert dialog.held is None
        assert "Jordan" not in on_screen(app)
        assert [r.operation for r in identifier_records(sqlite_factory)] == ["create"]

        await pilot.click("#show")
        await settle(pilot)
        assert dialog.held is not None
        assert [(h.kind, h.value) for h in dialog.held] == [("name", NAME)]
        assert NAME in on_screen(app)
        records = identifier_records(sqlite_factory)
        assert [(r.operation, r.actor) for r in records] == [
            ("create", LEAD.login),
            ("read", LEAD.login),
        ]
        assert all(r.before is None and r.after is None for r in records)
        assert all("Jordan" not in r.entity_key for r in records)

        # ctrl+r again hides them, and keeps nothing of them in the dialog.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert dialog.held is None and "Jordan" not in on_screen(app)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert NAME in on_screen(app)

        table = dialog.query_one("#held", DataTable)
        table.focus()
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, ForgetConfirm)
        await pilot.press("enter")  # the focus starts on Keep
        await settle(pilot)
        assert app.screen is dialog and stored(sqlite_factory, audit.id) == [NAME]

        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is dialog
        assert stored(sqlite_factory, audit.id) == []
        assert dialog.held == [] and table.row_count == 0
        assert "Jordan" not in on_screen(app)
        assert identifier_records(sqlite_factory)[-1].operation == "delete"

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        # Off the footer, but the palette still offers it.
        assert "Identifiers" in {v.name for v in screen_verbs(app.screen)}
    assert not any("Jordan" in n.notification.message for n in notifications_from(seen))
    assert_never_logged(seen)


async def test_a_hold_the_service_refuses_says_why_in_one_line(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    audit = plan(sqlite_factory, registry)
    app = app_as(settings, sqlite_factory, LEAD)
    async with app.run_test(size=SIZE) as pilot:
        await open_dialog(pilot, app, audit.id)
        dialog = app.screen
        assert isinstance(dialog, HeldIdentifiersDialog)
        dialog.query_one("#value", Input).value = NAME  # no kind
        await pilot.press("ctrl+s")
        await settle(pilot)
        status = str(dialog.query_one("#status", Static).render())
        assert status == "Not held: a held identifier needs a kind (e.g. name) and a value"
        assert stored(sqlite_factory, audit.id) == []
        assert dialog.query_one("#value", Input).value == NAME  # kept, to put the kind right


@pytest.mark.parametrize("who", [AUDITOR, OTHER_LEAD], ids=["auditor", "lead-of-another"])
async def test_anyone_but_a_named_lead_gets_the_refusal_and_no_form(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    who: Principal,
) -> None:
    audit = plan(sqlite_factory, registry)
    identifiers.hold_identifier(
        bind(sqlite_factory, LEAD), Actor(name=LEAD.login), audit.cases[0].id, "name", NAME
    )
    app = app_as(settings, sqlite_factory, who)
    async with app.run_test(size=SIZE) as pilot:
        # The audit screen does not offer them the key at all...
        await open_dialog(pilot, app, audit.id)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert screen.check_action("identifiers", ()) is False
        # ...and the dialog itself refuses, should it be opened some other way.
        await app.push_screen(
            HeldIdentifiersDialog(
                app.factory, app.actor, audit.id, audit.cases[0].id, audit.cases[0].reference
            )
        )
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, HeldIdentifiersDialog)
        refusal = str(dialog.query_one("#refusal", Static).render())
        assert refusal == (
            f"{who.description} cannot read or hold the identifiers of this case: "
            "only a lead named on this audit can"
        )
        assert not dialog.query(Input) and not dialog.query(DataTable)
        assert [b.id for b in dialog.query(Button)] == ["close"]
        assert not dialog.allowed
        for action in ("show", "hold", "forget"):
            assert dialog.check_action(action, ()) is False
        await pilot.press("ctrl+r", "ctrl+s")
        await settle(pilot)
        assert "Jordan" not in on_screen(app)
        records = identifier_records(sqlite_factory)
        assert [r.operation for r in records] == ["create"]  # nothing read on their behalf
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)


def test_identifiers_dialog_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    audit = plan(sqlite_factory, registry)
    identifiers.hold_identifier(
        bind(sqlite_factory, LEAD), Actor(name=LEAD.login), audit.cases[0].id, "name", NAME
    )
    app = app_as(settings, sqlite_factory, LEAD)

    async def ready(pilot: Pilot[None]) -> None:
        await open_dialog(pilot, app, audit.id)

    # Before Show: one identifier is held, and none is on screen.
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready)
