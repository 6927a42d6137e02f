"""Kappa statistics against worked examples from the literature, plus their algebraic properties."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.services.kappa import (
    Table,
    cohen_kappa,
    contingency,
    percent_agreement,
    weighted_kappa,
)

# Altman DG (1991) Practical Statistics for Medical Research, Table 14.2: two radiologists'
# assessments of 85 xeromammograms (Boyd et al. 1982); rows radiologist A, columns B, in the
# order normal, benign, suspected cancer, cancer. Section 14.3 reports 54/85 = 0.64 exact
# agreement, kappa = 0.47 and, with the linear weights of 14.3.4, weighted kappa = 0.57.
XEROMAMMOGRAMS: Table = [
    [21, 12, 0, 0],
    [4, 17, 1, 0],
    [3, 9, 15, 2],
    [0, 0, 0, 1],
]

# Altman (1991) Table 14.3: MAST (rows) against RAST (columns) allergy grades for 363 sera
# (Brostoff et al. 1984), negative .. very high. Section 14.3 reports kappa = 0.32 and
# weighted kappa = 0.56 (linear weights), and 14.3.5 kappa = 0.42 with the grades collapsed to
# negative / weak or moderate / high or very high and 0.53 with negative / positive.
MAST_RAST: Table = [
    [86, 3, 14, 0, 2],
    [26, 0, 10, 4, 0],
    [20, 2, 22, 4, 1],
    [11, 1, 37, 16, 14],
    [3, 0, 15, 24, 48],
]

# Altman prints two decimals: half a unit in the last place, inclusive (0.375 prints as 0.38).
ALTMAN = 5e-3 + 1e-12


def collapse(table: Table, groups: list[list[int]]) -> Table:
    return [[sum(table[i][j] for i in rows for j in cols) for cols in groups] for rows in groups]


def test_textbook_two_by_two_grant_example() -> None:
    # The grant-proposal example of the Wikipedia article "Cohen's kappa" (also in the
    # tutorialspoint statistics course): 50 proposals, A and B both yes 20, A yes B no 5,
    # A no B yes 10, both no 15; p_o = 0.70, p_e = 0.50, kappa = 0.40.
    table = contingency([(1, 1)] * 20 + [(1, 2)] * 5 + [(2, 1)] * 10 + [(2, 2)] * 15, 2)
    assert table == [[20, 5], [10, 15]]
    assert percent_agreement(table) == pytest.approx(0.70)
    assert cohen_kappa(table) == pytest.approx(0.40)


def test_altman_xeromammograms() -> None:
    assert percent_agreement(XEROMAMMOGRAMS) == pytest.approx(54 / 85)
    assert cohen_kappa(XEROMAMMOGRAMS) == pytest.approx(0.47, abs=ALTMAN)
    assert weighted_kappa(XEROMAMMOGRAMS, "linear") == pytest.approx(0.57, abs=ALTMAN)


def test_altman_mast_rast_and_its_collapsed_tables() -> None:
    assert cohen_kappa(MAST_RAST) == pytest.approx(0.32, abs=ALTMAN)
    assert weighted_kappa(MAST_RAST, "linear") == pytest.approx(0.56, abs=ALTMAN)
    three = collapse(MAST_RAST, [[0], [1, 2], [3, 4]])
    assert cohen_kappa(three) == pytest.approx(0.42, abs=ALTMAN)
    two = collapse(MAST_RAST, [[0], [1, 2, 3, 4]])
    assert cohen_kappa(two) == pytest.approx(0.53, abs=ALTMAN)


@pytest.mark.parametrize(
    ("table", "kappa"),
    [
        # Altman (1991) Tables 14.4 (a) and (b): the same 0.8 agreement, different prevalence.
        ([[70, 10], [10, 10]], 0.38),
        ([[40, 10], [10, 40]], 0.60),
    ],
)
def test_altman_prevalence_tables(table: Table, kappa: float) -> None:
    assert percent_agreement(table) == pytest.approx(0.8)
    assert cohen_kappa(table) == pytest.approx(kappa, abs=ALTMAN)


def test_cohen_1968_diagnosis_table() -> None:
    # Cohen J (1968) Psychol Bull 70:213-220, Table 1: two judges, 200 patients, three
    # diagnoses, printed as proportions .44 .07 .09 / .05 .20 .05 / .01 .03 .06; Cohen
    # reports unweighted kappa = .492.
    table = [[88, 14, 18], [10, 40, 10], [2, 6, 12]]
    assert percent_agreement(table) == pytest.approx(0.70)
    assert cohen_kappa(table) == pytest.approx(0.492, abs=5e-4)


@pytest.mark.parametrize(
    ("rater_b", "kappa"),
    [
        ([8, 8, 6, 6, 7, 6, 1, 4, 8], 0.758620689655172),
        ([3, 5, 6, 6, 7, 6, 1, 4, 8], 0.438095238095238),
    ],
)
def test_maple_quadratic_weighted_kappa_examples(rater_b: list[int], kappa: float) -> None:
    # Maplesoft, Maple help page EssayTools[QuadraticWeightedKappa], examples 1 and 2: scores
    # on 1..10 against rater A's 9 7 8 7 6 8 3 5 10, the range taken from the data (1 to 10).
    rater_a = [9, 7, 8, 7, 6, 8, 3, 5, 10]
    table = contingency(zip(rater_a, rater_b, strict=True), 10)
    assert weighted_kappa(table) == pytest.approx(kappa, abs=1e-12)
    assert weighted_kappa(table, "quadratic") == weighted_kappa(table)


# --- Edge cases ---------------------------------------------------------------------------


def test_no_pairs_is_undefined() -> None:
    empty = contingency([], 4)
    assert percent_agreement(empty) is None
    assert cohen_kappa(empty) is None
    assert weighted_kappa(empty) is None
    assert weighted_kappa(empty, "linear") is None
    assert percent_agreement([]) is None
    assert cohen_kappa([]) is None
    assert weighted_kappa([]) is None


def test_every_rating_in_one_category_is_undefined() -> None:
    table = contingency([(3, 3)] * 7, 4)
    assert percent_agreement(table) == 1.0
    assert cohen_kappa(table) is None
    assert weighted_kappa(table) is None
    assert weighted_kappa(table, "linear") is None


def test_a_single_category_is_undefined() -> None:
    table = contingency([(1, 1)] * 3, 1)
    assert table == [[3]]
    assert cohen_kappa(table) is None
    assert weighted_kappa(table) is None


@pytest.mark.parametrize("pair", [(0, 1), (1, 0), (5, 1), (1, 5), (-1, 2)])
def test_rank_out_of_range_raises(pair: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match=r"outside 1\.\.4"):
        contingency([(1, 1), pair], 4)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="categories"):
        contingency([], 0)
    with pytest.raises(ValueError, match="weights"):
        weighted_kappa(XEROMAMMOGRAMS, "cubic")
    with pytest.raises(ValueError, match="square"):
        cohen_kappa([[1, 2], [3]])
    with pytest.raises(ValueError, match="negative"):
        weighted_kappa([[1, -1], [0, 1]])


def test_systematic_disagreement_is_negative() -> None:
    # Raters who always pick opposite ends agree less than chance would.
    table = contingency([(1, 3)] * 5 + [(3, 1)] * 5, 3)
    assert cohen_kappa(table) == pytest.approx(-1.0)
    assert weighted_kappa(table) == pytest.approx(-1.0)


# --- Properties ---------------------------------------------------------------------------


@st.composite
def rated_items(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    categories = draw(st.integers(min_value=1, max_value=6))
    rank = st.integers(min_value=1, max_value=categories)
    return categories, draw(st.lists(st.tuples(rank, rank), max_size=60))


def quadratic_kappa_from_moments(pairs: list[tuple[int, int]]) -> Fraction | None:
    """2 cov(x, y) / (var x + var y + (mean x - mean y)^2) with population moments."""
    n = len(pairs)
    # Every moment scaled by n^2 so that they stay integers; the scale cancels in the ratio.
    sx = sum(x for x, _ in pairs)
    sy = sum(y for _, y in pairs)
    var_x = n * sum(x * x for x, _ in pairs) - sx * sx
    var_y = n * sum(y * y for _, y in pairs) - sy * sy
    cov = n * sum(x * y for x, y in pairs) - sx * sy
    denominator = var_x + var_y + (sx - sy) ** 2
    if denominator == 0:
        return None
    return Fraction(2 * cov, denominator)


@given(rated_items())
def test_quadratic_kappa_matches_the_moment_formula(
    items: tuple[int, list[tuple[int, int]]],
) -> None:
    categories, pairs = items
    expected = quadratic_kappa_from_moments(pairs)
    actual = weighted_kappa(contingency(pairs, categories))
    if expected is None:
        assert actual is None
    else:
        assert actual == pytest.approx(float(expected), abs=1e-12)


@given(rated_items())
def test_swapping_the_raters_changes_nothing(items: tuple[int, list[tuple[int, int]]]) -> None:
    categories, pairs = items
    table = contingency(pairs, categories)
    swapped = contingency([(b, a) for a, b in pairs], categories)
    assert swapped == [list(column) for column in zip(*table, strict=True)]
    assert percent_agreement(swapped) == percent_agreement(table)
    assert cohen_kappa(swapped) == cohen_kappa(table)
    assert weighted_kappa(swapped) == weighted_kappa(table)
    assert weighted_kappa(swapped, "linear") == weighted_kappa(table, "linear")


@given(rated_items())
def test_perfect_agreement_is_one_when_defined(items: tuple[int, list[tuple[int, int]]]) -> None:
    categories, pairs = items
    table = contingency([(a, a) for a, _ in pairs], categories)
    used = {a for a, _ in pairs}
    for kappa in (cohen_kappa(table), weighted_kappa(table), weighted_kappa(table, "linear")):
        assert kappa == (1.0 if len(used) > 1 else None)


@given(rated_items())
def test_kappa_lies_between_minus_one_and_one(items: tuple[int, list[tuple[int, int]]]) -> None:
    categories, pairs = items
    table = contingency(pairs, categories)
    agreement = percent_agreement(table)
    assert agreement is None or 0.0 <= agreement <= 1.0
    for kappa in (cohen_kappa(table), weighted_kappa(table), weighted_kappa(table, "linear")):
        assert kappa is None or -1.0 <= kappa <= 1.0


@given(st.lists(st.tuples(st.integers(1, 2), st.integers(1, 2)), max_size=60))
def test_two_categories_weighted_equals_unweighted(pairs: list[tuple[int, int]]) -> None:
    table = contingency(pairs, 2)
    assert weighted_kappa(table) == cohen_kappa(table)
    assert weighted_kappa(table, "linear") == cohen_kappa(table)
