"""The network state declared once (kernel.STATE_TABLE): every place that makes, saves,
loads or checks a network follows it, and checkpoints of earlier versions still load
and resume exactly.

tests/data/aa297c3/ holds two checkpoints written by commit aa297c3 (before the table):
a 2-neuron network (max_delay_ms = 1, a 2-step delay ring) trained on RESUME_IMAGES,
saved after 2 examples and, resumed, after 4. They were made with that commit's
package on the path: ``training.train(CFG.replace(training={"max_examples": 2}),
run_dir, RESUME_IMAGES)``, then ``max_examples`` 4 with ``resume=True``.
"""

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from stdp_mnist import kernel, network, training
from stdp_mnist.bench import BenchmarkError, checkpoint_size, fill_from_checkpoint
from stdp_mnist.config import Config
from stdp_mnist.network import (
    CheckpointError,
    Network,
    load_network,
    network_sizes,
    new_network,
    save_network,
)
from stdp_mnist.rundir import MODEL_FILE

OLD = Path(__file__).parent / "data" / "aa297c3"
# The same two checkpoints written by commit 9ab04bd (the last format without a version,
# the one a long run of that code keeps writing), made the same way with its package.
UNVERSIONED = Path(__file__).parent / "data" / "9ab04bd"
CFG = Config().replace(network={"n_excitatory": 2, "max_delay_ms": 1.0}, training={"max_examples": 4})
RESUME_IMAGES = np.random.default_rng(2015).integers(0, 256, (4, 784)).astype(np.uint8)


def arrays_of(net: Network) -> dict[str, np.ndarray]:
    return {f.name: getattr(net, f.name) for f in dataclasses.fields(net)}


def resume_old_checkpoint(tmp_path: Path, change=None) -> Network:
    """Resume aa297c3's 2-example checkpoint (its arrays first passed through
    ``change``, when given) to 4 examples with this code."""
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(OLD / "checkpoint_2_examples.npz", run / MODEL_FILE)
    if change is not None:
        with np.load(run / MODEL_FILE) as data:
            arrays = change({name: data[name] for name in data.files})
        np.savez(run / MODEL_FILE, **arrays)
    return training.train(CFG, run, RESUME_IMAGES, resume=True)


def test_an_old_checkpoint_loads_and_resumes_exactly(tmp_path):
    old = load_network(OLD / "checkpoint_2_examples.npz", CFG)
    with np.load(OLD / "checkpoint_2_examples.npz") as data:
        assert "wins" not in data.files  # format 1: before the rate schedule's wins
        for name, value in arrays_of(old).items():
            stored = data[name] if name != "wins" else np.zeros(2, np.int64)  # none counted
            np.testing.assert_array_equal(value, stored, err_msg=name)
            assert value.dtype == stored.dtype
    assert int(old.examples_seen[0]) == 2 and old.since.max() < kernel.NEVER  # both populations have fired
    resumed = resume_old_checkpoint(tmp_path)
    expected = load_network(OLD / "checkpoint_4_examples.npz", CFG)
    for name, value in arrays_of(resumed).items():
        np.testing.assert_array_equal(value, getattr(expected, name), err_msg=name)
    assert not np.array_equal(resumed.weights, old.weights)


def test_a_checkpoint_without_a_format_version_resumes_exactly_and_is_then_versioned(tmp_path):
    with np.load(UNVERSIONED / "checkpoint_2_examples.npz") as data:
        assert "format_version" not in data.files and "model_values" in data.files
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(UNVERSIONED / "checkpoint_2_examples.npz", run / MODEL_FILE)
    resumed = training.train(CFG, run, RESUME_IMAGES, resume=True)
    expected = load_network(UNVERSIONED / "checkpoint_4_examples.npz", CFG)
    for name, value in arrays_of(resumed).items():
        np.testing.assert_array_equal(value, getattr(expected, name), err_msg=name)
    with np.load(run / MODEL_FILE) as data:
        assert int(data["format_version"]) == network.CHECKPOINT_FORMAT
    # the two commits' checkpoints hold the same network: the format did not change in between
    for name, value in arrays_of(load_network(OLD / "checkpoint_4_examples.npz", CFG)).items():
        np.testing.assert_array_equal(value, getattr(expected, name), err_msg=name)


