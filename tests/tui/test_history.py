"""The change history screen: opened from a return, the matrix and moderation; read-only."""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from textual.binding import Binding
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TextArea
from textual.worker import WorkerFailed

from audit_tools import ToolRegistry
from schemas.audit import (
    Actor,
    AuditDetail,
    ChangeRecordOut,
    FindingChange,
    ModerationHeading,
)
from schemas.learning import TaggedKind
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, casework, returns
from workbench.services.change_history import (
    history_of_audit,
    history_of_case,
    history_of_finding,
    history_of_return,
)
from workbench.services.themes import set_tags
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.models import ChangeRecord
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.commands import WorkbenchCommands
from workbench.tui.history_screen import (
    HistoryScope,
    HistoryScreen,
    case_scope,
    cut,
    finding_scope,
    return_scope,
    value_text,
)
from workbench.tui.matrix_screen import AuditScreen
from workbench.tui.moderation_screen import ModerationScreen
from workbench.tui.return_screen import ReturnScreen

AUDITOR = Actor(name="a.auditor", agency="police")
COLLEAGUE = Actor(name="b.colleague", agency="police")
LEAD = Actor(name="t.tester")
# Wide enough that no value in the seeded rows is cut short.
WIDE = (200, 40)
SIZE = (100, 30)
EVIDENCE = "Screening tool on file"
LONG_EVIDENCE = (
    "Police log 14 March: CSE screening tool completed by the missing persons coordinator, "
    "every indicator evidenced, shared with children's social care the same day."
)


@dataclass(frozen=True)
class Seeded:
    audit: AuditDetail
    case: str
    return_id: int
    criterion: str


def seed(
    factory: sessionmaker[Session], registry: ToolRegistry, evidence: str = EVIDENCE
) -> Seeded:
    """Two cases; the second's police finding saved twice, by two people, then more besides."""
    audit = audits.create_audit(
        factory, AUDITOR, registry, cse_plan(agencies=("police", "school"), cases=2)
    )
    case = audit.cases[1].reference
    criterion = registry.definition("cse").tool.criteria_for("police")[0].id
    return_id = returns.find_return(factory, audit.id, case, "police")
    first = returns.record_finding(
        factory, AUDITOR, return_id, criterion, FindingChange(grade="good"), expected_version=None
    )
    returns.record_finding(
        factory,
        COLLEAGUE,
        return_id,
        criterion,
        FindingChange(evidence=evidence),
        expected_version=first.version,
    )
    # Other changes in the same case and in the other case: kept out of the finding's view.
    casework.set_moderated_grade(
        factory,
        LEAD,
        audit.cases[1].id,
        ModerationHeading.OVERALL,
        grade="requires_improvement",
        reasons="Risk not reviewed after missing episodes",
        expected_version=0,
    )
    other = returns.find_return(factory, audit.id, audit.cases[0].reference, "police")
    returns.record_finding(
        factory, COLLEAGUE, other, criterion, FindingChange(grade="good"), expected_version=None
    )
    return Seeded(audit, case, return_id, criterion)


def app_for(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry
) -> WorkbenchApp:
    return make_app(settings, factory, database_label="workbench.db", registry=registry)


def table(screen: HistoryScreen) -> DataTable[Text]:
    return screen.query_one("#changes", DataTable)


def column(screen: HistoryScreen, key: str) -> list[str]:
    grid = table(screen)
    return [grid.get_cell(str(i), key).plain for i in range(grid.row_count)]


def who_before_after(screen: HistoryScreen) -> list[tuple[str, str, str]]:
    return list(
        zip(column(screen, "who"), column(screen, "before"), column(screen, "after"), strict=True)
    )


def shown_as(screen: HistoryScreen, records: list[ChangeRecordOut]) -> list[tuple[str, str, str]]:
    """What each record's who, before and after read as in a table this wide."""
    width = screen.value_width()
    return [
        (r.actor, cut(value_text(r, r.before), width), cut(value_text(r, r.after), width))
        for r in records
    ]


def detail(screen: HistoryScreen) -> str:
    return str(screen.query_one("#detail-text", Static).render())


