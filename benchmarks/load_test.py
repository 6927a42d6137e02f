"""Load test for the shared audit day: many auditors saving findings at once on PostgreSQL.

`python -m benchmarks.load_test [--auditors 30] [--saves N] [--quick] [--json] [--url URL]`

Every auditor is a separate OS process with its own engine (thirty Python threads in one
process would measure the GIL, not the database) and saves findings through the real service,
`returns.record_finding`, passing the version of its last acknowledged save. Two runs are timed:
at a typing pace (a save every 0.5-1 s with jitter, as debounced autosave sends them) and flat
out (no think time). Some pairs, an audit lead and the auditor next in line, share findings,
so some saves are refused as stale; a refusal is the workbench working, not an update lost.

Afterwards the database is checked against every acknowledged save: the final value of each
finding must be its last acknowledged value, its version the count of acknowledged saves, and
its change history exactly one record per acknowledged save. The baseline is one auditor
saving alone, timed in the same run. Everything happens in a private schema that is dropped
at the end, so no other data is touched.

Exit status: 0 when the run completed with no update lost or duplicated (a latency target
missed is reported, not raised, as in `python -m benchmarks`); 1 when the data check failed;
2 when PostgreSQL cannot be used.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import os
import queue
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import URL

from audit_tools.registry import ToolRegistry
from benchmarks.data import AGENCIES
from benchmarks.report import Figure, seconds
from schemas.audit import Actor, AuditPlan, CaseProfile, FindingChange
from workbench.services import audits, returns
from workbench.services.errors import StaleFindingError
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.engine import describe, make_engine, make_session_factory, parse_url
from workbench.store.migrate import ensure_schema
from workbench.store.models import AgencyReturn, Case, ChangeRecord, Finding

NAME = "load-test"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LIMIT = 0.050
"""The p95 save latency the shared audit day must stay under."""

OWN_FINDINGS = 6
"""Criteria each auditor works through on their own return, in turn."""
LEAD_EVERY = 5
"""Auditor 0, 5, 10, ... is an audit lead who also edits the next auditor's return."""
SHARED_PER_PAIR = 2
"""Findings a lead and their partner both edit."""
SHARED_SHARE = 0.3
"""Share of a lead's or partner's saves that go to a shared finding."""
TYPING_PACE = (0.5, 1.0)
"""Seconds between one auditor's saves at a typing pace: debounced autosave, with jitter."""

FULL_AUDITORS, FULL_SAVES, FULL_BASELINE_SAVES = 30, 40, 100
QUICK_AUDITORS, QUICK_SAVES, QUICK_BASELINE_SAVES = 6, 8, 30
BUSY = 0.25
"""Above this share of CPU busy before the run, the note warns that others shared it."""
START_TIMEOUT = 300.0
"""Seconds to wait for every auditor process to start and connect."""

_SENTENCES = (
    "Case note records older associates, a new phone and money; referred the same day.",
    "Screening tool reviewed after the third missing episode; risk raised to significant.",
    "The child's own words about who she trusts and what would help are recorded.",
    "Missing information shared with school and police within 24 hours.",
    "Concern recorded but no action followed for six weeks.",
    "Plan reviewed at each core group with named owners and timescales.",
)

FindingKey = tuple[int, str]
"""A finding as the auditor knows it before it exists: (return id, criterion id)."""


class LoadTestError(Exception):
    """The load test could not run; `str()` is one line for the user."""


@dataclass(frozen=True)
class AuditorPlan:
    name: str
    agency: str
    own: tuple[FindingKey, ...]
    shared: tuple[FindingKey, ...] = ()
    """Findings someone else edits too; the first save goes to the first of them."""
    seed: int = 0


@dataclass(frozen=True)
class Setup:
    audit_id: int
    plans: tuple[AuditorPlan, ...]
    pairs: int
    """Pairs of auditors sharing findings."""


@dataclass(frozen=True)
class Phase:
    name: str
    pace: tuple[float, float] | None
    """Seconds between saves (low, high), or None for flat out."""
    saves: int
    """Saves each auditor attempts."""


