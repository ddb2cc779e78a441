"""Tests for stdp_mnist.readout on hand-made spike counts."""

import numpy as np
import pytest

from stdp_mnist import readout
from stdp_mnist.readout import (
    UNASSIGNED,
    accuracy,
    assign_classes,
    class_rates,
    class_spike_sums,
    confusion_matrix,
    predict_all,
    predict_proportion,
)


def rates_of(rows):
    """N x 10 rates from {class: value} dicts, one per neuron."""
    out = np.zeros((len(rows), 10))
    for j, row in enumerate(rows):
        for c, v in row.items():
            out[j, c] = v
    return out


# --- assignment -------------------------------------------------------------


def test_class_spike_sums_and_rates():
    counts = np.array([[1, 0, 2], [3, 0, 0], [0, 5, 1], [2, 0, 0]])
    labels = np.array([0, 0, 4, 9])
    sums = class_spike_sums(counts, labels)
    assert sums.shape == (3, 10)
    np.testing.assert_array_equal(sums[:, 0], [4, 0, 2])
    np.testing.assert_array_equal(sums[:, 4], [0, 5, 1])
    np.testing.assert_array_equal(sums[:, 9], [2, 0, 0])
    assert sums.sum() == counts.sum()
    sizes = np.bincount(labels, minlength=10)
    rates = class_rates(sums, sizes)
    np.testing.assert_allclose(rates[:, 0], [2.0, 0.0, 1.0])  # mean over the 2 zeros
    np.testing.assert_allclose(rates[:, 4], [0, 5, 1])
    assert np.all(rates[:, [1, 2, 3, 5, 6, 7, 8]] == 0)  # classes never shown: 0, no NaN


def test_assign_highest_mean_not_highest_sum():
    # neuron 0 fired 6 spikes in total to three 1s (mean 2) and 3 to one 7 (mean 3)
    counts = np.array([[2], [2], [2], [3]])
    labels = np.array([1, 1, 1, 7])
    rates = class_rates(class_spike_sums(counts, labels), np.bincount(labels, minlength=10))
    assert assign_classes(rates).tolist() == [7]


def test_assign_classes_ties_and_silent_neurons():
    rates = rates_of(
        [
            {3: 2.0, 5: 1.0},  # clear winner 3
            {2: 1.5, 6: 1.5},  # tie -> lowest class index
            {},  # never fired -> unassigned
            {0: 0.5, 9: 0.5, 4: 0.5},  # three-way tie -> 0
            {9: 0.1},
        ]
    )
    assert assign_classes(rates).tolist() == [3, 2, UNASSIGNED, 0, 9]
    assert UNASSIGNED == -1


# --- 'all' voting -------------------------------------------------------------


def test_predict_all_mean_of_assigned_neurons():
    assignments = np.array([0, 0, 1, UNASSIGNED])
    counts = np.array(
        [
            [4, 0, 3, 0],  # class 0 mean 2, class 1 mean 3 -> 1
            [4, 4, 3, 0],  # class 0 mean 4 -> 0
            [0, 0, 0, 99],  # only the unassigned neuron fired: all scores 0 -> tie -> 9
        ]
    )
    assert predict_all(counts, assignments).tolist() == [1, 0, 9]


def test_predict_all_ties_go_to_highest_class():
    assignments = np.array([2, 5, 7])
    counts = np.array(
        [
            [3, 3, 1],  # 2 and 5 tie -> 5
            [2, 2, 2],  # three-way tie -> 7
            [4, 1, 1],
        ]
    )
    assert predict_all(counts, assignments).tolist() == [5, 7, 2]


def test_predict_all_classes_without_neurons_score_zero():
    # every neuron assigned to 3; silent example -> all ten scores 0 -> 9;
    # any spike -> 3 beats the empty classes
    assignments = np.array([3, 3])
    counts = np.array([[0, 0], [0, 1]])
    assert predict_all(counts, assignments).tolist() == [9, 3]


# --- 'proportion' voting ----------------------------------------------------------


def test_predict_proportion_differs_from_all():
    # neuron 0 (class 0) responds almost as much to 1s; neuron 1 (class 1) only to 1s
    rates = rates_of([{0: 1.0, 1: 0.9}, {1: 1.0}])
    assignments = assign_classes(rates)
    assert assignments.tolist() == [0, 1]
    counts = np.array([[10, 6]])
    # all: class 0 scores 10, class 1 scores 6
    assert predict_all(counts, assignments).tolist() == [0]
    # proportion: class 0 scores 10 * 1/1.9 = 5.26, class 1 scores 6 * 1 = 6
    assert predict_proportion(counts, assignments, rates).tolist() == [1]


