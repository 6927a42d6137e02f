"""`workbench themes|learning|actions`, run in-process through the real entry point."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from audit_tools import ToolRegistry
from schemas.audit import Actor
from schemas.learning import (
    ActionIn,
    ActionUpdateIn,
    LearningItemChange,
    LearningItemIn,
    LearningSource,
    LearningStatus,
    ThemeIn,
)
from tests.conftest import cse_plan
from workbench.cli import main
from workbench.services import audits
from workbench.services.actions import add_action, update_action
from workbench.services.learning import create_learning_item, update_learning_item
from workbench.services.themes import list_themes, save_theme
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

ACTOR = Actor(name="cli.seed")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("WORKBENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("WORKBENCH_TOOLS_DIR", raising=False)
    monkeypatch.setenv("WORKBENCH_ACTOR", "cli.tester")
    return tmp_path


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite file with a small learning log and action plan, written through the services."""
    url = f"sqlite:///{tmp_path / 'log.db'}"
    engine = make_engine(url)
    ensure_schema(engine, "test database", upgrade_if_needed=True)
    factory = make_session_factory(engine)
    audit = audits.create_audit(factory, ACTOR, ToolRegistry.load(), cse_plan())
    create_learning_item(
        factory,
        ACTOR,
        LearningItemIn(
            raised_on=dt.date(2026, 1, 10),
            source=LearningSource.CASE_AUDIT,
            audit_id=audit.id,
            learning="Missing episodes were not shared with the school.",
            themes=("information-sharing",),
            agencies=("police",),
        ),
    )
    review = create_learning_item(
        factory,
        ACTOR,
        LearningItemIn(
            raised_on=dt.date(2026, 2, 10),
            source=LearningSource.CASE_REVIEW,
            learning="Return home interviews were late: " + "the detail runs on. " * 5,
            themes=("missing-children",),
            agencies=("school",),
        ),
    )
    update_learning_item(
        factory, ACTOR, review.id, LearningItemChange(status=LearningStatus.SHARED)
    )
    today = dt.date.today()
    for description, due, status in [
        ("Chase the overdue briefing", today - dt.timedelta(days=5), None),
        ("Refresh the missing protocol", today + dt.timedelta(days=30), None),
        ("Already done", today - dt.timedelta(days=60), "complete"),
    ]:
        made = add_action(
            factory,
            ACTOR,
            ActionIn(
                description=description,
                owner_name="Sam Patel",
                owner_agency="police",
                due_on=due,
                audit_id=audit.id,
            ),
            today=today,
        )
        if status:
            update_action(
                factory,
                ACTOR,
                made.id,
                ActionUpdateIn(
                    on=today, text="Done", status=status, evidence_of_impact="Dip sample"
                ),
                today=today,
            )
    save_theme(factory, ACTOR, ThemeIn(code="old-theme", label="Old theme", active=False))
    engine.dispose()
    return url


# --- themes ------------------------------------------------------------------------------------


