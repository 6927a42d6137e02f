"""Live updates: a thread watches the database and tells the screen on show what changed."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from rich.text import TextType
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from textual.app import App
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable

from workbench.store.changes import ANY_AUDIT, ChangeWatcher, NullWatcher, first_line, watcher_for

WAIT_SECONDS = 1.0
"""One wait on the watcher: also how long closing the app may wait for the thread."""

QUIET_SECONDS = 0.3
"""Changes this close together make one refresh: a return saved field by field, or a
transaction's many history rows, read once."""

LONGEST_BURST_SECONDS = 2.0
"""However busy the database, a refresh still goes out this often."""


class DataChanged(Message, bubble=False):
    """Audit content changed in the database. Not bubbling: a screen that does not care lets
    it drop, rather than handing it back to the app that forwards it."""

    def __init__(self, audit_ids: frozenset[int | None]) -> None:
        super().__init__()
        self.audit_ids = audit_ids
        """The audits changed; None among them means any may have (SQLite cannot tell)."""

    def about(self, audit_id: int) -> bool:
        return ANY_AUDIT in self.audit_ids or audit_id in self.audit_ids


class LiveStatus(Message):
    """Live updates stopped or started working again (text None: working)."""

    def __init__(self, text: str | None) -> None:
        super().__init__()
        self.text = text


class LiveUpdates:
    """Runs a ChangeWatcher on a thread of its own and posts DataChanged to the app.

    A plain thread rather than a Textual worker: it lives as long as the app, and a worker
    that never completes would hold up everything that waits for the app's workers to
    finish (`app.workers.wait_for_complete()`, which the UI tests rely on)."""

    def __init__(self, app: App[Any], engine: Engine | None) -> None:
        self._app = app
        self._engine = engine
        self._stop = threading.Event()
        self._watcher: ChangeWatcher | None = None
        self._thread = threading.Thread(target=self._run, name="workbench-live", daemon=True)
        self.ready = threading.Event()
        """Set once the watcher sees changes: changes committed before then are not reported."""

    @classmethod
    def for_factory(cls, app: App[Any], factory: sessionmaker[Session]) -> LiveUpdates:
        bind = factory.kw.get("bind")
        return cls(app, bind if isinstance(bind, Engine) else None)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        """Ask the thread to end and wait (briefly) for it: a wait is cut short by `wake`."""
        self._stop.set()
        watcher = self._watcher
        if watcher is not None:
            watcher.wake()
        if self._thread.is_alive():
            self._thread.join(timeout=WAIT_SECONDS * 2)

    def _post(self, message: Message) -> None:
        try:
            self._app.post_message(message)
        except RuntimeError:  # the app's loop closed under us: nobody left to tell
            self._stop.set()

    def _run(self) -> None:
        watcher: ChangeWatcher = NullWatcher()
        reported: str | None = None
        try:
            if self._engine is not None:
                watcher = watcher_for(self._engine)
            self._watcher = watcher
            if self._stop.is_set():  # stopped while connecting: stop() found no watcher to wake
                return
            self.ready.set()
            while not self._stop.is_set():
                changed = watcher.wait(WAIT_SECONDS)
                if watcher.status != reported:
                    reported = watcher.status
                    self._post(LiveStatus(reported))
                if changed and not self._stop.is_set():
                    self._post(DataChanged(frozenset(changed | self._burst(watcher))))
        except Exception as exc:  # never into the UI: one line, and the app carries on
            self._post(LiveStatus(f"Live updates stopped: {first_line(exc)}"))
        finally:
            watcher.close()

    def _burst(self, watcher: ChangeWatcher) -> set[int | None]:
        """What else changes until the database has been quiet for QUIET_SECONDS."""
        more: set[int | None] = set()
        until = time.monotonic() + LONGEST_BURST_SECONDS
        while not self._stop.is_set() and time.monotonic() < until:
            changed = watcher.wait(QUIET_SECONDS)
            if not changed:
                break
            more |= changed
        return more


def forward(app: App[Any], event: DataChanged) -> None:
    """Hand a change to the screen on show, and to the screens under any dialog over it:
    a lead deciding in a dialog still has the screen behind it kept current."""
    for screen in reversed(app.screen_stack):
        screen.post_message(DataChanged(event.audit_ids))
        if not isinstance(screen, ModalScreen):
            break


def announce(app: App[Any], event: LiveStatus) -> None:
    # LiveStatus(None) is only sent after a pause, so it always means "working again".
    if event.text is not None:
        app.notify(event.text, title="Live updates", severity="warning")
    else:
        app.notify("Live updates resumed.", title="Live updates", timeout=3)


def refill(
    table: DataTable[Any],
    columns: Sequence[tuple[str, TextType]],
    rows: Sequence[tuple[str, Sequence[Any]]],
) -> bool:
    """Show a fresh read in a table. With the same columns and rows as shown, cells change in
    place, so the cursor and the scroll stay where the user left them (clearing a table
    scrolls it home); otherwise the table is rebuilt. True if it was rebuilt."""
    keys = [key for key, _ in columns]
    if [c.value for c in table.columns] == keys and [r.value for r in table.rows] == [
        key for key, _ in rows
    ]:
        for row_key, cells in rows:
            for column_key, cell in zip(keys, cells, strict=True):
                table.update_cell(row_key, column_key, cell, update_width=True)
        return False
    table.clear(columns=True)
    for key, label in columns:
        table.add_column(label, key=key)
    for row_key, cells in rows:
        table.add_row(*cells, key=row_key)
    return True
