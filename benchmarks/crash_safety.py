"""Crash safety: kill a process saving findings (SIGKILL) many times, then prove nothing was lost.

`python -m benchmarks.crash_safety [--backend sqlite|postgresql|both] [--kills N] [--quick]
[--json] [--seed S]`

A saver child process saves findings through the real service (`returns.record_finding`) in a
loop, logging a "try" line before each save and an "ack" line once the call has returned,
that is once the save is committed (unbuffered writes to a log file, which outlive the kill).
The parent kills it with SIGKILL after a seeded random delay, restarts it, and repeats.
Afterwards it checks, per finding:

- every acknowledged save is present: the stored row is at that save's version or later, and
  the change history holds that exact value at that version;
- the version equals the number of saves committed to it, counted from change_history, which
  holds exactly one record per committed save (a create, then one evidence update each, every
  `before` the previous `after`): no torn, lost or duplicated history;
- a committed save that was never acknowledged (the kill landed after the commit, before the
  ack line) is allowed and counted, but only if it was the save in flight when the kill came;
- the database passes its integrity checks, and opens the normal way for one more save.

What is tested is a process kill. On SQLite the killed process is the database engine itself;
on PostgreSQL it is the client, and the server survives. Neither run simulates power loss.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.exc import DBAPIError

from audit_tools.registry import ToolRegistry
from benchmarks.report import seconds
from schemas.audit import Actor, AuditPlan, CaseProfile, FindingChange
from workbench.services import audits, returns
from workbench.services.errors import ServiceError, StaleFindingError
from workbench.services.unit import SessionFactory
from workbench.store.engine import describe, make_engine, make_session_factory
from workbench.store.errors import StoreError
from workbench.store.migrate import ensure_schema
from workbench.store.models import Base

NAME = "crash-safety"
KILLS = 50
QUICK_KILLS = 8
SEED = 20250611
MAX_DELAY = 0.25
"""Longest wait, in seconds, between the saver saying it is ready and the kill. Saves take a few
milliseconds, so a uniform delay up to this lands kills all over the save loop: before a save,
inside its transaction, during the commit, or between the commit and the ack line."""
READY_TIMEOUT = 60.0
READY = b"READY\n"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
URL_VARIABLE = "WORKBENCH_CRASH_SAFETY_URL"
"""The saver reads its database URL from here, not argv, so a password never shows in `ps`."""
ROOT = Path(__file__).resolve().parents[1]
ACTOR = Actor(name="crash.saver", agency="police")
AGENCIES = ("police", "school")
CRITERIA_PER_AGENCY = 3
CASE_REFERENCE = "CRASH-01"
AFTER_KILLS = "after the kills"

DURABILITY = {
    "sqlite": (
        "SQLite in WAL mode with synchronous=NORMAL: a committed transaction is in the WAL "
        "(in the OS page cache) before the commit returns, so it survives the process being "
        "killed, as tested here; an OS crash or power loss can lose the last commits since "
        "the WAL was last synced (the database stays consistent). Power loss is not tested."
    ),
    "postgresql": (
        "PostgreSQL: the killed process is the client; the server rolls back whatever it had "
        "in flight. A commit the server acknowledged is durable by the server's own settings "
        "(fsync, synchronous_commit). Killing or powering off the server is not tested."
    ),
}


class HarnessError(RuntimeError):
    """The harness itself could not run (not a finding about the database)."""


Target = tuple[int, str]
"""A finding the saver writes: (return id, criterion id)."""


@dataclass(frozen=True)
class Event:
    """One line from a saver: about to save (try), saved and committed (ack), or refused (stale)."""

    kind: str
    round: int
    return_id: int
    criterion_id: str
    value: str
    version: int | None = None

    def line(self) -> bytes:
        return (json.dumps(asdict(self)) + "\n").encode()

    @staticmethod
    def parse(line: bytes) -> Event | None:
        try:
            data = json.loads(line)
            return Event(**data)
        except (ValueError, TypeError):
            return None


@dataclass(frozen=True)
class Verdict:
    """What the checker found against the saver's log."""

    acknowledged: int
    committed: int
    committed_unacknowledged: int
    missing: int
    history_mismatches: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Integrity:
    ok: bool
    method: str
    detail: str


