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
