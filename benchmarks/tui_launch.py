"""Figure: launching the workbench to a populated home screen, against a bare Textual app.

Both run as whole processes, headless, over the same ten years of audits: the workbench opens
its database, checks the schema and lists the audits in a worker; the bare app shows the
same widgets (header, table, footer) filled with the same rows, read from a JSON file."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.data import generate_database
from benchmarks.report import Figure
from benchmarks.timing import compare, stopwatch

NAME = "tui-launch"
TARGET = 1.5
FINDINGS = 300_000
QUICK_FINDINGS = 20_000
SIZE = (120, 40)

WORKBENCH = """
import asyncio, sys
from workbench.config import Settings
from workbench.store.engine import describe, make_engine, make_session_factory, parse_url
from workbench.store.migrate import ensure_schema
from workbench.tui.app import make_app
from textual.widgets import DataTable

async def main() -> None:
    settings = Settings(database_url=sys.argv[1])
    url = parse_url(settings.resolved_database_url)
    engine = make_engine(url)
    ensure_schema(engine, describe(url), upgrade_if_needed=True)
    app = make_app(settings, make_session_factory(engine), describe(url))
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        rows = app.screen.query_one("#audits", DataTable).row_count
        assert rows == int(sys.argv[2]), rows

asyncio.run(main())
"""

BARE = """
import asyncio, json, sys
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="audits")
        yield Footer()

    def on_mount(self) -> None:
        data = json.loads(open(sys.argv[1], encoding="utf-8").read())
        table = self.query_one(DataTable)
        table.add_columns(*data["columns"])
        for row in data["rows"]:
            table.add_row(*row)

async def main() -> None:
    app = Bare()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.query_one(DataTable).row_count == len(json.load(open(sys.argv[1])) ["rows"])

asyncio.run(main())
"""


def _rows(url: str) -> dict[str, list[Any]]:
    """The home screen's columns and rows, computed once outside the timed baseline."""
    from workbench.services.audits import list_audits
    from workbench.store.engine import make_engine, make_session_factory
    from workbench.tui.home import COLUMNS, audit_row

    engine = make_engine(url)
    try:
        audits = list_audits(make_session_factory(engine))
    finally:
        engine.dispose()
    return {"columns": [label for _, label in COLUMNS], "rows": [audit_row(a) for a in audits]}


def _process(code: str, *args: str) -> float:
    return stopwatch(
        lambda: subprocess.run(
            [sys.executable, "-c", f"SIZE = {SIZE!r}\n{code}", *args],
            check=True,
            capture_output=True,
        )
    )


def run(quick: bool) -> Figure:
    findings = QUICK_FINDINGS if quick else FINDINGS
    repeats = 3 if quick else 9
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "ten-years.db"
        generated = generate_database(db, findings=findings)
        url = f"sqlite:///{db}"
        rows = _rows(url)
        rows_file = Path(folder) / "rows.json"
        rows_file.write_text(json.dumps(rows), encoding="utf-8")
        count = str(len(rows["rows"]))
        medians = compare(
            lambda: _process(WORKBENCH, url, count),
            lambda: _process(BARE, str(rows_file)),
            repeats=repeats,
        )
    return Figure(
        name=NAME,
        measures=(
            f"`workbench` as a process, headless at {SIZE[0]}x{SIZE[1]}, from start to the home "
            f"screen listing {count} audits ({generated.findings:,} findings over ten years)"
        ),
        baseline_measures="a bare Textual app process with the same widgets and the same rows",
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
    )
