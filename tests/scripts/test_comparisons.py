"""scripts/comparisons.py: the paired statistics of the reports, by hand."""

import numpy as np
import pytest
from helpers.scripts import load_script

comparisons = load_script("comparisons")


def test_distinct_winners_counts_each_most_active_neuron_once():
    counts = np.array(
        [
            [0, 3, 1, 0],
            [0, 3, 3, 0],  # a tie: the first
            [5, 0, 0, 0],
            [0, 0, 0, 0],  # no spike: no winner
            [0, 4, 0, 0],
        ]
    )
    assert comparisons.distinct_winners(counts) == 2
    assert comparisons.distinct_winners(np.zeros((3, 4), np.uint16)) == 0


def test_mcnemar_by_hand():
    # 10 images only the second gets right, none only the first: p = 2 * 0.5**10
    first = np.array([True] * 5 + [False] * 10)
    second = np.array([True] * 15)
    assert comparisons.mcnemar(first, second) == (0, 10, pytest.approx(2 * 0.5**10))
    assert comparisons.mcnemar(second, first) == (10, 0, pytest.approx(2 * 0.5**10))
    # 3 against 5 discordant images: p = 2 * P(X <= 3), X ~ Binomial(8, 1/2) = 2 * 93/256
    first = np.array([True] * 3 + [False] * 5 + [True] * 7)
    second = np.array([False] * 3 + [True] * 5 + [True] * 7)
    only_first, only_second, p = comparisons.mcnemar(first, second)
    assert (only_first, only_second) == (3, 5) and p == pytest.approx(0.7265625)
    # no discordant image: nothing to test
    assert comparisons.mcnemar(first, first) == (0, 0, 1.0)
    with pytest.raises(ValueError):
        comparisons.mcnemar(first, first[:-1])


def test_format_p_names_an_underflow_instead_of_printing_0():
    assert comparisons.format_p(0.03125) == "0.031"
    assert comparisons.format_p(0.03125, 3) == "0.0312"
    assert comparisons.format_p(0.0) == "< 1e-300"


def test_paired_verdict_is_level_unless_significant():
    assert comparisons.paired_verdict(0.3, 0.5, 0.7265625) == "level"
    assert comparisons.paired_verdict(0.3, 0.5, comparisons.SIGNIFICANCE) == "level"
    assert comparisons.paired_verdict(0.0, 1.0, 0.001) == "second ahead"
    assert comparisons.paired_verdict(0.9, 0.8, 0.01) == "first ahead"
