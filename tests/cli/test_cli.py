"""The `workbench` command, run in-process through its real entry point."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from workbench.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own data directory: the default SQLite file lands there."""
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WORKBENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKBENCH_TOOLS_DIR", raising=False)
    monkeypatch.setenv("WORKBENCH_ACTOR", "cli.tester")
    return tmp_path


def test_tools_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "list", "--json")
    assert code == 0
    tools = {t["id"]: t for t in json.loads(out)}
    assert {"cse", "domestic-abuse", "early-help-exclusions"} <= set(tools)
    assert tools["cse"]["scale"] == "ofsted-4"
    assert tools["cse"]["criteria"] >= 8


def test_tools_show_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "show", "domestic-abuse")
    assert code == 0
    assert "da-1.1" in out and "Outstanding" in out
    code, out, _ = run(capsys, "tools", "show", "cse", "--json")
    assert json.loads(out)["tool"]["id"] == "cse"
    code, out, _ = run(capsys, "tools", "schema")
    assert "criteria" in json.dumps(json.loads(out))
    code, out, err = run(capsys, "tools", "show", "nope")
    assert code == 2 and "no tool with id 'nope'" in err


def test_default_database_is_created_private_in_the_data_dir(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    code, out, _ = run(capsys, "audits", "list", "--json")
    assert code == 0
    assert json.loads(out) == []
    db = isolated_home / "data" / "workbench.db"
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600


def test_demo_then_list_export_and_import_into_another_database(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "Loaded" in out
    code, out, _ = run(capsys, "audits", "list", "--json")
    listed = json.loads(out)
    assert {a["tool_id"] for a in listed} >= {"cse", "domestic-abuse", "early-help-exclusions"}
    first = listed[0]

    bundle = isolated_home / "audit.json"
    code, out, _ = run(capsys, "bundle", "export", str(first["id"]), "--out", str(bundle))
    assert code == 0
    assert stat.S_IMODE(os.stat(bundle).st_mode) == 0o600
    other = f"sqlite:///{isolated_home / 'other.db'}"
    code, out, _ = run(capsys, "bundle", "import", str(bundle), "--db", other)
    assert code == 0 and first["title"] in out
    code, out, _ = run(capsys, "audits", "list", "--json", "--db", other)
    [copied] = json.loads(out)
    assert copied["uid"] == first["uid"]
    assert copied["findings_answered"] == first["findings_answered"]

    again = isolated_home / "again.json"
    run(capsys, "bundle", "export", first["uid"], "--out", str(again), "--db", other)
    a, b = json.loads(bundle.read_text()), json.loads(again.read_text())
    a.pop("exported_at")
    b.pop("exported_at")
    assert a == b


def test_bundle_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "bundle", "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "Bundle" and "cases" in schema["properties"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["bundle", "import", "/no/such/file.json"], 2, "/no/such/file.json: no such file"),
        (["bundle", "export", "1", "--out", "/no/such/folder/x.json"], 1, "no audit '1'"),
        (["audits", "list", "--db", "mysql://x@y/z"], 1, "only SQLite and PostgreSQL"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    got, _, err = run(capsys, *args)
    assert got == code
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_export_path_leaves_nothing_behind(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    run(capsys, "demo")
    code, _, err = run(
        capsys, "bundle", "export", "1", "--out", str(isolated_home / "nope" / "a.json")
    )
    assert code == 2
    assert "does not exist" in err and "nope" in err
    locked = isolated_home / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        code, _, err = run(capsys, "bundle", "export", "1", "--out", str(locked / "a.json"))
        assert code == 2 and "cannot write" in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_db_upgrade_on_postgres(
    capsys: pytest.CaptureFixture[str], postgres_schema_url: str
) -> None:
    code, _, err = run(capsys, "audits", "list", "--db", postgres_schema_url)
    assert code == 1 and "workbench db upgrade" in err
    code, out, _ = run(capsys, "db", "upgrade", "--db", postgres_schema_url)
    assert code == 0 and "schema revision" in out
    code, out, _ = run(capsys, "audits", "list", "--json", "--db", postgres_schema_url)
    assert code == 0 and json.loads(out) == []
