"""Figure: `workbench tools list` as a whole process against Python importing its libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchmarks.report import Figure
from benchmarks.timing import compare

NAME = "cli-startup"
TARGET = 1.5
ROOT = Path(__file__).resolve().parents[1]
OURS = frozenset({"workbench", "schemas", "audit_tools", "exports", "benchmarks"})

COMMAND = ("-m", "workbench", "tools", "list")
LIBRARIES = ("typer", "yaml", "pydantic", "pydantic_settings", "platformdirs")
"""The third-party packages `tools list` imports directly, found with `python -X importtime`.

Their own dependencies (click inside typer, pydantic_core, annotated_types, dotenv, ...)
come with them. Fixed here on purpose: a baseline that followed the command's imports
would hide a regression such as `tools list` loading SQLAlchemy or Textual."""
BASELINE_CODE = f"import {', '.join(LIBRARIES)}"
BASELINE = ("-c", BASELINE_CODE)

# Prints the top-level modules a run loaded; runs the command the way `-m workbench` does.
_MODULES_AFTER = """
import json, runpy, sys
{before}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})), file=sys.stderr)
"""
_RUN_COMMAND = """
sys.argv = ['workbench', 'tools', 'list']
try:
    runpy.run_module('workbench', run_name='__main__', alter_sys=True)
except SystemExit:
    pass
"""


def _environment(home: Path) -> dict[str, str]:
    """The caller's environment without WORKBENCH_ settings, and an empty home and config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
    )
    return env


def _run(args: Sequence[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def _timed(args: Sequence[str], env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    _run(args, env)
    return time.perf_counter() - start


def third_party(modules: Sequence[str]) -> set[str]:
    """Top-level names that are neither the standard library, ours, nor private machinery."""
    return {
        m
        for m in modules
        if m not in sys.stdlib_module_names
        and m not in OURS
        and not m.startswith("_")
        and m not in {"sitecustomize", "usercustomize"}
    }


def _loaded(code: str, env: Mapping[str, str]) -> set[str]:
    result = _run(("-c", _MODULES_AFTER.format(before=code)), env)
    return third_party(json.loads(result.stderr.strip().splitlines()[-1]))


def import_note(env: Mapping[str, str]) -> str:
    command = _loaded(_RUN_COMMAND, env)
    baseline = _loaded(BASELINE_CODE, env)
    extra, unused = sorted(command - baseline), sorted(baseline - command)
    parts = [
        "also imports " + ", ".join(extra) if extra else "imports nothing beyond the baseline's"
    ]
    if unused:
        parts.append("baseline imports unused " + ", ".join(unused))
    return "; ".join(parts)


def run(quick: bool) -> Figure:
    repeats = 3 if quick else 15
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
        env = _environment(Path(tmp))
        if "cse" not in _run(COMMAND, env).stdout:
            raise RuntimeError("`workbench tools list` did not list the shipped cse tool")
        note = import_note(env)
        medians = compare(
            lambda: _timed(COMMAND, env), lambda: _timed(BASELINE, env), repeats=repeats
        )
    return Figure(
        name=NAME,
        measures="`python -m workbench tools list`, the whole process",
        baseline_measures=f"`python -c '{BASELINE_CODE}'`, the whole process",
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
        note=note,
    )
