"""`python -m benchmarks [--quick] [--json]`: measure every figure and print how each did."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from benchmarks import (
    bundle_import,
    grade_distribution,
    learning_log_export,
    report_export,
    save_latency,
    startup,
    theme_grid,
    tui_launch,
)
from benchmarks.report import Figure, render_json, render_table

FIGURES: dict[str, Callable[[bool], Figure]] = {
    grade_distribution.NAME: grade_distribution.run,
    theme_grid.NAME: theme_grid.run,
    bundle_import.NAME: bundle_import.run,
    startup.NAME: startup.run,
    tui_launch.NAME: tui_launch.run,
    save_latency.NAME: save_latency.run,
    report_export.NAME: report_export.run,
    learning_log_export.DOCX_NAME: learning_log_export.run_docx,
    learning_log_export.XLSX_NAME: learning_log_export.run_xlsx,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time the workbench against baselines measured in the same run. "
        "Always exits 0: a missed target is reported, not raised.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller data and fewer repeats (for CI and tests)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list, not a table")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(FIGURES),
        metavar="FIGURE",
        help=f"measure only this figure (repeatable): {', '.join(FIGURES)}",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = args.only or list(FIGURES)
    figures: list[Figure] = []
    for name in FIGURES:
        if name in wanted:
            # Progress goes to stderr so that --json output stays a clean document.
            print(f"measuring {name}{' (quick)' if args.quick else ''}", file=sys.stderr)
            figures.append(FIGURES[name](args.quick))
    print(render_json(figures) if args.json else render_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
