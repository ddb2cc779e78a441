"""Fixtures shared by the tests of every folder. Their code lives in helpers/ (this
folder is on sys.path because this file is here): synthetic MNIST files, tiny configs,
tiny trained and evaluated runs, hand-drawn digits, and a small run on bar-shaped digits
long enough to be interrupted."""

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from helpers.images import draw_one, draw_zero, save_image
from helpers.runs import (
    TINY_SWEEP_BASE,
    TINY_TOML,
    blob_images,
    make_data_dir,
    tiny_config,
    tiny_run,
    write_bar_data,
)

from stdp_mnist import data, network, plots, training
from stdp_mnist.config import Config, load_config
from stdp_mnist.data import load_mnist

# 12 neurons, 100 ms presentations, 2,000 examples over up to 20 passes of the 60 bar
# images: long enough (seconds) for a signal to land in the middle of training.
BAR_CONFIG = """\
[network]
n_excitatory = 12
max_delay_ms = 5.0

[simulation]
present_ms = 100.0
rest_ms = 20.0

[training]
passes = 20
max_examples = 2000

[run]
checkpoint_every = 40

[evaluation]
n_assign = 60
n_test = 30
block_size = 7

[data]
verify = false
"""


@pytest.fixture(autouse=True)
def numba_threads_setting_kept():
    """Put NUMBA_NUM_THREADS in this process's environment back as it was after each
    test. A sweep's run_point sets it for its worker process; called in-process by a
    test, it would stay, and numba then refuses to compile anything new ("Cannot set
    NUMBA_NUM_THREADS to a different value once the threads have been launched")."""
    saved = os.environ.get("NUMBA_NUM_THREADS")
    yield
    if saved is None:
        os.environ.pop("NUMBA_NUM_THREADS", None)
    else:
        os.environ["NUMBA_NUM_THREADS"] = saved


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Synthetic MNIST files (40 training, 20 test images), also the default data folder."""
    path = make_data_dir(tmp_path / "mnist")
    # Nothing in these tests may touch the user's cache or the network.
    monkeypatch.setenv("STDP_MNIST_DATA", str(path))
    return path


@pytest.fixture
def no_md5(monkeypatch):
    """Let the CLI read synthetic IDX files: its loader verifies the dataset's checksums
    (load_mnist(fetch=True)), which synthetic files can never match."""
    real = data.load_mnist

    def load_without_fetch(data_dir=None, fetch=True, log=None, names=None, dataset="mnist"):
        return real(data_dir, fetch=False, log=log, names=names, dataset=dataset)

    monkeypatch.setattr(data, "load_mnist", load_without_fetch)


@pytest.fixture
def config_file(tmp_path):
    """The tiny config (helpers.runs.TINY_TOML) as a file, reading the default data folder."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML)
    return path


@pytest.fixture(scope="module")
def images():
    """30 synthetic digit-like images (flattened uint8)."""
    return blob_images(30)


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    """A tiny trained and evaluated run directory (6 neurons), one per test module."""
    return tiny_run(tmp_path_factory.mktemp("evaluated"), evaluated=True)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny trained run directory (6 neurons) with no evaluation, one per test module."""
    return tiny_run(tmp_path_factory.mktemp("trained"), evaluated=False)


class TinyTrained(NamedTuple):
    cfg: Config
    run: Path  # its run directory
    network: network.Network
    images: np.ndarray  # the images fixture's; the first 12 trained it


@pytest.fixture(scope="module")
def tiny_trained(tmp_path_factory, images) -> TinyTrained:
    """A 5-neuron network (helpers.runs.tiny_config) trained in this process on 12 of
    ``images``, evaluated on up to 30 labelled and 14 test images; one per test module."""
    cfg = tiny_config(training={"max_examples": 12}, evaluation={"n_assign": 30, "n_test": 14})
    run = tmp_path_factory.mktemp("trained") / "run"
    return TinyTrained(cfg, run, training.train(cfg, run, images), images)


@pytest.fixture
def sweep_base(tmp_path, monkeypatch) -> Path:
    """TMP/configs/tiny.toml: the tiny sweep base config (helpers.runs.TINY_SWEEP_BASE)
    reading 20 training and 10 test images of TMP/data; never the user's cache."""
    monkeypatch.setenv("STDP_MNIST_DATA", str(tmp_path / "no-cache"))
    data = make_data_dir(tmp_path / "data", n_train=20, n_test=10)
    path = tmp_path / "configs" / "tiny.toml"
    path.parent.mkdir()
    path.write_text(TINY_SWEEP_BASE.format(data=data))
    return path


@pytest.fixture
def tiny_data(data_dir):
    """The data_dir fixture's synthetic MNIST, loaded."""
    return load_mnist(data_dir, fetch=False)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """PNG files of a hand-drawn one and zero, as a user would give them to predict."""
    folder = tmp_path_factory.mktemp("digits")
    return save_image(folder / "one.png", draw_one()), save_image(folder / "zero.png", draw_zero())


class BarConfig(NamedTuple):
    root: Path  # a folder for the runs of this config
    path: Path  # the config file (BAR_CONFIG reading the bar digits)
    cfg: Config


@pytest.fixture(scope="session")
def bar_config(tmp_path_factory) -> BarConfig:
    """The bar digits' IDX files and a config file training on them (BAR_CONFIG)."""
    root = tmp_path_factory.mktemp("bars")
    data_dir = write_bar_data(root / "data")
    path = root / "bars.toml"
    path.write_text(BAR_CONFIG + f'dir = "{data_dir}"\n')
    return BarConfig(root, path, load_config(path))


@pytest.fixture(scope="session")
def bar_reference(bar_config) -> network.Network:
    """The uninterrupted run of bar_config, trained in this process into ROOT/reference."""
    images = load_mnist(bar_config.cfg.data.dir, fetch=False).train_images
    return training.train(bar_config.cfg, bar_config.root / "reference", images)


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The matplotlib Figures that stdp_mnist.plots saves during the test, in order (the
    PNG files are still written), so a test can check what a figure shows: its axes,
    titles and data."""
    figures = []
    save = plots._save

    def keep(fig, path, *args, **kwargs):
        figures.append(fig)
        return save(fig, path, *args, **kwargs)

    monkeypatch.setattr(plots, "_save", keep)
    return figures
