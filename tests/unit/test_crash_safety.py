"""The crash-safety harness: quick kill runs lose nothing, and its checker does report a lost
acknowledged save, a torn or phantom history and a broken foreign key when there is one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url, text

from benchmarks import crash_safety
from benchmarks.crash_safety import Event, Target
from tests.conftest import require_postgres
from workbench.store.engine import make_engine, make_session_factory

ROOT = Path(__file__).resolve().parents[2]
SAVES = 24


def _quick_run(backend: str, tmp: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.crash_safety",
            "--backend",
            backend,
            "--quick",
            "--json",
        ],
        cwd=ROOT,
        # TMPDIR points tempfile at a folder we can inspect afterwards.
        env={**os.environ, "TMPDIR": str(tmp)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [outcome] = json.loads(result.stdout)
    assert outcome["backend"] == backend
    return dict(outcome)


def _assert_nothing_lost(outcome: dict[str, Any]) -> None:
    assert outcome["status"] == "ok", outcome
    assert outcome["kills"] == crash_safety.QUICK_KILLS
    assert outcome["acknowledged"] > 0
    assert outcome["missing"] == 0, outcome["problems"]
    assert outcome["history_mismatches"] == 0, outcome["problems"]
    assert outcome["integrity_ok"] is True, outcome["integrity_detail"]
    assert outcome["usable_after"] is True, outcome["problems"]
    # Every committed save is either acknowledged or the one in flight at a kill.
    assert outcome["committed"] == outcome["acknowledged"] + outcome["committed_unacknowledged"]
    assert outcome["committed_unacknowledged"] <= outcome["kills_mid_save"] <= outcome["kills"]
    assert outcome["ok"] is True


@pytest.mark.slow
def test_quick_kill_run_on_sqlite_loses_nothing(tmp_path: Path) -> None:
    outcome = _quick_run("sqlite", tmp_path)
    _assert_nothing_lost(outcome)
    assert "integrity_check" in outcome["integrity_method"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.postgres
def test_quick_kill_run_on_postgresql_loses_nothing(tmp_path: Path) -> None:
    require_postgres()
    _assert_nothing_lost(_quick_run("postgresql", tmp_path))


# --- the checker, against databases broken behind its back ---------------------------------


@pytest.fixture
def saved(db_url: str) -> tuple[str, list[Event]]:
    """A database with SAVES findings saved through the service, and the saver's log."""
    targets: list[Target] = crash_safety.prepare(db_url)
    engine = make_engine(db_url)
    events: list[Event] = []
    crash_safety.save_loop(make_session_factory(engine), targets, 0, 7, events.append, SAVES)
    engine.dispose()
    return db_url, events


def _sql(url: str, statement: str, **params: object) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def _acks(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "ack"]


def test_untouched_database_passes(saved: tuple[str, list[Event]]) -> None:
    url, events = saved
    verdict = crash_safety.verify(url, events)
    assert verdict.acknowledged == SAVES
    assert verdict.committed == SAVES
    assert (verdict.committed_unacknowledged, verdict.missing) == (0, 0)
    assert verdict.history_mismatches == 0, verdict.problems
    assert crash_safety.integrity(url).ok


def test_acknowledged_save_reverted_behind_its_back_is_missing(
    saved: tuple[str, list[Event]],
) -> None:
    url, events = saved
    acks = _acks(events)
    last = max(acks, key=lambda e: e.version or 0)
    assert last.version is not None
    assert last.version >= 2
    before = next(
        e.value
        for e in acks
        if (e.return_id, e.criterion_id) == (last.return_id, last.criterion_id)
        and e.version == last.version - 1
    )
    # A consistent revert, row and history together: only the acknowledgement shows the loss.
    _sql(
        url,
        "UPDATE findings SET evidence = :before, version = :version "
        "WHERE return_id = :return_id AND criterion_id = :criterion_id",
        before=before,
        version=last.version - 1,
        return_id=last.return_id,
        criterion_id=last.criterion_id,
    )
    _sql(url, "DELETE FROM change_history WHERE after = :value", value=last.value)
    verdict = crash_safety.verify(url, events)
    assert verdict.missing == 1
    assert verdict.history_mismatches == 0, verdict.problems
    assert any(last.value in p for p in verdict.problems)


def test_a_commit_killed_before_its_ack_is_allowed_and_counted(
    saved: tuple[str, list[Event]],
) -> None:
    url, events = saved
    # As if the kill came after the last save committed but before its ack line.
    assert events[-1].kind == "ack"
    verdict = crash_safety.verify(url, events[:-1])
    assert verdict.committed_unacknowledged == 1
    assert verdict.acknowledged == SAVES - 1
    assert (verdict.missing, verdict.history_mismatches) == (0, 0)


def test_an_unacknowledged_commit_that_was_not_in_flight_is_a_mismatch(
    saved: tuple[str, list[Event]],
) -> None:
    url, events = saved
    # The saver goes on after each ack, so a commit missing its ack mid-run cannot happen.
    first_ack = next(i for i, e in enumerate(events) if e.kind == "ack")
    verdict = crash_safety.verify(url, events[:first_ack] + events[first_ack + 1 :])
    assert verdict.history_mismatches == 1
    assert verdict.committed_unacknowledged == 0


def test_a_save_nobody_made_is_a_mismatch(saved: tuple[str, list[Event]]) -> None:
    url, events = saved
    # Forget the last save altogether: the database then holds a value nobody tried to save.
    verdict = crash_safety.verify(url, events[:-2])
    assert verdict.history_mismatches == 1
    assert any("nobody made" in p for p in verdict.problems)


def test_a_duplicated_history_record_is_a_mismatch(saved: tuple[str, list[Event]]) -> None:
    url, events = saved
    _sql(
        url,
        "INSERT INTO change_history "
        "(at, actor, audit_id, entity, entity_key, operation, field, before, after) "
        "SELECT at, actor, audit_id, entity, entity_key, operation, field, before, after "
        "FROM change_history WHERE after = :value",
        # An update's record (a create's holds a snapshot, not the bare value).
        value=max(_acks(events), key=lambda e: e.version or 0).value,
    )
    verdict = crash_safety.verify(url, events)
    assert verdict.history_mismatches == 1
    assert verdict.missing == 0


def test_an_orphaned_finding_fails_the_integrity_check(saved: tuple[str, list[Event]]) -> None:
    url, _ = saved
    orphan = "UPDATE findings SET return_id = 99999 WHERE id = (SELECT min(id) FROM findings)"
    if make_url(url).get_backend_name() == "sqlite":
        database = make_url(url).database
        assert database
        # A plain connection does not enforce foreign keys: as a careless tool would write.
        plain = sqlite3.connect(database)
        with plain:
            plain.execute(orphan)
        plain.close()
    else:
        engine = make_engine(url)
        with engine.begin() as connection:
            # replica role skips the foreign-key triggers: only a superuser can break it so.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(orphan))
        engine.dispose()
    result = crash_safety.integrity(url)
    assert not result.ok
    assert "findings" in result.detail
