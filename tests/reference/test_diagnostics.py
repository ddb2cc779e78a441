"""The slow detail path (one image step by step through kernel.simulate) records the
very presentation the fast frozen kernel classifies: same spikes, same boosts."""

import numpy as np
import pytest
from helpers.runs import blob_labels

from stdp_mnist import diagnostics, kernel, readout
from stdp_mnist.network import kernel_params
from stdp_mnist.predict import classify, predict_seed


def frozen_single(cfg, net, image, seed):
    """kernel.frozen_responses on a block of one image."""
    counts = np.zeros((1, net.n_excitatory), np.int32)
    retries = np.zeros(1, np.int64)
    kernel.frozen_responses(
        kernel_params(cfg, frozen=True),
        image[None].copy(),
        1,
        np.array([seed], np.uint64),
        net.weights,
        net.theta,
        net.delays,
        counts,
        retries,
    )
    return counts[0], int(retries[0])


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"input": {"min_spikes": 40, "max_retries": 2}},
        {"simulation": {"rest": "reset"}},
        {"evaluation": {"boost": False}, "input": {"intensity": 8.0}},
    ],
    ids=["reference", "boosted", "exact-reset", "no-boost"],
)
def test_trace_matches_the_frozen_kernel(tiny_trained, variant):
    cfg, _, net, images = tiny_trained
    cfg = cfg.replace(**variant)
    total = 0
    for k, seed in ((0, 1), (3, 2), (7, 12345)):
        counts, retries = frozen_single(cfg, net, images[k], seed)
        trace = diagnostics.trace_example(cfg, net, images[k], seed)
        np.testing.assert_array_equal(trace.counts, counts)
        assert trace.retries == retries
        total += counts.sum()
        if variant.get("input", {}).get("min_spikes"):
            assert retries == 2  # min_spikes out of reach: every boost used
    assert total > 0


def test_trace_records_every_step(tiny_trained):
    cfg, _, net, images = tiny_trained
    before = (net.weights.copy(), net.theta.copy())
    trace = diagnostics.trace_example(cfg, net, images[0], 7)
    np.testing.assert_array_equal(net.weights, before[0])  # frozen
    np.testing.assert_array_equal(net.theta, before[1])
    p = kernel_params(cfg, frozen=True)
    steps, n = p.n_present, net.n_excitatory
    assert trace.v.shape == trace.threshold.shape == (steps, n)
    np.testing.assert_allclose(
        trace.threshold, np.broadcast_to(p.v_thresh_e + net.theta, (steps, n)), rtol=1e-6
    )
    np.testing.assert_array_equal(np.bincount(trace.spike_neurons, minlength=n), trace.counts)
    assert trace.counts.sum() > 0
    # a neuron that fired was reset at that step
    np.testing.assert_allclose(trace.v[trace.spike_steps, trace.spike_neurons], p.v_reset_e)
    in_steps, in_ids = trace.input_spikes()
    assert len(in_steps) == len(in_ids) == trace.input_ptr[-1] > 0
    assert in_steps.max() < steps and in_ids.max() < 784
    lit = np.flatnonzero(images[0])
    assert np.isin(in_ids, lit).all()  # only lit pixels spike
    assert trace.times_ms[-1] == pytest.approx(cfg.simulation.present_ms)
    winners = trace.winners(3)
    assert trace.counts[winners[0]] == trace.counts.max() and len(set(winners.tolist())) == 3


def test_predict_classifies_the_traced_presentation(tiny_trained):
    cfg, _, net, images = tiny_trained
    counts, _ = frozen_single(cfg, net, images[:1][0], predict_seed(cfg))
    rates = readout.class_rates(readout.class_spike_sums(counts[None], blob_labels(1)), np.ones(10))
    assignments = readout.assign_classes(rates)
    [prediction] = classify(cfg, net, assignments, rates, images[:1])
    trace = diagnostics.trace_example(cfg, net, images[0], predict_seed(cfg))
    np.testing.assert_array_equal(prediction.counts, trace.counts)
    assert prediction.label_all == int(readout.predict_all(trace.counts[None], assignments)[0])
