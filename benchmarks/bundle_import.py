"""Figure: parsing and importing a bundle against a raw executemany of its finding rows."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

from benchmarks.data import generate_bundle, sql_datetime
from benchmarks.report import Figure
from benchmarks.timing import compare
from schemas.audit import Actor
from schemas.bundle import Bundle
from workbench.services.bundle import bundle_json, import_bundle, parse_bundle
from workbench.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, make_session_factory
from workbench.store.migrate import ensure_schema

NAME = "bundle-import"
TARGET = 3.0
FINDINGS = 10_000
QUICK_FINDINGS = 2_000

# The findings table as the migration creates it, less the foreign key to agency_returns
# (which this lone table does not have).
FINDINGS_TABLE = """
CREATE TABLE findings (
    id INTEGER NOT NULL,
    return_id INTEGER NOT NULL,
    criterion_id VARCHAR(80) NOT NULL,
    grade VARCHAR(40),
    evidence TEXT NOT NULL,
    strengths TEXT NOT NULL,
    areas_for_development TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by VARCHAR(200) NOT NULL,
    CONSTRAINT pk_findings PRIMARY KEY (id),
    CONSTRAINT uq_findings_return_id UNIQUE (return_id, criterion_id)
)
"""
FINDINGS_INDEX = "CREATE INDEX ix_findings_return_id ON findings (return_id)"
INSERT_FINDING = (
    "INSERT INTO findings (return_id, criterion_id, grade, evidence, strengths,"
    " areas_for_development, version, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def finding_rows(bundle: Bundle) -> list[tuple[object, ...]]:
    """The bundle's findings as the import stores them, returns numbered in bundle order."""
    rows: list[tuple[object, ...]] = []
    return_ids = count(1)
    for case in bundle.cases:
        for ret in case.returns:
            return_id = next(return_ids)
            rows.extend(
                (
                    return_id,
                    f.criterion_id,
                    f.grade,
                    f.evidence,
                    f.strengths,
                    f.areas_for_development,
                    f.version,
                    sql_datetime(f.updated_at),
                    f.updated_by,
                )
                for f in ret.findings
            )
    return rows


def _stored_findings(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        stored: int = connection.execute("SELECT count(*) FROM findings").fetchone()[0]
        return stored
    finally:
        connection.close()


def run(quick: bool) -> Figure:
    findings = QUICK_FINDINGS if quick else FINDINGS
    repeats = 3 if quick else 7
    actor = Actor(name="benchmark")
    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as tmp:
        folder = Path(tmp)
        print(f"  writing a bundle of {findings:,} findings", file=sys.stderr)
        bundle = generate_bundle(findings=findings)
        source = folder / "audit.bundle.json"
        source.write_text(bundle_json(bundle), encoding="utf-8")
        data = source.read_bytes()
        rows = finding_rows(bundle)
        databases = count(1)

        def workbench_import() -> float:
            path = folder / f"import-{next(databases)}.db"
            engine = make_engine(f"sqlite:///{path}")
            try:
                ensure_schema(engine, str(path), upgrade_if_needed=True)
                factory = make_session_factory(engine)
                engine.connect().close()  # both sides start with an open connection
                start = time.perf_counter()
                parsed = parse_bundle(data, str(source))
                import_bundle(factory, actor, parsed, str(source))
                elapsed = time.perf_counter() - start
            finally:
                engine.dispose()
            if _stored_findings(path) != len(rows):
                raise RuntimeError(f"{path}: the import stored the wrong number of findings")
            return elapsed

        def raw_insert() -> float:
            path = folder / f"raw-{next(databases)}.db"
            connection = sqlite3.connect(path, isolation_level=None)
            try:
                # The pragmas the workbench's engine sets on every connection.
                connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
                connection.execute(FINDINGS_TABLE)
                connection.execute(FINDINGS_INDEX)
                start = time.perf_counter()
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(INSERT_FINDING, rows)
                connection.execute("COMMIT")
                elapsed = time.perf_counter() - start
            finally:
                connection.close()
            return elapsed

        medians = compare(workbench_import, raw_insert, repeats=repeats)
    return Figure(
        name=NAME,
        measures=(
            f"parse_bundle + import_bundle of one audit, {len(bundle.cases)} cases, "
            f"{len(rows):,} findings ({len(data) / 1e6:.1f} MB of JSON), into a fresh "
            "migrated SQLite file"
        ),
        baseline_measures=(
            f"sqlite3 executemany of the same {len(rows):,} finding rows into a findings "
            "table of the same shape in a fresh SQLite file (WAL, synchronous=NORMAL)"
        ),
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
    )
