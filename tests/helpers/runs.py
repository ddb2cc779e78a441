"""Synthetic data and tiny runs: IDX files of made-up digits, tiny configs, trained and
evaluated runs of a few neurons (seconds, no MNIST), and comparisons of their files and
networks."""

import csv
import dataclasses
import shutil
from pathlib import Path

import numpy as np

from stdp_mnist import evaluation, network, training
from stdp_mnist.config import Config
from stdp_mnist.data import MNIST_FILES, _idx_bytes, load_mnist
from stdp_mnist.rundir import LOCK_FILE

# A 4-neuron network trained on 20 examples with short presentations (ms), checkpointed
# every 8; evaluated on 40 labelled and 20 test images.
TINY_TOML = """\
[network]
n_excitatory = 4
max_delay_ms = 5.0

[simulation]
present_ms = 20.0
rest_ms = 10.0

[training]
max_examples = 20

[run]
checkpoint_every = 8
metrics_every = 8

[evaluation]
n_assign = 40
n_test = 20
block_size = 10
"""

# The arrays of a saved network, in the order of its fields.
# A sweep base config: three neurons, eight training examples; "{data}" is the MNIST-format data dir.
TINY_SWEEP_BASE = """\
[data]
dir = "{data}"
verify = false

[network]
n_excitatory = 3
max_delay_ms = 2.0

[simulation]
present_ms = 20.0
rest_ms = 5.0

[training]
max_examples = 8

[run]
checkpoint_every = 4
metrics_every = 4

[evaluation]
n_assign = 20
n_test = 10
block_size = 10
"""

STATE = [f.name for f in dataclasses.fields(network.Network)]


def synthetic_images(k: int, seed: int) -> np.ndarray:
    """k uint8 28x28 images: a bright blob whose position depends on the label-ish seed."""
    gen = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((k, 28, 28))
    for m in range(k):
        cy, cx = gen.uniform(8, 20, 2)
        out[m] = np.exp(-(((yy - cy) / 4.0) ** 2 + ((xx - cx) / 3.0) ** 2))
    return np.round(out * 255).astype(np.uint8)


def make_data_dir(path: Path, n_train: int = 40, n_test: int = 20) -> Path:
    """A folder of the four MNIST IDX files, holding synthetic_images and random labels."""
    path.mkdir(parents=True, exist_ok=True)
    gen = np.random.default_rng(7)
    arrays = {
        "train_images": synthetic_images(n_train, 1),
        "train_labels": gen.integers(0, 10, n_train).astype(np.uint8),
        "test_images": synthetic_images(n_test, 2),
        "test_labels": gen.integers(0, 10, n_test).astype(np.uint8),
    }
    for key, arr in arrays.items():
        (path / MNIST_FILES[key]).write_bytes(_idx_bytes(arr))
    return path


def write_config(path: Path, data_dir: Path, toml: str = TINY_TOML) -> Path:
    """A config file (TINY_TOML by default) reading the IDX files in ``data_dir`` as they
    are, without the MNIST checksums."""
    path.write_text(toml + f'\n[data]\nverify = false\ndir = "{data_dir}"\n')
    return path


def tiny_run(root: Path, evaluated: bool) -> Path:
    """ROOT/run: 6 neurons trained on 12 synthetic examples (with their labels), and
    evaluated on 40 labelled and 20 test images when ``evaluated``."""
    data_dir = make_data_dir(root / "mnist")
    cfg = Config().replace(
        network={"n_excitatory": 6, "max_delay_ms": 5.0},
        simulation={"present_ms": 20.0, "rest_ms": 10.0},
        training={"max_examples": 12},
        run={"checkpoint_every": 4, "metrics_every": 4},
        evaluation={"n_assign": 40, "n_test": 20, "block_size": 10},
        data={"dir": str(data_dir), "verify": False},
    )
    data = load_mnist(data_dir, fetch=False)
    run = root / "run"
    training.train(cfg, run, data.train_images, labels=data.train_labels)
    if evaluated:
        evaluation.evaluate(run, data)
    return run


def tiny_config(**sections) -> Config:
    """5 neurons, 20 ms presentations and 10 ms rests, checkpoints and metrics every 4
    examples, frozen blocks of 4; ``sections`` replace any of it."""
    base = Config().replace(
        network={"n_excitatory": 5, "max_delay_ms": 5.0},
        simulation={"present_ms": 20.0, "rest_ms": 10.0},
        run={"checkpoint_every": 4, "metrics_every": 4},
        evaluation={"block_size": 4},
    )
    return base.replace(**sections) if sections else base


def blob_images(k: int, seed: int = 0) -> np.ndarray:
    """k synthetic uint8 28x28 images (flattened): a bright elliptic blob and a stroke."""
    gen = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((k, 28, 28))
    for m in range(k):
        cy, cx = gen.uniform(8, 20, 2)
        ry, rx = gen.uniform(3, 7, 2)
        out[m] = np.exp(-(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2))
        row = gen.integers(5, 23)
        out[m, row, 6:22] = 1.0
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8).reshape(k, 784)


def blob_labels(k: int, seed: int = 1) -> np.ndarray:
    """k random digit labels (uint8), seeded."""
    return np.random.default_rng(seed).integers(0, 10, k).astype(np.uint8)


def write_bar_data(path: Path) -> Path:
    """Synthetic 28x28 'digits' (a bar at a label-dependent angle) as four IDX files:
    60 training and 30 test images."""
    path.mkdir(parents=True, exist_ok=True)
    gen = np.random.default_rng(3)
    yy, xx = np.mgrid[0:28, 0:28] - 13.5

    def images(labels):
        angles = labels * np.pi / 10
        dist = np.abs(np.cos(angles)[:, None, None] * xx - np.sin(angles)[:, None, None] * yy)
        return np.round(255 * np.clip(4.0 - dist, 0, 1) * (np.hypot(xx, yy) < 11)).astype(np.uint8)

    train_labels = gen.integers(0, 10, 60).astype(np.uint8)
    test_labels = gen.integers(0, 10, 30).astype(np.uint8)
    arrays = {
        "train_images": images(train_labels),
        "train_labels": train_labels,
        "test_images": images(test_labels),
        "test_labels": test_labels,
    }
    for key, array in arrays.items():
        (path / MNIST_FILES[key]).write_bytes(_idx_bytes(array))
    return path


def assert_networks_equal(a: network.Network, b: network.Network) -> None:
    """Every array of two networks has the same dtype, shape and values."""
    for name in STATE:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        np.testing.assert_array_equal(x, y, err_msg=name)


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run directory (its lock aside) and its bytes."""
    return {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file() and p.name != LOCK_FILE
    }


def copy_run(run: Path, to: Path) -> Path:
    """A copy of a run directory, to damage or change."""
    return Path(shutil.copytree(run, to))


def summary_rows(out: Path) -> list[dict[str, str]]:
    """The rows of a sweep's summary.csv in ``out``, as csv.DictReader reads them."""
    with open(out / "summary.csv", newline="") as fh:
        return list(csv.DictReader(fh))