@dataclass
class Outcome:
    """One backend's run, as printed and as JSON."""

    backend: str
    status: str
    kills: int = 0
    kills_mid_save: int = 0
    saves_attempted: int = 0
    acknowledged: int = 0
    committed: int = 0
    committed_unacknowledged: int = 0
    missing: int = 0
    history_mismatches: int = 0
    stale: int = 0
    integrity_ok: bool = False
    integrity_method: str = ""
    integrity_detail: str = ""
    usable_after: bool = False
    seconds: float = 0.0
    seed: int = SEED
    durability: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.status == "ok"
            and self.missing == 0
            and self.history_mismatches == 0
            and self.integrity_ok
            and self.usable_after
        )


# --- the database under test -------------------------------------------------------------


def prepare(url: str) -> list[Target]:
    """Migrate an empty database and plan one audit; return the findings the saver will write."""
    engine = make_engine(url)
    try:
        ensure_schema(engine, describe(engine.url), upgrade_if_needed=True)
        factory = make_session_factory(engine)
        registry = ToolRegistry.load()
        plan = AuditPlan(
            title="Crash safety",
            tool_id="cse",
            agencies=AGENCIES,
            cases=(
                CaseProfile(
                    reference=CASE_REFERENCE,
                    level_of_need="child-in-need",
                    age_band="11-15",
                    gender="female",
                    ethnicity="Not recorded",
                    send="none",
                ),
            ),
        )
        detail = audits.create_audit(factory, ACTOR, registry, plan)
        tool = registry.definition("cse").tool
        targets: list[Target] = []
        for agency in AGENCIES:
            return_id = returns.find_return(factory, detail.id, CASE_REFERENCE, agency)
            criteria = tool.criteria_for(agency)[:CRITERIA_PER_AGENCY]
            targets.extend((return_id, c.id) for c in criteria)
        return targets
    finally:
        engine.dispose()


def current_versions(factory: SessionFactory, targets: Sequence[Target]) -> dict[Target, int]:
    versions: dict[Target, int] = {}
    for return_id in sorted({r for r, _ in targets}):
        for finding in returns.get_return(factory, return_id).findings:
            versions[(return_id, finding.criterion_id)] = finding.version
    return versions


def save_loop(
    factory: SessionFactory,
    targets: Sequence[Target],
    round_no: int,
    seed: int,
    emit: Callable[[Event], None],
    limit: int | None = None,
) -> None:
    """Save findings one after another through the service, each value unique, until killed
    (or `limit` saves). Carries on from the versions in the database, as a restarted app would."""
    rng = random.Random(seed * 100_003 + round_no)
    versions = current_versions(factory, targets)
    n = 0
    while limit is None or n < limit:
        return_id, criterion_id = rng.choice(targets)
        value = f"round-{round_no} save-{n}"
        n += 1
        emit(Event("try", round_no, return_id, criterion_id, value))
        try:
            saved = returns.record_finding(
                factory,
                ACTOR,
                return_id,
                criterion_id,
                FindingChange(evidence=value),
                expected_version=versions.get((return_id, criterion_id), 0),
            )
        except StaleFindingError as exc:
            # A killed client's commit can land on PostgreSQL after we read the version:
            # take the newer version, as the app does, and go on.
            versions[(return_id, criterion_id)] = exc.current.version
            emit(Event("stale", round_no, return_id, criterion_id, value, exc.current.version))
            continue
        versions[(return_id, criterion_id)] = saved.version
        emit(Event("ack", round_no, return_id, criterion_id, value, saved.version))