@dataclass(frozen=True)
class Ack:
    """A save the service acknowledged: what it wrote and the version it returned."""

    finding: FindingKey
    value: str
    version: int
    seconds: float


@dataclass
class AuditorResult:
    attempted: int = 0
    acks: list[Ack] = field(default_factory=list)
    refused: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Integrity:
    """What the database holds, checked against the acknowledged saves."""

    findings: int
    acknowledged: int
    history_records: int
    lost: int
    """Acknowledged saves neither in the database nor superseded by a later acknowledged save."""
    duplicated: int
    """Change-history records beyond one per acknowledged save."""
    missing_history: int
    """Acknowledged saves with no change-history record."""
    version_mismatches: int
    """Findings whose version is not the count of acknowledged saves to them."""

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.missing_history or self.version_mismatches)


@dataclass(frozen=True)
class ModeResult:
    mode: str
    auditors: int
    pairs: int
    attempted: int
    acknowledged: int
    refused: int
    errors: int
    elapsed: float
    median: float
    p95: float
    integrity: Integrity
    first_error: str = ""

    @property
    def throughput(self) -> float:
        return self.acknowledged / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.integrity.ok and self.errors == 0

    @property
    def fast_enough(self) -> bool:
        return self.p95 < LIMIT

    def as_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "auditors": self.auditors,
            "pairs": self.pairs,
            "attempted": self.attempted,
            "acknowledged": self.acknowledged,
            "refused": self.refused,
            "errors": self.errors,
            "first_error": self.first_error,
            "elapsed_s": self.elapsed,
            "throughput": self.throughput,
            "median_s": self.median,
            "p95_s": self.p95,
            **asdict(self.integrity),
            "integrity_ok": self.ok,
            "p95_met": self.fast_enough,
        }


@dataclass(frozen=True)
class LoadReport:
    url: str
    schema: str
    schema_dropped: bool
    saves_per_auditor: int
    baseline: ModeResult
    modes: tuple[ModeResult, ...]
    busy_before: float | None
    """Share of the machine's CPU busy with other work in the second before the run, where
    the system says (Linux): other engineers' tests share these cores."""

    @property
    def ok(self) -> bool:
        return self.baseline.ok and all(m.ok for m in self.modes)

    @property
    def met(self) -> bool:
        return self.ok and all(m.fast_enough for m in self.modes)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "url": self.url,
            "schema": self.schema,
            "schema_dropped": self.schema_dropped,
            "saves_per_auditor": self.saves_per_auditor,
            "cpu_count": os.cpu_count(),
            "cpu_busy_before": self.busy_before,
            "targets": {"lost": 0, "duplicated": 0, "p95_s": LIMIT},
            "baseline": self.baseline.as_json(),
            "modes": [m.as_json() for m in self.modes],
            "integrity_ok": self.ok,
            "met": self.met,
            "note": note(self),
        }


# --- setting up the audit ------------------------------------------------------------------


