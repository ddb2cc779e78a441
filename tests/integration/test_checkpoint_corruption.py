"""Damaged, truncated or mismatched checkpoints (model.npz) and run files: each is
refused with a one-line error naming the file, by the library and by every command
that reads it, and never overwritten. (Checkpoints with one random value changed are
fuzzed in test_fuzzing.py; one-file models are in test_model_file.py.)"""

import contextlib
import os
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers.cli import invoke, only_error_line
from helpers.runs import STATE, assert_networks_equal, copy_run, snapshot, tiny_config
from helpers.scripts import load_script

from stdp_mnist import config, kernel
from stdp_mnist.bench import BenchmarkError, checkpoint_size
from stdp_mnist.config import Config
from stdp_mnist.network import CheckpointError, load_network, new_network, save_network
from stdp_mnist.rundir import (
    ASSIGNMENTS_FILE,
    CONFIG_FILE,
    MODEL_FILE,
    NPZ_ERRORS,
    Run,
    RunDirError,
    read_npz,
)

# --- the library refuses them -------------------------------------------------------


@pytest.mark.parametrize(
    "payload", [b"", b"garbage" * 100, os.urandom(4096)], ids=["empty", "text", "random"]
)
def test_load_garbage_model(tmp_path, payload):
    (tmp_path / MODEL_FILE).write_bytes(payload)
    with pytest.raises(CheckpointError) as info:
        load_network(tmp_path / MODEL_FILE, tiny_config())
    assert MODEL_FILE in str(info.value)


def _real_model_bytes(tmp_path):
    cfg = tiny_config()
    save_network(new_network(cfg), tmp_path / "good.npz", cfg.model_hash())
    return (tmp_path / "good.npz").read_bytes()


def test_load_truncated_model(tmp_path):
    raw = _real_model_bytes(tmp_path)
    (tmp_path / MODEL_FILE).write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError):
        load_network(tmp_path / MODEL_FILE, tiny_config())