def heading(screen: HistoryScreen) -> str:
    return str(screen.query_one("#heading", Static).render())


def notes(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)]


async def open_return_at(
    pilot: Pilot[None], factory: sessionmaker[Session], seeded: Seeded
) -> ReturnScreen:
    screen = ReturnScreen(factory, AUDITOR, seeded.return_id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    # The return opens at the first unanswered criterion; the seeded one comes before it.
    for _ in range(10):
        if str(screen.query_one("#question", Static).render()).startswith(seeded.criterion):
            break
        await pilot.press("ctrl+b")
        await settle(pilot)
    assert str(screen.query_one("#question", Static).render()).startswith(seeded.criterion)
    return screen


async def press_for_history(pilot: Pilot[None], key: str) -> HistoryScreen:
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HistoryScreen)
    return screen


# -- from the return ---------------------------------------------------------------------------


async def test_ctrl_l_on_a_return_shows_the_findings_history_as_recorded(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    audit_id, case, criterion = seeded.audit.id, seeded.case, seeded.criterion
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=WIDE) as pilot:
        return_screen = await open_return_at(pilot, sqlite_factory, seeded)
        screen = await press_for_history(pilot, "ctrl+l")

        expected = history_of_finding(sqlite_factory, audit_id, case, "police", criterion)
        assert screen.records == expected
        assert who_before_after(screen) == [
            ("a.auditor", "", "grade: good"),
            ("b.colleague", "", EVIDENCE),
        ]
        assert column(screen, "what") == ["finding", "finding"]
        assert column(screen, "field") == ["created", "evidence"]
        assert screen.sub_title == f"History: finding {criterion}, police return, case {case}"
        assert heading(screen).startswith(
            f"History: finding {criterion}, police return, case {case} · 2 changes, oldest first"
        )

        # The highlighted change in full below the table.
        assert "a.auditor" in detail(screen) and "nothing: it was created here" in detail(screen)
        await pilot.press("down")
        await settle(pilot)
        assert "b.colleague" in detail(screen)
        assert f"Before:\n(blank)\nAfter:\n{EVIDENCE}" in detail(screen)

        # s widens to the whole return, then the case, then back to the finding.
        await pilot.press("s")
        await settle(pilot)
        whole_return = history_of_return(sqlite_factory, audit_id, case, "police")
        assert screen.records == whole_return
        assert who_before_after(screen) == shown_as(screen, whole_return)
        assert screen.sub_title == f"History: police return, case {case}"
        assert column(screen, "what")[:2] == ["return", criterion]
        await pilot.press("s")
        await settle(pilot)
        assert screen.records == history_of_case(sqlite_factory, audit_id, case)
        assert "moderated overall" in column(screen, "what")
        await pilot.press("s")
        await settle(pilot)
        assert screen.records == expected

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is return_screen


