"""The mechanism figures' measurements (stdp_mnist.mechanisms), each held to what it
shows: the STDP window to the rule's formula, the encoding to intensity x pixel / 8 Hz,
the neuron trace's spikes to its threshold crossings, the prototype animation to the
snapshots."""

import numpy as np
import pytest
from PIL import Image

from stdp_mnist import mechanism_plots, mechanisms
from stdp_mnist.config import Config


@pytest.mark.parametrize("rule", ["reference", "pair", "paper"])
def test_measured_stdp_window_is_the_formula_at_every_interval(rule):
    cfg = Config().replace(stdp={"rule": rule})
    window = mechanisms.stdp_window(cfg, max_interval_ms=40.0)
    assert len(window.intervals_ms) == 161 and window.intervals_ms[0] == -40.0
    # each measured change is one float32 rounding of w0 + dw away from the formula
    np.testing.assert_allclose(window.measured, window.formula, rtol=0, atol=np.spacing(np.float32(0.6)))
    if rule != "paper":  # both sides of the window are there, of the signs the rule gives
        assert (window.measured[window.intervals_ms < 0] < 0).all()
        assert (window.measured[window.intervals_ms >= 0] > 0).all()
        assert window.measured[window.intervals_ms == 0][0] == pytest.approx(cfg.stdp.nu_post, rel=1e-5)


def test_measured_encoding_rate_is_intensity_times_pixel_over_8():
    cfg = Config()
    image = (np.arange(784) % 256).astype(np.uint8)
    enc = mechanisms.encoding(cfg, image, repeats=100)
    np.testing.assert_allclose(enc.expected_hz, cfg.input.intensity * image / 8.0)
    seconds = enc.repeats * enc.present_ms / 1000.0
    for value in (0, 32, 64, 128, 200, 255):
        pixels = image == value
        rate = enc.counts[pixels].sum() / (pixels.sum() * seconds)
        expected = cfg.input.intensity * value / 8.0
        poisson_sd = np.sqrt(expected / (pixels.sum() * seconds))
        assert abs(rate - expected) <= 4 * poisson_sd + 1e-12, (value, rate, expected)
    assert len(enc.raster_inputs) > 0 and 0 <= enc.raster_steps.min() <= enc.raster_steps.max() < 700


def test_neuron_trace_crosses_threshold_exactly_where_the_kernel_fired():
    trace = mechanisms.neuron_trace(Config())
    assert len(trace.spike_steps) >= 2
    np.testing.assert_array_equal(trace.crossings, trace.spike_steps)
    quiet = np.setdiff1d(np.arange(len(trace.v)), trace.spike_steps)
    np.testing.assert_array_equal(trace.free_v[quiet], trace.v[quiet])  # the copy is the same step
    assert (trace.v[trace.spike_steps] == trace.v_reset).all()
    refractory_steps = int(trace.refractory_ms / trace.dt_ms)
    for step in trace.spike_steps:  # held at reset while refractory
        assert (trace.v[step : step + refractory_steps] == trace.v_reset).all()
    theta_jumps = np.flatnonzero(np.diff(trace.theta) > 0) + 1
    np.testing.assert_array_equal(theta_jumps, trace.spike_steps)
    assert len(trace.rival_steps) == len(mechanisms.RIVAL_TIMES_MS)
    assert (trace.g_i[trace.rival_steps + 1] > 0).all() and trace.g_i[: trace.rival_steps[0]].max() == 0


def test_prototype_animation_has_one_frame_per_snapshot(tmp_path):
    gen = np.random.default_rng(0)
    snapshots = [(k * 50, gen.random((784, 9)).astype(np.float32)) for k in range(5)]
    gif = mechanism_plots.write_prototype_gif(snapshots, tmp_path / "p.gif")
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames == len(snapshots)
    strip = mechanism_plots.plot_prototype_strip(snapshots, tmp_path / "p.png")
    with Image.open(strip) as image:
        assert image.format == "PNG"
    np.testing.assert_array_equal(mechanism_plots.strip_columns(20), [0, 3, 5, 8, 11, 14, 16, 19])


