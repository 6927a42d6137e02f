"""Engines and session factories for the embedded SQLite file or a shared PostgreSQL server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from workbench.store.errors import DatabaseUnavailableError

SQLITE_BUSY_TIMEOUT_MS = 5000
READ_ONLY = "workbench_read_only"
"""Execution option marking a unit of work that only reads."""


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailableError(f"{url!r} is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername in {"postgresql", "postgres"}:
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in {"sqlite", "postgresql"}:
        shown = parsed.render_as_string(hide_password=True)
        raise DatabaseUnavailableError(f"{shown}: only SQLite and PostgreSQL are supported")
    return parsed


def describe(url: URL) -> str:
    """The URL as shown to users: never the password."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def prepare_sqlite_file(path: Path) -> None:
    """Create the folder (owner only) and an empty file readable by its owner only."""
    folder = path.parent
    try:
        if not folder.exists():
            folder.mkdir(mode=0o700, parents=True)
        if not path.exists():
            # O_EXCL with mode 0600: the file is never readable by others, not even briefly.
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise DatabaseUnavailableError(
            f"{path}: cannot create the database ({exc.strerror})"
        ) from None


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a read-then-write unit of work
        # waits for the busy timeout instead of failing when it later tries to write.
        # Pure reads begin deferred: in WAL they never wait for each other or a writer.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(
    url: str | URL, *, create_file: bool = True, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> Engine:
    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and create_file:
            prepare_sqlite_file(Path(database).expanduser())
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": 5, "application_name": "case-audit-workbench"},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # expire_on_commit=False: services turn rows into schemas after commit without reloading.
    return sessionmaker(engine, expire_on_commit=False)
