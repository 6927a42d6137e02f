"""The store itself: migrations on both databases, SQLite settings, permissions, bad databases."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from schemas.audit import Actor
from workbench.config import Settings
from workbench.store.engine import make_engine, make_session_factory, parse_url
from workbench.store.errors import (
    DatabaseLockedError,
    DatabaseNeedsUpgradeError,
    DatabaseNewerError,
    DatabaseNotOursError,
    DatabaseUnavailableError,
)
from workbench.store.history import MissingActorError
from workbench.store.migrate import current_revision, ensure_schema, head_revision, upgrade
from workbench.store.models import Agency, Audit, Base


def test_migrations_take_an_empty_database_to_head(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with engine.connect() as connection:
        agencies = connection.execute(text("SELECT count(*) FROM agencies")).scalar_one()
    assert agencies >= 15
    engine.dispose()


def test_models_and_migrations_agree(engine: Engine) -> None:
    """No create_all: the migration must create exactly what the models describe."""
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_sqlite_file_is_private_wal_with_foreign_keys(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "nested"
    settings = Settings(data_dir=folder, database_url=None)
    engine = make_engine(settings.resolved_database_url)
    ensure_schema(engine, "t", upgrade_if_needed=True)
    assert stat.S_IMODE(os.stat(settings.sqlite_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    for extra in ("workbench.db-wal", "workbench.db-shm"):
        path = folder / extra
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0
    engine.dispose()


def test_database_newer_than_the_code_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(DatabaseNewerError, match="f00dfeed is newer than this workbench"):
        ensure_schema(engine, "shared", upgrade_if_needed=True)
    engine.dispose()


def test_database_that_is_not_ours_is_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseNotOursError, match="not a workbench database"):
        ensure_schema(engine, "elsewhere", upgrade_if_needed=True)
    assert set(inspect(engine).get_table_names()) == {"invoices"}
    engine.dispose()


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"These are meeting notes, not a database. " * 100)
    with pytest.raises(DatabaseNotOursError, match="not SQLite"):
        ensure_schema(make_engine(f"sqlite:///{path}"), str(path), upgrade_if_needed=True)
    assert path.read_bytes().startswith(b"These are meeting notes")


def test_older_schema_needs_an_explicit_upgrade_when_not_automatic(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(DatabaseNeedsUpgradeError, match="workbench db upgrade"):
        ensure_schema(engine, "shared", upgrade_if_needed=False)
    engine.dispose()


def test_locked_sqlite_database_gives_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "wb.db"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine, str(path), upgrade_if_needed=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        from audit_tools import ToolRegistry
        from tests.conftest import cse_plan
        from workbench.services.audits import create_audit, list_agencies, list_audits

        # A short busy timeout keeps the test quick; the message is what matters.
        impatient = make_session_factory(make_engine(f"sqlite:///{path}", busy_timeout_ms=200))
        with pytest.raises(DatabaseLockedError, match="locked by another program"):
            create_audit(impatient, Actor(name="x"), ToolRegistry.load(), cse_plan())
        # Reads begin deferred: in WAL mode they go on while another program writes.
        assert len(list_agencies(impatient)) >= 15
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert list_audits(make_session_factory(engine)) == []
    engine.dispose()


def test_unknown_database_kind_is_refused() -> None:
    with pytest.raises(DatabaseUnavailableError, match="only SQLite and PostgreSQL"):
        parse_url("mysql://root@localhost/db")
    with pytest.raises(DatabaseUnavailableError, match="not a database URL"):
        parse_url("::nonsense::")


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_audit_content_cannot_change_without_an_actor(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(MissingActorError), factory.begin() as session:
        session.add(Audit(uid="0" * 36, title="x", tool_version_id=1, created_by="nobody"))
        session.flush()
    # Reference data is not audit content: no actor needed.
    with factory.begin() as session:
        session.add(Agency(code="new-agency", name="New agency"))
    assert Actor(name="x").name == "x"


def test_writes_from_two_threads_both_land(engine: Engine) -> None:
    """The busy timeout and BEGIN IMMEDIATE make concurrent writers wait, not fail."""
    factory = make_session_factory(engine)
    errors: list[BaseException] = []

    def add(code: str) -> None:
        try:
            for n in range(20):
                with factory.begin() as session:
                    session.add(Agency(code=f"{code}-{n}", name=code))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(f"t{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM agencies WHERE code LIKE 't%-%'")
        ).scalar_one()
    assert count == 60
