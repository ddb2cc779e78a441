"""Fuzzing: whatever bytes or values come in through a file or an option, the only
outcomes are a valid result or the project's own one-line error, never a traceback.
Inputs: IDX data files, config tables and files, --set values, the values of a
checkpoint, and the bench command's options."""

import dataclasses
import os

import numpy as np
import pytest
from helpers.cli import error_line, invoke
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import stdp_mnist.bench as bench
from stdp_mnist import kernel, training
from stdp_mnist.config import SECTIONS, Config, ConfigError, config_from_dict, load_config
from stdp_mnist.data import DataError, read_idx
from stdp_mnist.network import CheckpointError, Network, load_network, new_network, save_network
from stdp_mnist.rundir import MODEL_FILE

# --- data files ---------------------------------------------------------------------


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


# --- configs ------------------------------------------------------------------------


TOML_SCALARS = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
)
TABLE_KEYS = st.sampled_from(
    [f"{name}.{f}" for name, cls in SECTIONS.items() for f in cls.__dataclass_fields__]
    + ["network.bogus", "nosection.key"]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TABLE_KEYS, TOML_SCALARS, max_size=4))
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


SETTING_KEYS = [
    f"{section}.{name}"
    for section, cls in SECTIONS.items()
    if section != "data"
    for name in cls.__dataclass_fields__
]
TEXT_VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["true", "false", "nan", "inf", "-inf", "1e308", "''", "[1, 2]", "{a = 1}", "population"]
    ),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(SETTING_KEYS), TEXT_VALUES), min_size=1, max_size=3))
def test_fuzzed_train_settings_end_in_one_line(tmp_path, overrides):
    """Whatever --set values: a one-line error, never a traceback (valid settings reach
    the data, which is missing here, so nothing ever trains)."""
    sets = [arg for key, value in overrides for arg in ("--set", f"{key}={value}")]
    result = invoke(
        "train",
        "--run-dir",
        tmp_path / "run",
        "--set",
        "data.verify=false",
        "--set",
        f"data.dir={tmp_path / 'nothing'}",
        *sets,
    )
    error_line(result)


# --- checkpoints --------------------------------------------------------------------


FUZZ_CFG = Config().replace(
    network={"n_excitatory": 3, "max_delay_ms": 2.0},
    simulation={"present_ms": 5.0, "rest_ms": 2.0},
    training={"max_examples": 1},
)
FUZZ_NET = new_network(FUZZ_CFG)
FIELDS = [f.name for f in dataclasses.fields(Network)]
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**63), 2**64 - 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELDS), st.integers(0, 10**6), VALUES)
def test_fuzzed_checkpoint_values_are_refused_or_safe(tmp_path, name, position, value):
    """Any one value of a checkpoint changed: resuming it either fails with a one-line
    error, or trains on values the kernel can run on."""
    arrays = {f: getattr(FUZZ_NET, f).copy() for f in FIELDS}
    flat = arrays[name].reshape(-1)
    try:
        with np.errstate(over="ignore"):  # a float too large for float32 becomes inf: a value a file can hold
            flat[position % flat.size] = value
    except (OverflowError, ValueError):
        return  # not representable in this dtype: not a value a file could hold
    run = tmp_path / f"fuzz-{name}"
    run.mkdir(exist_ok=True)
    save_network(Network(**arrays), run / MODEL_FILE, FUZZ_CFG.model_hash(), FUZZ_CFG.model_values())
    try:
        net = load_network(run / MODEL_FILE, FUZZ_CFG)
    except CheckpointError as exc:
        assert "\n" not in str(exc)
        return
    assert np.isfinite(net.weights).all() and int(net.delays.max()) < net.pending.shape[0]
    assert net.since.min() >= 0 and net.since.max() <= kernel.NEVER and net.clock[0] >= 0
    try:
        training.train(FUZZ_CFG, run, np.full((2, 784), 200, np.uint8), resume=True)
    except (CheckpointError, training.NumericalError) as exc:
        assert "\n" not in str(exc)


# --- bench options ------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.text(max_size=30), st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6))
)
@example("1", 1.0)  # always include one valid call, so the recorder's signature is exercised
def test_fuzzed_bench_arguments_end_in_one_line_or_run(sizes, scale):
    """Whatever --sizes and --scale: a one-line error, click's usage error, or a benchmark
    of sane sizes (the benchmark itself is replaced by a recorder)."""
    ran = []
    real = bench.run_benchmark
    bench.run_benchmark = lambda size_list, scale, log, **options: ran.append(size_list) or []
    try:
        result = invoke("bench", "--sizes", sizes, "--scale", str(scale), "--output", os.devnull)
    finally:
        bench.run_benchmark = real
    if result.exit_code == 0:
        assert ran and all(1 <= n <= 100_000 for n in ran[0])
    elif result.exit_code != 2:  # 2: click's own usage error (e.g. --scale not a number)
        error_line(result)
