"""Timing helpers: interleaved repeats after a warm-up, summarised by the median."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

Trial = Callable[[], float]
"""Runs once and returns the seconds spent on the part being measured."""


@dataclass(frozen=True)
class Medians:
    value: float
    baseline: float
    repeats: int


def stopwatch(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def compare(value: Trial, baseline: Trial, *, repeats: int) -> Medians:
    """Warm both up once, then alternate them so drift in the machine hits both alike."""
    value()
    baseline()
    values: list[float] = []
    baselines: list[float] = []
    for _ in range(repeats):
        values.append(value())
        baselines.append(baseline())
    return Medians(statistics.median(values), statistics.median(baselines), repeats)
