"""Tests for the figures: every plot function draws from small synthetic arrays, and
each test checks what its Figure shows (titles, axis labels, the data drawn and their
ranges) through the matplotlib objects the conftest's ``drawn`` fixture keeps, beside
the PNG written (the commands that draw them: integration/test_plot_and_info_commands.py)."""

import dataclasses

import numpy as np
import pytest
from helpers.images import assert_png

from stdp_mnist import plots
from stdp_mnist.records import MetricsLine


def texts(fig) -> list[str]:
    """Every title of the figure: its suptitle, then each axes' title."""
    return [fig._suptitle.get_text() if fig._suptitle else "", *(ax.get_title() for ax in fig.axes)]


def line_data(ax) -> list[tuple[list, list]]:
    """(x, y) of every line drawn on ``ax``, as lists of floats."""
    return [
        (np.asarray(line.get_xdata(), float).tolist(), np.asarray(line.get_ydata(), float).tolist())
        for line in ax.get_lines()
    ]


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
def test_plot_receptive_fields(tmp_path, drawn, n):
    weights = np.random.default_rng(n).random((784, n)).astype(np.float32)
    width, height = assert_png(plots.plot_receptive_fields(weights, tmp_path / "sub" / "rf.png"))
    mosaic = plots.receptive_field_mosaic(weights)
    assert width >= mosaic.shape[1] and height >= mosaic.shape[0]  # at least a screen pixel per weight
    (fig,) = drawn
    grid, colorbar = fig.axes
    (image,) = grid.get_images()
    np.testing.assert_array_equal(image.get_array().filled(np.nan), mosaic)  # the weights, placed
    assert image.get_clim() == (0.0, pytest.approx(weights.max()))  # one scale from 0 to the largest
    assert colorbar.get_ylabel() == "input weight (shared scale)"
    rows, cols = plots.grid_shape(n)
    assert fig._suptitle.get_text().startswith(
        f"Receptive fields: input weights of {n} excitatory neurons ({rows} x {cols} grid"
    )


@pytest.mark.slow
def test_plot_receptive_fields_6400_is_large(tmp_path):
    weights = np.random.default_rng(0).random((784, 6400)).astype(np.float32)
    width, height = assert_png(plots.plot_receptive_fields(weights, tmp_path / "rf.png"))
    assert width >= 80 * 29 + 1 and height >= 80 * 29 + 1


def test_plot_assignments(tmp_path, drawn):
    assignments = np.array([3, 1, -1, 9, 0, 0, 7, -1, 2, 5, 5, 4])
    assert_png(plots.plot_assignments(assignments, tmp_path / "a.png"))
    assert_png(plots.plot_assignments(np.full(3, -1), tmp_path / "none.png"))
    grid, bars = drawn[0].axes
    assert drawn[0]._suptitle.get_text() == "Neuron assignments (12 excitatory neurons)"
    assert [t.get_text() for t in grid.texts] == ["3", "1", "-", "9", "0", "0", "7", "-", "2", "5", "5", "4"]
    assert [bar.get_height() for bar in bars.patches] == [2, 1, 1, 1, 1, 2, 0, 1, 0, 1]  # classes 0-9
    assert (bars.get_xlabel(), bars.get_ylabel()) == ("class", "neurons")
    assert bars.get_title() == "neurons per class (2 unassigned)"
    _, no_bars = drawn[1].axes
    assert [bar.get_height() for bar in no_bars.patches] == [0] * 10
    assert no_bars.get_title() == "neurons per class (3 unassigned)"


def test_plot_theta(tmp_path, drawn):
    theta = np.random.default_rng(0).normal(30, 2, 23)
    assert_png(plots.plot_theta(theta, tmp_path / "theta.png"))
    assert_png(plots.plot_theta(np.array([20.0]), tmp_path / "one.png"))
    assert_png(plots.plot_theta(np.array([5.0, 6.5, 14.0, 16.0]), tmp_path / "low.png", self_firing_mv=7.0))
    hist, grid = drawn[0].axes[:2]
    assert drawn[0]._suptitle.get_text() == "Adaptive threshold theta of 23 excitatory neurons"
    assert sum(bar.get_height() for bar in hist.patches) == 23  # every neuron in the histogram
    left = min(bar.get_x() for bar in hist.patches)
    right = max(bar.get_x() + bar.get_width() for bar in hist.patches)
    assert left == pytest.approx(theta.min()) and right == pytest.approx(theta.max())
    assert (hist.get_xlabel(), hist.get_ylabel()) == ("theta (mV)", "neurons")
    assert hist.get_title() == f"distribution (min {theta.min():.2f}, max {theta.max():.2f} mV)"
    (image,) = grid.get_images()
    np.testing.assert_allclose(np.ma.filled(image.get_array(), np.nan).ravel()[:23], theta)
    low = drawn[2].axes[0]
    assert any("7" in text for text in [t.get_text() for t in low.texts] + low.get_legend_handles_labels()[1])


