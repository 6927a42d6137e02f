"""The auditor's journey: grade and evidence saved as typed, submit, voices, concerns, failures."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from textual.binding import Binding
from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import OptionList, RadioButton, Static, TextArea

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange, FindingOut, ReturnStatus, VoiceSource
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services.audits import create_audit
from workbench.services.casework import add_voice, list_voices, open_concerns
from workbench.services.returns import find_return, get_return, record_finding
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.models import Voice
from workbench.tui.app import WorkbenchApp, make_app
from workbench.tui.concern_dialog import ConcernDialog
from workbench.tui.home import HomeScreen
from workbench.tui.return_dialogs import ConflictDialog, UnansweredDialog
from workbench.tui.return_screen import DEBOUNCE_SECONDS, ReturnScreen
from workbench.tui.voices import VoicesScreen

ACTOR = Actor(name="a.auditor", agency="police")
OTHER = Actor(name="b.colleague", agency="police")
SIZE = (100, 40)
PAST_DEBOUNCE = DEBOUNCE_SECONDS + 0.3


@dataclass(frozen=True)
class PoliceReturn:
    audit_id: int
    case_id: int
    return_id: int
    criteria: tuple[str, ...]


@pytest.fixture
def police_return(sqlite_factory: sessionmaker[Session], registry: ToolRegistry) -> PoliceReturn:
    detail = create_audit(
        sqlite_factory, ACTOR, registry, cse_plan(agencies=("police", "school"), cases=1)
    )
    return_id = find_return(sqlite_factory, detail.id, "CSE-25-01", "police")
    criteria = tuple(c.id for c in registry.definition("cse").tool.criteria_for("police"))
    return PoliceReturn(detail.id, detail.cases[0].id, return_id, criteria)


def build_app(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry
) -> WorkbenchApp:
    return make_app(settings, factory, database_label="workbench.db", registry=registry)


async def open_return(
    pilot: Pilot[None], factory: sessionmaker[Session], return_id: int
) -> ReturnScreen:
    screen = ReturnScreen(factory, ACTOR, return_id)
    await pilot.app.push_screen(screen)
    await settle(pilot)
    assert pilot.app.screen is screen
    return screen


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)


async def wait_past_debounce(pilot: Pilot[None]) -> None:
    await pilot.pause(PAST_DEBOUNCE)
    await settle(pilot)


def stored(factory: sessionmaker[Session], return_id: int) -> dict[str, FindingOut]:
    return {f.criterion_id: f for f in get_return(factory, return_id).findings}


def status_text(screen: ReturnScreen) -> str:
    return str(screen.query_one("#save-status", Static).render())


def evidence_area(screen: ReturnScreen) -> TextArea:
    return screen.query_one("#evidence", TextArea)


def current_criterion(screen: ReturnScreen) -> str:
    return str(screen.query_one("#question", Static).render()).split()[0]


async def focus_evidence(pilot: Pilot[None], screen: ReturnScreen) -> None:
    evidence_area(screen).focus()
    await pilot.pause()


# -- grading and typing ------------------------------------------------------------------------


async def test_number_keys_grade_and_typed_evidence_is_saved_after_a_pause(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        assert current_criterion(screen) == first
        assert "press 1-6" in str(screen.query_one("#grade-help", Static).render())
        grades = screen.query_one("#grades", OptionList)
        assert grades.option_count == 6  # four Ofsted levels, not applicable, not evidenced

        await pilot.press("2")
        await settle(pilot)
        assert stored(sqlite_factory, police_return.return_id)[first].grade == "good"
        assert "Good" in str(grades.get_option_at_index(1).prompt)

        await focus_evidence(pilot, screen)
        await type_text(pilot, "Log 3: referral on day 1")  # digits type, they do not grade
        assert status_text(screen) == "… saving"
        await wait_past_debounce(pilot)

        finding = stored(sqlite_factory, police_return.return_id)[first]
        assert finding.evidence == "Log 3: referral on day 1"
        assert finding.grade == "good"
        assert finding.updated_by == ACTOR.name
        assert status_text(screen) == "✓ saved"
        assert f"1 of {len(police_return.criteria)} answered" in str(
            screen.query_one("#context", Static).render()
        )

        # Esc leaves the text field, then 5 and 6 are the non-grade answers.
        await pilot.press("escape", "6")
        await settle(pilot)
        assert stored(sqlite_factory, police_return.return_id)[first].grade == "not_evidenced"


async def test_next_previous_and_next_unanswered(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    criteria = police_return.criteria
    record_finding(
        sqlite_factory,
        ACTOR,
        police_return.return_id,
        criteria[1],
        FindingChange(grade="good"),
        expected_version=0,
    )
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        assert current_criterion(screen) == criteria[0]
        await pilot.press("ctrl+n")
        assert current_criterion(screen) == criteria[1]
        await pilot.press("ctrl+b")
        assert current_criterion(screen) == criteria[0]
        await pilot.press("ctrl+f")  # skips the answered second criterion
        assert current_criterion(screen) == criteria[2]
        marks = screen.query_one("#criteria", OptionList)
        prompt = str(marks.get_option(criteria[1]).prompt)
        assert "✓" in prompt
        assert "▸" in str(marks.get_option(criteria[2]).prompt)


# -- saving on the way out ---------------------------------------------------------------------


async def test_switching_criterion_before_the_pause_still_stores_the_text(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await focus_evidence(pilot, screen)
        await type_text(pilot, "typed then moved on")
        await pilot.press("ctrl+n")
        # No sleep past the debounce: the move itself saved.
        await settle(pilot)
        assert stored(sqlite_factory, police_return.return_id)[first].evidence == (
            "typed then moved on"
        )
        assert evidence_area(screen).text == ""  # the next criterion's own (empty) evidence
        await pilot.press("ctrl+b")
        assert evidence_area(screen).text == "typed then moved on"


async def test_quitting_with_a_pending_edit_stores_it(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await focus_evidence(pilot, screen)
        await type_text(pilot, "typed just before quitting")
        await pilot.press("ctrl+q")
    assert not app.is_running
    assert stored(sqlite_factory, police_return.return_id)[first].evidence == (
        "typed just before quitting"
    )


async def test_quitting_while_a_save_waits_for_the_database_stores_everything(
    settings: Settings,
    tmp_path: Path,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    """A save is stuck behind another program's lock, more is typed, then the app quits."""
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    lock = sqlite3.connect(tmp_path / "wb.db", isolation_level=None, check_same_thread=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_return(pilot, sqlite_factory, police_return.return_id)
            lock.execute("BEGIN EXCLUSIVE")
            await focus_evidence(pilot, screen)
            await type_text(pilot, "first")
            await pilot.pause(PAST_DEBOUNCE)  # the save worker is now waiting for the lock
            assert status_text(screen) == "… saving"
            await type_text(pilot, " second")
            threading.Timer(0.5, lock.rollback).start()
            await pilot.press("ctrl+q")
    finally:
        lock.close()
    finding = stored(sqlite_factory, police_return.return_id)[first]
    assert finding.evidence == "first second"
    assert finding.version == 2  # the stuck save, then the rest on the way out: no conflict


async def test_back_saves_then_leaves(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await focus_evidence(pilot, screen)
        await type_text(pilot, "before going back")
        await pilot.press("escape")  # out of the text field: still on the return
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
    assert stored(sqlite_factory, police_return.return_id)[first].evidence == "before going back"


# -- a failing save ----------------------------------------------------------------------------


@contextlib.contextmanager
def database_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another program holds the write lock (root ignores chmod, so a lock stands in)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


async def test_a_failed_save_is_shown_keeps_the_text_and_a_retry_stores_it(
    settings: Settings,
    tmp_path: Path,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wb.db", busy_timeout_ms=100)
    impatient = make_session_factory(engine)
    first = police_return.criteria[0]
    app = build_app(settings, impatient, registry)
    seen: list[Message] = []
    try:
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            screen = await open_return(pilot, impatient, police_return.return_id)
            with database_locked(tmp_path / "wb.db") as lock:
                await focus_evidence(pilot, screen)
                await type_text(pilot, "must not be lost")
                await wait_past_debounce(pilot)

                status = status_text(screen)
                assert status.startswith("✗ save failed: ")
                assert "locked" in status
                assert "your text is kept" in status
                assert screen.query_one("#save-status").has_class("-failed")
                assert evidence_area(screen).text == "must not be lost"
                # Every unit of work takes the write lock first, so look through the lock holder.
                assert lock.execute("SELECT count(*) FROM findings").fetchone() == (0,)
                marks = screen.query_one("#criteria", OptionList)
                assert "✗" in str(marks.get_option(first).prompt)
                # The status line may be narrow: the whole reason is also said once, in words.
                [note] = [m.notification for m in seen if isinstance(m, Notify)]
                assert note.title == "Not saved"
                assert note.severity == "error"
                assert "locked by another program" in note.message
                assert "Traceback" not in note.message

                # Leaving is refused while the text is unsaved.
                await pilot.press("escape", "escape")
                await settle(pilot)
                assert app.screen is screen

            await pilot.press("ctrl+s")
            await settle(pilot)
            assert stored(sqlite_factory, police_return.return_id)[first].evidence == (
                "must not be lost"
            )
            assert status_text(screen) == "✓ saved"
    finally:
        engine.dispose()


async def test_the_next_change_after_a_failure_tries_again(
    settings: Settings,
    tmp_path: Path,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wb.db", busy_timeout_ms=100)
    impatient = make_session_factory(engine)
    first = police_return.criteria[0]
    app = build_app(settings, impatient, registry)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_return(pilot, impatient, police_return.return_id)
            await focus_evidence(pilot, screen)
            with database_locked(tmp_path / "wb.db"):
                await type_text(pilot, "one")
                await wait_past_debounce(pilot)
                assert status_text(screen).startswith("✗ save failed")
            await type_text(pilot, " two")
            await wait_past_debounce(pilot)
            assert stored(sqlite_factory, police_return.return_id)[first].evidence == "one two"
    finally:
        engine.dispose()


# -- someone else saved first ------------------------------------------------------------------


async def _conflict(
    pilot: Pilot[None], factory: sessionmaker[Session], police_return: PoliceReturn
) -> tuple[ReturnScreen, ConflictDialog]:
    screen = await open_return(pilot, factory, police_return.return_id)
    first = police_return.criteria[0]
    record_finding(
        factory,
        OTHER,
        police_return.return_id,
        first,
        FindingChange(evidence="their evidence", grade="inadequate"),
        expected_version=0,
    )
    await focus_evidence(pilot, screen)
    # One edit, as a paste: keystroke by keystroke, a loaded machine can pause longer than the
    # debounce mid-word and save "m" on its own, which is not what this test is about.
    evidence_area(screen).insert("my evidence")
    await wait_past_debounce(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ConflictDialog)
    text = " ".join(str(s.render()) for s in dialog.query(Static))
    assert "b.colleague saved" in text
    assert "their evidence" in text
    assert "my evidence" in text
    return screen, dialog


async def test_a_conflict_offers_theirs_and_keep_mine_saves_over_it(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await _conflict(pilot, sqlite_factory, police_return)
        await pilot.press("m")
        await settle(pilot)
        assert app.screen is screen
        finding = stored(sqlite_factory, police_return.return_id)[first]
        assert finding.evidence == "my evidence"
        assert finding.grade == "inadequate"  # the grade I never touched stays theirs
        assert finding.version == 2
        assert status_text(screen) == "✓ saved"


async def test_a_conflict_take_theirs_shows_their_text(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    first = police_return.criteria[0]
    async with app.run_test(size=SIZE) as pilot:
        screen, _ = await _conflict(pilot, sqlite_factory, police_return)
        await pilot.press("t")
        await settle(pilot)
        assert evidence_area(screen).text == "their evidence"
        assert stored(sqlite_factory, police_return.return_id)[first].evidence == ("their evidence")
        assert status_text(screen) == "✓ saved"


# -- submitting --------------------------------------------------------------------------------


async def test_submit_is_refused_with_the_unanswered_list(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    criteria = police_return.criteria
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await pilot.press("1", "ctrl+n", "3", "ctrl+t")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UnansweredDialog)
        listed = dialog.query_one("#unanswered", OptionList)
        assert [listed.get_option_at_index(i).id for i in range(listed.option_count)] == list(
            criteria[2:]
        )
        assert f"{len(criteria) - 2} criteria need an answer" in str(
            dialog.query_one(".title", Static).render()
        )
        assert get_return(sqlite_factory, police_return.return_id).status is (
            ReturnStatus.IN_PROGRESS
        )
        # Enter on the highlighted one goes there.
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert current_criterion(screen) == criteria[3]


async def test_complete_every_criterion_and_submit(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    criteria = police_return.criteria
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        for index in range(len(criteria)):
            await pilot.press("2" if index % 2 else "5", "ctrl+n")
        await pilot.press("ctrl+f")  # nothing left to answer: a notice, no move
        await pilot.press("ctrl+t")
        await settle(pilot)

        agency_return = get_return(sqlite_factory, police_return.return_id)
        assert agency_return.status is ReturnStatus.SUBMITTED
        assert agency_return.submitted_by == ACTOR.name
        expected = {c: ("good" if i % 2 else "not_applicable") for i, c in enumerate(criteria)}
        assert {f.criterion_id: f.grade for f in agency_return.findings} == expected
        assert status_text(screen) == "Read only: submitted"
        assert evidence_area(screen).read_only
        await pilot.press("1")  # a submitted return is not changed by a stray key
        await settle(pilot)
        grades = {c: f.grade for c, f in stored(sqlite_factory, police_return.return_id).items()}
        assert grades == expected


# -- voices and concerns -----------------------------------------------------------------------


async def test_record_a_voice(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await pilot.press("ctrl+o")
        await settle(pilot)
        voices = app.screen
        assert isinstance(voices, VoicesScreen)
        assert voices.query_one("#empty").display

        family = next(b for b in voices.query(RadioButton) if b.name == "family")
        family.value = True
        voices.query_one("#said", TextArea).focus()
        await type_text(pilot, "Mum said nobody called her back")
        await pilot.press("ctrl+s")
        await settle(pilot)

        [voice] = list_voices(sqlite_factory, police_return.case_id)
        assert voice.source is VoiceSource.FAMILY
        assert voice.text == "Mum said nobody called her back"
        assert voice.recorded_by == ACTOR.name
        assert voices.query_one("#said", TextArea).text == ""
        shown = [str(s.render()) for s in voices.query(".voice").results(Static)]
        assert len(shown) == 1
        assert "Mum said nobody called her back" in shown[0]
        assert not voices.query_one("#empty").display

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_record_a_concern_with_one_key_from_inside_a_text_field(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await focus_evidence(pilot, screen)
        await pilot.press("ctrl+g")
        dialog = app.screen
        assert isinstance(dialog, ConcernDialog)
        await type_text(pilot, "Child seen with older male again")
        await pilot.press("tab")
        await type_text(pilot, "DS Khan, MASH")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen

        [concern] = open_concerns(sqlite_factory, police_return.audit_id)
        assert concern.concern == "Child seen with older male again"
        assert concern.who_told == "DS Khan, MASH"
        assert concern.agency_code == "police"
        assert concern.raised_by == ACTOR.name
        assert abs(concern.told_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)


async def test_bang_opens_the_concern_dialog_and_a_typed_time_is_kept(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await open_return(pilot, sqlite_factory, police_return.return_id)
        await pilot.press("!")
        dialog = app.screen
        assert isinstance(dialog, ConcernDialog)
        await pilot.press("ctrl+s")  # nothing typed: refused in words, dialog stays
        assert app.screen is dialog
        assert "say what the concern is" in str(dialog.query_one("#problem", Static).render())
        await type_text(pilot, "Unexplained injuries")
        await pilot.press("tab")
        await type_text(pilot, "Duty social worker")
        await pilot.press("tab", "ctrl+a", "ctrl+k")
        await type_text(pilot, "2026-01-05 09:15")
        await pilot.press("ctrl+s")
        await settle(pilot)
        [concern] = open_concerns(sqlite_factory, police_return.audit_id)
        local = dt.datetime(2026, 1, 5, 9, 15).astimezone()
        assert concern.told_at == local


async def test_a_concern_that_cannot_be_saved_comes_back_with_what_was_typed(
    settings: Settings,
    tmp_path: Path,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/wb.db", busy_timeout_ms=100)
    impatient = make_session_factory(engine)
    app = build_app(settings, impatient, registry)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await open_return(pilot, impatient, police_return.return_id)
            with database_locked(tmp_path / "wb.db"):
                await pilot.press("!")
                await type_text(pilot, "Missing overnight")
                await pilot.press("tab")
                await type_text(pilot, "Police control room")
                await pilot.press("ctrl+s")
                await settle(pilot)
                dialog = app.screen
                assert isinstance(dialog, ConcernDialog)  # open again, nothing lost
                assert dialog.query_one("#what", TextArea).text == "Missing overnight"
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert not isinstance(app.screen, ConcernDialog)
            [concern] = open_concerns(sqlite_factory, police_return.audit_id)
            assert concern.concern == "Missing overnight"
            assert concern.who_told == "Police control room"
    finally:
        engine.dispose()


async def test_escape_never_throws_away_typed_text_at_once(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        await pilot.press("!")
        await type_text(pilot, "half a concern")
        await pilot.press("escape")
        assert isinstance(app.screen, ConcernDialog)
        assert "Esc again" in str(app.screen.query_one("#problem", Static).render())
        await pilot.press("escape")
        assert app.screen is screen

        await pilot.press("ctrl+o")
        await settle(pilot)
        await type_text(pilot, "half a voice")
        await pilot.press("escape")
        assert isinstance(app.screen, VoicesScreen)
        await pilot.press("escape")
        assert app.screen is screen
        assert open_concerns(sqlite_factory, police_return.audit_id) == []
        assert list_voices(sqlite_factory, police_return.case_id) == []


async def test_bindings_have_ids_and_tooltips(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    police_return: PoliceReturn,
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_return(pilot, sqlite_factory, police_return.return_id)
        for binding in ReturnScreen.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.id
            assert binding.tooltip
        active = {b.binding.id for b in app.active_bindings.values()}
        for needed in (
            "return.next",
            "return.previous",
            "return.unanswered",
            "return.submit",
            "return.voices",
            "return.concern",
            "return.save",
            "return.back",
            "return.grade6",
        ):
            assert needed in active
        # The scale has six answers: a seventh number key does nothing.
        assert screen.check_action("grade", (7,)) is False


# -- snapshots ---------------------------------------------------------------------------------

SnapCompare = Callable[..., bool]


def _prepared(factory: sessionmaker[Session], registry: ToolRegistry) -> PoliceReturn:
    detail = create_audit(
        factory, ACTOR, registry, cse_plan(agencies=("police", "school"), cases=1)
    )
    return_id = find_return(factory, detail.id, "CSE-25-01", "police")
    criteria = tuple(c.id for c in registry.definition("cse").tool.criteria_for("police"))
    record_finding(
        factory,
        ACTOR,
        return_id,
        criteria[0],
        FindingChange(grade="good", evidence="Referral logged the same day."),
        expected_version=0,
    )
    return PoliceReturn(detail.id, detail.cases[0].id, return_id, criteria)


def _open(factory: sessionmaker[Session], return_id: int) -> Callable[[Pilot[None]], object]:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(ReturnScreen(factory, ACTOR, return_id))
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_return_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    prepared = _prepared(sqlite_factory, registry)
    app = build_app(settings, sqlite_factory, registry)
    assert snap_compare(
        app, terminal_size=size, run_before=_open(sqlite_factory, prepared.return_id)
    )


def _voices(
    factory: sessionmaker[Session], registry: ToolRegistry
) -> Callable[[Pilot[None]], object]:
    prepared = _prepared(factory, registry)
    add_voice(factory, ACTOR, prepared.case_id, VoiceSource.CHILD, "I just want someone to listen.")
    add_voice(
        factory, ACTOR, prepared.case_id, VoiceSource.PRACTITIONER, "We never met as a group."
    )
    # Fixed dates, so the snapshot does not depend on the day it runs.
    with factory.begin() as session:
        session.execute(update(Voice).values(recorded_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)))

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.app.push_screen(
            VoicesScreen(factory, ACTOR, prepared.case_id, case_reference="CSE-25-01")
        )
        await settle(pilot)
        # No text cursor in the picture: its blink would make the snapshot flaky.
        pilot.app.set_focus(None)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_voices_screen_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    app = build_app(settings, sqlite_factory, registry)
    assert snap_compare(app, terminal_size=size, run_before=_voices(sqlite_factory, registry))
