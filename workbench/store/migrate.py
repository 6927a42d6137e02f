"""Schema migrations (Alembic) and the checks that keep code and database in step."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DatabaseError, OperationalError

from workbench.store.errors import (
    DatabaseLockedError,
    DatabaseNeedsUpgradeError,
    DatabaseNewerError,
    DatabaseNotOursError,
    DatabaseUnavailableError,
    StoreError,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def translate(exc: Exception, where: str) -> StoreError:
    """Turn a driver error into a one-line message naming the database."""
    text = (
        str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    )
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseLockedError(
            f"{where}: the database is locked by another program; try again in a moment"
        )
    if "file is not a database" in lowered or "file is encrypted" in lowered:
        return DatabaseNotOursError(f"{where}: not a Case Audit Workbench database (not SQLite)")
    if "readonly" in lowered or "read-only" in lowered:
        return DatabaseUnavailableError(f"{where}: the database is read-only; cannot save")
    if "unable to open" in lowered:
        return DatabaseUnavailableError(f"{where}: cannot open the database file")
    return DatabaseUnavailableError(f"{where}: {text}")


def ensure_schema(engine: Engine, where: str, *, upgrade_if_needed: bool) -> str:
    """Check the schema is ours and current; create or upgrade it when allowed."""
    try:
        current = current_revision(engine)
        tables = set(inspect(engine).get_table_names())
    except (OperationalError, DatabaseError) as exc:
        raise translate(exc, where) from None
    head = head_revision()
    if current is None:
        if tables - {"alembic_version"}:
            raise DatabaseNotOursError(
                f"{where}: holds tables but no workbench schema version; not a workbench database"
            )
        if not upgrade_if_needed:
            raise DatabaseNeedsUpgradeError(f"{where}: empty; run `workbench db upgrade`")
    elif current not in known_revisions():
        raise DatabaseNewerError(
            f"{where}: schema revision {current} is newer than this workbench knows; "
            "upgrade the workbench before opening it"
        )
    elif current == head:
        return current
    elif not upgrade_if_needed:
        raise DatabaseNeedsUpgradeError(
            f"{where}: schema revision {current} is older than {head}; run `workbench db upgrade`"
        )
    try:
        upgrade(engine)
    except (OperationalError, DatabaseError) as exc:
        raise translate(exc, where) from None
    return head