def test_plot_confusion(tmp_path, drawn):
    matrix = np.random.default_rng(0).integers(0, 50, (10, 10))
    matrix[3] = 0  # a class with no test images
    assert_png(plots.plot_confusion(matrix, tmp_path / "c.png", title="Confusion"))
    assert_png(plots.plot_confusion(np.zeros((10, 10), int), tmp_path / "empty.png"))
    counts, shares = drawn[0].axes[0], drawn[0].axes[2]  # each panel has its colour bar after it
    accuracy = np.trace(matrix) / matrix.sum()
    assert drawn[0]._suptitle.get_text() == f"Confusion: accuracy {accuracy:.4f} ({matrix.sum()} test images)"
    assert (counts.get_title(), shares.get_title()) == ("counts", "row-normalised (% of each true class)")
    assert (counts.get_xlabel(), counts.get_ylabel()) == ("predicted class", "true class")
    np.testing.assert_array_equal(counts.get_images()[0].get_array(), matrix)
    share = shares.get_images()[0].get_array()
    np.testing.assert_allclose(share.sum(axis=1)[matrix.sum(axis=1) > 0], 100.0)  # rows in percent
    assert (share[3] == 0).all()  # the class with no images
    assert drawn[1]._suptitle.get_text().startswith("Confusion matrix: accuracy ")


def test_plot_learning_curve(tmp_path, drawn):
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
    accuracy, spikes, theta, boosts = drawn[0].axes
    seen = [100.0 * (k + 1) for k in range(6)]
    assert line_data(accuracy) == [
        (seen[1:], pytest.approx([0.1 * k for k in range(1, 6)])),
        ([600.0], [0.7]),
    ]
    assert accuracy.get_ylim() == (0, 1) and accuracy.get_ylabel() == "accuracy"
    assert accuracy.get_title() == "latest running accuracy 0.500"
    assert accuracy.get_legend_handles_labels()[1][1] == "test accuracy, all voting: 0.700"
    assert line_data(spikes) == [(seen, [12.0 - k for k in range(6)])]
    assert line_data(boosts) == [(seen, [k / 100 for k in range(6)])]  # per example of its 100-example window
    assert line_data(theta) == [(seen, [20.0 + k for k in range(6)])]
    assert (theta.get_xlabel(), theta.get_ylabel()) == ("training examples seen", "mean theta (mV)")
    assert drawn[0]._suptitle.get_text() == "Learning curve (one point per metrics window)"
    assert "no running accuracy recorded" in drawn[1].axes[0].texts[0].get_text()


def test_plot_example(tmp_path, drawn):
    gen = np.random.default_rng(0)
    steps, n = 60, 9
    in_steps = np.sort(gen.integers(0, steps, 300))
    v = gen.normal(-60, 3, (steps, 2))
    image = gen.integers(0, 256, 784).astype(np.uint8)
    assert_png(
        plots.plot_example(
            tmp_path / "ex.png",
            image=image,
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
    fig = drawn[0]
    titles = texts(fig)
    assert titles[0] == "One example in detail (frozen network)"
    assert "input image (label 3)" in titles
    assert any(t.startswith("input spike raster: 300 spikes") for t in titles)
    picture = next(ax for ax in fig.axes if ax.get_title() == "input image (label 3)")
    np.testing.assert_array_equal(picture.get_images()[0].get_array(), image.reshape(28, 28))
    potentials = next(ax for ax in fig.axes if ax.get_ylabel() == "membrane potential (mV)")
    assert potentials.get_xlabel() == "time (ms)"
    (times, v4), (_, threshold4) = line_data(potentials)[:2]  # at the end of each 0.5 ms step
    assert times == pytest.approx((np.arange(steps) + 1) * 0.5) and v4 == pytest.approx(v[:, 0].tolist())
    assert set(threshold4) == {-52.0}
    labels = potentials.get_legend_handles_labels()[1]
    assert labels[0].startswith("neuron 4: v (2 spikes") and labels[2].startswith("neuron 7: v (1 spike")
    assert any(t.startswith("input spike raster: 0 spikes") for t in texts(drawn[1]))


def test_pass_curve_draws_unevaluated_passes_as_gaps(tmp_path, drawn):
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
    accuracy, spikes, speed = drawn[0].axes
    all_, linear, paper = line_data(accuracy)
    assert all_ == ([1.0, 3.0], [0.9, 0.93])  # pass 2 not evaluated: left out, the others joined
    assert linear == ([1.0, 2.0, 3.0], [0.95, 0.96, 0.97]) and paper[1] == [0.95, 0.95]
    assert accuracy.get_legend_handles_labels()[1] == ["all", "linear", "paper 0.950"]
    assert accuracy.get_ylabel() == "test accuracy"
    assert line_data(spikes) == [([1.0, 2.0, 3.0], [70.0, 110.0, 120.0])]
    assert line_data(speed) == [([1.0, 2.0, 3.0], [61.0, 64.0, 66.0])]
    assert (spikes.get_xlabel(), speed.get_ylabel()) == ("pass", "median ms / training example")
    assert drawn[0]._suptitle.get_text() == "Per pass"
    assert line_data(drawn[1].axes[0])[0] == ([], [])  # nothing evaluated: no point
