"""The supervised linear readout (stdp_mnist.linear): known answers on tiny count
matrices, its transforms, and its storage without pickle."""

import numpy as np
import pytest

from stdp_mnist import linear


def separable_counts(per_class: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Counts of 12 neurons for 10 classes: class c makes neuron c fire 3-6 spikes and
    neurons 0-9 otherwise 0-1 (linearly separable); neurons 10 and 11 fire 0-8 spikes
    whatever the class (noise the readout must learn to ignore)."""
    gen = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), per_class)
    counts = gen.integers(0, 2, (len(labels), 12))
    counts[np.arange(len(labels)), labels] = gen.integers(3, 7, len(labels))
    counts[:, 10:] += gen.integers(0, 8, (len(labels), 2))
    return counts.astype(np.uint16), labels


@pytest.mark.parametrize("transform", linear.TRANSFORMS)
def test_separable_counts_are_fit_perfectly(transform):
    counts, labels = separable_counts()
    readout = linear.fit(counts, labels, transform, c=100.0)
    np.testing.assert_array_equal(readout.predict(counts), labels)
    test_counts, test_labels = separable_counts(seed=1)  # new examples of the same classes
    assert (readout.predict(test_counts) == test_labels).mean() >= 0.95


def test_probabilities_are_a_distribution_favouring_the_true_class():
    counts, labels = separable_counts()
    probabilities = linear.fit(counts, labels, "sqrt", c=1.0).probabilities(counts)
    assert probabilities.shape == (len(labels), 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.argmax(axis=1) == labels).all()
    assert probabilities[np.arange(len(labels)), labels].min() > 0.3


def test_stronger_regularisation_shrinks_the_weights():
    counts, labels = separable_counts()
    weak = linear.fit(counts, labels, "counts", c=10.0)
    strong = linear.fit(counts, labels, "counts", c=0.01)
    assert np.abs(strong.coef).sum() < 0.2 * np.abs(weak.coef).sum()


def test_transforms_known_values():
    counts = np.array([[0, 1, 3], [0, 0, 0]], np.uint16)
    np.testing.assert_allclose(linear.transformed(counts, "counts"), [[0, 1, 3], [0, 0, 0]])
    np.testing.assert_allclose(linear.transformed(counts, "sqrt"), [[0, 1, np.sqrt(3)], [0, 0, 0]])
    np.testing.assert_allclose(linear.transformed(counts, "log1p"), [[0, np.log(2), np.log(4)], [0, 0, 0]])
    np.testing.assert_allclose(linear.transformed(counts, "share"), [[0, 0.25, 0.75], [0, 0, 0]])


def test_standardisation_uses_the_training_moments_and_spares_silent_neurons():
    counts = np.array([[0, 2, 5], [0, 4, 5]], np.uint16)
    mean, scale = linear.feature_moments(counts, "counts")
    np.testing.assert_allclose(mean, [0, 3, 5])
    np.testing.assert_allclose(scale, [1, 1, 1])  # std 0 (neurons 0, 2) -> 1; std of (2, 4) = 1
    np.testing.assert_allclose(linear.standardised(counts, "counts", mean, scale), [[0, -1, 0], [0, 1, 0]])


def test_classes_missing_from_the_labels_are_never_predicted():
    counts, labels = separable_counts()
    keep = labels < 3
    readout = linear.fit(counts[keep], labels[keep], "sqrt", c=1.0)
    assert readout.coef.shape == (10, 12)
    assert readout.probabilities(counts)[:, 3:].max() == 0.0
    two = labels < 2  # scikit-learn fits one logit for two classes
    binary = linear.fit(counts[two], labels[two], "sqrt", c=1.0)
    np.testing.assert_array_equal(binary.predict(counts[two]), labels[two])
    with pytest.raises(linear.LinearReadoutError, match="two or more"):
        linear.fit(counts[labels == 4], labels[labels == 4], "sqrt", c=1.0)


def test_save_load_round_trip_without_pickle(tmp_path):
    counts, labels = separable_counts()
    readout = linear.fit(counts, labels, "log1p", c=0.5)
    linear.save(readout, tmp_path / "linear.npz")
    with np.load(tmp_path / "linear.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    loaded = linear.load(tmp_path / "linear.npz", 12)
    np.testing.assert_array_equal(loaded.probabilities(counts), readout.probabilities(counts))
    assert (loaded.transform, loaded.c, loaded.iterations) == ("log1p", 0.5, readout.iterations)


def test_load_refuses_damaged_or_mismatched_readouts(tmp_path):
    counts, labels = separable_counts()
    arrays = linear.to_arrays(linear.fit(counts, labels, "sqrt", c=1.0))
    with pytest.raises(linear.LinearReadoutError, match="shape"):
        linear.from_arrays(arrays, 13, "x.npz")  # another network size
    for name, value, needle in [
        ("coef", np.full((10, 12), np.nan), "non-finite"),
        ("transform", np.array("cube"), "transform"),
        ("scale", np.zeros(12), "out of range"),
        ("intercept", np.zeros(9), "shape"),
    ]:
        with pytest.raises(linear.LinearReadoutError, match=needle):
            linear.from_arrays({**arrays, name: value}, 12, "x.npz")
    with pytest.raises(linear.LinearReadoutError, match="'mean'"):
        linear.from_arrays({k: v for k, v in arrays.items() if k != "mean"}, 12, "x.npz")
    path = tmp_path / "linear.npz"
    linear.save(linear.from_arrays(arrays, 12, "x"), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(linear.LinearReadoutError, match="not a readable"):
        linear.load(path, 12)
