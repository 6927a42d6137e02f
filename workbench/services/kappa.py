"""Agreement between two raters on ordered grades: percent agreement, Cohen's and weighted kappa."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction

Table = list[list[int]]
"""k x k counts: table[i][j] is the number of items rater A put in category i and rater B in j."""

_Distance = Callable[[int, int], int]

# Disagreement weights up to a positive factor ((k-1)^2 or k-1), which cancels in the ratio,
# so the sums stay in integers and the result is exact.
_DISTANCES: dict[str, _Distance] = {
    "quadratic": lambda i, j: (i - j) ** 2,
    "linear": lambda i, j: abs(i - j),
}


def contingency(pairs: Iterable[tuple[int, int]], categories: int) -> Table:
    """Count pairs of 1-based ranks (rater A, rater B) into a categories x categories table."""
    if categories < 1:
        raise ValueError(f"categories must be at least 1, not {categories}")
    table = [[0] * categories for _ in range(categories)]
    for a, b in pairs:
        if not (1 <= a <= categories and 1 <= b <= categories):
            raise ValueError(f"rank pair ({a}, {b}) is outside 1..{categories}")
        table[a - 1][b - 1] += 1
    return table


def percent_agreement(table: Table) -> float | None:
    """Share of items both raters put in the same category; None when there are no items."""
    _check(table)
    total = sum(map(sum, table))
    if total == 0:
        return None
    return float(Fraction(sum(table[i][i] for i in range(len(table))), total))


def cohen_kappa(table: Table) -> float | None:
    """Cohen's (1960) unweighted kappa; None when undefined (no items, or one category only)."""
    _check(table)
    return _kappa(table, lambda i, j: int(i != j))


def weighted_kappa(table: Table, weights: str = "quadratic") -> float | None:
    """Cohen's (1968) weighted kappa with "quadratic" or "linear" disagreement weights.

    None when undefined: no items, a single category, or no disagreement expected by chance
    (every rating in one category).
    """
    _check(table)
    distance = _DISTANCES.get(weights)
    if distance is None:
        raise ValueError(f"weights must be one of {sorted(_DISTANCES)}, not {weights!r}")
    if len(table) < 2:
        return None
    return _kappa(table, distance)


def _kappa(table: Table, distance: _Distance) -> float | None:
    """1 - observed / chance-expected weighted disagreement, the chance part from the margins."""
    k = len(table)
    n = sum(map(sum, table))
    rows = [sum(row) for row in table]
    columns = [sum(table[i][j] for i in range(k)) for j in range(k)]
    observed = sum(distance(i, j) * table[i][j] for i in range(k) for j in range(k))
    expected = sum(distance(i, j) * rows[i] * columns[j] for i in range(k) for j in range(k))
    if expected == 0:
        return None
    # Observed proportions carry 1/n and expected ones 1/n^2, hence the factor n.
    return float(1 - Fraction(n * observed, expected))


def _check(table: Table) -> None:
    """A ragged table or a negative count would give a number that means nothing."""
    k = len(table)
    for row in table:
        if len(row) != k:
            raise ValueError(f"table must be square, got a row of {len(row)} in a {k}-row table")
        if any(count < 0 for count in row):
            raise ValueError("table counts must not be negative")
