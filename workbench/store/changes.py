"""Notice when another connection commits audit changes, so lead views can refresh."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from typing import Any, Protocol

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

# PostgreSQL NOTIFY channel written by the change_history trigger (migration 0004).
# Channels are database-wide, not per schema: two schemas in one database (as the tests'
# private schemas are) hear each other's changes. Harmless: a spare refresh, nothing more.
CHANNEL = "workbench_changes"

ANY_AUDIT: None = None
"""In a changed set: something changed, the audit unknown (SQLite, or after a reconnect)."""

SQLITE_CHECK_SECONDS = 1.0
"""How often SQLite's data_version is read: a change shows within about this long."""

PG_SLICE_SECONDS = 0.25
"""How long one wait on PostgreSQL blocks before looking whether it was woken."""

BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Pauses between reconnection attempts, the last repeated while the database stays away."""

Changed = set[int | None]


class ChangeWatcher(Protocol):
    """Blocks until some audit's content changes. `wait` and `close` belong to one thread;
    `wake` may be called from any thread, to end a wait early (when the app is closing)."""

    @property
    def status(self) -> str | None:
        """One line on why changes cannot be seen just now, or None while all is well."""
        ...

    def wait(self, timeout: float) -> Changed:
        """The audit ids changed since the last call (None: unknown), or an empty set."""
        ...

    def wake(self) -> None:
        """End the current wait and every later one at once: the watcher is being closed."""
        ...

    def close(self) -> None: ...


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Reconnecting:
    """The shared part: a connection opened lazily, lost quietly, retried with backoff.

    A failed connection never raises out of `wait`: the failure becomes `status`, and the
    first wait after reconnecting reports ANY_AUDIT, since changes may have been missed."""

    # What losing the database looks like to each driver: caught, reported, retried.
    LOST: tuple[type[Exception], ...] = ()

    def __init__(self) -> None:
        self._woken = threading.Event()
        self._failures = 0
        self._retry_at = 0.0
        self._closed = False
        self._was_lost = False
        self.status: str | None = None

    def wake(self) -> None:
        self._woken.set()

    def _connected(self) -> bool:
        raise NotImplementedError

    def _connect(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    def _wait_connected(self, deadline: float) -> Changed:
        raise NotImplementedError

    def _lost(self, exc: Exception) -> None:
        self._disconnect()
        pause = BACKOFF_SECONDS[min(self._failures, len(BACKOFF_SECONDS) - 1)]
        self._failures += 1
        self._retry_at = time.monotonic() + pause
        self._was_lost = True
        # The same words on every retry, so the app tells the user once, not each time.
        self.status = f"Live updates paused ({first_line(exc)}); retrying"

    def _sleep_until(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            self._woken.wait(remaining)

    def connect(self) -> bool:
        """Connect now unless connected or waiting to retry; a failure only sets `status`."""
        if self._connected():
            return True
        if self._closed or time.monotonic() < self._retry_at:
            return False
        try:
            self._connect()
        except self.LOST as exc:
            self._lost(exc)
            return False
        return True

    def wait(self, timeout: float) -> Changed:
        deadline = time.monotonic() + timeout
        if not self.connect():
            self._sleep_until(deadline if self._closed else min(deadline, self._retry_at))
            return set()
        try:
            changed = self._wait_connected(deadline)
        except self.LOST as exc:
            self._lost(exc)
            return set()
        self._failures = 0
        self.status = None
        if self._was_lost:
            self._was_lost = False
            changed.add(ANY_AUDIT)
        return changed

    def close(self) -> None:
        self._closed = True
        self._woken.set()
        self._disconnect()


class SQLiteWatcher(_Reconnecting):
    """Reads `PRAGMA data_version` on a connection of its own, about once a second.

    The value changes only when another connection commits, and reading it touches no
    database page, so checking is close to free. SQLite cannot say which audit changed."""

    # The pool hands out connections through SQLAlchemy, which may wrap the driver's error.
    LOST = (sqlite3.Error, DBAPIError)

    def __init__(self, engine: Engine, interval: float = SQLITE_CHECK_SECONDS) -> None:
        super().__init__()
        self._engine = engine
        self._interval = interval
        self._conn: Any = None
        self._version: int | None = None
        self._next_check = 0.0

    def _connected(self) -> bool:
        return self._conn is not None

    def _connect(self) -> None:
        # The engine's own connect hook sets autocommit and the busy timeout; detached, the
        # connection leaves the pool and never holds a transaction open.
        raw = self._engine.raw_connection()
        raw.detach()
        self._conn = raw
        self._version = self._read()
        self._next_check = time.monotonic() + self._interval

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _read(self) -> int:
        cursor = self._conn.cursor()
        try:
            row = cursor.execute("PRAGMA data_version").fetchone()
        finally:
            cursor.close()
        return int(row[0])

    def _wait_connected(self, deadline: float) -> Changed:
        while True:
            now = time.monotonic()
            if now >= self._next_check:
                self._next_check = now + self._interval
                version = self._read()
                if version != self._version:
                    self._version = version
                    return {ANY_AUDIT}
            if now >= deadline or self._woken.is_set():
                return set()
            self._woken.wait(min(deadline, self._next_check) - now)


class PostgresWatcher(_Reconnecting):
    """LISTENs on CHANNEL on a connection of its own; each notification names an audit."""

    LOST = (psycopg.Error,)

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def backend_pid(self) -> int | None:
        """The listening server process, while connected (for diagnostics and tests)."""
        return self._conn.info.backend_pid if self._connected() and self._conn else None

    def _connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def _connect(self) -> None:
        self._disconnect()
        conn = psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name="case-audit-workbench live updates",
            # A listener only reads: without keepalives a silently dropped network would
            # leave it waiting for notifications that can never come.
            keepalives=1,
            keepalives_idle=30,
            keepalives_interval=10,
            keepalives_count=3,
        )
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            conn.close()
            raise
        self._conn = conn

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def _wait_connected(self, deadline: float) -> Changed:
        assert self._conn is not None
        changed: Changed = set()
        # In slices, so a wake from another thread ends the wait within one slice.
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            for notify in self._conn.notifies(
                timeout=min(PG_SLICE_SECONDS, remaining), stop_after=1
            ):
                changed.add(int(notify.payload) if notify.payload.isdigit() else ANY_AUDIT)
            if changed or self._woken.is_set() or time.monotonic() >= deadline:
                return changed


class NullWatcher:
    """For a database no other connection can reach (in-memory SQLite): nothing changes."""

    status: str | None = None

    def __init__(self) -> None:
        self._woken = threading.Event()

    def wait(self, timeout: float) -> Changed:
        self._woken.wait(timeout)
        return set()

    def wake(self) -> None:
        self._woken.set()

    def close(self) -> None:
        self._woken.set()


def postgres_conninfo(engine: Engine) -> str:
    """The engine's URL as libpq takes it: without SQLAlchemy's driver name, keeping the
    query options (tests choose a private schema with `options=-csearch_path=...`)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def watcher_for(engine: Engine) -> ChangeWatcher:
    """A watcher for the engine's database, reporting changes committed from now on.

    It tries to connect here (blocking: call it off the event loop); if that fails it
    keeps trying on each wait, and `status` says why."""
    backend = engine.url.get_backend_name()
    watcher: _Reconnecting
    if backend == "postgresql":
        watcher = PostgresWatcher(postgres_conninfo(engine))
    elif backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        watcher = SQLiteWatcher(engine)
    else:
        return NullWatcher()
    watcher.connect()
    return watcher
