"""A figure (a value against a baseline timed in the same run) and how figures are printed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured figure: the median seconds of the thing itself and of its baseline."""

    name: str
    measures: str
    baseline_measures: str
    value: float
    baseline: float
    target: float | None
    """The largest acceptable ratio of value to baseline; None when only `limit` applies."""
    repeats: int
    note: str = ""
    limit: float | None = None
    """An absolute ceiling in seconds, checked against `p95` when given, else `value`."""
    p95: float | None = None

    def __post_init__(self) -> None:
        if self.value <= 0 or self.baseline <= 0:
            raise ValueError(f"{self.name}: times must be positive")

    @property
    def ratio(self) -> float:
        return self.value / self.baseline

    @property
    def met(self) -> bool:
        ratio_ok = self.target is None or self.ratio <= self.target
        worst = self.p95 if self.p95 is not None else self.value
        return ratio_ok and (self.limit is None or worst <= self.limit)

    @property
    def target_text(self) -> str:
        parts = [] if self.target is None else [f"<= {self.target:g}x"]
        if self.limit is not None:
            which = "p95" if self.p95 is not None else "value"
            parts.append(f"{which} <= {seconds(self.limit)}")
        return ", ".join(parts)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": "s",
            "value": self.value,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "limit": self.limit,
            "p95": self.p95,
            "met": self.met,
            "repeats": self.repeats,
            "measures": self.measures,
            "baseline_measures": self.baseline_measures,
            "note": self.note,
        }


def seconds(value: float) -> str:
    return f"{value * 1000:,.1f} ms" if value < 10 else f"{value:,.2f} s"


def render_json(figures: Sequence[Figure]) -> str:
    return json.dumps([f.as_json() for f in figures], indent=2)


def render_table(figures: Sequence[Figure]) -> str:
    headers = ("figure", "value", "baseline", "ratio", "target", "result")
    rows = [
        (
            f.name,
            seconds(f.value),
            seconds(f.baseline),
            f"{f.ratio:.2f}x",
            f.target_text,
            "met" if f.met else "MISSED",
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(len(headers))]
    # Times and ratios read best right-aligned; names and verdicts left-aligned.
    right = {1, 2, 3}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    out.append("")
    for f in figures:
        out.append(f"{f.name} (median of {f.repeats}):")
        out.append(f"  value:    {f.measures}")
        out.append(f"  baseline: {f.baseline_measures}")
        if f.p95 is not None:
            out.append(f"  p95:      {seconds(f.p95)}")
        if f.note:
            out.append(f"  note:     {f.note}")
    missed = [f.name for f in figures if not f.met]
    out.append("")
    out.append(
        f"MISSED {len(missed)} of {len(figures)} targets: {', '.join(missed)}"
        if missed
        else f"All {len(figures)} targets met."
    )
    return "\n".join(out)