def saver_main(targets: Sequence[Target], round_no: int, seed: int, log: Path) -> int:
    """The child: connect, report ready on stdout, save until killed, logging to `log`."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        print(f"crash-safety saver: {URL_VARIABLE} is not set", file=sys.stderr)
        return 2
    factory = make_session_factory(make_engine(url, create_file=False))
    # Warm the connection so the kill delay is spent saving, not connecting.
    current_versions(factory, targets)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def emit(event: Event) -> None:
        # One unbuffered write of a short line: nothing waits in a Python buffer when the kill
        # comes, and what was written is in the kernel's page cache, which outlives the process.
        # A file rather than the stdout pipe: each line down a pipe woke the parent, and on a
        # busy machine the kill then landed right after a line far more often than by chance.
        os.write(fd, event.line())

    os.write(sys.stdout.fileno(), READY)
    save_loop(factory, targets, round_no, seed, emit)
    return 0  # pragma: no cover - the loop only ends when the process is killed


# --- killing the saver --------------------------------------------------------------------


def _last_line(data: bytes) -> str:
    lines = [ln for ln in data.decode(errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else "no output"


def _wait_ready(child: subprocess.Popen[bytes], round_no: int) -> None:
    """Block until the saver prints READY; HarnessError if it dies or takes too long."""
    stdout = child.stdout
    assert stdout is not None
    seen = b""
    deadline = time.monotonic() + READY_TIMEOUT
    while READY not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HarnessError(f"round {round_no}: the saver was not ready in {READY_TIMEOUT:g} s")
        readable, _, _ = select.select([stdout], [], [], left)
        if readable:
            chunk = os.read(stdout.fileno(), 4096)
            if not chunk:
                return  # it exited: the caller reports why
            seen += chunk


def kill_round(
    url: str, targets: Sequence[Target], round_no: int, seed: int, delay: float
) -> list[Event]:
    """Start a saver, wait until it is saving, let it run `delay` seconds, SIGKILL it, and
    return every line it managed to log."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "saves.log"
        command = [
            sys.executable,
            "-m",
            "benchmarks.crash_safety",
            "--saver",
            "--targets",
            json.dumps(targets),
            "--round",
            str(round_no),
            "--seed",
            str(seed),
            "--log",
            str(log),
        ]
        with tempfile.TemporaryFile() as errors:
            child = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, URL_VARIABLE: url},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
            try:
                _wait_ready(child, round_no)
                time.sleep(delay)
                if child.poll() is not None:
                    errors.seek(0)
                    raise HarnessError(
                        f"round {round_no}: the saver stopped by itself "
                        f"(exit {child.returncode}): {_last_line(errors.read())}"
                    )
                child.send_signal(signal.SIGKILL)
                child.wait()
            finally:
                if child.poll() is None:
                    child.kill()
                    child.wait()
                if child.stdout is not None:
                    child.stdout.close()
        lines = log.read_bytes().splitlines(keepends=True) if log.exists() else []
    # A line cut short by the kill (none has been seen) would not parse, and is left out.
    return [e for e in map(Event.parse, lines) if e is not None]


# --- checking -----------------------------------------------------------------------------


@dataclass
class _Stored:
    version: int
    evidence: str


def _history_values(records: Sequence[Any]) -> tuple[list[str], str | None]:
    """The evidence each save committed, oldest first; or why the records are not one per save."""
    values: list[str] = []
    for i, (operation, fld, before, after) in enumerate(records):
        if i == 0:
            if operation != "create" or fld is not None:
                return values, f"first record is {operation} {fld}, not a create"
            try:
                values.append(str(json.loads(after)["evidence"]))
            except (TypeError, ValueError, KeyError):
                return values, "the create record holds no evidence"
            continue
        if operation != "update" or fld != "evidence":
            return values, f"record {i + 1} is {operation} {fld}, not one evidence update"
        if before != values[-1]:
            return values, f"record {i + 1} starts from {before!r}, not {values[-1]!r}"
        values.append(after)
    return values, None


