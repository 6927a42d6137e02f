"""Figure: the grade distribution service against one hand-written GROUP BY, audit by audit."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from benchmarks.data import generate_database
from benchmarks.report import Figure
from benchmarks.timing import compare, stopwatch
from workbench.services.distribution import grade_distribution
from workbench.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory

NAME = "grade-distribution"
TARGET = 1.5
AUDITS = 40
FINDINGS = 300_000
QUICK_FINDINGS = 30_000

GROUP_BY = """
SELECT agency_returns.agency_code, findings.grade, count(*)
FROM findings
JOIN agency_returns ON findings.return_id = agency_returns.id
JOIN cases ON agency_returns.case_id = cases.id
WHERE cases.audit_id = ? AND findings.grade IS NOT NULL
GROUP BY agency_returns.agency_code, findings.grade
ORDER BY agency_returns.agency_code, findings.grade
"""


def run(quick: bool) -> Figure:
    findings = QUICK_FINDINGS if quick else FINDINGS
    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
        path = Path(tmp) / "distribution.db"
        print(f"  generating {findings:,} findings in {AUDITS} audits", file=sys.stderr)
        data = generate_database(path, findings=findings, audits=AUDITS)
        engine = make_engine(data.url, create_file=False)
        factory = make_session_factory(engine)
        raw = sqlite3.connect(path, isolation_level=None)
        try:
            # The same connection settings the workbench's engine uses.
            raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA synchronous = NORMAL")
            for audit_id in data.audit_ids:
                service = grade_distribution(factory, audit_id, by="agency")
                by_hand = raw.execute(GROUP_BY, (audit_id,)).fetchall()
                if [(r.group, r.grade, r.count) for r in service.rows] != by_hand:
                    raise RuntimeError(f"audit {audit_id}: service and GROUP BY disagree")

            def service_pass() -> None:
                for audit_id in data.audit_ids:
                    grade_distribution(factory, audit_id, by="agency")

            def by_hand_pass() -> None:
                for audit_id in data.audit_ids:
                    raw.execute(GROUP_BY, (audit_id,)).fetchall()

            medians = compare(
                lambda: stopwatch(service_pass), lambda: stopwatch(by_hand_pass), repeats=repeats
            )
        finally:
            raw.close()
            engine.dispose()
    return Figure(
        name=NAME,
        measures=(
            f"grade_distribution(by='agency') for each of {AUDITS} audits, "
            f"{data.findings:,} findings in all (SQLite)"
        ),
        baseline_measures="one hand-written GROUP BY per audit on the same file (sqlite3)",
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
    )
