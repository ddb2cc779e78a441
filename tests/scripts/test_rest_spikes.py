"""scripts/experiments/rest_spikes.py: splitting each example into a presentation and
an input-free 'presentation' for the rest changes nothing in the dynamics, so its
counts equal a frozen run's."""

import numpy as np
from helpers.scripts import load_script

from stdp_mnist import kernel, network
from stdp_mnist.config import Config


def test_measure_matches_a_frozen_block():
    script = load_script("experiments/rest_spikes")
    cfg = Config().replace(network={"n_excitatory": 12}, input={"intensity": 4.0})
    net = network.new_network(cfg)
    gen = np.random.default_rng(3)
    images = (gen.random((6, 784)) ** 4 * 255).astype(np.uint8)
    result = script.measure(cfg, net, images, seed=11)

    p = network.kernel_params(cfg, frozen=True)
    counts = np.zeros((6, 12), np.int32)
    retries = np.zeros(6, np.int64)
    kernel.frozen_responses(
        p, images, 6, np.array([11], np.uint64), net.weights, net.theta, net.delays, counts, retries
    )
    assert result["examples"] == 6
    assert result["presentations"] == 6 + retries.sum()
    assert result["spikes_per_example"] == counts.sum() / 6
    assert result["spikes_per_example"] > 0
    assert result["rest_spikes_per_presentation"] >= 0
