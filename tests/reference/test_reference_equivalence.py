"""The compiled kernel against the plain numpy reference (reference_numpy.py, beside this file).

A 10-neuron network with all 784 inputs, random delays and synthetic digit-like images
(no MNIST needed) is run through both implementations from identical copies of the
state, example after example (presentation + simulated rest, or exact reset). Spike
counts must be identical, weights equal to float32 rounding, everything else close.
"""

import numpy as np
import pytest
import reference_numpy

from stdp_mnist import kernel, network
from stdp_mnist.config import Config

N = 10
N_EXAMPLES = 3


def digit_like_images(k, seed=0):
    """k synthetic 28x28 uint8 images: a few thick random strokes on black, like digits."""
    gen = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    images = np.zeros((k, 28, 28), np.float64)
    for m in range(k):
        for _ in range(3):
            (y0, x0), (y1, x1) = gen.uniform(5, 23, (2, 2))
            # distance of every pixel to the segment (y0,x0)-(y1,x1)
            dy, dx = y1 - y0, x1 - x0
            tt = np.clip(((yy - y0) * dy + (xx - x0) * dx) / max(dy * dy + dx * dx, 1e-9), 0, 1)
            dist = np.hypot(yy - (y0 + tt * dy), xx - (x0 + tt * dx))
            images[m] = np.maximum(images[m], np.clip(2.0 - dist, 0, 1))
    return np.round(images * 255).astype(np.uint8).reshape(k, 784)


def copies(synapses, state):
    """Independent copies of the weights and the state (delays are only read)."""
    return (
        synapses._replace(weights=synapses.weights.copy()),
        kernel.State(*(np.array(a, copy=True) for a in state)),
    )


