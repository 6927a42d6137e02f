"""Loading audit tools: the shipped ones are sound, and every kind of broken file gets one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit_tools import ToolFileError, ToolRegistry
from audit_tools.loader import load_tool_file
from audit_tools.registry import PACKAGE_DIR

GOOD = """\
id: partnership-neglect
version: 1
title: Adolescent neglect audit
theme: Neglect
kind: multi-agency
scale: ofsted-4
sections:
  - id: recognition
    title: Recognition
    criteria:
      - id: n-1.1
        question: Was neglect recognised?
        guidance: Look for chronologies.
        typical_evidence: [Chronology]
      - id: n-1.2
        question: Was the child seen alone?
        agencies: [police]
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_shipped_tools_meet_the_brief() -> None:
    registry = ToolRegistry.load()
    ids = {tool_id for tool_id, _ in registry.tools}
    assert {"cse", "domestic-abuse", "early-help-exclusions"} <= ids
    assert {"ofsted-4", "rag"} <= set(registry.scales)
    for tool_id in ("cse", "domestic-abuse", "early-help-exclusions"):
        tool = registry.definition(tool_id).tool
        assert len(tool.criteria) >= 8
        assert len(tool.sections) >= 2
        for criterion in tool.criteria:
            assert criterion.guidance.strip(), criterion.id
            assert criterion.typical_evidence, criterion.id
    ofsted = registry.scales["ofsted-4"]
    assert [level.key for level in ofsted.levels] == [
        "outstanding",
        "good",
        "requires_improvement",
        "inadequate",
    ]
    assert all(level.descriptor for level in ofsted.levels)
    assert ofsted.answer_keys[-2:] == ("not_applicable", "not_evidenced")
    assert ofsted.rank("outstanding") == 1 and ofsted.rank("not_applicable") is None


def test_partnership_folder_adds_a_tool(tmp_path: Path) -> None:
    write(tmp_path, "neglect.yaml", GOOD)
    registry = ToolRegistry.load([tmp_path])
    tool = registry.definition("partnership-neglect").tool
    assert [c.id for c in tool.criteria_for("school")] == ["n-1.1"]
    assert [c.id for c in tool.criteria_for("police")] == ["n-1.1", "n-1.2"]


def test_latest_version_wins_and_old_versions_stay(tmp_path: Path) -> None:
    write(tmp_path, "neglect.yaml", GOOD)
    write(tmp_path, "neglect-v2.yaml", GOOD.replace("version: 1", "version: 2"))
    registry = ToolRegistry.load([tmp_path])
    assert registry.definition("partnership-neglect").tool.version == 2
    assert registry.definition("partnership-neglect", 1).tool.version == 1


def test_same_version_changed_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("Adolescent neglect audit", "Edited title"))
    with pytest.raises(ToolFileError, match="new version"):
        ToolRegistry.load([tmp_path])


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (GOOD.replace("title: Recognition\n", "title: [Recognition\n"), 10, None, "YAML syntax"),
        (GOOD.replace("theme: Neglect\n", ""), 1, "theme", "missing required field"),
        (GOOD.replace("version: 1", "version: one"), 2, "version", "valid integer"),
        (GOOD.replace("kind: multi-agency", "kind: wholesale"), 5, "kind", "multi-agency"),
        (GOOD.replace("id: n-1.2", "id: n-1.1"), 15, "criteria.id", "duplicate criterion id"),
        (GOOD.replace("scale: ofsted-4", "scale: stars"), 6, "scale", "unknown scale 'stars'"),
        (
            GOOD.replace("    title: Recognition\n", "    title: Recognition\n    colour: red\n"),
            10,
            "sections[0].colour",
            "unknown field",
        ),
        (
            GOOD.replace("Was neglect recognised?", "''"),
            12,
            "sections[0].criteria[0].question",
            "at least 1 character",
        ),
        ("- just\n- a list\n", 1, None, "mapping"),
        ("", None, None, "empty"),
        ("   \n\n", None, None, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", None, None, "binary"),
        (b"id: caf\xe9\n", None, None, "not UTF-8"),
    ],
    ids=[
        "yaml-syntax",
        "missing-field",
        "wrong-type",
        "bad-kind",
        "duplicate-criterion",
        "unknown-scale",
        "unknown-field",
        "empty-question",
        "not-a-mapping",
        "empty-file",
        "blank-file",
        "binary-file",
        "not-utf8",
    ],
)
def test_broken_tool_file_gives_one_clear_line(
    tmp_path: Path, text: str | bytes, line: int | None, field: str | None, message: str
) -> None:
    path = write(tmp_path, "broken.yaml", text)
    with pytest.raises(ToolFileError) as caught:
        ToolRegistry.load([tmp_path])
    error = caught.value
    rendered = str(error)
    assert "\n" not in rendered
    assert rendered.startswith(str(path))
    assert error.line == line
    assert error.field == field
    assert message in rendered


def test_error_names_line_of_missing_nested_field(tmp_path: Path) -> None:
    path = write(
        tmp_path, "t.yaml", GOOD.replace("        question: Was the child seen alone?\n", "")
    )
    with pytest.raises(ToolFileError) as caught:
        load_tool_file(path)
    assert caught.value.field == "sections[0].criteria[1].question"
    assert caught.value.line == 15


def test_validate_command_exits_2_without_traceback(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    bad = write(tmp_path, "bad.yaml", GOOD.replace("scale: ofsted-4", "scale: stars"))
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "tools", "validate", str(good), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"ok    {good}" in result.stdout
    assert f"{bad}:6: scale: unknown scale 'stars'" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_partnership_folder_stops_any_command_with_exit_2(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "id: [oops\n")
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "tools", "list"],
        capture_output=True,
        text=True,
        check=False,
        env={"WORKBENCH_TOOLS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "bad.yaml:" in result.stderr and "YAML syntax error" in result.stderr


def test_shipped_files_are_where_the_package_says() -> None:
    assert (PACKAGE_DIR / "tools" / "cse.yaml").is_file()
    assert (PACKAGE_DIR / "scales" / "ofsted-4.scale.yaml").is_file()