def test_themes_list(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "themes", "list", "--json", "--db", db)
    assert code == 0
    listed = json.loads(out)
    factory = make_session_factory(make_engine(db))
    assert listed == [t.model_dump(mode="json") for t in list_themes(factory)]
    by_code = {t["code"]: t for t in listed}
    assert by_code["voice-of-the-child"]["label"] == "Voice of the child"
    assert by_code["old-theme"]["active"] is False

    code, out, _ = run(capsys, "themes", "list", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["code", "label", "active", "keywords"]
    [retired] = [line for line in lines if line.startswith("old-theme ")]
    assert "retired" in retired
    [voice] = [line for line in lines if line.startswith("voice-of-the-child ")]
    assert "Voice of the child" in voice and "wishes and feelings" in voice
    assert len(lines) == 2 + len(listed)


# --- the learning log ---------------------------------------------------------------------------


def test_learning_list(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "learning", "list", "--json", "--db", db)
    assert code == 0
    items = json.loads(out)
    assert [i["reference"] for i in items] == ["LL-2026-002", "LL-2026-001"]
    assert items[1]["themes"] == ["information-sharing"] and items[1]["source"] == "case-audit"
    assert items[0]["status"] == "shared"

    code, out, _ = run(capsys, "learning", "list", "--status", "open", "--json", "--db", db)
    assert [i["reference"] for i in json.loads(out)] == ["LL-2026-001"]
    code, out, _ = run(capsys, "learning", "list", "--agency", "school", "--json", "--db", db)
    assert [i["reference"] for i in json.loads(out)] == ["LL-2026-002"]

    code, out, _ = run(capsys, "learning", "list", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["reference", "raised", "source", "status"]
    assert lines[2].startswith("LL-2026-002") and "Case review" in lines[2]
    # Long learning is cut to one line with an ellipsis.
    assert lines[2].endswith("…") and "the detail runs on." in lines[2]
    assert lines[3].startswith("LL-2026-001") and "information-sharing" in lines[3]
    assert lines[-1] == "2 items"


def test_learning_search(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "learning", "search", "missing shared", "--json", "--db", db)
    assert code == 0
    assert [i["reference"] for i in json.loads(out)] == ["LL-2026-001"]
    # "missing" is in one item's words and the other's theme label.
    code, out, _ = run(capsys, "learning", "search", "MISSING", "--json", "--db", db)
    assert [i["reference"] for i in json.loads(out)] == ["LL-2026-002", "LL-2026-001"]
    code, out, _ = run(
        capsys, "learning", "search", "missing", "--source", "case-review", "--db", db
    )
    assert code == 0
    assert "LL-2026-002" in out and "LL-2026-001" not in out
    assert out.splitlines()[-1] == "1 item"
    code, out, _ = run(capsys, "learning", "search", "nothing-like-this", "--json", "--db", db)
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["learning", "list", "--source", "gossip"], "--source: "),
        (["learning", "search", "missing", "--source", "gossip"], "--source: "),
        (["learning", "list", "--status", "finished"], "--status: "),
        (["learning", "list", "--theme", "Not A Slug"], "--theme: "),
        (["learning", "search", "   "], "give at least one word"),
    ],
)
def test_bad_filters_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], db: str, args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args, "--db", db)
    assert code == 2
    assert out == ""
    assert err.startswith("workbench: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_learning_list_on_an_empty_database(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "learning", "list", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(capsys, "learning", "list")
    assert code == 0 and out.splitlines()[-1] == "0 items"


# --- the action plan ----------------------------------------------------------------------------


def test_actions_list(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "actions", "list", "--json", "--db", db)
    assert code == 0
    plan = json.loads(out)
    assert [(a["description"], a["overdue"], a["days_overdue"]) for a in plan] == [
        ("Chase the overdue briefing", True, 5),
        ("Refresh the missing protocol", False, 0),
        ("Already done", False, 0),
    ]
    assert plan[2]["status"] == "complete"

    code, out, _ = run(capsys, "actions", "list", "--overdue", "--json", "--db", db)
    assert code == 0
    assert [a["description"] for a in json.loads(out)] == ["Chase the overdue briefing"]

    code, out, _ = run(capsys, "actions", "list", "--db", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "due", "status", "owner", "agency", "overdue", "action"]
    assert "5 days" in lines[2] and "Chase the overdue briefing" in lines[2]
    assert "Not started" in lines[2] and "Sam Patel" in lines[2]
    assert "days" not in lines[3] and "Complete" in lines[4]
    assert len(lines) == 5

    code, out, _ = run(capsys, "actions", "list", "--overdue", "--db", db)
    assert code == 0
    assert out.splitlines()[2:] == [lines[2]]


def test_actions_list_for_one_audit(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = run(capsys, "audits", "list", "--json", "--db", db)
    [audit] = json.loads(out)
    for key in (str(audit["id"]), audit["uid"]):
        code, out, _ = run(capsys, "actions", "list", "--audit", key, "--json", "--db", db)
        assert code == 0 and len(json.loads(out)) == 3
    code, _, err = run(capsys, "actions", "list", "--audit", "98765", "--db", db)
    assert code == 1 and "no audit '98765'" in err and err.count("\n") == 1
