"""`workbench whoami`, `users`, `audits lead` and `identifiers`, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import isolated_home, run

__all__ = ["isolated_home"]


def test_the_local_user_is_the_administrator_until_made_otherwise(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, "whoami", "--json")
    assert code == 0
    me = json.loads(out)
    assert (me["login"], me["role"]) == ("cli.tester", "admin")

    code, out, _ = run(capsys, "users", "add", "ann", "--role", "auditor", "--agency", "police")
    assert code == 0 and out.strip() == "ann: agency auditor for police"
    code, out, _ = run(capsys, "users", "list", "--json")
    assert [(u["login"], u["role"], u["agency"]) for u in json.loads(out)] == [
        ("ann", "auditor", "police")
    ]
    # Ann, on this machine, is an auditor: she can neither list users nor plan audits.
    monkeypatch.setenv("WORKBENCH_ACTOR", "ann")
    code, out, _ = run(capsys, "whoami")
    assert out.strip().startswith("ann (agency auditor, police)")
    code, _, err = run(capsys, "users", "list")
    assert code == 1 and "only an administrator can" in err and err.count("\n") == 1
    code, _, err = run(capsys, "users", "add", "ann", "--role", "admin")
    assert code == 1 and "cannot change workbench users" in err


def test_bad_roles_and_auditors_without_an_agency_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "users", "add", "bo", "--role", "boss")
    assert code == 2 and "'boss' is not a role" in err
    code, _, err = run(capsys, "users", "add", "bo", "--role", "auditor")
    assert code == 2 and "needs an agency" in err
    code, out, _ = run(capsys, "users", "list", "--json")
    assert json.loads(out) == []


# With no terminal in a test, getpass warns that it cannot hide what is typed.
@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")
def test_held_identifiers_are_asked_for_shown_to_the_lead_and_forgotten(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    run(capsys, "demo")
    code, out, _ = run(capsys, "audits", "list", "--json")
    audit = json.loads(out)[0]
    code, out, _ = run(capsys, "audits", "lead", str(audit["id"]), "cli.tester")
    assert code == 0 and "cli.tester" in out
    code, out, _ = run(capsys, "history", str(audit["id"]), "--json")
    case = json.loads(out)
    assert code == 0
    from workbench.services.audits import get_audit
    from workbench.store.engine import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{isolated_home / 'data' / 'workbench.db'}")
    reference = get_audit(make_session_factory(engine), audit["id"]).cases[0].reference
    engine.dispose()
    # The value is asked for (hidden), never taken from the command line.
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("Jordan Example\n"))
    code, out, _ = run(capsys, "identifiers", "hold", str(audit["id"]), reference, "name")
    assert code == 0 and "only the audit's leads" in out and "Jordan" not in out
    code, out, _ = run(capsys, "identifiers", "show", str(audit["id"]), reference)
    assert code == 0 and "Jordan Example" in out
    # The change history says who held and read it, never what it is.
    code, out, _ = run(capsys, "history", str(audit["id"]), "--json")
    assert "Jordan" not in out and "held identifier name" in out
    assert len(json.loads(out)) == len(case) + 2
    code, out, _ = run(capsys, "identifiers", "forget", str(audit["id"]), reference, "name")
    assert code == 0
    code, out, _ = run(capsys, "identifiers", "show", str(audit["id"]), reference)
    assert "No identifiers are held" in out
