"""The load-test harness accounts for every save and its data check catches lost updates.

Never timings: the harness reports those, the tests check only what must hold on any machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from benchmarks import load_test
from tests.conftest import postgres_base_url, require_postgres
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema
from workbench.store.models import Finding

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


# --- the whole harness, as a user runs it ---------------------------------------------------


@pytest.fixture(scope="module")
def quick_run() -> dict[str, Any]:
    require_postgres()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load_test",
            "--quick",
            "--json",
            "--url",
            postgres_base_url(),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _all_modes(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [report["baseline"], *report["modes"]]


@pytest.mark.slow
def test_quick_run_times_the_baseline_and_both_paces(quick_run: dict[str, Any]) -> None:
    assert [m["mode"] for m in _all_modes(quick_run)] == ["alone", "realistic", "flat-out"]
    assert quick_run["baseline"]["auditors"] == 1
    assert [m["auditors"] for m in quick_run["modes"]] == [load_test.QUICK_AUDITORS] * 2


@pytest.mark.slow
def test_every_attempted_save_is_acknowledged_or_refused(quick_run: dict[str, Any]) -> None:
    expected = {
        "alone": load_test.QUICK_BASELINE_SAVES,
        "realistic": load_test.QUICK_AUDITORS * load_test.QUICK_SAVES,
        "flat-out": load_test.QUICK_AUDITORS * load_test.QUICK_SAVES,
    }
    for mode in _all_modes(quick_run):
        assert mode["errors"] == 0, mode["first_error"]
        assert mode["attempted"] == expected[mode["mode"]]
        assert mode["acknowledged"] + mode["refused"] == mode["attempted"], mode


@pytest.mark.slow
def test_no_update_is_lost_or_duplicated(quick_run: dict[str, Any]) -> None:
    for mode in _all_modes(quick_run):
        assert mode["lost"] == 0, mode
        assert mode["duplicated"] == 0, mode
        assert mode["missing_history"] == 0, mode
        assert mode["version_mismatches"] == 0, mode
        # One change-history record per acknowledged save; refused saves leave none.
        assert mode["history_records"] == mode["acknowledged"], mode
    assert quick_run["integrity_ok"] is True


@pytest.mark.slow
def test_shared_findings_are_refused_not_overwritten(quick_run: dict[str, Any]) -> None:
    assert quick_run["baseline"]["refused"] == 0
    for mode in quick_run["modes"]:
        # Both of a pair start on the same finding: whoever comes second must be refused.
        assert mode["pairs"] >= 1
        assert mode["refused"] >= mode["pairs"], mode


@pytest.mark.slow
def test_the_private_schema_is_dropped_afterwards(quick_run: dict[str, Any]) -> None:
    schema = quick_run["schema"]
    assert schema.startswith("wb_load_")
    assert quick_run["schema_dropped"] is True
    admin = postgres_base_url().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    assert row == (0,)


def test_an_unreachable_server_is_one_line_and_a_non_zero_exit() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load_test",
            "--quick",
            "--url",
            "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [problem] = result.stderr.splitlines()
    assert problem.startswith("load test: PostgreSQL at ")
    assert "unreachable" in problem


# --- the data check on its own ---------------------------------------------------------------


@pytest.fixture
def pg_engine(postgres_schema_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_schema_url)
    ensure_schema(engine, "load test database", upgrade_if_needed=True)
    yield engine
    engine.dispose()


@pytest.fixture
def saved(
    pg_engine: Engine, registry: ToolRegistry
) -> tuple[sessionmaker[Session], load_test.Setup, list[load_test.Ack]]:
    """A lead and the auditor they share findings with, each saving in turn through the service."""
    factory = make_session_factory(pg_engine)
    setup = load_test.prepare(factory, registry, 2, "verify")
    lead, partner = setup.plans
    assert setup.pairs == 1 and lead.shared and partner.shared == lead.shared
    first = load_test.run_auditor(factory, lead, 6, None)
    second = load_test.run_auditor(factory, partner, 6, None)
    # The lead made the shared finding first, so the partner's first save was stale.
    assert second.refused >= 1
    assert first.errors == second.errors == []
    return factory, setup, [*first.acks, *second.acks]


def _history_key(factory: sessionmaker[Session], return_id: int, criterion_id: str) -> str:
    with factory() as session:
        finding = session.scalars(
            select(Finding).where(
                Finding.return_id == return_id, Finding.criterion_id == criterion_id
            )
        ).one()
        return finding.history_key()


def test_verify_agrees_with_saves_made_through_the_service(
    saved: tuple[sessionmaker[Session], load_test.Setup, list[load_test.Ack]],
) -> None:
    factory, setup, acks = saved
    found = load_test.verify(factory, setup.audit_id, acks)
    assert found.ok
    assert found.acknowledged == len(acks) == found.history_records
    assert found.findings == len({a.finding for a in acks})


def test_verify_counts_a_value_overwritten_behind_the_service(
    saved: tuple[sessionmaker[Session], load_test.Setup, list[load_test.Ack]], pg_engine: Engine
) -> None:
    factory, setup, acks = saved
    return_id, criterion_id = acks[-1].finding
    with pg_engine.begin() as connection:
        changed = connection.execute(
            text(
                "UPDATE findings SET evidence = 'overwritten unseen' "
                "WHERE return_id = :r AND criterion_id = :c"
            ),
            {"r": return_id, "c": criterion_id},
        ).rowcount
    assert changed == 1
    found = load_test.verify(factory, setup.audit_id, acks)
    assert found.lost == 1
    assert (found.duplicated, found.missing_history, found.version_mismatches) == (0, 0, 0)
    assert not found.ok


def test_verify_counts_a_write_nobody_was_told_about(
    saved: tuple[sessionmaker[Session], load_test.Setup, list[load_test.Ack]], pg_engine: Engine
) -> None:
    factory, setup, acks = saved
    return_id, criterion_id = acks[0].finding
    with pg_engine.begin() as connection:
        # As a save that committed but was reported refused would: new value, version and record.
        connection.execute(
            text(
                "UPDATE findings SET evidence = 'unacknowledged', version = version + 1 "
                "WHERE return_id = :r AND criterion_id = :c"
            ),
            {"r": return_id, "c": criterion_id},
        )
        connection.execute(
            text(
                "INSERT INTO change_history (at, actor, audit_id, entity, entity_key, operation,"
                " field, before, after) SELECT at, actor, audit_id, entity, entity_key,"
                " 'update', 'evidence', after, 'unacknowledged' FROM change_history"
                " WHERE entity = 'findings' AND entity_key = :k ORDER BY id DESC LIMIT 1"
            ),
            {"k": _history_key(factory, return_id, criterion_id)},
        )
    found = load_test.verify(factory, setup.audit_id, acks)
    assert found.lost == 1
    assert found.duplicated == 1
    assert found.version_mismatches == 1


def test_verify_counts_two_acknowledgements_of_one_version(
    saved: tuple[sessionmaker[Session], load_test.Setup, list[load_test.Ack]],
) -> None:
    factory, setup, acks = saved
    # A save acknowledged with a version another acknowledged save already had: one of the
    # two overwrote the other without the version check noticing.
    forged = replace(acks[0], value="acknowledged but overwritten")
    found = load_test.verify(factory, setup.audit_id, [*acks, forged])
    assert found.lost == 1
    assert found.missing_history == 1