def verify(url: str, events: Sequence[Event]) -> Verdict:
    """Check the database against the savers' log (see the module docstring for the rules)."""
    engine = make_engine(url, create_file=False)
    try:
        with engine.connect() as connection:
            stored_rows = connection.execute(
                text(
                    "SELECT f.return_id, f.criterion_id, f.version, f.evidence, c.reference, "
                    "r.agency_code FROM findings f "
                    "JOIN agency_returns r ON r.id = f.return_id JOIN cases c ON c.id = r.case_id"
                )
            ).all()
            history_rows = connection.execute(
                text(
                    "SELECT entity_key, operation, field, before, after FROM change_history "
                    "WHERE entity = 'findings' ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()

    stored: dict[Target, _Stored] = {}
    key_of: dict[str, Target] = {}
    for return_id, criterion_id, version, evidence, reference, agency in stored_rows:
        stored[(return_id, criterion_id)] = _Stored(version, evidence)
        key_of[f"case {reference} / {agency} / {criterion_id}"] = (return_id, criterion_id)
    history: dict[Target, list[Any]] = {}
    problems: list[str] = []
    mismatched: set[str] = set()
    for key, operation, fld, before, after in history_rows:
        target = key_of.get(key)
        if target is None:
            if key not in mismatched:
                problems.append(f"{key}: history for a finding that is not stored")
                mismatched.add(key)
            continue
        history.setdefault(target, []).append((operation, fld, before, after))

    tried = {e.value: e for e in events if e.kind == "try"}
    acks = [e for e in events if e.kind == "ack"]
    acked = {e.value for e in acks}
    last_try_of_round: dict[int, str] = {}
    for e in events:
        if e.kind == "try":
            last_try_of_round[e.round] = e.value

    committed_values: dict[Target, list[str]] = {}
    unacknowledged = 0
    for target, row in sorted(stored.items()):
        name = f"finding {target[0]}/{target[1]}"
        values, broken = _history_values(history.get(target, []))
        committed_values[target] = values
        if broken is None and len(values) != row.version:
            broken = f"version {row.version} but {len(values)} saves in the history"
        if broken is None and values[-1] != row.evidence:
            broken = f"holds {row.evidence!r} but the history ends at {values[-1]!r}"
        if broken is None and len(set(values)) != len(values):
            broken = "a save is recorded twice"
        for value in values:
            if value in acked:
                continue
            attempt = tried.get(value)
            if attempt is None or (attempt.return_id, attempt.criterion_id) != target:
                broken = broken or f"holds a save nobody made: {value!r}"
            elif last_try_of_round.get(attempt.round) != value:
                broken = broken or f"{value!r} committed but neither acknowledged nor in flight"
            else:
                # Killed after the commit, before the ack line: allowed, nothing acked is lost.
                unacknowledged += 1
        if broken is not None:
            mismatched.add(name)
            problems.append(f"{name}: {broken}")

    missing = 0
    for ack in acks:
        target = (ack.return_id, ack.criterion_id)
        assert ack.version is not None
        found = stored.get(target)
        values = committed_values.get(target, [])
        if found is None:
            lost = "the finding is gone"
        elif found.version < ack.version:
            lost = f"the finding is back at version {found.version}"
        elif found.version == ack.version and found.evidence != ack.value:
            lost = f"version {ack.version} holds {found.evidence!r}"
        elif len(values) < ack.version or values[ack.version - 1] != ack.value:
            lost = "the history has no such save at that version"
        else:
            continue
        missing += 1
        problems.append(f"acknowledged {ack.value!r} (version {ack.version}) missing: {lost}")

    return Verdict(
        acknowledged=len(acks),
        committed=sum(row.version for row in stored.values()),
        committed_unacknowledged=unacknowledged,
        missing=missing,
        history_mismatches=len(mismatched),
        problems=tuple(problems),
    )


def _orphans(connection: Connection) -> list[str]:
    """Rows whose foreign key points at nothing, for every foreign key the models declare."""
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            pairs = [(e.parent.name, e.column.table.name, e.column.name) for e in fk.elements]
            parent_table = pairs[0][1]
            present = " AND ".join(f"c.{child} IS NOT NULL" for child, _, _ in pairs)
            joined = " AND ".join(f"p.{col} = c.{child}" for child, _, col in pairs)
            count = connection.execute(
                text(
                    f"SELECT count(*) FROM {table.name} c WHERE {present} AND NOT EXISTS "
                    f"(SELECT 1 FROM {parent_table} p WHERE {joined})"
                )
            ).scalar_one()
            if count:
                cols = ", ".join(child for child, _, _ in pairs)
                found.append(
                    f"{count} {table.name} row(s) with {cols} pointing at no {parent_table}"
                )
    return found


def _sqlite_integrity(url: str) -> Integrity:
    path = make_url(url).database
    assert path
    # A plain sqlite3 connection, as any other program would open the file after the crash.
    connection = sqlite3.connect(path)
    try:
        checked = [str(r[0]) for r in connection.execute("PRAGMA integrity_check")]
        keys = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    problems = [] if checked == ["ok"] else checked[:5]
    problems += [
        f"foreign_key_check: {table} row {rowid} -> {parent}"
        for table, rowid, parent, _ in keys[:5]
    ]
    return Integrity(
        ok=not problems,
        method="PRAGMA integrity_check and foreign_key_check",
        detail="ok" if not problems else "; ".join(problems),
    )


def _amcheck_schema(engine: Engine) -> tuple[str | None, str]:
    """Where amcheck's functions live, installing it in public if need be; or why not."""
    query = text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'amcheck'"
    )
    with engine.connect() as connection:
        found = connection.execute(query).scalar()
    if found is not None:
        return str(found), ""
    try:
        # In public, not the private schema: another run sharing the database may rely on it,
        # and dropping our schema must not take it away from them.
        with engine.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        with engine.connect() as connection:
            found = connection.execute(query).scalar()  # another run may have just made it
        if found is None:
            return None, reason
    return "public", ""


def _postgres_integrity(url: str) -> Integrity:
    engine = make_engine(url, create_file=False)
    problems: list[str] = []
    try:
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            indexes = connection.execute(
                text(
                    "SELECT c.oid, c.relname FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "JOIN pg_am a ON a.oid = c.relam "
                    "WHERE c.relkind = 'i' AND a.amname = 'btree' AND n.nspname = :schema "
                    "ORDER BY c.relname"
                ),
                {"schema": schema},
            ).all()
            problems += _orphans(connection)
        where, why_not = _amcheck_schema(engine)
        if where is None:
            method = f"foreign-key orphan queries (amcheck unavailable: {why_not})"
        else:
            method = f"amcheck bt_index_check on {len(indexes)} btree indexes, foreign-key orphans"
            for oid, name in indexes:
                try:
                    with engine.connect() as connection:
                        # heapallindexed: every table row must be found in the index too.
                        connection.execute(
                            text(f'SELECT "{where}".bt_index_check(:oid, true)'), {"oid": oid}
                        )
                except DBAPIError as exc:
                    problems.append(f"{name}: {str(exc.orig).strip().splitlines()[0]}")
    finally:
        engine.dispose()
    return Integrity(ok=not problems, method=method, detail="; ".join(problems[:5]) or "ok")


def integrity(url: str) -> Integrity:
    if make_url(url).get_backend_name() == "sqlite":
        sqlite = _sqlite_integrity(url)
        engine = make_engine(url, create_file=False)
        try:
            with engine.connect() as connection:
                orphans = _orphans(connection)
        finally:
            engine.dispose()
        if orphans:
            detail = "; ".join(orphans[:5]) if sqlite.ok else f"{sqlite.detail}; {orphans[0]}"
            return Integrity(False, sqlite.method + ", foreign-key orphans", detail)
        return Integrity(sqlite.ok, sqlite.method + ", foreign-key orphans", sqlite.detail)
    return _postgres_integrity(url)


def usable_after(url: str, targets: Sequence[Target]) -> tuple[bool, str]:
    """Open the database the way the workbench does and make one more save."""
    engine = make_engine(url, create_file=False)
    try:
        ensure_schema(engine, describe(engine.url), upgrade_if_needed=False)
        factory = make_session_factory(engine)
        return_id, criterion_id = targets[0]
        version = current_versions(factory, targets).get(targets[0], 0)
        saved = returns.record_finding(
            factory,
            ACTOR,
            return_id,
            criterion_id,
            FindingChange(evidence=AFTER_KILLS),
            expected_version=version,
        )
        reread = current_versions(factory, targets)[targets[0]]
        if saved.version != version + 1 or reread != saved.version:
            return (
                False,
                f"the save after the kills read back at version {reread}, not {version + 1}",
            )
        return True, ""
    except Exception as exc:  # reported as a figure: any failure here means not usable
        return False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        engine.dispose()


# --- one backend --------------------------------------------------------------------------


def run_backend(backend: str, url: str, kills: int, seed: int, progress: bool = True) -> Outcome:
    start = time.perf_counter()
    targets = prepare(url)
    rng = random.Random(seed)
    events: list[Event] = []
    mid_save = 0
    for round_no in range(kills):
        if progress and (round_no % 10 == 0 or round_no == kills - 1):
            print(f"crash-safety {backend}: kill {round_no + 1} of {kills}", file=sys.stderr)
        got = kill_round(url, targets, round_no, seed, rng.uniform(0.0, MAX_DELAY))
        # The kill landed mid-save when the last thing the saver said was that it was saving.
        if got and got[-1].kind == "try":
            mid_save += 1
        events.extend(got)
    check = integrity(url)
    verdict = verify(url, events)
    usable, why = usable_after(url, targets)
    problems = list(verdict.problems[:20])
    if why:
        problems.append(why)
    return Outcome(
        backend=backend,
        status="ok",
        kills=kills,
        kills_mid_save=mid_save,
        saves_attempted=sum(1 for e in events if e.kind == "try"),
        acknowledged=verdict.acknowledged,
        committed=verdict.committed,
        committed_unacknowledged=verdict.committed_unacknowledged,
        missing=verdict.missing,
        history_mismatches=verdict.history_mismatches,
        stale=sum(1 for e in events if e.kind == "stale"),
        integrity_ok=check.ok,
        integrity_method=check.method,
        integrity_detail=check.detail,
        usable_after=usable,
        seconds=time.perf_counter() - start,
        seed=seed,
        durability=DURABILITY[backend],
        problems=problems,
    )


def postgres_base_url() -> str:
    return os.environ.get("WORKBENCH_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_problem() -> str | None:
    """None when the server answers, else one line saying why not."""
    import psycopg

    try:
        with psycopg.connect(_libpq(postgres_base_url()), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        shown = make_url(postgres_base_url()).render_as_string(hide_password=True)
        return f"PostgreSQL at {shown} unreachable: {str(exc).strip().splitlines()[0]}"


@contextmanager
def private_schema() -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own, dropped afterwards."""
    import psycopg

    base = postgres_base_url()
    schema = f"wb_crash_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_libpq(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run_sqlite(kills: int, seed: int) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        return run_backend("sqlite", f"sqlite:///{Path(folder) / 'crash.db'}", kills, seed)


def run_postgresql(kills: int, seed: int) -> Outcome:
    with private_schema() as url:
        return run_backend("postgresql", url, kills, seed)


# --- reporting ----------------------------------------------------------------------------


def render_table(outcomes: Sequence[Outcome]) -> str:
    headers = (
        "backend",
        "kills",
        "mid-save",
        "acknowledged",
        "committed unacked",
        "acked missing",
        "history mismatches",
        "integrity",
        "usable after",
        "time",
        "result",
    )
    rows = []
    for o in outcomes:
        if o.status == "skipped":
            rows.append((o.backend, *[""] * 9, "skipped"))
            continue
        rows.append(
            (
                o.backend,
                str(o.kills),
                str(o.kills_mid_save),
                str(o.acknowledged),
                str(o.committed_unacknowledged),
                str(o.missing),
                str(o.history_mismatches),
                "ok" if o.integrity_ok else "FAILED",
                "yes" if o.usable_after else "NO",
                seconds(o.seconds) if o.seconds else "",
                "ok" if o.ok else "FAILED",
            )
        )
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    right = set(range(1, 7)) | {9}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    for o in outcomes:
        out.append("")
        if o.status == "skipped":
            out.append(f"{o.backend}: skipped: {'; '.join(o.problems)}")
            continue
        out.append(
            f"{o.backend} (seed {o.seed}): {o.saves_attempted} saves attempted, {o.committed} "
            f"committed, {o.stale} refused as stale"
        )
        out.append(
            f"  kills: {o.kills_mid_save} of {o.kills} landed mid-save (after its try line, "
            f"before its ack): {o.committed_unacknowledged} of those saves had committed, "
            f"{o.kills_mid_save - o.committed_unacknowledged} were cut off and rolled back"
        )
        out.append(f"  integrity: {o.integrity_method}: {o.integrity_detail}")
        out.append(f"  durability: {o.durability}")
        for problem in o.problems[:10]:
            out.append(f"  problem: {problem}")
    return "\n".join(out)


# --- entry point --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crash_safety",
        description="Kill a process saving findings (SIGKILL) many times at random moments, then "
        "check that every acknowledged save is present, the change history is whole and the "
        "database passes its integrity checks. Exits 1 if anything was lost or broken.",
    )
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        help="default: both, skipping PostgreSQL if unreachable (an error when asked for)",
    )
    parser.add_argument("--kills", type=int, help=f"kills per backend (default {KILLS})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_KILLS} kills per backend")
    parser.add_argument("--json", action="store_true", help="print a JSON list, not a table")
    parser.add_argument("--seed", type=int, default=SEED, help="seed for delays and choices")
    # The child's own arguments: not for people.
    parser.add_argument("--saver", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--targets", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.kills is not None and args.kills < 1:
        parser.error("--kills must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.saver:
        targets = [(int(r), str(c)) for r, c in json.loads(args.targets)]
        return saver_main(targets, args.round, args.seed, args.log)
    kills = args.kills if args.kills is not None else QUICK_KILLS if args.quick else KILLS
    backends = ("sqlite", "postgresql") if args.backend in (None, "both") else (args.backend,)
    outcomes: list[Outcome] = []
    code = 0
    for backend in backends:
        try:
            if backend == "sqlite":
                outcomes.append(run_sqlite(kills, args.seed))
                continue
            problem = postgres_problem()
            if problem is not None:
                print(problem, file=sys.stderr)
                outcomes.append(Outcome(backend, "skipped", seed=args.seed, problems=[problem]))
                if args.backend is not None:
                    code = 2
                continue
            outcomes.append(run_postgresql(kills, args.seed))
        except (HarnessError, StoreError, ServiceError) as exc:
            # Setting up or running the harness failed: one line, and the next backend runs.
            print(f"crash-safety {backend}: {exc}", file=sys.stderr)
            outcomes.append(Outcome(backend, "error", seed=args.seed, problems=[str(exc)]))
            code = code or 1
    if any(o.status == "ok" and not o.ok for o in outcomes):
        code = code or 1
    if args.json:
        print(json.dumps([{**asdict(o), "ok": o.ok} for o in outcomes], indent=2))
    else:
        print(render_table(outcomes))
    return code


if __name__ == "__main__":
    sys.exit(main())
