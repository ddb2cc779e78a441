"""Comparing classifiers, and comparing with the paper, for the reports of the scripts:
the paper's accuracies, the exact McNemar test of two classifiers on the same images,
its verdict, how many neurons win any image, and the key under which a baseline's row
is kept.

A script in scripts/ imports this as ``comparisons`` (scripts/experiments/ first puts
scripts/ on sys.path).
"""

from __future__ import annotations

import numpy as np

# Diehl & Cook (2015), Table 1: test accuracy per number of excitatory neurons.
PAPER_ACCURACY = {100: 0.829, 400: 0.870, 1600: 0.919, 6400: 0.950}
SIGNIFICANCE = 0.05  # a paired difference with p at or above this is called level


def distinct_winners(counts: np.ndarray) -> int:
    """How many neurons are the most active one (the first on ties) for at least one
    example of ``counts`` (examples x N); examples without any spike have no winner. A
    few winners for many examples means a few neurons answer everything."""
    active = counts.max(axis=1) > 0
    return int(np.unique(counts[active].argmax(axis=1)).size)


def mcnemar(first_right: np.ndarray, second_right: np.ndarray) -> tuple[int, int, float]:
    """Exact McNemar test of two classifiers on the same images, from one boolean per
    image each (right or wrong): (images only the first gets right, images only the
    second gets right, two-sided p-value of a binomial test of the discordant images
    against 1/2; 1 when there are none)."""
    from scipy.stats import binomtest  # scipy.stats is slow to import; only the paired reports need it

    first_right, second_right = np.asarray(first_right, dtype=bool), np.asarray(second_right, dtype=bool)
    if first_right.shape != second_right.shape:
        raise ValueError("the two classifiers' results cover different images")
    only_first = int(np.count_nonzero(first_right & ~second_right))
    only_second = int(np.count_nonzero(second_right & ~first_right))
    discordant = only_first + only_second
    return (
        only_first,
        only_second,
        float(binomtest(only_first, discordant, 0.5).pvalue) if discordant else 1.0,
    )


def format_p(p: float, digits: int = 2) -> str:
    """A p-value to ``digits`` significant digits; "< 1e-300" where binomtest underflows to 0."""
    return f"{p:.{digits}g}" if p > 0 else "< 1e-300"


def paired_verdict(first_accuracy: float, second_accuracy: float, p: float) -> str:
    """'level' unless the paired test is significant (p < SIGNIFICANCE); else which side is ahead."""
    if p >= SIGNIFICANCE:
        return "level"
    return "first ahead" if first_accuracy > second_accuracy else "second ahead"


# The fields of a baselines row's cache key, in order, joined by "|" (scripts/experiments/
# baselines.py writes the key, scripts/beyond.py reads the rows back): the row's name, its
# size, what its features depend on (a seed or a network's digest), the row format's
# version, the linear readout's validation images, its grid of C, its count transforms,
# the images fitted on and those scored; then, where they apply, the dataset (not MNIST)
# and "validation" (rows scored on the validation split).
BASELINE_KEY_FIELDS = (
    "name",
    "n",
    "features",
    "version",
    "n_validate",
    "grid",
    "transforms",
    "fitted_on",
    "scored",
)


def baseline_key(*values: object) -> str:
    """A baselines row's cache key from the values of BASELINE_KEY_FIELDS, in order (and
    the optional dataset and split after them)."""
    return "|".join(str(value) for value in values)


def baseline_key_fields(key: str) -> dict[str, str]:
    """The named fields of a baselines row's cache key (the optional ones left out)."""
    return dict(zip(BASELINE_KEY_FIELDS, key.split("|"), strict=False))
