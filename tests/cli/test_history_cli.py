"""`workbench history`: the change history as a table or JSON, per audit, case, return, finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit_tools import ToolRegistry
from schemas.audit import Actor, FindingChange
from tests.cli.test_cli import isolated_home, run  # noqa: F401  (autouse fixture)
from tests.conftest import cse_plan
from workbench.services import audits, returns
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

LONG = "Screening tool on file and discussed at the strategy meeting on 14 March " * 2


@pytest.fixture
def db(tmp_path: Path, registry: ToolRegistry) -> str:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    engine = make_engine(url)
    ensure_schema(engine, "test database", upgrade_if_needed=True)
    factory = make_session_factory(engine)
    detail = audits.create_audit(factory, Actor(name="a.auditor"), registry, cse_plan(cases=2))
    for reference in (c.reference for c in detail.cases):
        rid = returns.find_return(factory, detail.id, reference, "police")
        first = returns.record_finding(
            factory,
            Actor(name="a.auditor"),
            rid,
            "cse-1.1",
            FindingChange(grade="good"),
            expected_version=None,
        )
        returns.record_finding(
            factory,
            Actor(name="s.teacher"),
            rid,
            "cse-1.1",
            FindingChange(evidence=LONG),
            expected_version=first.version,
        )
    engine.dispose()
    return url


def test_finding_history_table(capsys: pytest.CaptureFixture[str], db: str) -> None:
    args = ["history", "1", "--case", "CSE-25-01", "--agency", "police", "--criterion", "cse-1.1"]
    code, out, _ = run(capsys, *args, "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["when", "who", "what", "operation", "field", "before", "→", "after"]
    body = lines[2:-1]
    assert len(body) == 2 and lines[-1] == "2 changes"
    assert "a.auditor" in body[0] and "create" in body[0]
    assert "s.teacher" in body[1] and "update" in body[1] and "evidence" in body[1]
    assert "case CSE-25-01 / police / cse-1.1" in body[1]
    assert LONG.strip() not in out and "…" in body[1]  # cut in the table
    assert "CSE-25-02" not in out


def test_history_json_is_full(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "history", "1", "--case", "CSE-25-01", "--json", "--db", db)
    assert code == 0
    got = json.loads(out)
    update = next(r for r in got if r["field"] == "evidence")
    assert (update["actor"], update["before"], update["after"]) == ("s.teacher", "", LONG)
    assert {r["entity_key"] for r in got} >= {
        "case CSE-25-01",
        "case CSE-25-01 / police",
        "case CSE-25-01 / school",
        "case CSE-25-01 / police / cse-1.1",
    }
    assert all(r["entity_key"].startswith("case CSE-25-01") for r in got)
    code, out, _ = run(
        capsys, "history", "1", "--case", "CSE-25-01", "--agency", "school", "--json", "--db", db
    )
    assert [r["entity_key"] for r in json.loads(out)] == ["case CSE-25-01 / school"]
    code, out, _ = run(capsys, "history", "1", "--json", "--db", db)
    everything = json.loads(out)
    assert everything[0]["entity_key"].startswith("audit ")
    assert [r["at"] for r in everything] == sorted(r["at"] for r in everything)
    assert len(everything) > len(got)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--agency", "police"], "--agency needs --case"),
        (["--criterion", "cse-1.1"], "--criterion needs --case and --agency"),
        (
            ["--case", "CSE-25-01", "--criterion", "cse-1.1"],
            "--criterion needs --case and --agency",
        ),
    ],
)
def test_bad_combinations_exit_2(
    capsys: pytest.CaptureFixture[str], db: str, extra: list[str], message: str
) -> None:
    code, out, err = run(capsys, "history", "1", *extra, "--db", db)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1


def test_unknown_audit_is_refused(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, _, err = run(capsys, "history", "99", "--db", db)
    assert code == 1 and "no audit '99'" in err
