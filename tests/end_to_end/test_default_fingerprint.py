"""Slow: the default network stays bit for bit what it was before the learning variants
(docs/variants.md) were added: the quick config trained for 1,500 MNIST examples ends with
exactly the weights and theta of commit b5b1dc4 (fingerprints computed there)."""

import hashlib

import numpy as np
import pytest

from stdp_mnist import training
from stdp_mnist.config import load_config
from stdp_mnist.data import load_mnist

# sha256 of the arrays' bytes (float32 weights 784 x 100, float64 theta) after 1,500
# quick examples, computed with commit b5b1dc4's code.
WEIGHTS_SHA256 = "9a29130e586423eefbc1d4fe21d1c0f51577920a88453ca1f3f7e0574c1a04a3"
THETA_SHA256 = "44d9ccb3bfb7e7401182b59caf766a85beb55321d14ee23ee5a3bce3791d3da1"


def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@pytest.mark.slow
def test_quick_config_after_1500_examples_is_unchanged(tmp_path):
    cfg = load_config("quick", ["training.max_examples=1500"])
    network = training.train(cfg, tmp_path / "quick-1500", load_mnist().train_images)
    assert int(network.examples_seen[0]) == 1500
    assert (sha256(network.weights), sha256(network.theta)) == (WEIGHTS_SHA256, THETA_SHA256)
