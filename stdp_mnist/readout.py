"""From spike counts to classes: neuron assignment, voting, accuracy, confusion matrix,
and the exact paired test that compares two classifiers on the same images.

``counts`` arrays are (examples x neurons) spike counts of frozen presentations.
"""

from __future__ import annotations

import numpy as np

from .constants import N_CLASSES

# Diehl & Cook (2015), Table 1: test accuracy per number of excitatory neurons.
PAPER_ACCURACY = {100: 0.829, 400: 0.870, 1600: 0.919, 6400: 0.950}
UNASSIGNED = -1
SIGNIFICANCE = 0.05  # a paired difference with p at or above this is called level


def class_spike_sums(counts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Total spikes of every neuron per class of the shown examples (N x 10)."""
    sums = np.zeros((counts.shape[1], N_CLASSES))
    for c in range(N_CLASSES):
        sums[:, c] = counts[labels == c].sum(axis=0)
    return sums


def class_rates(sums: np.ndarray, class_sizes: np.ndarray) -> np.ndarray:
    """Mean spike count per example of every neuron per class (N x 10), from
    class_spike_sums and the number of examples of each class (0 where none shown)."""
    return np.divide(sums, class_sizes, out=np.zeros_like(sums), where=class_sizes > 0)


def assign_classes(rates: np.ndarray) -> np.ndarray:
    """Each neuron's class: the one with its highest mean response (first on ties);
    neurons that never fired get UNASSIGNED."""
    assignments = rates.argmax(axis=1)
    assignments[rates.max(axis=1) <= 0] = UNASSIGNED
    return assignments


def _highest_last_index(scores: np.ndarray) -> np.ndarray:
    """argmax per row, ties going to the highest class index (as the reference did)."""
    return scores.shape[1] - 1 - scores[:, ::-1].argmax(axis=1)


def scores_all(counts: np.ndarray, assignments: np.ndarray) -> np.ndarray:
    """'All' voting scores (K x 10): mean spikes of each class's assigned neurons."""
    scores = np.zeros((counts.shape[0], N_CLASSES))
    for c in range(N_CLASSES):
        members = assignments == c
        if members.any():
            scores[:, c] = counts[:, members].mean(axis=1)
    return scores


def scores_proportion(counts: np.ndarray, assignments: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """'Proportion' voting scores (K x 10): as scores_all, but each neuron's spikes are
    weighted by the share of its assignment-run response that fell on the class."""
    totals = rates.sum(axis=1, keepdims=True)
    proportions = np.divide(rates, totals, out=np.zeros_like(rates), where=totals > 0)
    scores = np.zeros((counts.shape[0], N_CLASSES))
    for c in range(N_CLASSES):
        members = assignments == c
        if members.any():
            scores[:, c] = (counts[:, members] * proportions[members, c]).sum(axis=1) / members.sum()
    return scores


def predict_all(counts: np.ndarray, assignments: np.ndarray) -> np.ndarray:
    """'All' voting: the class whose assigned neurons fired most on average."""
    return _highest_last_index(scores_all(counts, assignments))


def predict_proportion(counts: np.ndarray, assignments: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """'Proportion' voting: as 'all', but each neuron's spikes are weighted by the share
    of its assignment-run response (per-class mean rates) that fell on the class."""
    return _highest_last_index(scores_proportion(counts, assignments, rates))


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """10 x 10 counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((N_CLASSES, N_CLASSES), np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions.astype(np.int64)), 1)
    return matrix


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """Fraction of correct predictions."""
    return float(np.mean(labels == predictions)) if len(labels) else 0.0


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