def prepare(factory: SessionFactory, registry: ToolRegistry, auditors: int, label: str) -> Setup:
    """An audit with a return for every auditor, and who edits which findings."""
    if auditors < 1:
        raise LoadTestError("at least one auditor is needed")
    cases = math.ceil(auditors / len(AGENCIES))
    plan = AuditPlan(
        title=f"Load test, {label}",
        tool_id="cse",
        agencies=AGENCIES,
        cases=tuple(
            CaseProfile(
                reference=f"LOAD-{n + 1:02d}",
                level_of_need="child-in-need",
                age_band="11-15",
                gender="female",
                ethnicity="Not recorded",
                send="none",
            )
            for n in range(cases)
        ),
    )
    creator = Actor(name="load.lead")
    detail = audits.create_audit(factory, creator, registry, plan)
    definition = registry.definition("cse")
    owned: list[tuple[str, str, list[FindingKey]]] = []
    # Auditor i owns the return of case i // 8 for agency i % 8.
    for i in range(auditors):
        agency = AGENCIES[i % len(AGENCIES)]
        return_id = returns.find_return(
            factory, detail.id, f"LOAD-{i // len(AGENCIES) + 1:02d}", agency
        )
        criteria = [c.id for c in definition.tool.criteria_for(agency)][:OWN_FINDINGS]
        if len(criteria) <= SHARED_PER_PAIR:
            raise LoadTestError(f"the CSE tool has too few criteria for {agency}")
        name = f"lead-{i + 1:02d}" if i % LEAD_EVERY == 0 else f"auditor-{i + 1:02d}"
        owned.append((name, agency, [(return_id, c) for c in criteria]))
    plans: list[AuditorPlan] = []
    pairs = 0
    for i, (name, agency, keys) in enumerate(owned):
        if i % LEAD_EVERY == 0 and i + 1 < auditors:
            # The lead shares the first findings of the next auditor's return.
            shared = tuple(owned[i + 1][2][:SHARED_PER_PAIR])
            plans.append(AuditorPlan(name, agency, tuple(keys), shared, seed=i))
            pairs += 1
        elif i % LEAD_EVERY == 1:
            shared = tuple(keys[:SHARED_PER_PAIR])
            own = tuple(keys[SHARED_PER_PAIR:])
            plans.append(AuditorPlan(name, agency, own, shared, seed=i))
        else:
            plans.append(AuditorPlan(name, agency, tuple(keys), seed=i))
    return Setup(detail.id, tuple(plans), pairs)


# --- one auditor ---------------------------------------------------------------------------


