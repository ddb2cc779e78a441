"""Facts of MNIST and of the network's input that several modules need, each said once."""

from __future__ import annotations

import math

IMAGE_SIDE = 28  # an MNIST image is IMAGE_SIDE x IMAGE_SIDE pixels
N_INPUTS = IMAGE_SIDE * IMAGE_SIDE  # one input channel per pixel: 784
N_CLASSES = 10  # the digits 0-9
# evaluation.split = "validation" scores the training images from this one on, and
# trains and labels on those before it.
VALIDATION_START = 50_000
# The canonical MNIST IDX files, by the data config key that names each.
MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def delay_ring_steps(max_delay_ms: float, dt_ms: float) -> int:
    """Number of distinct input delays, the delay ring's length: delays are 0 ..
    ring - 1 time steps (1 = no delays). The 1e-9 keeps a whole number of steps
    (10 ms at 0.5 ms) from rounding up through floating-point error."""
    return max(1, math.ceil(max_delay_ms / dt_ms - 1e-9))