@pytest.fixture
def drawn(monkeypatch):
    """The matplotlib figures the mechanism plots draw, kept instead of (and as well as) written."""
    figures = []
    save = mechanism_plots._save

    def keep(fig, path):
        figures.append(fig)
        return save(fig, path)

    monkeypatch.setattr(mechanism_plots, "_save", keep)
    return figures


def by_gid(ax, gid: str) -> list:
    """The lines of an axes drawn with this gid."""
    return [line for line in ax.get_lines() if line.get_gid() == gid]


def lines_labelled(ax) -> dict:
    return {line.get_label(): line for line in ax.get_lines()}


def test_stdp_window_figure_shows_the_measured_changes_and_the_formula(drawn, tmp_path):
    window = mechanisms.stdp_window(Config(), max_interval_ms=10.0)
    mechanism_plots.plot_stdp_window(window, tmp_path / "w.png")
    whole, negative_side = drawn[0].axes
    (dots,) = by_gid(whole, "measured")
    np.testing.assert_array_equal(dots.get_xdata(), window.intervals_ms)
    np.testing.assert_array_equal(dots.get_ydata(), window.measured)
    formula = by_gid(whole, "formula")
    np.testing.assert_array_equal(np.concatenate([line.get_xdata() for line in formula]), window.intervals_ms)
    np.testing.assert_array_equal(np.concatenate([line.get_ydata() for line in formula]), window.formula)
    assert whole.get_xlabel() == "t_post − t_pre (ms)" and "largest |measured − formula|" in whole.get_title()
    (negative_dots,) = by_gid(negative_side, "measured")
    assert len(negative_dots.get_xdata()) == 20 and (negative_dots.get_xdata() < 0).all()


def test_neuron_figure_marks_each_spike_at_its_crossing(drawn, tmp_path):
    trace = mechanisms.neuron_trace(Config())
    mechanism_plots.plot_neuron_trace(trace, tmp_path / "n.png")
    inputs, membrane, conductances, theta = drawn[0].axes
    lines = lines_labelled(membrane)
    np.testing.assert_array_equal(lines["v"].get_ydata(), trace.v)
    np.testing.assert_array_equal(lines["threshold v_thresh + θ"].get_ydata(), trace.threshold)
    marked = [line for line in membrane.get_lines() if line.get_marker() == "^"]
    assert [float(m.get_ydata()[0]) for m in marked] == trace.free_v[trace.spike_steps].tolist()
    assert all(m.get_ydata()[0] > trace.threshold[s] for m, s in zip(marked, trace.spike_steps, strict=True))
    assert f"{len(trace.spike_steps)} spikes" in membrane.get_title()
    assert {"g_e (excitatory)", "g_i (inhibitory)"} <= set(lines_labelled(conductances))
    np.testing.assert_array_equal(theta.get_lines()[0].get_ydata(), trace.theta)


def test_encoding_figure_plots_each_pixel_rate_against_its_value(drawn, tmp_path):
    image = (np.arange(784) % 256).astype(np.uint8)
    enc = mechanisms.encoding(Config(), image, repeats=5)
    mechanism_plots.plot_encoding(enc, tmp_path / "e.png")
    rates = drawn[0].axes[2]
    measured = rates.get_lines()[0]
    np.testing.assert_array_equal(measured.get_xdata(), image)
    np.testing.assert_array_equal(measured.get_ydata(), enc.measured_hz)
    np.testing.assert_allclose(rates.get_lines()[1].get_ydata(), [0.0, 255 * 2 / 8])


def test_prototype_strip_columns_are_the_snapshots(drawn, tmp_path):
    snapshots = [(k * 10, np.full((784, 3), k, np.float32)) for k in range(12)]
    snapshots[-1][1][:, 1] = 50.0  # neuron 1 moved most
    mechanism_plots.plot_prototype_strip(snapshots, tmp_path / "s.png")
    axes = drawn[0].axes
    titles = [ax.get_title() for ax in axes if ax.get_title()]
    assert titles == [f"{snapshots[k][0]:,}" for k in mechanism_plots.strip_columns(12)]
    assert [ax.get_ylabel() for ax in axes if ax.get_ylabel()] == ["neuron 0", "neuron 1", "neuron 2"]
