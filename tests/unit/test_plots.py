"""Tests for the figures: every plot function writes a PNG from small synthetic arrays
(the commands that draw them: integration/test_plot_and_info_commands.py). No pixel
comparisons: what the figures show was checked by eye on a real run."""

import dataclasses

import numpy as np
import pytest
from helpers.images import assert_png

from stdp_mnist import plots
from stdp_mnist.records import MetricsLine


def test_grid_shape():
    assert plots.grid_shape(1) == (1, 1)
    assert plots.grid_shape(7) == (3, 3)
    assert plots.grid_shape(10) == (3, 4)
    assert plots.grid_shape(100) == (10, 10)
    assert plots.grid_shape(6400) == (80, 80)
    for n in (1, 2, 5, 99, 401, 1600):
        rows, cols = plots.grid_shape(n)
        assert rows * cols >= n and (rows - 1) * cols < n and abs(rows - cols) <= 1


def test_receptive_field_mosaic_places_each_neuron():
    weights = np.repeat(np.arange(1.0, 6.0)[None, :], 784, axis=0)  # neuron j: all weights j + 1
    weights[0, 4] = 0.5  # neuron 4's top-left pixel
    mosaic = plots.receptive_field_mosaic(weights)
    assert mosaic.shape == (2 * 29 + 1, 3 * 29 + 1)  # 5 neurons on a 2 x 3 grid, 1-pixel separators
    for j in range(5):
        r, c = divmod(j, 3)
        tile = mosaic[1 + 29 * r : 1 + 29 * r + 28, 1 + 29 * c : 1 + 29 * c + 28]
        expected = np.full((28, 28), j + 1.0)
        if j == 4:
            expected[0, 0] = 0.5
        np.testing.assert_array_equal(tile, expected)
    assert np.isnan(mosaic[0]).all() and np.isnan(mosaic[:, 29]).all()  # separators
    assert np.isnan(mosaic[30:58, 59:87]).all()  # the unused sixth cell


@pytest.mark.parametrize("n", [1, 7, 100])
def test_plot_receptive_fields(tmp_path, n):
    weights = np.random.default_rng(n).random((784, n)).astype(np.float32)
    width, height = assert_png(plots.plot_receptive_fields(weights, tmp_path / "sub" / "rf.png"))
    mosaic = plots.receptive_field_mosaic(weights)
    assert width >= mosaic.shape[1] and height >= mosaic.shape[0]  # at least a screen pixel per weight


@pytest.mark.slow
def test_plot_receptive_fields_6400_is_large(tmp_path):
    weights = np.random.default_rng(0).random((784, 6400)).astype(np.float32)
    width, height = assert_png(plots.plot_receptive_fields(weights, tmp_path / "rf.png"))
    assert width >= 80 * 29 + 1 and height >= 80 * 29 + 1


def test_plot_assignments(tmp_path):
    assignments = np.array([3, 1, -1, 9, 0, 0, 7, -1, 2, 5, 5, 4])
    assert_png(plots.plot_assignments(assignments, tmp_path / "a.png"))
    assert_png(plots.plot_assignments(np.full(3, -1), tmp_path / "none.png"))


def test_plot_theta(tmp_path):
    assert_png(plots.plot_theta(np.random.default_rng(0).normal(30, 2, 23), tmp_path / "theta.png"))
    assert_png(plots.plot_theta(np.array([20.0]), tmp_path / "one.png"))
    assert_png(plots.plot_theta(np.array([5.0, 6.5, 14.0, 16.0]), tmp_path / "low.png", self_firing_mv=7.0))


def test_plot_confusion(tmp_path):
    matrix = np.random.default_rng(0).integers(0, 50, (10, 10))
    matrix[3] = 0  # a class with no test images
    assert_png(plots.plot_confusion(matrix, tmp_path / "c.png", title="Confusion"))
    assert_png(plots.plot_confusion(np.zeros((10, 10), int), tmp_path / "empty.png"))


def test_plot_learning_curve(tmp_path):
    records = [
        MetricsLine(
            examples_seen=100 * (k + 1),
            wall_s=k,
            spikes_per_example=12 - k,
            boosts=k,
            mean_theta_mv=20 + k,
            running_accuracy=None if k == 0 else 0.1 * k,
        )
        for k in range(6)
    ]
    assert_png(plots.plot_learning_curve(records, tmp_path / "lc.png", test_accuracy={"all": 0.7}))
    old = [dataclasses.replace(r, running_accuracy=None) for r in records]
    assert_png(plots.plot_learning_curve(old, tmp_path / "old.png"))  # runs from before the running accuracy
    assert_png(plots.plot_learning_curve(records[:1], tmp_path / "one.png"))


def test_plot_example(tmp_path):
    gen = np.random.default_rng(0)
    steps, n = 60, 9
    in_steps = np.sort(gen.integers(0, steps, 300))
    v = gen.normal(-60, 3, (steps, 2))
    assert_png(
        plots.plot_example(
            tmp_path / "ex.png",
            image=gen.integers(0, 256, 784).astype(np.uint8),
            dt_ms=0.5,
            input_spikes=(in_steps, gen.integers(0, 784, 300)),
            exc_spikes=(np.array([10, 30, 31]), np.array([4, 4, 7])),
            n_excitatory=n,
            v=v,
            threshold=np.full((steps, 2), -52.0),
            neurons=[4, 7],
            counts=np.bincount([4, 4, 7], minlength=n),
            scores=gen.random(10),
            label=3,
            predicted=3,
            assignments=np.arange(n) % 10,
        )
    )
    assert_png(
        plots.plot_example(  # nothing fired, no assignment known
            tmp_path / "quiet.png",
            image=np.zeros(784, np.uint8),
            dt_ms=0.5,
            input_spikes=(np.zeros(0), np.zeros(0)),
            exc_spikes=(np.zeros(0, int), np.zeros(0, int)),
            n_excitatory=n,
            v=v[:, :1],
            threshold=np.full((steps, 1), -52.0),
            neurons=[0],
        )
    )


def test_pass_curve_draws_unevaluated_passes_as_gaps(tmp_path):
    assert_png(
        plots.plot_pass_curve(
            [1, 2, 3],
            {"all": [0.9, float("nan"), 0.93], "linear": [0.95, 0.96, 0.97]},
            [70.0, 110.0, 120.0],
            [61.0, 64.0, 66.0],
            tmp_path / "passes.png",
            paper=0.95,
        )
    )
    assert_png(plots.plot_pass_curve([1], {"all": [float("nan")]}, [50.0], [40.0], tmp_path / "one.png"))
