"""The benchmarks run end to end in quick mode and report consistent figures (never timings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "grade-distribution",
    "theme-grid",
    "bundle-import",
    "cli-startup",
    "tui-launch",
    "save-latency",
    "report-export",
    "learning-log-docx",
    "learning-log-xlsx",
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path]:
    scratch = tmp_path_factory.mktemp("bench-tmp")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json"],
        cwd=ROOT,
        # TMPDIR points tempfile at a folder we can inspect afterwards.
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures: list[dict[str, Any]] = json.loads(result.stdout)
    return figures, scratch


@pytest.mark.slow
def test_quick_run_reports_every_figure(quick_run: tuple[list[dict[str, Any]], Path]) -> None:
    figures, _ = quick_run
    assert {f["name"] for f in figures} == FIGURES
    assert len(figures) == len(FIGURES)


@pytest.mark.slow
def test_each_figure_is_a_ratio_to_its_own_baseline(
    quick_run: tuple[list[dict[str, Any]], Path],
) -> None:
    figures, _ = quick_run
    for f in figures:
        assert f["value"] > 0, f
        assert f["baseline"] > 0, f
        assert f["ratio"] == f["value"] / f["baseline"], f
        ratio_ok = f["target"] is None or f["ratio"] <= f["target"]
        worst = f["p95"] if f["p95"] is not None else f["value"]
        limit_ok = f["limit"] is None or worst <= f["limit"]
        assert f["target"] is not None or f["limit"] is not None, f
        assert f["met"] is (ratio_ok and limit_ok), f
        assert f["unit"] == "s"
        assert f["repeats"] >= 1
        assert f["measures"]
        assert f["baseline_measures"]


@pytest.mark.slow
def test_quick_run_leaves_no_temporary_files(
    quick_run: tuple[list[dict[str, Any]], Path],
) -> None:
    _, scratch = quick_run
    assert list(scratch.iterdir()) == []


def test_table_marks_a_missed_target() -> None:
    from benchmarks.report import Figure, render_table

    met = Figure("fast", "x", "y", value=1.0, baseline=1.0, target=1.5, repeats=1)
    missed = Figure("slow", "x", "y", value=4.0, baseline=1.0, target=1.5, repeats=1)
    table = render_table([met, missed])
    rows = {line.split()[0]: line for line in table.splitlines()[2:4]}
    assert rows["fast"].endswith("met")
    assert rows["slow"].endswith("MISSED")
    assert "MISSED 1 of 2 targets: slow" in table


def test_cohort_plan_holds_exactly_the_findings_asked_for() -> None:
    from benchmarks.data import AGENCIES, cse_definition, plan_cohort

    definition = cse_definition()
    for findings in (1, 85, 2_000, 7_500):
        cases = plan_cohort(definition, AGENCIES, findings)
        assert sum(len(r.criteria) for case in cases for r in case) == findings
        for case in cases:
            assert [r.agency for r in case] == list(AGENCIES)
            for r in case:
                assert all(definition.tool.criterion(c).applies_to(r.agency) for c in r.criteria)
