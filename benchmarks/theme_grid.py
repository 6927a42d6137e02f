"""Figure: theme x agency x grade over ten years of one tool's audits against one GROUP BY."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from benchmarks.data import TOOL_ID, generate_database
from benchmarks.report import Figure
from benchmarks.timing import compare, stopwatch
from schemas.learning import ThemeGrid
from workbench.services.theme_analysis import theme_grid
from workbench.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory

NAME = "theme-grid"
TARGET = 1.5
AUDITS = 40
FINDINGS = 300_000
QUICK_FINDINGS = 20_000

# Every audit in the file is of the one tool, so "all audits of the tool" is every tag.
GROUP_BY = """
SELECT t.code, r.agency_code, f.grade, count(*)
FROM finding_themes ft
JOIN themes t ON t.id = ft.theme_id
JOIN findings f ON f.id = ft.finding_id
JOIN agency_returns r ON r.id = f.return_id
GROUP BY t.code, r.agency_code, f.grade
ORDER BY t.code, r.agency_code, f.grade
"""

Cell = tuple[str, str, str | None, int]


def _cells(grid: ThemeGrid) -> list[Cell]:
    return [(c.theme, c.agency, c.grade, c.count) for c in grid.cells]


def _in_order(rows: list[Cell]) -> list[Cell]:
    return sorted(rows, key=lambda r: (r[0], r[1], r[2] or "", r[3]))


def run(quick: bool) -> Figure:
    findings = QUICK_FINDINGS if quick else FINDINGS
    # A quick pass takes milliseconds: more of them keep the median steady on a busy machine.
    repeats = 15 if quick else 7
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
        path = Path(tmp) / "themes.db"
        print(
            f"  generating {findings:,} findings in {AUDITS} audits, a third of them tagged",
            file=sys.stderr,
        )
        data = generate_database(path, findings=findings, audits=AUDITS, tag_themes=True)
        engine = make_engine(data.url, create_file=False)
        factory = make_session_factory(engine)
        raw = sqlite3.connect(path, isolation_level=None)
        try:
            # The same connection settings the workbench's engine uses.
            raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA synchronous = NORMAL")

            # Check the answers before timing them, so a wrong query cannot look fast.
            service = _cells(theme_grid(factory, tool_id=TOOL_ID))
            by_hand: list[Cell] = raw.execute(GROUP_BY).fetchall()
            if service != _in_order(by_hand):
                raise RuntimeError("theme_grid and the GROUP BY disagree")
            if sum(c[3] for c in service) != data.finding_themes:
                raise RuntimeError("the theme grid does not count every tag exactly once")

            medians = compare(
                lambda: stopwatch(lambda: theme_grid(factory, tool_id=TOOL_ID)),
                lambda: stopwatch(lambda: raw.execute(GROUP_BY).fetchall()),
                repeats=repeats,
            )
        finally:
            raw.close()
            engine.dispose()
    return Figure(
        name=NAME,
        measures=(
            f"theme_grid(tool_id={TOOL_ID!r}): all {AUDITS} audits over ten years, "
            f"{data.findings:,} findings, {data.finding_themes:,} theme tags, {len(service):,} "
            "cells (SQLite)"
        ),
        baseline_measures=(
            "one hand-written GROUP BY over finding_themes, themes, findings and agency_returns "
            "on the same file (sqlite3)"
        ),
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
    )
