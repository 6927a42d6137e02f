"""`workbench retention apply` and `workbench retention hold`, through the real entry point."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.cli.test_cli import isolated_home, run
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.models import Audit

__all__ = ["isolated_home"]


def _close_all_long_ago(home: Path) -> list[int]:
    engine = make_engine(f"sqlite:///{home / 'data' / 'workbench.db'}")
    try:
        with make_session_factory(engine).begin() as session:
            session.execute(
                update(Audit).values(
                    status="closed", closed_at=dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
                )
            )
            return list(session.scalars(select(Audit.id).order_by(Audit.id)))
    finally:
        engine.dispose()


def test_no_period_configured_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "retention", "apply", "--dry-run")
    assert code == 2 and "WORKBENCH_RETENTION_MONTHS" in err and err.count("\n") == 1
    code, _, err = run(capsys, "retention", "apply", "--months", "0")
    assert code == 2 and "at least one month" in err


def test_dry_run_then_hold_then_apply(
    capsys: pytest.CaptureFixture[str], isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "demo")
    ids = _close_all_long_ago(isolated_home)
    assert len(ids) >= 2
    kept = ids[0]
    monkeypatch.setenv("WORKBENCH_RETENTION_MONTHS", "72")

    code, out, _ = run(capsys, "retention", "apply", "--dry-run", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["dry_run"] is True and listed["months"] == 72
    assert sorted(a["id"] for a in listed["audits"]) == sorted(ids)
    code, out, _ = run(capsys, "audits", "list", "--json")
    assert len(json.loads(out)) == len(ids)

    code, out, _ = run(capsys, "retention", "hold", str(kept))
    assert code == 0 and "placed under legal hold" in out
    code, out, _ = run(capsys, "retention", "apply", "--months", "12")
    assert code == 0 and f"Deleted {len(ids) - 1} audit" in out
    code, out, _ = run(capsys, "audits", "list", "--json")
    assert [a["id"] for a in json.loads(out)] == [kept]

    code, out, _ = run(capsys, "retention", "hold", str(kept), "--release")
    assert code == 0 and "released from legal hold" in out
    code, out, _ = run(capsys, "retention", "apply", "--dry-run")
    assert code == 0 and "Would delete 1 audit" in out