def run_auditor(
    factory: SessionFactory, plan: AuditorPlan, saves: int, pace: tuple[float, float] | None
) -> AuditorResult:
    """Attempt `saves` saves as one auditor would, each on the version last acknowledged.

    On a refusal the auditor is shown the other person's value and chooses to carry on typing
    over it: the next save of that finding is made on the version the refusal showed."""
    rng = random.Random(plan.seed)
    actor = Actor(name=plan.name, agency=plan.agency)
    known: dict[FindingKey, int] = {}
    own_turn = itertools.cycle(plan.own)
    result = AuditorResult()
    # Stagger the start so thirty people do not all press a key in the same millisecond.
    next_at = time.monotonic() + (rng.uniform(0, pace[1]) if pace else 0.0)
    for n in range(saves):
        if pace:
            wait = next_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            # Paced from the planned start, not from the end of the last save: a slow
            # database does not slow the typing, so it cannot hide its own delays.
            next_at += rng.uniform(*pace)
        if plan.shared and (n == 0 or rng.random() < SHARED_SHARE):
            # Both of a pair start on the same finding, so every pair meets a refusal.
            key = plan.shared[0] if n == 0 else rng.choice(plan.shared)
        else:
            key = next(own_turn)
        value = f"{plan.name} save {n + 1}: {rng.choice(_SENTENCES)}"
        result.attempted += 1
        start = time.perf_counter()
        try:
            saved = returns.record_finding(
                factory,
                actor,
                key[0],
                key[1],
                FindingChange(evidence=value),
                expected_version=known.get(key, 0),
            )
        except StaleFindingError as refusal:
            result.refused += 1
            known[key] = refusal.current.version
        except Exception as exc:  # counted and reported, never hidden
            result.errors.append(
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
        else:
            elapsed = time.perf_counter() - start
            result.acks.append(Ack(key, value, saved.version, elapsed))
            known[key] = saved.version
    return result


def _worker(
    index: int,
    url: str,
    plans: dict[str, AuditorPlan],
    phases: Sequence[Phase],
    barrier: threading.Barrier,
    results: Any,
) -> None:
    """One auditor's process: connect, wait for everyone, then run each phase in step."""
    # Ctrl-C is the parent's to handle: it stops these processes and drops the schema.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        # Open the return as the screen would before anyone types: connects and warms caches.
        for plan in plans.values():
            returns.get_return(factory, plan.own[0][0])
    except Exception as exc:  # reported to the parent as one line
        results.put(("failed", index, f"auditor {index + 1} could not start: {exc}"))
        barrier.abort()
        return
    try:
        for phase in phases:
            barrier.wait(timeout=START_TIMEOUT)
            results.put(
                (
                    phase.name,
                    index,
                    run_auditor(factory, plans[phase.name], phase.saves, phase.pace),
                )
            )
    except threading.BrokenBarrierError:
        return
    finally:
        engine.dispose()


# --- many auditors -------------------------------------------------------------------------


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # The heavy imports happen once in the server, so thirty auditors start in a second,
        # not thirty. Not this module itself: each child runs it afresh as its main module.
        ctx.set_forkserver_preload(["workbench.services.returns", "benchmarks.report"])
        return ctx
    return multiprocessing.get_context("spawn")


def _collect(
    results: Any, processes: Sequence[Any], phase: str, count: int
) -> dict[int, AuditorResult]:
    got: dict[int, AuditorResult] = {}
    while len(got) < count:
        try:
            name, index, payload = results.get(timeout=1.0)
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise LoadTestError(
                    f"an auditor process stopped during the {phase} run (exit {dead[0].exitcode})"
                ) from None
            continue
        if name == "failed":
            raise LoadTestError(str(payload))
        got[index] = payload
    return got


def run_crowd(
    url: str, plans: Sequence[dict[str, AuditorPlan]], phases: Sequence[Phase]
) -> dict[str, tuple[float, list[AuditorResult]]]:
    """Run every phase with one process per auditor; per phase the wall time and results."""
    ctx = _context()
    barrier = ctx.Barrier(len(plans) + 1)
    results = ctx.Queue()
    processes = [
        ctx.Process(  # type: ignore[attr-defined]
            target=_worker,
            args=(i, url, p, tuple(phases), barrier, results),
            name=f"load-auditor-{i + 1}",
            daemon=True,
        )
        for i, p in enumerate(plans)
    ]
    outcome: dict[str, tuple[float, list[AuditorResult]]] = {}
    try:
        for process in processes:
            process.start()
        for phase in phases:
            try:
                barrier.wait(timeout=START_TIMEOUT)
            except threading.BrokenBarrierError:
                try:
                    _, _, payload = results.get(timeout=5)
                except queue.Empty:
                    raise LoadTestError("the auditor processes did not all start") from None
                raise LoadTestError(str(payload)) from None
            # Timed from the moment all auditors are released to the last result received:
            # if anything this overstates the time, so throughput errs low.
            start = time.perf_counter()
            got = _collect(results, processes, phase.name, len(plans))
            outcome[phase.name] = (time.perf_counter() - start, [got[i] for i in sorted(got)])
        for process in processes:
            process.join(timeout=30)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
    return outcome


# --- checking the database -----------------------------------------------------------------


def verify(factory: SessionFactory, audit_id: int, acks: Sequence[Ack]) -> Integrity:
    """Compare the audit's findings and their change history with the acknowledged saves."""
    by_finding: dict[FindingKey, list[Ack]] = {}
    for ack in acks:
        by_finding.setdefault(ack.finding, []).append(ack)
    with unit_of_work(factory) as session:
        findings = list(
            session.scalars(
                select(Finding)
                .join(AgencyReturn, Finding.return_id == AgencyReturn.id)
                .join(Case, AgencyReturn.case_id == Case.id)
                .where(Case.audit_id == audit_id)
            )
        )
        # The model's own history_key, so the check follows however the key is written.
        stored = {(f.return_id, f.criterion_id): (f, f.history_key()) for f in findings}
        counts = session.execute(
            select(ChangeRecord.entity_key, func.count())
            .where(ChangeRecord.audit_id == audit_id, ChangeRecord.entity == "findings")
            .group_by(ChangeRecord.entity_key)
        )
        history = Counter({key: count for key, count in counts})
    lost = duplicated = missing = mismatched = 0
    seen_keys: set[str] = set()
    for key in set(by_finding) | set(stored):
        acked = by_finding.get(key, [])
        row, history_key = stored.get(key, (None, None))
        if acked:
            last = max(acked, key=lambda a: a.version)
            if row is None or row.evidence != last.value:
                lost += 1
            # Two acknowledgements of one version: one of them was overwritten unseen.
            lost += len(acked) - len({a.version for a in acked})
        if row is not None and row.version != len(acked):
            mismatched += 1
        records = 0
        if history_key is not None:
            seen_keys.add(history_key)
            records = history[history_key]
        duplicated += max(0, records - len(acked))
        missing += max(0, len(acked) - records)
    # History for a finding that no longer exists is history no acknowledged save explains.
    duplicated += sum(n for k, n in history.items() if k not in seen_keys)
    return Integrity(
        findings=len(stored),
        acknowledged=len(acks),
        history_records=sum(history.values()),
        lost=lost,
        duplicated=duplicated,
        missing_history=missing,
        version_mismatches=mismatched,
    )


def _p95(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def summarise(
    factory: SessionFactory,
    mode: str,
    setup: Setup,
    elapsed: float,
    results: Sequence[AuditorResult],
) -> ModeResult:
    acks = [a for r in results for a in r.acks]
    errors = [e for r in results for e in r.errors]
    latencies = [a.seconds for a in acks]
    return ModeResult(
        mode=mode,
        auditors=len(results),
        pairs=setup.pairs,
        attempted=sum(r.attempted for r in results),
        acknowledged=len(acks),
        refused=sum(r.refused for r in results),
        errors=len(errors),
        elapsed=elapsed,
        median=statistics.median(latencies) if latencies else 0.0,
        p95=_p95(latencies),
        integrity=verify(factory, setup.audit_id, acks),
        first_error=errors[0] if errors else "",
    )


# --- the private schema --------------------------------------------------------------------


def _admin_dsn(url: URL) -> str:
    plain = url.set(drivername="postgresql").difference_update_query(["options"])
    return plain.render_as_string(hide_password=False)


def check_reachable(url: URL) -> None:
    import psycopg

    try:
        with psycopg.connect(_admin_dsn(url), connect_timeout=5):
            return
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoadTestError(f"PostgreSQL at {describe(url)} is unreachable: {first}") from None


@contextmanager
def private_schema(url: URL) -> Iterator[tuple[str, str]]:
    """A fresh schema and a URL whose connections use it; dropped however the run ends."""
    import psycopg

    schema = f"wb_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield schema, scoped.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def schema_exists(url: URL, schema: str) -> bool:
    import psycopg

    with psycopg.connect(_admin_dsn(url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    return bool(row and row[0])


# --- the whole run -------------------------------------------------------------------------


def server(url: str) -> URL:
    """The PostgreSQL server to load, checked to answer before anything is set up."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise LoadTestError(f"{describe(parsed)}: the load test needs a PostgreSQL URL")
    check_reachable(parsed)
    return parsed


def run_load(url: str, auditors: int, saves: int, baseline_saves: int) -> LoadReport:
    if auditors < 1 or saves < 1 or baseline_saves < 1:
        raise LoadTestError("the auditors and saves must each be at least 1")
    parsed = server(url)
    registry = ToolRegistry.load()
    busy_before = cpu_busy()
    with private_schema(parsed) as (schema, scoped):
        engine = make_engine(scoped)
        try:
            ensure_schema(engine, f"{describe(parsed)} schema {schema}", upgrade_if_needed=True)
            factory = make_session_factory(engine)
            alone = prepare(factory, registry, 1, "one auditor alone")
            realistic = prepare(factory, registry, auditors, "typing pace")
            flat_out = prepare(factory, registry, auditors, "flat out")
            # The baseline runs first and on its own: the same code, nobody else on the server.
            base = run_crowd(
                scoped, [{"alone": alone.plans[0]}], [Phase("alone", None, baseline_saves)]
            )
            crowd = run_crowd(
                scoped,
                [
                    {"realistic": r, "flat-out": f}
                    for r, f in zip(realistic.plans, flat_out.plans, strict=True)
                ],
                [Phase("realistic", TYPING_PACE, saves), Phase("flat-out", None, saves)],
            )
            baseline = summarise(factory, "alone", alone, *base["alone"])
            modes = (
                summarise(factory, "realistic", realistic, *crowd["realistic"]),
                summarise(factory, "flat-out", flat_out, *crowd["flat-out"]),
            )
        finally:
            engine.dispose()
    return LoadReport(
        url=describe(parsed),
        schema=schema,
        schema_dropped=not schema_exists(parsed, schema),
        saves_per_auditor=saves,
        baseline=baseline,
        modes=modes,
        busy_before=busy_before,
    )


def _cpu_times() -> tuple[int, int] | None:
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields), idle


def cpu_busy(window: float = 1.0) -> float | None:
    """The share of all cores busy over `window` seconds; None where /proc/stat is missing.

    Not the load average: that lags by a minute, so it would still show the last run."""
    first = _cpu_times()
    time.sleep(window)
    second = _cpu_times()
    if first is None or second is None or second[0] == first[0]:
        return None
    total, idle = second[0] - first[0], second[1] - first[1]
    return max(0.0, 1 - idle / total)


# --- reporting -----------------------------------------------------------------------------


def note(report: LoadReport) -> str:
    cores = os.cpu_count() or 1
    busy = report.busy_before
    parts = [
        f"{report.modes[0].auditors} auditor processes and PostgreSQL share {cores} CPU "
        f"core{'s' if cores != 1 else ''}"
        + ("" if busy is None else f", {busy:.0%} busy with other work just before the run")
    ]
    if busy is not None and busy > BUSY:
        parts.append(
            "other work was running on the machine, so these latencies include waiting for "
            "it; compare with the baseline, or rerun when quiet"
        )
    slow = [m.mode for m in report.modes if not m.fast_enough]
    if slow:
        parts.append(
            f"p95 over {seconds(LIMIT)} in {', '.join(slow)}: with no think time every process "
            "queues for the CPU, so this is the machine's ceiling, not a typing-pace figure"
            if slow == ["flat-out"]
            else f"p95 over {seconds(LIMIT)} in {', '.join(slow)}"
        )
    if not report.ok:
        parts.append("DATA CHECK FAILED: see lost, duplicated, history and errors")
    return "; ".join(parts)


def figures(report: LoadReport) -> list[Figure]:
    """The timed modes as figures: median save latency against one auditor alone, p95 capped."""
    out = []
    for m in report.modes:
        out.append(
            Figure(
                name=f"{NAME}-{m.mode}",
                measures=(
                    f"acknowledged save through record_finding, {m.auditors} auditor processes "
                    + ("at a typing pace" if m.mode == "realistic" else "flat out")
                ),
                baseline_measures="the same save by one auditor alone, flat out, same run",
                value=max(m.median, 1e-9),
                baseline=max(report.baseline.median, 1e-9),
                target=None,
                limit=LIMIT,
                p95=m.p95,
                repeats=m.acknowledged,
                note=(
                    f"{m.throughput:,.0f} saves/s, {m.refused} refused, {m.integrity.lost} lost, "
                    f"{m.integrity.duplicated} duplicated"
                ),
            )
        )
    return out


def run(quick: bool) -> Figure:
    """The typing-pace figure, for `python -m benchmarks` if it is wired in there."""
    url = os.environ.get("WORKBENCH_TEST_POSTGRES_URL", DEFAULT_URL)
    report = run_load(
        url,
        QUICK_AUDITORS if quick else FULL_AUDITORS,
        QUICK_SAVES if quick else FULL_SAVES,
        QUICK_BASELINE_SAVES if quick else FULL_BASELINE_SAVES,
    )
    return figures(report)[0]


def render(report: LoadReport) -> str:
    headers = (
        "mode",
        "auditors",
        "saves",
        "refused",
        "saves/s",
        "median",
        "p95",
        "lost",
        "duplicated",
        "result",
    )

    def verdict(m: ModeResult) -> str:
        if m is report.baseline:
            return "baseline" if m.ok else "DATA CHECK FAILED"
        if not m.ok:
            return "DATA CHECK FAILED"
        return "met" if m.fast_enough else f"MISSED p95 <= {seconds(LIMIT)}"

    rows = [
        (
            m.mode,
            str(m.auditors),
            f"{m.acknowledged:,}",
            str(m.refused),
            f"{m.throughput:,.1f}",
            seconds(m.median),
            seconds(m.p95),
            str(m.integrity.lost),
            str(m.integrity.duplicated),
            verdict(m),
        )
        for m in (report.baseline, *report.modes)
    ]
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    right = set(range(1, 9))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [
        f"{NAME}: {report.modes[0].auditors} auditors, {report.saves_per_auditor} saves each, "
        f"on {report.url} (private schema {report.schema}, "
        f"{'dropped' if report.schema_dropped else 'NOT DROPPED'})",
        "",
        line(headers),
        "  ".join("-" * w for w in widths),
        *(line(r) for r in rows),
        "",
        "saves are acknowledged saves; latency is theirs, measured in each auditor's process",
        "alone:     one auditor, flat out, no one else on the server (the baseline)",
        f"realistic: a save every {TYPING_PACE[0]:g}-{TYPING_PACE[1]:g} s per auditor, "
        "as debounced autosave sends them (so saves/s is set by the pace)",
        "flat-out:  no think time between saves",
        f"shared:    {report.modes[0].pairs} lead/auditor pair(s) edit {SHARED_PER_PAIR} findings "
        "in common; a refused save is correct behaviour, not a lost update",
        "",
    ]
    for m in (report.baseline, *report.modes):
        i = m.integrity
        versus = m.p95 / report.baseline.p95 if report.baseline.p95 > 0 else math.nan
        out.append(
            f"{m.mode}: {m.attempted:,} attempted = {m.acknowledged:,} acknowledged + "
            f"{m.refused} refused + {m.errors} errors; {i.findings} findings, "
            f"{i.history_records:,} history records ({i.missing_history} missing), "
            f"{i.version_mismatches} version mismatches; p95 {versus:.1f}x alone"
        )
        if m.first_error:
            out.append(f"  first error: {m.first_error}")
    out.append(f"note: {note(report)}")
    out.append("")
    if not report.ok:
        out.append("DATA CHECK FAILED: an update was lost, duplicated or went unrecorded.")
    elif report.met:
        out.append("All targets met: 0 lost, 0 duplicated, p95 under 50 ms in every mode.")
    else:
        slow = ", ".join(m.mode for m in report.modes if not m.fast_enough)
        out.append(f"0 lost, 0 duplicated; p95 target MISSED in: {slow}.")
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load_test",
        description="Auditors saving findings at once on PostgreSQL: throughput, latency and "
        "lost or duplicated updates. Exits 1 if the data check fails, 2 if PostgreSQL cannot "
        "be used; a missed latency target is reported, not raised.",
    )
    parser.add_argument("--auditors", type=int, help=f"auditor processes (default {FULL_AUDITORS})")
    parser.add_argument(
        "--saves", type=int, help=f"saves each auditor attempts per mode (default {FULL_SAVES})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_AUDITORS} auditors and {QUICK_SAVES} saves unless given (for tests)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON document, not a table")
    parser.add_argument(
        "--url",
        default=os.environ.get("WORKBENCH_TEST_POSTGRES_URL", DEFAULT_URL),
        help="PostgreSQL server (default $WORKBENCH_TEST_POSTGRES_URL or the local test database)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    auditors = (
        args.auditors
        if args.auditors is not None
        else (QUICK_AUDITORS if args.quick else FULL_AUDITORS)
    )
    saves = args.saves if args.saves is not None else (QUICK_SAVES if args.quick else FULL_SAVES)
    baseline_saves = QUICK_BASELINE_SAVES if args.quick else FULL_BASELINE_SAVES
    if auditors < 1 or saves < 1:
        print("load test: --auditors and --saves must each be at least 1", file=sys.stderr)
        return 2
    try:
        # Checked first, so an unreachable server is the only line printed.
        server(args.url)
        # Progress goes to stderr so that --json output stays a clean document.
        print(f"load test: {auditors} auditors, {saves} saves each per mode", file=sys.stderr)
        report = run_load(args.url, auditors, saves, baseline_saves)
    except KeyboardInterrupt:
        print("load test: interrupted; the private schema was dropped", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, never a traceback
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"load test: {text}", file=sys.stderr)
        return 2
    print(json.dumps(report.as_json(), indent=2) if args.json else render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
