"""TUI fixtures: a temporary SQLite database only, since the screens are the same on any store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from workbench.config import Settings
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema


@pytest.fixture
def sqlite_factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path}/wb.db")
    ensure_schema(engine, "test", upgrade_if_needed=True)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Explicit paths and actor, so nothing from the developer's environment leaks in.
    return Settings(
        database_url=f"sqlite:///{tmp_path}/wb.db",
        data_dir=tmp_path / "data",
        config_dir=tmp_path / "config",
        actor="t.tester",
    )
