"""The home screen: Pilot tests on its state, then snapshots of its look."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.worker import WorkerFailed

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services.audits import create_audit
from workbench.services.returns import find_return, record_finding, submit_return
from workbench.store.engine import make_engine, make_session_factory
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.commands import screen_verbs
from workbench.tui.home import EMPTY_MESSAGE, HomeScreen

SIZE = (80, 24)
ACTOR = Actor(name="a.auditor", agency="police")


def plan_audits(factory: sessionmaker[Session], registry: ToolRegistry) -> list[AuditDetail]:
    """Two audits with fixed dates; the police return on the first case of the second is done."""
    first = create_audit(
        factory,
        ACTOR,
        registry,
        cse_plan().model_copy(
            update={
                "title": "CSE audit, spring 2026",
                "audit_day": dt.date(2026, 3, 31),
                "returns_due": dt.date(2026, 3, 10),
            }
        ),
    )
    second = create_audit(
        factory,
        ACTOR,
        registry,
        cse_plan(agencies=("police", "school"), cases=2).model_copy(
            update={"title": "Missing from education", "returns_due": dt.date(2026, 5, 1)}
        ),
    )
    return_id = find_return(factory, second.id, "CSE-25-01", "police")
    for criterion in registry.definition("cse").tool.criteria_for("police"):
        record_finding(
            factory,
            ACTOR,
            return_id,
            criterion.id,
            FindingChange(grade="good"),
            expected_version=None,
        )
    submit_return(factory, ACTOR, return_id)
    return [first, second]


def build_app(
    settings: Settings, factory: sessionmaker[Session], label: str = "wb.db"
) -> WorkbenchApp:
    return make_app(settings, factory, database_label=label)


def table_of(app: WorkbenchApp) -> DataTable[str]:
    table: DataTable[str] = app.screen.query_one("#audits", DataTable)
    return table


def empty_shown(app: WorkbenchApp) -> bool:
    screen = app.screen
    return (
        screen.has_class("-empty")
        and screen.query_one("#empty", Static).display
        and not table_of(app).display
    )


def police_criteria(registry: ToolRegistry) -> int:
    return len(registry.definition("cse").tool.criteria_for("police"))


async def test_lists_each_audit_with_tool_status_dates_and_progress(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    first, second = plan_audits(sqlite_factory, registry)
    cse = registry.definition("cse").tool
    expected_first = 3 * sum(len(cse.criteria_for(a)) for a in ("police", "school", "gp"))
    expected_second = 2 * sum(len(cse.criteria_for(a)) for a in ("police", "school"))
    answered = police_criteria(registry)
    app = build_app(settings, sqlite_factory, label="/tmp/wb.db")

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.title == "Case Audit Workbench"
        assert app.sub_title == "/tmp/wb.db"
        table = table_of(app)
        assert table.row_count == 2
        assert [str(c.label) for c in table.columns.values()] == [
            "Title",
            "Tool",
            "Status",
            "Audit day",
            "Returns due",
            "Progress",
            "Returns",
        ]
        # Newest first: the list is ordered by when each audit was planned.
        assert table.get_row_at(0) == [
            "Missing from education",
            "cse v1",
            "planning",
            "-",
            "1 May 2026",
            f"{answered}/{expected_second} ({answered / expected_second:.0%})",
            "1/4",
        ]
        assert table.get_row_at(1) == [
            "CSE audit, spring 2026",
            "cse v1",
            "planning",
            "31 Mar 2026",
            "10 Mar 2026",
            f"0/{expected_first} (0%)",
            "0/9",
        ]
        # Rows are keyed by audit id, so a later screen can open the audit under the cursor.
        assert table.get_row(str(first.id))[0] == first.title
        assert table.get_row(str(second.id))[0] == second.title
        assert not empty_shown(app)
        assert not table.loading


async def test_no_audits_shows_how_to_get_started(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert table_of(app).row_count == 0
        assert empty_shown(app)
        text = str(app.screen.query_one("#empty", Static).render())
        assert text == EMPTY_MESSAGE
        assert "workbench demo" in text


async def test_refresh_picks_up_an_audit_planned_after_start(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert empty_shown(app)

        # Someone else (the CLI, another auditor) plans an audit while the screen is open.
        detail = create_audit(sqlite_factory, ACTOR, registry, cse_plan())
        assert table_of(app).row_count == 0  # no polling: nothing changes until asked

        await pilot.press("r")
        await settle(pilot)
        table = table_of(app)
        assert table.row_count == 1
        assert table.get_row(str(detail.id))[0] == detail.title
        assert not empty_shown(app)


async def test_bindings_have_tooltips_and_q_quits(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = build_app(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        active = {b.binding.key: b.binding for b in app.active_bindings.values()}
        for key in ("r", "v", "l", "a", "q"):
            assert active[key].tooltip, f"binding {key!r} has no tooltip"
        assert active["q"].show and active["l"].show and active["a"].show
        # Kept off the 80-column footer, but still offered by the palette.
        assert not active["r"].show and not active["v"].show
        verbs = {verb.name for verb in screen_verbs(app.screen)}
        assert {"Refresh", "Vocabulary", "Learning", "Actions"} <= verbs
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


def notifications_from(seen: list[Message]) -> list[Notify]:
    return [m for m in seen if isinstance(m, Notify)]


async def run_failing(
    settings: Settings, factory: sessionmaker[Session]
) -> tuple[WorkbenchApp, list[Notify]]:
    seen: list[Message] = []
    app = build_app(settings, factory)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        # Waiting re-raises a worker's unexpected error; the screen's report of it is what
        # this test checks, so the raise itself is expected here.
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running  # a failed read is reported, never fatal
        assert table_of(app).row_count == 0
        assert not table_of(app).loading
        assert not empty_shown(app)  # "no audits yet" would be a lie: we could not look
    return app, notifications_from(seen)


async def test_a_database_that_cannot_be_opened_is_reported_in_plain_words(
    settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/missing/wb.db", create_file=False)
    try:
        _, notes = await run_failing(settings, make_session_factory(engine))
    finally:
        engine.dispose()
    [note] = notes
    assert note.notification.severity == "error"
    assert note.notification.title == "Audits not loaded"
    message = note.notification.message
    assert message.startswith("Could not read the audits: ")
    assert "cannot open the database file" in message
    assert "Traceback" not in message
    assert "\n" not in message


async def test_an_unexpected_error_is_still_one_line_without_a_traceback(
    settings: Settings, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database file, not at all" * 100)
    engine = make_engine(f"sqlite:///{garbage}")
    try:
        _, notes = await run_failing(settings, make_session_factory(engine))
    finally:
        engine.dispose()
    [note] = notes
    assert note.notification.severity == "error"
    message = note.notification.message
    assert message.startswith("Could not read the audits: ")
    assert "Traceback" not in message
    assert "\n" not in message


# Snapshots: fixed audits, fixed database label, fixed size; workers finish before the shot.


async def _wait_for_workers(pilot: Pilot[None]) -> None:
    await settle(pilot)


def _snapshot_app(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry | None
) -> WorkbenchApp:
    if registry is not None:
        plan_audits(factory, registry)
    return build_app(settings, factory, label="workbench.db")


SnapCompare = Callable[..., bool]


def test_home_snapshot_80x24(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    app = _snapshot_app(settings, sqlite_factory, registry)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_wait_for_workers)


def test_home_snapshot_120x40(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    app = _snapshot_app(settings, sqlite_factory, registry)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_wait_for_workers)


def test_home_empty_snapshot_80x24(
    snap_compare: SnapCompare, settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = _snapshot_app(settings, sqlite_factory, None)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_wait_for_workers)