async def test_text_typed_a_moment_ago_is_stored_before_the_history_is_read(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=WIDE) as pilot:
        return_screen = await open_return_at(pilot, sqlite_factory, seeded)
        strengths = return_screen.query_one("#strengths", TextArea)
        strengths.focus()
        # One edit, not five keystrokes: on a loaded machine the autosave's debounce could
        # fire between keys and store "Q" first. Then ctrl+l from inside the field at once.
        strengths.insert("Quick")
        await pilot.press("ctrl+l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        assert who_before_after(screen)[-1] == ("a.auditor", "", "Quick")
        assert column(screen, "field")[-1] == "strengths"


async def test_long_values_are_cut_in_the_table_and_whole_in_the_detail(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry, evidence=LONG_EVIDENCE)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await open_return_at(pilot, sqlite_factory, seeded)
        screen = await press_for_history(pilot, "ctrl+l")
        after = column(screen, "after")[1]
        assert after.endswith("…") and len(after) == screen.value_width()
        assert LONG_EVIDENCE.startswith(after[:-1])
        await pilot.press("down")
        await settle(pilot)
        assert LONG_EVIDENCE in detail(screen).replace("\n", " ")


# -- from the matrix and moderation -----------------------------------------------------------


async def test_h_on_the_matrix_shows_the_highlighted_cases_history(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    audit_id, case = seeded.audit.id, seeded.case
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=WIDE) as pilot:
        matrix = AuditScreen(sqlite_factory, LEAD, audit_id)
        await app.push_screen(matrix)
        await settle(pilot)
        await pilot.press("down")  # the second case
        screen = await press_for_history(pilot, "h")

        expected = history_of_case(sqlite_factory, audit_id, case)
        assert screen.records == expected
        assert who_before_after(screen) == shown_as(screen, expected)
        # The two saves of the finding, by two people, and the lead's moderated grade.
        updates = [
            (r.actor, r.field, r.before, r.after) for r in expected if r.operation == "update"
        ]
        assert ("b.colleague", "evidence", "", EVIDENCE) in updates
        rows = list(zip(column(screen, "who"), column(screen, "what"), strict=True))
        assert ("a.auditor", f"police / {seeded.criterion}") in rows
        assert ("t.tester", "moderated overall") in rows
        assert all(seeded.audit.cases[0].reference not in r.entity_key for r in screen.records)
        assert screen.sub_title == f"History: case {case}"

        await pilot.press("s")
        await settle(pilot)
        assert screen.records == history_of_audit(sqlite_factory, audit_id)
        assert screen.sub_title.startswith("History: the whole audit")

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is matrix


async def test_ctrl_l_while_moderating_shows_the_cases_history(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=WIDE) as pilot:
        moderation = ModerationScreen(sqlite_factory, LEAD, seeded.audit.cases[1].id)
        await app.push_screen(moderation)
        await settle(pilot)
        moderation.query_one("#reasons", TextArea).focus()  # works from the reasons box too
        await pilot.pause()
        screen = await press_for_history(pilot, "ctrl+l")
        expected = history_of_case(sqlite_factory, seeded.audit.id, seeded.case)
        assert screen.records == expected
        assert who_before_after(screen) == shown_as(screen, expected)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is moderation


async def test_the_history_keys_are_in_the_palette_though_off_the_footer(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        for screen in (
            ReturnScreen(sqlite_factory, AUDITOR, seeded.return_id),
            AuditScreen(sqlite_factory, LEAD, seeded.audit.id),
            ModerationScreen(sqlite_factory, LEAD, seeded.audit.cases[1].id),
        ):
            await app.push_screen(screen)
            await settle(pilot)
            hits = {h.text: h.help async for h in WorkbenchCommands(screen).discover()}
            assert "History" in hits, type(screen).__name__
            assert "Who changed" in str(hits["History"])
            await app.pop_screen()
            await settle(pilot)


# -- read-only ---------------------------------------------------------------------------------


async def test_the_history_screen_offers_no_way_to_change_the_history(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    audit_id = seeded.audit.id
    before = history_of_audit(sqlite_factory, audit_id)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = HistoryScreen(sqlite_factory, (case_scope(audit_id, seeded.case),))
        await app.push_screen(screen)
        await settle(pilot)
        assert table(screen).row_count == len(
            history_of_case(sqlite_factory, audit_id, seeded.case)
        )
        own = {b.action for b in HistoryScreen.BINDINGS if isinstance(b, Binding)}
        assert own == {"next_scope", "refresh", "back"}
        actions = {
            name for name, _ in inspect.getmembers(HistoryScreen) if name.startswith("action_")
        }
        changing = ("edit", "delete", "remove", "save", "revert", "undo", "clear", "new", "add")
        assert not [a for a in actions if any(word in a for word in changing)]
        # Keys that edit or delete elsewhere do nothing here: the screen stays, the rows stay.
        for key in ("e", "d", "delete", "backspace", "ctrl+d", "ctrl+s", "enter", "n"):
            await pilot.press(key)
        await settle(pilot)
        assert app.screen is screen
        assert history_of_audit(sqlite_factory, audit_id) == before
        # One scope: nothing to switch to, so s is neither offered nor active.
        assert screen.check_action("next_scope", ()) is False
        for binding in HistoryScreen.BINDINGS:
            assert isinstance(binding, Binding) and binding.id and binding.tooltip


# -- failures ----------------------------------------------------------------------------------


async def test_a_database_that_cannot_be_read_is_one_line_not_a_traceback(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    tmp_path: Path,
) -> None:
    missing = make_engine(f"sqlite:///{tmp_path}/missing/wb.db", create_file=False)
    broken = make_session_factory(missing)
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = HistoryScreen(broken, (case_scope(1, "CSE-25-01"),))
        await app.push_screen(screen)
        await settle(pilot)
        [note] = notes(seen)
        assert note.startswith("Could not read the history: ")
        assert "cannot open the database file" in note and "\n" not in note
        assert "not read" in heading(screen)
        assert app.screen is screen
    missing.dispose()


async def test_an_unexpected_failure_is_one_line_too(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    def boom(factory: sessionmaker[Session]) -> list[ChangeRecordOut]:
        raise RuntimeError("disk on fire\nsecond line of detail")

    seeded = seed(sqlite_factory, registry)
    readable = case_scope(seeded.audit.id, seeded.case)
    failing = HistoryScope("case X", "case", "case X", boom)
    seen: list[Message] = []
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        screen = HistoryScreen(sqlite_factory, (readable, failing))
        await app.push_screen(screen)
        await settle(pilot)
        assert table(screen).row_count > 0
        await pilot.press("s")
        # Waiting re-raises the worker's error; what the screen made of it is under test.
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and app.screen is screen
        assert notes(seen) == ["Could not read the history: unexpected RuntimeError: disk on fire"]
        # The other case's rows are gone, and "nothing recorded" is not claimed either.
        assert table(screen).row_count == 0 and screen.records == []
        assert not screen.has_class("-empty")
        assert heading(screen) == "History: case X · not read"


async def test_nothing_recorded_says_so(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    seeded = seed(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        scope = finding_scope(seeded.audit.id, seeded.case, "school", seeded.criterion)
        screen = HistoryScreen(sqlite_factory, (scope,))
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.records == []
        assert screen.has_class("-empty")
        empty = str(screen.query_one("#empty", Static).render())
        assert empty == f"No change to {scope.title} is recorded yet."


# -- snapshot ----------------------------------------------------------------------------------

SnapCompare = Callable[..., bool]
FIXED = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)


def _snapshot_scopes(factory: sessionmaker[Session], registry: ToolRegistry) -> list[HistoryScope]:
    seeded = seed(factory, registry, evidence=LONG_EVIDENCE)
    audit_id, case = seeded.audit.id, seeded.case
    finding = history_of_finding(factory, audit_id, case, "police", seeded.criterion)
    [stored] = returns.get_return(factory, seeded.return_id).findings
    returns.record_finding(
        factory,
        AUDITOR,
        seeded.return_id,
        seeded.criterion,
        FindingChange(grade="requires_improvement"),
        expected_version=stored.version,
    )
    set_tags(factory, COLLEAGUE, TaggedKind.FINDING, stored.id, ["information-sharing"])
    assert len(finding) == 2
    # Fixed times, minutes apart in the order written, so the picture never depends on the day.
    with factory.begin() as session:
        ids = session.scalars(select(ChangeRecord.id).order_by(ChangeRecord.id)).all()
        for minutes, row_id in enumerate(ids):
            session.execute(
                update(ChangeRecord)
                .where(ChangeRecord.id == row_id)
                .values(at=FIXED + dt.timedelta(minutes=7 * minutes))
            )
    return [
        finding_scope(audit_id, case, "police", seeded.criterion),
        return_scope(audit_id, case, "police"),
        case_scope(audit_id, case),
    ]


def test_history_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
) -> None:
    scopes = _snapshot_scopes(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)

    async def run_before(pilot: Pilot[None]) -> None:
        # UTC, so the times read the same on any machine.
        await pilot.app.push_screen(HistoryScreen(sqlite_factory, scopes, tz=dt.UTC))
        await settle(pilot)
        await pilot.press("down")  # the colleague's long evidence, in full below
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
