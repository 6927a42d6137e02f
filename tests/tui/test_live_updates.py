"""The lead's matrix and moderation screens follow other people's saves as they happen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Select, TextArea

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange, ModerationHeading
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, casework, returns
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.matrix_screen import AuditScreen, GradeTable
from workbench.tui.moderation_screen import ConflictDialog, ModerationScreen

LEAD = Actor(name="t.tester")  # the settings fixture's actor: the app acts as this person
SCHOOL = Actor(name="s.auditor", agency="school")
PANEL = Actor(name="panel.member")
SIZE = (100, 30)
ENOUGH = 30.0  # seconds: a bound for "it shows", never a measure of how fast


def plan(factory: sessionmaker[Session], registry: ToolRegistry, cases: int = 2) -> AuditDetail:
    return audits.create_audit(
        factory,
        Actor(name="a.lead"),
        registry,
        cse_plan(agencies=("police", "school"), cases=cases).model_copy(
            update={"title": "CSE audit, live"}
        ),
    )


def save(
    factory: sessionmaker[Session], audit: AuditDetail, agency: str, criterion: str, grade: str
) -> None:
    """An auditor elsewhere saves one answer: a separate engine, as another computer has."""
    rid = returns.find_return(factory, audit.id, audit.cases[0].reference, agency)
    returns.record_finding(
        factory,
        SCHOOL,
        rid,
        criterion,
        FindingChange(grade=grade, evidence="School safeguarding log, March"),
        expected_version=None,
    )


def moderate(factory: sessionmaker[Session], audit: AuditDetail, grade: str, reasons: str) -> None:
    casework.set_moderated_grade(
        factory,
        PANEL,
        audit.cases[0].id,
        ModerationHeading.OVERALL,
        grade=grade,
        reasons=reasons,
        expected_version=0,
    )


async def until(pilot: Pilot[None], check: Callable[[], bool]) -> bool:
    """Let the app run until `check` holds, for at most ENOUGH seconds."""
    for _ in range(int(ENOUGH / 0.1)):
        if check():
            return True
        await pilot.pause(0.1)
    return check()


async def watching(pilot: Pilot[None]) -> None:
    """Wait for the app's watcher to be looking: saves before that are not news to it."""
    app = pilot.app
    assert isinstance(app, WorkbenchApp)
    assert await until(pilot, app.live.ready.is_set)


def cell(app: WorkbenchApp, selector: str, row: str, column: str) -> str:
    return app.screen.query_one(selector, GradeTable).get_cell(row, column).plain


