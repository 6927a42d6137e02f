"""Schema migrations (Alembic) and the checks that keep code and database in step."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError

from workbench.store.errors import (
    DatabaseLockedError,
    DatabaseNeedsUpgradeError,
    DatabaseNewerError,
    DatabaseNotOursError,
    DatabaseUnavailableError,
    StoreError,
)

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

HEAD_REVISION = "0004"
"""The newest migration, kept here so that opening a current database never imports Alembic
(a tenth of a second at every launch). A test checks it against the migration scripts."""


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, read with plain SQL (no Alembic import)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        found = list(versions)
    if len(found) > 1:
        raise DatabaseNotOursError(
            "the database has several schema heads; not a workbench database"
        )
    return found[0] if found else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

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
    if current == HEAD_REVISION:
        return current
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