def run_both(cfg, learn, n_examples=N_EXAMPLES, seed=1):
    """Run both implementations example by example; returns the spike totals and the
    final weights."""
    p = network.kernel_params(cfg)
    net = network.new_network(cfg)
    syn_k, state_k = copies(*net.kernel_state(cfg))
    syn_r, state_r = copies(syn_k, state_k)
    images = digit_like_images(n_examples, seed)
    rng = np.array([network.random_seed(seed, 99)], np.uint64)
    totals = []
    for m in range(n_examples):
        if learn:
            kernel.normalise(p, syn_k.weights)
            reference_numpy.normalise(p, syn_r.weights)
        rates = images[m].astype(np.float64) * (p.rate_per_pixel_hz * p.intensity)
        ptr, idx = kernel.poisson_spike_train(rates, p.spike_prob_per_hz, p.n_present, rng)
        w0 = syn_k.weights.copy()
        counts_k = np.zeros(N, np.int64)
        counts_r = np.zeros(N, np.int64)
        total_k = kernel.simulate(p, ptr, idx, learn, syn_k, state_k, counts_k)
        total_r = reference_numpy.simulate(p, ptr, idx, learn, syn_r, state_r, counts_r)
        np.testing.assert_array_equal(counts_k, counts_r, err_msg=f"example {m}: spike counts")
        assert total_k == total_r == counts_k.sum()
        wk, wr = syn_k.weights, syn_r.weights
        assert wk.dtype == wr.dtype == np.float32
        np.testing.assert_allclose(wk, wr, rtol=1e-6, atol=1e-7, err_msg=f"example {m}: weights")
        np.testing.assert_allclose(state_k.theta, state_r.theta, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            state_k.exc, state_r.exc, rtol=1e-9, atol=1e-9, err_msg=f"example {m}: exc state"
        )
        np.testing.assert_allclose(
            state_k.inh, state_r.inh, rtol=1e-9, atol=1e-9, err_msg=f"example {m}: inh state"
        )
        np.testing.assert_array_equal(state_k.since, state_r.since)
        assert state_k.pending.dtype == state_r.pending.dtype == np.float32
        np.testing.assert_allclose(state_k.pending, state_r.pending, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(state_k.x_pre_hist, state_r.x_pre_hist, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(state_k.clock, state_r.clock)
        np.testing.assert_array_equal(state_k.wins, state_r.wins)
        if learn:
            assert not np.array_equal(wk, w0), "learning changed no weight"
        else:
            np.testing.assert_array_equal(wk, w0)
        totals.append(total_k)
    return totals, syn_k.weights


BASE = {"network": {"n_excitatory": N}}


@pytest.mark.parametrize("learn", [True, False], ids=["learn", "frozen"])
@pytest.mark.parametrize("timing", ["arrival", "emission"])
def test_kernel_matches_reference(learn, timing):
    cfg = Config().replace(**BASE, stdp={"timing": timing})
    totals, _ = run_both(cfg, learn)
    assert sum(totals) > 0


def test_arrival_and_emission_timing_differ():
    # the two STDP timings give different weights (so both code paths are exercised)
    w = [
        run_both(Config().replace(**BASE, stdp={"timing": timing}), True, n_examples=1)[1]
        for timing in ("arrival", "emission")
    ]
    assert not np.array_equal(w[0], w[1])


@pytest.mark.parametrize(
    "variant",
    [
        {"stdp": {"rule": "pair"}},
        {"simulation": {"rest": "reset"}},
        {"simulation": {"integrator": "euler"}},
        {"simulation": {"integrator": "exact-mean"}},
        {"stdp": {"timing": "brian1-dense"}},
        {"excitatory": {"spike_block_ms": 50.0}},
        {"network": {"n_excitatory": N, "max_delay_ms": 0.0}},
        {"input": {"intensity": 6.0}},
        {"network": {"n_excitatory": N, "w_inh_to_exc": 600.0}},
        {"stdp": {"rule": "paper"}},
        {"stdp": {"rule": "paper", "x_tar": 0.1, "mu": 1.0, "timing": "emission"}},
        {"stdp": {"traces": "increment"}},
        {"stdp": {"rule": "paper", "traces": "increment"}},
        {"network": {"n_excitatory": N, "inhibition": "direct"}},
        {"stdp": {"rule": "instar"}},
        {"stdp": {"rule": "instar", "timing": "emission", "nu_post": 0.2}},
        {"stdp": {"rule": "soft-bound", "nu_post": 0.1}},
        {"excitatory": {"theta_target_spikes": 20.0, "theta_init_mv": 0.5}},
        {"excitatory": {"theta_target_spikes": 5.0}, "simulation": {"rest": "reset"}},
        {"network": {"n_excitatory": N, "inhibition_distance": 2.0}},
        {"network": {"n_excitatory": N, "inhibition_distance": 1.5, "inhibition": "direct"}},
        {"stdp": {"rate_decay_spikes": 2.0}},
        {"stdp": {"rate_decay_spikes": 1.0, "timing": "emission", "traces": "increment"}},
        {"stdp": {"rule": "instar", "rate_decay_spikes": 1.0}},
        {
            "network": {"n_excitatory": N, "inhibition": "direct", "w_direct_inhibition": 3.0},
            "simulation": {"rest": "reset"},
        },
        {"network": {"n_excitatory": N, "weight_l2": 5.0}},
        {"network": {"n_excitatory": N, "weight_l2": 3.0}, "stdp": {"rule": "instar"}},
    ],
    ids=[
        "pair",
        "exact-reset",
        "euler",
        "exact-mean",
        "brian1-dense",
        "block50",
        "no-delays",
        "high-rate",
        "strong-inhibition",
        "paper",
        "paper-emission-mu1",
        "increment-traces",
        "paper-increment",
        "direct-inhibition",
        "instar",
        "instar-emission-fast",
        "soft-bound",
        "homeostasis-floor",
        "homeostasis-reset",
        "distance-inhibition",
        "distance-inhibition-direct",
        "rate-schedule",
        "rate-schedule-emission-increment",
        "rate-schedule-instar",
        "weak-direct-inhibition-reset",
        "l2-norm",
        "l2-norm-instar",
    ],
)
def test_kernel_matches_reference_variants(variant):
    cfg = Config().replace(**{**BASE, **variant})
    totals, _ = run_both(cfg, learn=True, n_examples=2)
    assert sum(totals) > 0
