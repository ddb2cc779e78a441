"""From spike counts to classes: neuron assignment, voting, accuracy, confusion matrix.

``counts`` arrays are (examples x neurons) spike counts of frozen presentations.
"""

from __future__ import annotations

import numpy as np

from .constants import N_CLASSES

UNASSIGNED = -1


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