def test_load_bit_flipped_model(tmp_path):
    raw = bytearray(_real_model_bytes(tmp_path))
    raw[len(raw) // 3] ^= 0xFF  # inside one of the stored arrays
    (tmp_path / MODEL_FILE).write_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        load_network(tmp_path / MODEL_FILE, tiny_config())


def test_load_model_missing_array(tmp_path):
    cfg = tiny_config()
    net = new_network(cfg)
    arrays = {name: getattr(net, name) for name in STATE if name != "theta"}
    np.savez(tmp_path / MODEL_FILE, model_hash=np.array(cfg.model_hash()), **arrays)
    with pytest.raises(CheckpointError):
        load_network(tmp_path / MODEL_FILE, cfg)


def test_checkpoint_claiming_a_huge_array_is_refused_before_reading_it(tmp_path):
    cfg = Config().replace(network={"n_excitatory": 4})
    path = tmp_path / MODEL_FILE
    save_network(new_network(cfg), path, cfg.model_hash(), cfg.model_values())
    raw = path.read_bytes()
    honest, huge = b"'shape': (784, 4), }", b"'shape': (78400000000000, 4), }"
    start = raw.index(honest)  # the weights' header; its padding absorbs the longer shape
    assert raw[start + len(huge) : start + len(huge) + 1] == b" "
    path.write_bytes(raw[:start] + huge + raw[start + len(huge) :])
    with pytest.raises(CheckpointError, match="shape"):
        load_network(path, cfg)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ast reading a damaged header's escapes
@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_damaged_bytes_of_a_model_file_are_a_checkpoint_error(tmp_path, compressed):
    # Invert every third byte of the first 120 of every member (the .npy header, and
    # under deflate the compressed stream). numpy parses a damaged header with ast and
    # tokenize (SyntaxError, TokenError) and a damaged stream is a zlib.error: each must
    # end as the one-line CheckpointError (a BenchmarkError for bench --trained), and
    # read_npz must raise one of NPZ_ERRORS.
    cfg = Config().replace(network={"n_excitatory": 2})
    path = tmp_path / MODEL_FILE
    save_network(new_network(cfg), path, cfg.model_hash(), cfg.model_values())
    if compressed:
        with np.load(path) as saved:
            arrays = {name: saved[name] for name in saved.files}
        np.savez_compressed(path, **arrays)
        load_network(path, cfg)  # a deflated model file is still a model file
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    damaged = tmp_path / "damaged" / MODEL_FILE
    damaged.parent.mkdir()
    examples_seen = load_script("experiments/snapshot_passes").checkpoint_examples
    kinds = set()
    for member in members:
        start = member.header_offset + 30 + len(member.filename) + len(member.extra)
        for offset in range(0, min(member.compress_size, 120), 3):
            data = bytearray(raw)
            data[start + offset] ^= 0xFF
            damaged.write_bytes(bytes(data))
            with contextlib.suppress(CheckpointError):
                load_network(damaged, cfg)
            try:
                read_npz(damaged)
            except NPZ_ERRORS as exc:
                kinds.add(type(exc))
            with contextlib.suppress(BenchmarkError):
                checkpoint_size(damaged)  # bench --trained
            assert examples_seen(damaged.parent) in (None, 0)  # scripts/experiments/snapshot_passes.py
    assert {tokenize.TokenError, zlib.error if compressed else ValueError} <= kinds  # both paths were hit


def test_load_with_other_n_excitatory(tmp_path):
    cfg = tiny_config()
    save_network(new_network(cfg), tmp_path / MODEL_FILE, cfg.model_hash())
    with pytest.raises(CheckpointError, match="n_excitatory"):
        load_network(tmp_path / MODEL_FILE, cfg.replace(network={"n_excitatory": 4}))


def test_load_with_other_delay_ring_is_refused(tmp_path):
    cfg = tiny_config()
    save_network(new_network(cfg), tmp_path / MODEL_FILE, cfg.model_hash())
    with pytest.raises(CheckpointError, match="pending"):
        load_network(tmp_path / MODEL_FILE, cfg.replace(network={"max_delay_ms": 2.0}))


# --- every command refuses them, and keeps the file ---------------------------------


def _damaged(run: Path, name: str, change) -> Path:
    """A copy of the run's model with one array changed by ``change(array)``."""
    with np.load(run / MODEL_FILE, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays[name] = change(arrays[name].copy())
    with open(run / MODEL_FILE, "wb") as fh:
        np.savez(fh, **arrays)
    return run / MODEL_FILE


def _set(index, value):
    def change(array):
        array[index] = value
        return array

    return change


@pytest.mark.parametrize(
    "name, change, needle",
    [
        ("weights", _set((0, 0), np.nan), "weights"),
        ("weights", _set((3, 1), 1e6), "weights"),
        ("weights", _set((3, 1), -1.0), "weights"),
        ("theta", _set(0, np.inf), "theta"),
        ("exc", _set((0, 0), np.nan), "exc"),
        ("pending", _set((0, 0), np.nan), "pending"),
        ("delays", _set((5, 0), 250), "delays"),
        ("since", _set((0, 0), -5), "since"),
        ("since", _set((1, 0), kernel.NEVER + 1), "since"),
        ("clock", _set(0, -1), "clock"),
        ("examples_seen", _set(0, -3), "examples_seen"),
        ("weights", lambda a: a.astype(np.float64), "weights has type"),
        ("delays", lambda a: a.astype(np.int64), "delays has type"),
        ("rng", lambda a: np.zeros(7, np.uint64), "rng has shape"),
    ],
)
def test_damaged_checkpoint_is_one_line_and_never_overwritten(evaluated_run, tmp_path, name, change, needle):
    run = copy_run(evaluated_run, tmp_path / "run")
    model = _damaged(run, name, change)
    before = model.read_bytes()
    for args in (("evaluate", run), ("train", "--resume", run), ("predict", run, "x.png")):
        only_error_line(invoke(*args), str(model), needle)
    assert model.read_bytes() == before


def test_evaluate_truncated_model_one_line(tmp_path, data_dir, no_md5, config_file):
    run = tmp_path / "run"
    result = invoke(
        "train",
        "--config",
        config_file,
        "--run-dir",
        run,
        "--set",
        f"data.dir={data_dir}",
        "--set",
        "training.max_examples=2",
    )
    assert result.exit_code == 0, result.output
    model = run / "model.npz"
    model.write_bytes(model.read_bytes()[:1000])
    only_error_line(invoke("evaluate", run), "model.npz")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_damaged_assignments_file_is_a_run_dir_error(tmp_path):
    np.savez(tmp_path / ASSIGNMENTS_FILE, assignments=np.arange(4), class_rates=np.ones((4, 10)))
    raw = (tmp_path / ASSIGNMENTS_FILE).read_bytes()
    for offset in range(30, 160):  # the first member's name, .npy header and data
        data = bytearray(raw)
        data[offset] ^= 0xFF
        (tmp_path / ASSIGNMENTS_FILE).write_bytes(bytes(data))
        try:
            _ = Run(tmp_path).assignments
        except RunDirError as exc:
            assert "not a readable assignments file" in str(exc)


# --- a checkpoint of a changed model ------------------------------------------------


def test_resume_with_a_changed_model_setting_names_the_key(evaluated_run, tmp_path):
    run = copy_run(evaluated_run, tmp_path / "run")
    text = (run / CONFIG_FILE).read_text()
    (run / CONFIG_FILE).write_text(text.replace("nu_post = 0.01", "nu_post = 0.02"))
    before = snapshot(run)
    line = only_error_line(invoke("train", "--resume", run), "stdp.nu_post", "0.02", "0.01", "new run")
    assert "--run-dir" in line
    assert snapshot(run) == before
    # how often it checkpoints, or how long it trains, may change
    (run / CONFIG_FILE).write_text(text.replace("checkpoint_every = 4", "checkpoint_every = 2"))
    load_network(run / MODEL_FILE, config.load_config(run / CONFIG_FILE))


def test_checkpoint_without_model_values_still_loads(tmp_path):
    """Checkpoints written before model_values existed (runs in flight) resume as before:
    with no record of the settings, a changed one cannot be named and is not refused,
    where the same checkpoint with the record is refused."""
    cfg = Config().replace(network={"n_excitatory": 4})
    net = new_network(cfg)
    old, recorded = tmp_path / "old.npz", tmp_path / "recorded.npz"
    save_network(net, old, cfg.model_hash())
    save_network(net, recorded, cfg.model_hash(), cfg.model_values())
    with np.load(old) as arrays:
        assert "model_values" not in arrays.files
    changed = cfg.replace(stdp={"nu_post": 0.02})
    assert_networks_equal(load_network(old, changed), net)
    with pytest.raises(CheckpointError, match="stdp.nu_post"):
        load_network(recorded, changed)
