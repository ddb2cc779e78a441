"""Never lose a run, never crash on bad input: signals at random moments, resume,
determinism across core counts, and fuzzed inputs to the IDX reader and config loader."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stdp_mnist import training
from stdp_mnist.config import SECTIONS, ConfigError, config_from_dict, load_config
from stdp_mnist.data import MNIST_FILES, DataError, _idx_bytes, load_mnist, read_idx
from stdp_mnist.network import load_network

CLI = Path(sys.executable).with_name("stdp-mnist")

CONFIG = """\
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


def write_data(path: Path) -> Path:
    """Synthetic 28x28 'digits' (a bar at a label-dependent angle) as four IDX files."""
    path.mkdir(parents=True, exist_ok=True)
    gen = np.random.default_rng(3)
    yy, xx = np.mgrid[0:28, 0:28] - 13.5

    def images(labels):
        angles = labels * np.pi / 10
        dist = np.abs(np.cos(angles)[:, None, None] * xx - np.sin(angles)[:, None, None] * yy)
        return np.round(255 * np.clip(4.0 - dist, 0, 1) * (np.hypot(xx, yy) < 11)).astype(np.uint8)

    train_labels = gen.integers(0, 10, 60).astype(np.uint8)
    test_labels = gen.integers(0, 10, 30).astype(np.uint8)
    arrays = {"train_images": images(train_labels), "train_labels": train_labels,
              "test_images": images(test_labels), "test_labels": test_labels}
    for key, array in arrays.items():
        (path / MNIST_FILES[key]).write_bytes(_idx_bytes(array))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Data, a config file, and the uninterrupted reference run trained in-process."""
    root = tmp_path_factory.mktemp("robust")
    data_dir = write_data(root / "data")
    config_path = root / "tiny.toml"
    config_path.write_text(CONFIG + f'dir = "{data_dir}"\n')
    cfg = load_config(config_path)
    images = load_mnist(data_dir, fetch=False).train_images
    reference = training.train(cfg, root / "reference", images)
    return root, config_path, cfg, reference


def assert_same_network(a, b):
    for name in ("weights", "theta", "delays", "exc", "inh", "since", "pending", "x_pre_hist", "clock",
                 "rng", "examples_seen"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def run_cli(*args, env=None):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300,
                          env=env)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_signal_at_a_random_moment_then_resume_is_bit_identical(setup, sig):
    root, config_path, cfg, reference = setup
    run_dir = root / f"run-{sig.name}"
    proc = subprocess.Popen([str(CLI), "train", "--config", str(config_path), "--run-dir", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    model = run_dir / "model.npz"
    deadline = time.monotonic() + 120
    while not model.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(random.Random(int(sig)).uniform(0.0, 0.3))
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stderr
    if proc.returncode == 0:
        pytest.skip("training finished before the signal arrived")
    # whatever was on disk is a complete checkpoint, not a torn file
    partial = load_network(model, cfg)
    if int(partial.examples_seen[0]) == 2000:
        pytest.skip("the signal came after training had finished (while the figures were drawn)")
    assert 0 < int(partial.examples_seen[0]) < 2000
    if sig != signal.SIGKILL:
        assert proc.returncode == 130
        assert "checkpoint saved" in stderr and f"--resume {run_dir}" in stderr
    resumed = run_cli("train", "--resume", run_dir)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_network(load_network(model, cfg), reference)


def test_evaluation_is_identical_on_one_core_and_two(setup):
    root, config_path, cfg, reference = setup
    results = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = run_cli("evaluate", root / "reference", env=env)
        assert out.returncode == 0, out.stderr
        metrics = json.loads((root / "reference" / "metrics.json").read_text())
        assert metrics["threads"] == int(threads)
        results.append({k: v for k, v in metrics.items() if not k.endswith("wall_s") and k != "threads"})
    assert results[0] == results[1]


# --- fuzzing: the only outcomes are a valid result or the project's own error ---------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_idx_reader_fuzzed_bytes(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("idx") / "fuzz-idx1-ubyte"
    path.write_bytes(blob)
    try:
        array = read_idx(path)
    except DataError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        assert array.dtype == np.uint8 and array.size == int(np.prod(array.shape))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.binary(max_size=40))
def test_idx_reader_fuzzed_headers(tmp_path_factory, dims, body):
    header = bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    path = tmp_path_factory.mktemp("idx") / "fuzz.idx"
    path.write_bytes(header + body)
    if len(body) == int(np.prod(dims)):
        assert read_idx(path).shape == tuple(dims)
    else:
        with pytest.raises(DataError):
            read_idx(path)


scalars = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.booleans(), st.text(max_size=8))
keys = st.sampled_from([f"{name}.{f}" for name, cls in SECTIONS.items()
                        for f in cls.__dataclass_fields__] + ["network.bogus", "nosection.key"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, scalars, max_size=4))
def test_config_loader_fuzzed_values(values):
    tables = {}
    for key, value in values.items():
        section, name = key.split(".")
        tables.setdefault(section, {})[name] = value
    try:
        cfg = config_from_dict(tables)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert cfg.network.n_excitatory >= 1 and cfg.simulation.dt_ms > 0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_config_loader_fuzzed_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "fuzz.toml"
    path.write_text(text)
    try:
        load_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc)


def test_unwritable_run_dir_is_a_one_line_error(setup):
    root, config_path, _, _ = setup
    out = run_cli("train", "--config", config_path, "--run-dir", "/proc/stdp-mnist-run")
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "/proc/stdp-mnist-run" in lines[0] and "Traceback" not in out.stderr


def test_nan_weights_stop_training_and_keep_the_last_good_checkpoint(setup, monkeypatch, tmp_path):
    root, _, cfg, _ = setup
    images = load_mnist(cfg.data.dir, fetch=False).train_images
    real = training.kernel.train_examples
    calls = {"examples": 0}

    def corrupting(params, batch, rng, synapses, *rest):
        real(params, batch, rng, synapses, *rest)
        weights = synapses.weights
        calls["examples"] += len(batch)
        if calls["examples"] > 100:  # after the first checkpoints, poison the weights
            weights[0, 0] = np.nan

    monkeypatch.setattr(training.kernel, "train_examples", corrupting)
    with pytest.raises(training.NumericalError, match="NaN"):
        training.train(cfg, tmp_path / "run", images)
    good = load_network(tmp_path / "run" / "model.npz", cfg)
    assert np.isfinite(good.weights).all()
    assert 0 < int(good.examples_seen[0]) <= 120


def test_full_disk_during_a_checkpoint_is_one_line_and_keeps_the_last_one(setup, monkeypatch, tmp_path):
    import errno

    from click.testing import CliRunner

    from stdp_mnist import cli, network

    root, config_path, cfg, _ = setup
    real = network.atomic_open
    saves = {"n": 0}

    def filling_disk(path, mode="wb"):
        if Path(path).name == "model.npz":
            saves["n"] += 1
            if saves["n"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, mode)

    monkeypatch.setattr(network, "atomic_open", filling_disk)
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(cli.main, ["train", "--config", str(config_path), "--run-dir", str(run_dir)])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert "Traceback" not in result.stderr
    kept = load_network(run_dir / "model.npz", cfg)
    assert int(kept.examples_seen[0]) == 2 * cfg.run.checkpoint_every
    assert not list(run_dir.glob(".model.npz.*.tmp"))
