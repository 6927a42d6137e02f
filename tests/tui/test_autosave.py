"""The Autosaver without Textual: states, versions, failures, conflicts and concurrent flushes."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from schemas.audit import FindingChange, FindingOut
from workbench.services.errors import StaleFindingError
from workbench.store.errors import DatabaseLockedError
from workbench.tui.autosave import Autosaver, Overall, SaveState, change_of

WHEN = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)


def finding(criterion_id: str, version: int, by: str = "me", **values: str | None) -> FindingOut:
    """A stored finding; `values` are grade, evidence, strengths, areas_for_development."""
    return FindingOut(
        id=1,
        return_id=1,
        criterion_id=criterion_id,
        grade=values.get("grade"),
        evidence=values.get("evidence") or "",
        strengths=values.get("strengths") or "",
        areas_for_development=values.get("areas_for_development") or "",
        version=version,
        updated_at=WHEN,
        updated_by=by,
    )


class FakeStore:
    """Behaves like record_finding: refuses a save made against an old version."""

    def __init__(self) -> None:
        self.rows: dict[str, FindingOut] = {}
        self.calls: list[tuple[str, FindingChange, int]] = []
        self.fail_with: Exception | None = None
        self.delay = 0.0
        self.busy: set[str] = set()
        self.overlaps = 0

    def save(self, criterion_id: str, change: FindingChange, version: int) -> FindingOut:
        if criterion_id in self.busy:
            self.overlaps += 1
        self.busy.add(criterion_id)
        try:
            self.calls.append((criterion_id, change, version))
            time.sleep(self.delay)
            if self.fail_with is not None:
                raise self.fail_with
            current = self.rows.get(criterion_id)
            if (current.version if current else 0) != version:
                assert current is not None
                raise StaleFindingError(current)
            before = current or finding(criterion_id, 0)
            updates = change.model_dump(exclude={"clear_grade"}, exclude_none=True)
            if change.clear_grade:
                updates["grade"] = None
            stored = before.model_copy(update={**updates, "version": version + 1})
            self.rows[criterion_id] = stored
            return stored
        finally:
            self.busy.discard(criterion_id)


def test_an_edit_is_saved_with_the_version_last_seen() -> None:
    store = FakeStore()
    saver = Autosaver()
    assert saver.edit("c1", "evidence", "Seen in the log")
    assert saver.state("c1") is SaveState.PENDING
    assert saver.has_unsaved()

    assert saver.flush(store.save) == ["c1"]

    [(criterion_id, change, version)] = store.calls
    assert (criterion_id, change.evidence, change.grade, version) == (
        "c1",
        "Seen in the log",
        None,
        0,
    )
    assert saver.state("c1") is SaveState.SAVED
    assert not saver.has_unsaved()
    saver.edit("c1", "grade", "good")
    saver.flush(store.save)
    assert store.calls[-1][2] == 1  # the version the first save returned
    assert store.rows["c1"].evidence == "Seen in the log"
    assert store.rows["c1"].grade == "good"


def test_the_same_value_again_needs_no_save() -> None:
    saver = Autosaver([finding("c1", 3, evidence="kept")])
    assert saver.value("c1", "evidence") == "kept"
    assert not saver.edit("c1", "evidence", "kept")
    assert not saver.has_unsaved()
    assert saver.flush(FakeStore().save) == []


def test_unknown_field_is_refused() -> None:
    with pytest.raises(KeyError):
        Autosaver().edit("c1", "colour", "red")


def test_a_failed_save_keeps_the_text_and_says_why_then_a_retry_stores_it() -> None:
    store = FakeStore()
    store.fail_with = DatabaseLockedError("the database is locked by another program")
    saver = Autosaver()
    saver.edit("c1", "evidence", "typed before the failure")

    saver.flush(store.save)

    assert saver.state("c1") is SaveState.FAILED
    assert saver.error("c1") == "the database is locked by another program"
    assert saver.value("c1", "evidence") == "typed before the failure"
    assert saver.overall() == Overall(
        SaveState.FAILED, "the database is locked by another program", 1
    )
    # Typing on while it is failing: the retry sends both old and new text.
    saver.edit("c1", "strengths", "typed after")
    store.fail_with = None
    saver.flush(store.save)
    assert saver.state("c1") is SaveState.SAVED
    assert store.rows["c1"].evidence == "typed before the failure"
    assert store.rows["c1"].strengths == "typed after"
    assert saver.overall() == Overall(SaveState.SAVED)


def test_an_unexpected_error_is_one_line_too() -> None:
    store = FakeStore()
    store.fail_with = RuntimeError("disk on fire\nand a second line")
    saver = Autosaver()
    saver.edit("c1", "evidence", "x")
    saver.flush(store.save)
    assert saver.error("c1") == "unexpected RuntimeError: disk on fire"


def _conflicted() -> tuple[FakeStore, Autosaver]:
    store = FakeStore()
    saver = Autosaver([finding("c1", 1, evidence="ours at first")])
    store.rows["c1"] = finding("c1", 2, by="someone.else", grade="inadequate", evidence="theirs")
    saver.edit("c1", "evidence", "mine")
    saver.flush(store.save)
    return store, saver


def test_someone_elses_save_becomes_a_conflict_showing_both_values() -> None:
    store, saver = _conflicted()
    assert saver.state("c1") is SaveState.CONFLICT
    [conflict] = saver.conflicts()
    assert conflict.mine == {"evidence": "mine"}
    assert conflict.theirs.evidence == "theirs"
    assert conflict.theirs.updated_by == "someone.else"
    assert saver.value("c1", "evidence") == "mine"  # still on screen
    # A conflict waits for the user: flushing again does not overwrite theirs.
    assert saver.flush(store.save) == []
    assert store.rows["c1"].evidence == "theirs"


def test_keep_mine_saves_over_their_version() -> None:
    store, saver = _conflicted()
    saver.keep_mine("c1")
    saver.flush(store.save)
    assert store.calls[-1][2] == 2
    assert store.rows["c1"].evidence == "mine"
    assert store.rows["c1"].grade == "inadequate"  # a field I did not touch stays theirs
    assert saver.state("c1") is SaveState.SAVED


def test_take_theirs_drops_mine_and_shows_theirs() -> None:
    store, saver = _conflicted()
    saver.take_theirs("c1")
    assert saver.value("c1", "evidence") == "theirs"
    assert saver.value("c1", "grade") == "inadequate"
    assert not saver.has_unsaved()
    saver.edit("c1", "strengths", "after taking theirs")
    saver.flush(store.save)
    assert store.calls[-1][2] == 2
    assert store.rows["c1"].strengths == "after taking theirs"


def test_typing_during_a_save_is_kept_for_the_next_one() -> None:
    store = FakeStore()
    saver = Autosaver()
    original = store.save

    def save_and_type(criterion_id: str, change: FindingChange, version: int) -> FindingOut:
        saver.edit(criterion_id, "evidence", "typed while saving")
        assert saver.state(criterion_id) is SaveState.SAVING
        return original(criterion_id, change, version)

    saver.edit("c1", "evidence", "first")
    saver.flush(save_and_type)
    assert store.rows["c1"].evidence == "first"
    assert saver.state("c1") is SaveState.PENDING
    assert saver.value("c1", "evidence") == "typed while saving"
    saver.flush(store.save)
    assert store.rows["c1"].evidence == "typed while saving"
    assert store.calls[-1][2] == 1


def test_a_cleared_grade_is_sent_as_a_clear() -> None:
    change = change_of({"grade": ""})
    assert change.clear_grade
    assert change.grade is None
    assert not change_of({"evidence": "x"}).clear_grade


def test_overall_shows_the_worst_state() -> None:
    store = FakeStore()
    saver = Autosaver()
    assert saver.overall().state is SaveState.SAVED
    saver.edit("a", "evidence", "x")
    assert saver.overall() == Overall(SaveState.PENDING, "", 1)
    store.fail_with = DatabaseLockedError("locked")
    saver.flush(store.save)
    saver.edit("b", "evidence", "y")
    assert saver.overall() == Overall(SaveState.FAILED, "locked", 2)


def test_concurrent_flushes_never_race_one_finding() -> None:
    """Debounce worker, switch-criterion worker and the shutdown flush may overlap."""
    store = FakeStore()
    store.delay = 0.002
    saver = Autosaver()
    stop = threading.Event()

    def flusher() -> None:
        while not stop.is_set():
            saver.flush(store.save)

    threads = [threading.Thread(target=flusher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for n in range(200):
        saver.edit("c1", "evidence", f"text {n}")
        saver.edit("c2", "evidence", f"other {n}")
        time.sleep(0.0005)
    stop.set()
    for thread in threads:
        thread.join()
    saver.flush(store.save)

    assert store.overlaps == 0
    assert saver.conflicts() == []
    assert store.rows["c1"].evidence == "text 199"
    assert store.rows["c2"].evidence == "other 199"
    assert saver.overall() == Overall(SaveState.SAVED)