def test_a_format_1_checkpoint_resumes_under_the_rate_schedule_from_no_wins(tmp_path):
    # a format 1 file gives wins = 0; a run with the schedule then counts from there
    cfg = CFG.replace(stdp={"rate_decay_spikes": 10.0})
    run = tmp_path / "run"
    run.mkdir()
    with np.load(UNVERSIONED / "checkpoint_2_examples.npz") as data:
        arrays = {name: data[name] for name in data.files if name != "model_values"}  # written without it
    np.savez(run / MODEL_FILE, **arrays)
    assert load_network(run / MODEL_FILE, cfg).wins.tolist() == [0, 0]
    resumed = training.train(cfg, run, RESUME_IMAGES, resume=True)
    constant_rates = load_network(UNVERSIONED / "checkpoint_4_examples.npz", CFG)
    assert resumed.wins.sum() > 0 and int(resumed.examples_seen[0]) == 4
    assert not np.array_equal(resumed.weights, constant_rates.weights)


def test_a_current_checkpoint_without_its_wins_is_refused(tmp_path):
    path = tmp_path / MODEL_FILE
    net = new_network(CFG)
    save_network(net, path, CFG.model_hash(), CFG.model_values())
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files if name != "wins"}
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match="not a model file of this program \\(no wins\\)"):
        load_network(path, CFG)


def test_an_older_float64_pending_ring_is_converted_and_resumes_exactly(tmp_path):
    def float64_ring(arrays):
        return {**arrays, "pending": arrays["pending"].astype(np.float64)}

    resumed = resume_old_checkpoint(tmp_path, float64_ring)
    assert resumed.pending.dtype == np.float32
    expected = load_network(OLD / "checkpoint_4_examples.npz", CFG)
    for name, value in arrays_of(resumed).items():
        np.testing.assert_array_equal(value, getattr(expected, name), err_msg=name)


def test_no_other_older_dtype_is_accepted(tmp_path):
    path = tmp_path / MODEL_FILE
    with np.load(OLD / "checkpoint_2_examples.npz") as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(path, **{**arrays, "x_pre_hist": arrays["x_pre_hist"].astype(np.float32)})
    with pytest.raises(CheckpointError, match="x_pre_hist has type float32, expected float64"):
        load_network(path, CFG)


def test_network_and_kernel_state_follow_the_table():
    assert [f.name for f in dataclasses.fields(Network)] == [spec.name for spec in kernel.STATE_TABLE]
    assert kernel.State._fields == tuple(spec.name for spec in kernel.STATE_TABLE if spec.in_state)
    assert {"theta", "exc", "since", "pending", "clock"} <= set(kernel.State._fields)
    assert not {"weights", "delays", "rng", "examples_seen"} & set(kernel.State._fields)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"network": {"n_excitatory": 3, "max_delay_ms": 0.0}},
        {"network": {"n_excitatory": 5, "max_delay_ms": 3.2}},
    ],
)
def test_a_new_network_and_init_state_are_what_the_table_declares(overrides):
    cfg = Config().replace(**overrides)
    sizes = network_sizes(cfg)
    net = new_network(cfg)
    assert kernel.table_problem(kernel.STATE_TABLE, arrays_of(net), sizes) is None
    for spec in kernel.STATE_TABLE:
        value = getattr(net, spec.name)
        assert value.shape == spec.shape_for(sizes) and value.dtype == np.dtype(spec.dtype), spec.name
    # the frozen runs' state: no input traces, the ring the delays need
    state = kernel.init_state(network.kernel_params(cfg), net.theta, 0, sizes.ring, 0.0)
    frozen_sizes = sizes._replace(inputs=0)
    specs = [kernel.STATE_ARRAYS[name] for name in kernel.State._fields]
    assert kernel.table_problem(specs, state._asdict(), frozen_sizes) is None


