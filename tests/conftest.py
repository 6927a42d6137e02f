"""Shared fixtures: one parametrised database fixture runs tests on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditPlan, CaseProfile
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get("WORKBENCH_TEST_POSTGRES_URL", DEFAULT_PG)


def _postgres_problem() -> str | None:
    import psycopg

    url = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {postgres_base_url()} unreachable: {str(exc).splitlines()[0]}"


_PG_PROBLEM: list[str | None] = []


def require_postgres() -> None:
    """Skip (visibly) without a server; in CI (WORKBENCH_REQUIRE_POSTGRES=1) fail instead."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_postgres_problem())
    problem = _PG_PROBLEM[0]
    if problem is None:
        return
    if os.environ.get("WORKBENCH_REQUIRE_POSTGRES") == "1":
        pytest.fail(problem + " (WORKBENCH_REQUIRE_POSTGRES=1: the PostgreSQL tests must run)")
    pytest.skip(problem)


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh, private PostgreSQL schema, dropped afterwards."""
    require_postgres()
    import psycopg

    schema = f"wb_{uuid.uuid4().hex[:12]}"
    admin = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_base_url() else "?"
    try:
        yield f"{postgres_base_url()}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workbench.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    ensure_schema(eng, "test database", upgrade_if_needed=True)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture(scope="session")
def registry() -> ToolRegistry:
    return ToolRegistry.load()


@pytest.fixture
def actor() -> Actor:
    return Actor(name="a.auditor", agency="police")


def cohort(n: int = 3) -> tuple[CaseProfile, ...]:
    levels = ["early-help", "child-in-need", "child-protection", "looked-after"]
    return tuple(
        CaseProfile(
            reference=f"CSE-25-{i + 1:02d}",
            level_of_need=levels[i % 4],  # type: ignore[arg-type]
            age_band="11-15",  # type: ignore[arg-type]
            gender="female" if i % 2 else "male",  # type: ignore[arg-type]
            ethnicity="White British",
            send="none",  # type: ignore[arg-type]
        )
        for i in range(n)
    )


def cse_plan(agencies: tuple[str, ...] = ("police", "school", "gp"), cases: int = 3) -> AuditPlan:
    return AuditPlan(
        title="CSE multi-agency audit, spring",
        tool_id="cse",
        agencies=agencies,
        cases=cohort(cases),
        chair="Panel chair",
    )


@pytest.fixture
def login(db_url: str) -> Iterator[Callable[[str], str]]:
    """Make a login for a workbench user: on PostgreSQL a real database login (unique to the
    test, dropped afterwards), on SQLite just the name."""
    made: list[str] = []
    postgres = db_url.startswith("postgresql")

    def make(name: str) -> str:
        if not postgres:
            return name
        import psycopg

        role = f"wb_{uuid.uuid4().hex[:8]}_{name}"
        admin = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
        made.append(role)
        return role

    yield make
    if made:
        import psycopg

        admin = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            for role in made:
                # The test's schema is dropped after this fixture; its grants go with the role.
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')