@pytest.fixture
def other(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Another auditor's session factory on the same SQLite file as the app's."""
    engine = make_engine(f"sqlite:///{tmp_path}/wb.db")
    yield make_session_factory(engine)
    engine.dispose()


def app_for(settings: Settings, factory: sessionmaker[Session]) -> WorkbenchApp:
    return make_app(settings, factory, "workbench.db", registry=ToolRegistry.load())


# --- the matrix ---------------------------------------------------------------------------


async def test_matrix_shows_another_auditors_save_without_a_refresh(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    other: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    audit = plan(sqlite_factory, registry, cases=40)  # more rows than the screen shows
    first = str(audit.cases[0].id)
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = AuditScreen(sqlite_factory, LEAD, audit.id)
        await app.push_screen(screen)
        await settle(pilot)
        await watching(pilot)
        before = cell(app, "#matrix", first, "school")
        assert before.startswith("- 0/")
        # The lead went down to the last case, then back up a few to a police cell: a
        # refresh keeps both the cursor and the scroll just where they are.
        screen.table.move_cursor(row=39, column=2)
        await pilot.pause()
        screen.table.move_cursor(row=30, column=2)
        await pilot.pause()
        where, scrolled = screen.table.cursor_coordinate, screen.table.scroll_y
        assert scrolled > 0

        save(other, audit, "school", "cse-1.1", "inadequate")
        assert await until(pilot, lambda: cell(app, "#matrix", first, "school") != before)
        assert cell(app, "#matrix", first, "school").startswith("4 Inad. 1/")
        await pilot.pause()
        assert screen.table.cursor_coordinate == where
        assert screen.table.scroll_y == scrolled
        assert app.screen is screen


@pytest.mark.postgres
async def test_matrix_follows_a_save_on_postgresql(
    settings: Settings, postgres_schema_url: str, registry: ToolRegistry
) -> None:
    engine: Engine = make_engine(postgres_schema_url)
    ensure_schema(engine, "test", upgrade_if_needed=True)
    elsewhere = make_engine(postgres_schema_url)
    try:
        factory = make_session_factory(engine)
        audit = plan(factory, registry)
        first = str(audit.cases[0].id)
        app = app_for(settings, factory)
        async with app.run_test(size=SIZE) as pilot:
            await app.push_screen(AuditScreen(factory, LEAD, audit.id))
            await settle(pilot)
            await watching(pilot)
            assert cell(app, "#matrix", first, "school").startswith("- 0/")
            save(make_session_factory(elsewhere), audit, "school", "cse-1.1", "good")
            assert await until(
                pilot, lambda: cell(app, "#matrix", first, "school").startswith("2 Good")
            )
    finally:
        elsewhere.dispose()
        engine.dispose()


async def test_the_watcher_stops_with_the_app(
    settings: Settings, sqlite_factory: sessionmaker[Session]
) -> None:
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        await watching(pilot)
        assert app.live.running
    assert not app.live.running


async def test_an_unreachable_server_is_one_line_not_a_crash(settings: Settings) -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # nothing on port 1
    seen: list[Message] = []
    app = app_for(settings, make_session_factory(engine))
    try:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:

            def told() -> list[str]:
                return [
                    m.notification.message
                    for m in seen
                    if isinstance(m, Notify) and m.notification.title == "Live updates"
                ]

            assert await until(pilot, lambda: bool(told()))
            [line] = told()
            assert line.startswith("Live updates paused (") and "\n" not in line
            assert app.is_running
    finally:
        engine.dispose()


# --- moderation ---------------------------------------------------------------------------


async def open_moderation(
    pilot: Pilot[None], factory: sessionmaker[Session], audit: AuditDetail
) -> ModerationScreen:
    screen = ModerationScreen(factory, LEAD, audit.cases[0].id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    await watching(pilot)
    return screen


async def test_moderation_shows_another_agencys_new_grade(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    other: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    audit = plan(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_moderation(pilot, sqlite_factory, audit)
        assert cell(app, "#answers", "cse-2.1", "school") == "-"
        save(other, audit, "school", "cse-2.1", "requires_improvement")
        assert await until(pilot, lambda: cell(app, "#answers", "cse-2.1", "school") != "-")
        assert cell(app, "#answers", "cse-2.1", "school") == "3 RI"
        assert app.screen is screen


async def test_a_heading_nobody_is_editing_takes_the_panels_new_grade(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    other: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    audit = plan(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_moderation(pilot, sqlite_factory, audit)
        screen.query_one("#answers", GradeTable).focus()  # looking, not editing
        await pilot.pause()
        reasons = screen.query_one("#reasons", TextArea)
        moderate(other, audit, "inadequate", "Health never referred")
        assert await until(pilot, lambda: reasons.text == "Health never referred")
        assert screen.query_one("#grade", Select).value == "inadequate"
        assert cell(app, "#headings", "overall", "moderated") == "4 Inad."
        assert screen.drafts == {}
        # Saving over it later expects the version now shown: no false conflict.
        assert screen.sheet is not None
        assert screen.sheet.heading(ModerationHeading.OVERALL).version == 1


async def test_typed_reasons_survive_a_refresh_and_saving_meets_the_other_save(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    other: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    audit = plan(sqlite_factory, registry)
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = await open_moderation(pilot, sqlite_factory, audit)
        reasons = screen.query_one("#reasons", TextArea)
        reasons.focus()
        reasons.insert("Police acted on the first referral")  # one edit, as a paste
        await pilot.pause()
        assert ModerationHeading.OVERALL in screen.drafts

        # Meanwhile a panel member saves this very heading, and the school an answer.
        moderate(other, audit, "inadequate", "Health never referred")
        save(other, audit, "school", "cse-2.1", "good")
        assert await until(pilot, lambda: cell(app, "#answers", "cse-2.1", "school") != "-")

        # The rest of the screen moved on; what the lead typed did not.
        assert cell(app, "#answers", "cse-2.1", "school") == "2 Good"
        assert reasons.text == "Police acted on the first referral"
        assert screen.drafts[ModerationHeading.OVERALL].reasons == reasons.text
        assert "*" in cell(app, "#headings", "overall", "heading")

        # The warning is posted by the same refresh, and lands a message later.
        def told() -> bool:
            said = [m.notification.message for m in seen if isinstance(m, Notify)]
            return any(
                t.startswith("panel.member saved Overall while you were editing") for t in said
            )

        assert await until(pilot, told)

        # Saving meets the other save instead of silently writing over it.
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: isinstance(app.screen, ConflictDialog))
        [stored] = casework.moderated_grades(sqlite_factory, audit.cases[0].id)
        assert (stored.reasons, stored.updated_by) == ("Health never referred", PANEL.name)
        await pilot.click("#save-mine")
        await settle(pilot)
    [stored] = casework.moderated_grades(sqlite_factory, audit.cases[0].id)
    assert (stored.reasons, stored.updated_by) == ("Police acted on the first referral", LEAD.name)


async def test_the_grade_list_in_use_is_not_changed_under_the_lead(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    other: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    """In the grade list but not yet chosen: no draft, yet the field is the lead's."""
    audit = plan(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_moderation(pilot, sqlite_factory, audit)
        grade = screen.query_one("#grade", Select)
        grade.focus()
        await pilot.pause()
        assert screen.drafts == {}
        moderate(other, audit, "inadequate", "Health never referred")
        save(other, audit, "school", "cse-2.1", "good")
        assert await until(pilot, lambda: cell(app, "#answers", "cse-2.1", "school") != "-")
        assert grade.value == Select.NULL
        assert screen.query_one("#reasons", TextArea).text == ""
        grade.value = "outstanding"
        await pilot.pause()
        await pilot.press("ctrl+s")
        assert await until(pilot, lambda: isinstance(app.screen, ConflictDialog))


# --- snapshot -----------------------------------------------------------------------------

SnapCompare = Callable[..., bool]


def test_matrix_after_a_live_update_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    other: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    audit = plan(sqlite_factory, registry)
    first = str(audit.cases[0].id)
    app = app_for(settings, sqlite_factory)

    async def saved_elsewhere(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        await watching(pilot)
        save(other, audit, "school", "cse-1.1", "inadequate")
        assert await until(
            pilot, lambda: cell(app, "#matrix", first, "school").startswith("4 Inad.")
        )
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=saved_elsewhere)