def test_save_and_load_keep_every_array(tmp_path):
    cfg = Config().replace(network={"n_excitatory": 3})
    net = new_network(cfg)
    net.clock[0], net.since[1, 2], net.examples_seen[0] = 12345, 7, 9
    save_network(net, tmp_path / MODEL_FILE, cfg.model_hash(), cfg.model_values())
    with np.load(tmp_path / MODEL_FILE) as data:
        assert set(data.files) == {"format_version", "model_hash", "model_values", *kernel.STATE_ARRAYS}
    loaded = load_network(tmp_path / MODEL_FILE, cfg)
    for name, value in arrays_of(net).items():
        np.testing.assert_array_equal(getattr(loaded, name), value, err_msg=name)
        assert getattr(loaded, name).dtype == value.dtype


SIZES = kernel.Sizes(n=2, inputs=3, ring=4, max_weight=1.5)


@pytest.mark.parametrize(
    "name, value, problem",
    [
        ("weights", np.zeros((3, 2), np.float64), "weights has type float64, expected float32"),
        ("weights", np.zeros((2, 3), np.float32), "weights has shape (2, 3), expected (3, 2)"),
        ("weights", np.full((3, 2), np.inf, np.float32), "weights holds non-finite values"),
        ("weights", np.full((3, 2), 1.75, np.float32), "weights out of range [0.0, 1.5]: 1.75 .. 1.75"),
        ("delays", np.full((3, 2), 4, np.uint8), "delays out of range [0, 3]: 4 .. 4"),
        ("since", np.full((2, 2), -1, np.int64), "since out of range"),
        ("since", np.full((2, 2), kernel.NEVER + 1, np.int64), "since out of range"),
        ("pending", np.zeros((4, 2), np.float64), None),  # an older dtype
        ("x_pre_hist", np.full((4, 3), -2e6), "x_pre_hist out of range"),
        ("clock", np.array([kernel.MAX_CLOCK + 1]), "clock out of range"),
        ("rng", np.array([2**64 - 1], np.uint64), None),
        ("examples_seen", np.array([-1]), "examples_seen out of range"),
    ],
)
def test_one_check_per_array(name, value, problem):
    found = kernel.STATE_ARRAYS[name].problem(value, SIZES)
    assert found == problem if problem is None else found.startswith(problem)


def test_missing_arrays_are_named():
    arrays = {"weights": np.zeros((3, 2), np.float32)}
    assert kernel.table_problem(kernel.STATE_TABLE, arrays, SIZES).startswith("no 'theta' array")


def test_the_benchmark_reads_checkpoints_by_the_table(tmp_path):
    assert checkpoint_size(OLD / "checkpoint_4_examples.npz") == 2
    with np.load(OLD / "checkpoint_4_examples.npz") as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(tmp_path / MODEL_FILE, **{**arrays, "since": np.full((2, 2), -3, np.int64)})
    with pytest.raises(BenchmarkError, match="since out of range"):
        checkpoint_size(tmp_path)
    del arrays["clock"]
    np.savez(tmp_path / MODEL_FILE, **arrays)
    with pytest.raises(BenchmarkError, match="no 'clock' array"):
        checkpoint_size(tmp_path)


def test_every_stdp_rule_has_its_own_kernel_code():
    choices = ("reference", "pair", "paper", "instar", "soft-bound")
    codes = [network.kernel_params(Config().replace(stdp={"rule": rule})).rule for rule in choices]
    rules = [
        kernel.RULE_REFERENCE,
        kernel.RULE_PAIR,
        kernel.RULE_PAPER,
        kernel.RULE_INSTAR,
        kernel.RULE_SOFT_BOUND,
    ]
    assert codes == rules
    assert len(set(codes)) == 5 and set(network.STDP_RULES) == set(choices)


def test_the_benchmark_starts_from_a_format_1_checkpoint_as_the_loader_does():
    # a format 1 file has no wins: the benchmark's network keeps none counted, and every
    # other array is the file's, as load_network gives it
    with np.load(OLD / "checkpoint_4_examples.npz") as data:
        assert "wins" not in data.files
    fresh = network.new_network(CFG)
    fresh.wins[...] = 7  # a value the file cannot have set
    fill_from_checkpoint(fresh, OLD / "checkpoint_4_examples.npz")
    loaded = load_network(OLD / "checkpoint_4_examples.npz", CFG)
    for name, value in arrays_of(fresh).items():
        expected = np.full(2, 7) if name == "wins" else getattr(loaded, name)
        np.testing.assert_array_equal(value, expected, err_msg=name)
