"""Seeing other connections' commits: SQLite's data_version check and PostgreSQL's NOTIFY."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange
from tests.conftest import cse_plan, postgres_base_url
from workbench.services import audits, returns
from workbench.services.matrix import return_matrix
from workbench.store.changes import (
    ANY_AUDIT,
    ChangeWatcher,
    NullWatcher,
    PostgresWatcher,
    SQLiteWatcher,
    postgres_conninfo,
    watcher_for,
)
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

ENOUGH = 30.0  # seconds: a bound for "it arrives", never a measure of how fast


def wait_for(watcher: ChangeWatcher, wanted: int | None) -> set[int | None]:
    """Everything the watcher reports until `wanted` is among it, or ENOUGH seconds of
    waits have gone by (then the caller's assertion fails)."""
    seen: set[int | None] = set()
    for _ in range(int(ENOUGH / 0.5)):
        seen |= watcher.wait(0.5)
        if wanted in seen:
            break
    return seen


def plan_audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan(cases=1))


def save_finding(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, grade: str = "good"
) -> None:
    rid = returns.find_return(factory, audit.id, audit.cases[0].reference, "police")
    returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(grade=grade, evidence="Strategy discussion notes"),
        expected_version=None,
    )


# --- SQLite -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one file: the lead's app and another auditor's."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    lead = make_engine(url)
    ensure_schema(lead, "test", upgrade_if_needed=True)
    other = make_engine(url)
    yield lead, other
    lead.dispose()
    other.dispose()


def test_sqlite_sees_a_commit_from_another_engine(
    sqlite_pair: tuple[Engine, Engine], actor: Actor, registry: ToolRegistry
) -> None:
    lead, other = sqlite_pair
    other_factory = make_session_factory(other)
    audit = plan_audit(other_factory, actor, registry)
    watcher = watcher_for(lead)
    try:
        assert isinstance(watcher, SQLiteWatcher)
        assert watcher.status is None
        # Nothing committed since the watcher started: a short wait says so.
        assert watcher.wait(1.5) == set()
        save_finding(other_factory, actor, audit)
        # SQLite cannot say which audit: "something changed".
        assert wait_for(watcher, ANY_AUDIT) == {ANY_AUDIT}
        # Reported once: the next wait is quiet again.
        assert watcher.wait(1.5) == set()
    finally:
        watcher.close()


def test_sqlite_sees_a_commit_through_the_same_engine(
    sqlite_pair: tuple[Engine, Engine], actor: Actor, registry: ToolRegistry
) -> None:
    """The watcher has a connection of its own, so the app's own saves (through the same
    engine's pool) count too: the lead's matrix shows what the lead saved elsewhere."""
    lead, _ = sqlite_pair
    factory = make_session_factory(lead)
    watcher = watcher_for(lead)
    try:
        plan_audit(factory, actor, registry)
        assert wait_for(watcher, ANY_AUDIT) == {ANY_AUDIT}
    finally:
        watcher.close()


def test_sqlite_reads_are_not_changes(
    sqlite_pair: tuple[Engine, Engine], actor: Actor, registry: ToolRegistry
) -> None:
    """A refresh reads; if reading counted as a change, refreshes would feed themselves."""
    lead, other = sqlite_pair
    factory = make_session_factory(lead)
    audit = plan_audit(make_session_factory(other), actor, registry)
    watcher = watcher_for(lead)
    try:
        for _ in range(3):
            return_matrix(factory, audit.id)
            with lead.connect() as connection:  # a write transaction that writes nothing
                connection.execute(text("SELECT count(*) FROM audits")).scalar_one()
                connection.commit()
        assert watcher.wait(1.5) == set()
    finally:
        watcher.close()


def test_wake_ends_a_wait_from_another_thread(sqlite_pair: tuple[Engine, Engine]) -> None:
    lead, _ = sqlite_pair
    watcher = watcher_for(lead)
    results: list[set[int | None]] = []
    waiting = threading.Thread(target=lambda: results.append(watcher.wait(600)))
    waiting.start()
    watcher.wake()
    waiting.join(timeout=ENOUGH)  # without the wake this wait would last ten minutes
    assert not waiting.is_alive()
    assert results == [set()]
    watcher.close()


def test_in_memory_sqlite_has_nothing_to_watch() -> None:
    engine = make_engine("sqlite://")
    watcher = watcher_for(engine)
    assert isinstance(watcher, NullWatcher)
    assert watcher.wait(0.1) == set()
    watcher.close()
    engine.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def pg_engine(postgres_schema_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_schema_url)
    ensure_schema(engine, "test", upgrade_if_needed=True)
    # Channels are database-wide, so other tests' schemas (whose audit ids also start at 1)
    # may notify on it too: a random first id keeps this test's audit its own.
    with engine.begin() as connection:
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence('audits', 'id'), :start)"),
            {"start": random.randint(100_000, 2_000_000_000)},
        )
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_conninfo_keeps_the_private_schema_and_drops_the_driver(
    pg_engine: Engine,
) -> None:
    conninfo = postgres_conninfo(pg_engine)
    assert conninfo.startswith("postgresql://")
    assert "search_path" in conninfo
    with psycopg.connect(conninfo) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
    assert schema is not None and schema[0].startswith("wb_")


@pytest.mark.postgres
def test_postgres_names_the_audit_a_finding_was_saved_in(
    pg_engine: Engine, actor: Actor, registry: ToolRegistry
) -> None:
    factory = make_session_factory(pg_engine)
    audit = plan_audit(factory, actor, registry)
    watcher = watcher_for(pg_engine)
    try:
        assert isinstance(watcher, PostgresWatcher)
        assert watcher.status is None
        # Reading is not a change (other tests' saves on the channel may still show up).
        return_matrix(factory, audit.id)
        assert audit.id not in watcher.wait(1.0)
        save_finding(factory, actor, audit)
        assert audit.id in wait_for(watcher, audit.id)
    finally:
        watcher.close()


@pytest.mark.postgres
def test_postgres_reconnects_quietly_after_losing_its_connection(
    pg_engine: Engine, actor: Actor, registry: ToolRegistry
) -> None:
    factory = make_session_factory(pg_engine)
    audit = plan_audit(factory, actor, registry)
    watcher = watcher_for(pg_engine)
    try:
        assert isinstance(watcher, PostgresWatcher) and watcher.backend_pid is not None
        admin = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:  # as a server restart would
            conn.execute("SELECT pg_terminate_backend(%s)", (watcher.backend_pid,))
        # The loss shows as a status line, never as an exception out of wait().
        paused: list[str] = []
        for _ in range(int(ENOUGH / 0.5)):
            watcher.wait(0.5)
            if watcher.status is not None:
                paused.append(watcher.status)
                break
        assert paused and paused[0].startswith("Live updates paused")
        # Back after the backoff: "anything may have changed", then this audit by name.
        assert ANY_AUDIT in wait_for(watcher, ANY_AUDIT)
        assert watcher.status is None
        save_finding(factory, actor, audit, grade="outstanding")
        assert audit.id in wait_for(watcher, audit.id)
    finally:
        watcher.close()


def test_postgres_unreachable_is_a_status_not_an_error() -> None:
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    watcher = watcher_for(engine)  # nothing listens on port 1
    try:
        assert watcher.wait(0.2) == set()
        assert watcher.status is not None and watcher.status.startswith("Live updates paused")
    finally:
        watcher.close()
        engine.dispose()
