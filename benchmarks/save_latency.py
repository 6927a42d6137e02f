"""Figure: from the auditor's last keystroke to the finding committed, less the debounce.

The real ReturnScreen runs headless; a character is typed into the evidence field and a
separate SQLite connection watches for the committed text. The baseline is the same save
made directly through the service, with no UI: what the database alone costs."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from audit_tools.registry import ToolRegistry
from benchmarks.report import Figure
from schemas.audit import Actor, AuditPlan, CaseProfile, FindingChange
from workbench.config import Settings
from workbench.services import audits, returns
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

NAME = "save-latency"
LIMIT = 0.050
ACTOR = Actor(name="bench.auditor", agency="police")


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def _evidence(path: Path, return_id: int) -> str:
    connection = sqlite3.connect(path, timeout=5)
    try:
        row = connection.execute(
            "SELECT evidence FROM findings WHERE return_id = ? AND criterion_id = 'cse-1.1'",
            (return_id,),
        ).fetchone()
        return str(row[0]) if row else ""
    finally:
        connection.close()


async def _through_the_ui(path: Path, trials: int) -> list[float]:
    from textual.widgets import TextArea

    from workbench.tui.app import make_app
    from workbench.tui.return_screen import DEBOUNCE_SECONDS, ReturnScreen

    url = f"sqlite:///{path}"
    factory = make_session_factory(make_engine(url))
    plan = AuditPlan(
        title="Latency",
        tool_id="cse",
        agencies=("police",),
        cases=(
            CaseProfile(
                reference="LAT-01",
                level_of_need="child-in-need",
                age_band="11-15",
                gender="female",
                ethnicity="Not recorded",
                send="none",
            ),
        ),
    )
    detail = audits.create_audit(factory, ACTOR, ToolRegistry.load(), plan)
    return_id = returns.find_return(factory, detail.id, "LAT-01", "police")
    settings = Settings(database_url=url, data_dir=path.parent, config_dir=path.parent, actor="b")
    app = make_app(settings, factory, "bench")
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(ReturnScreen(factory, ACTOR, return_id))
        await app.workers.wait_for_complete()
        await pilot.pause()
        area = app.screen.query_one("#evidence", TextArea)
        area.focus()
        await pilot.pause()
        for n in range(trials):
            # Stamped before the press: Pilot returns only after the key has been handled,
            # so this errs towards a longer latency, never a shorter one.
            last_key = time.perf_counter()
            await pilot.press("x")
            expected = "x" * (n + 1)
            # Watch from outside the app, as another auditor's screen would.
            while _evidence(path, return_id) != expected:
                await asyncio.sleep(0.001)
                if time.perf_counter() - last_key > 10:
                    raise RuntimeError("the typed text was never committed")
            latencies.append(time.perf_counter() - last_key - DEBOUNCE_SECONDS)
    return latencies


def _direct(path: Path, trials: int) -> list[float]:
    factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    [summary] = audits.list_audits(factory)
    return_id = returns.find_return(factory, summary.id, "LAT-01", "police")
    version = returns.get_return(factory, return_id).findings[0].version
    times = []
    for n in range(trials):
        start = time.perf_counter()
        saved = returns.record_finding(
            factory,
            ACTOR,
            return_id,
            "cse-1.1",
            FindingChange(evidence="y" * (n + 1)),
            expected_version=version,
        )
        times.append(time.perf_counter() - start)
        version = saved.version
    return times


def run(quick: bool) -> Figure:
    trials = 8 if quick else 40
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "latency.db"
        ensure_schema(make_engine(f"sqlite:///{path}"), str(path), upgrade_if_needed=True)
        through_ui = asyncio.run(_through_the_ui(path, trials))
        direct = _direct(path, trials)
    return Figure(
        name=NAME,
        measures=(
            "last keystroke in the evidence field to the finding committed (seen from another "
            "connection), less the debounce, on the real ReturnScreen headless"
        ),
        baseline_measures="the same save through the service directly (no UI)",
        value=statistics.median(through_ui),
        baseline=statistics.median(direct),
        target=None,
        limit=LIMIT,
        p95=_p95(through_ui),
        repeats=trials,
    )