def test_predict_proportion_scores():
    rates = rates_of([{4: 3.0, 8: 1.0}, {4: 2.0}, {8: 1.0}])
    assignments = assign_classes(rates)
    assert assignments.tolist() == [4, 4, 8]
    # class 4: (8 * 0.75 + 2 * 1.0) / 2 = 4; class 8: 5 * 1.0 / 1 = 5
    assert predict_proportion(np.array([[8, 2, 5]]), assignments, rates).tolist() == [8]
    # class 4: (8 * 0.75 + 2) / 2 = 4; class 8: 3 -> 4
    assert predict_proportion(np.array([[8, 2, 3]]), assignments, rates).tolist() == [4]


def test_predict_proportion_tie_and_silent():
    rates = rates_of([{1: 1.0}, {6: 1.0}, {}])
    assignments = assign_classes(rates)
    counts = np.array([[2, 2, 0], [0, 0, 0], [0, 0, 7]])
    assert predict_proportion(counts, assignments, rates).tolist() == [6, 9, 9]


def test_predictions_integer_class_indices():
    rates = rates_of([{1: 1.0}, {6: 1.0}])
    assignments = assign_classes(rates)
    counts = np.random.default_rng(0).integers(0, 5, (20, 2))
    for pred in (predict_all(counts, assignments), predict_proportion(counts, assignments, rates)):
        assert pred.shape == (20,) and np.issubdtype(pred.dtype, np.integer)
        assert set(pred.tolist()) <= set(range(10))


# --- confusion / accuracy -----------------------------------------------------


def test_confusion_matrix_rows_are_true_class():
    labels = np.array([1, 1, 1, 2, 9])
    preds = np.array([1, 7, 7, 2, 0])
    m = confusion_matrix(labels, preds)
    assert m.shape == (10, 10) and m.dtype == np.int64
    assert m[1, 1] == 1 and m[1, 7] == 2 and m[2, 2] == 1 and m[9, 0] == 1
    assert m[7, 1] == 0 and m[0, 9] == 0
    assert m.sum() == 5
    np.testing.assert_array_equal(m.sum(axis=1), np.bincount(labels, minlength=10))
    np.testing.assert_array_equal(m.sum(axis=0), np.bincount(preds, minlength=10))
    assert np.trace(m) == 2


def test_confusion_matrix_accepts_uint8_labels():
    m = confusion_matrix(np.array([3, 3], np.uint8), np.array([3, 4], np.int64))
    assert m[3, 3] == 1 and m[3, 4] == 1


def test_accuracy():
    assert accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == pytest.approx(0.75)
    assert accuracy(np.array([5]), np.array([5])) == 1.0
    assert accuracy(np.array([], np.int64), np.array([], np.int64)) == 0.0
    assert isinstance(accuracy(np.array([1]), np.array([2])), float)
    labels = np.array([1, 1, 1, 2, 9])
    preds = np.array([1, 7, 7, 2, 0])
    assert accuracy(labels, preds) == np.trace(confusion_matrix(labels, preds)) / len(labels)


def test_ten_classes_even_when_the_labels_show_fewer():
    """Every table has the ten digit classes, whichever labels were shown: a class never
    shown has a column of zeros, and neurons assigned to it still vote for it."""
    counts = np.array([[4, 0], [0, 3]])
    labels = np.array([0, 2])  # classes 1 and 3-9 never shown
    assert readout.N_CLASSES == 10
    sums = class_spike_sums(counts, labels)
    assert sums.shape == (2, 10) and not sums[:, 3:].any()
    rates = class_rates(sums, np.bincount(labels, minlength=10))
    assert rates.shape == (2, 10)
    assignments = np.array([9, 2])  # as if neuron 0 had been labelled by another run
    assert readout.scores_all(counts, assignments).shape == (2, 10)
    assert readout.scores_proportion(counts, assignments, rates).shape == (2, 10)
    np.testing.assert_array_equal(predict_all(counts, assignments), [9, 2])
    matrix = confusion_matrix(labels, predict_all(counts, assignments))
    assert matrix.shape == (10, 10) and matrix[0, 9] == 1 and matrix[2, 2] == 1
