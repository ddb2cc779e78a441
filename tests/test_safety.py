"""Issue 13, tried as an outsider would: one writer per run directory, --overwrite that
loses nothing, bounded work and signals heard at once, validated checkpoints, IDX files
that cannot exhaust memory, no tracebacks under fuzzing, resume refusing a changed
model, and what a new user meets in the first hour."""

import dataclasses
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdp_mnist import cli, config, evaluation, kernel, training
from stdp_mnist.bench import BenchmarkError, checkpoint_size
from stdp_mnist.config import SECTIONS, Config, ConfigError, config_to_toml
from stdp_mnist.data import MNIST_FILES, DataError, _idx_bytes, read_idx
from stdp_mnist.network import STREAM_TEST, CheckpointError, Network, load_network, new_network, save_network
from stdp_mnist.predict import load_assignments
from stdp_mnist.rundir import ASSIGNMENTS_FILE, CONFIG_FILE, LOCK_FILE, MODEL_FILE, NPZ_ERRORS, RunDirError, read_npz, run_dir_lock
from script_loader import load_script
from test_cli import CLI, TINY_TOML, error_line, invoke, make_data_dir, only_error_line
from test_plots import tiny_run


def snapshot(run: Path) -> dict[str, bytes]:
    """Every file of a run directory (its lock aside) and its bytes."""
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != LOCK_FILE}


def copy_run(run: Path, to: Path) -> Path:
    """A copy of a run directory, to damage or change."""
    return Path(shutil.copytree(run, to))


def config_file(path: Path, data_dir: Path, toml: str = TINY_TOML) -> Path:
    """A tiny config file reading the IDX files in ``data_dir`` as they are."""
    path.write_text(toml + f'\n[data]\nverify = false\ndir = "{data_dir}"\n')
    return path


def one_line_failure(proc: subprocess.CompletedProcess, *needles: str, code: int | None = None) -> str:
    """A real process failed with one 'stdp-mnist: error:' line naming every needle."""
    assert proc.returncode != 0 if code is None else proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("stdp-mnist: error:"), proc.stderr
    for needle in needles:
        assert needle in last, last
    return last


def cli_process(*args, **popen) -> subprocess.Popen:
    return subprocess.Popen([str(CLI), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("evaluated"), evaluated=True)


# --- 1. one writer per run directory ---------------------------------------------------


def test_second_writer_is_refused_and_a_killed_writers_lock_does_not_block(tmp_path):
    data_dir = make_data_dir(tmp_path / "mnist")
    config_path = config_file(tmp_path / "long.toml", data_dir,
                              TINY_TOML.replace("max_examples = 20", "max_examples = 1000000\npasses = 100000"))
    run = tmp_path / "run"
    trainer = cli_process("train", "--config", config_path, "--run-dir", run)
    try:
        deadline = time.monotonic() + 120
        while not (run / MODEL_FILE).exists() and time.monotonic() < deadline:
            assert trainer.poll() is None, trainer.communicate()
            time.sleep(0.05)
        pid = str(trainer.pid)
        for args in (("train", "--config", config_path, "--run-dir", run, "--overwrite"),
                     ("train", "--resume", run)):
            proc = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120)
            one_line_failure(proc, str(run), f"pid {pid}")
        proc = subprocess.run([str(CLI), "evaluate", str(run)], capture_output=True, text=True, timeout=120)
        one_line_failure(proc, "still training", f"pid {pid}")
        assert not (run / "metrics.json").exists()
    finally:
        trainer.kill()  # SIGKILL: no chance to clean up, the lock goes with the process
        trainer.communicate()
    # the kill may land in a checkpoint's write: its temp file is the killed writer's
    # leftover, which the next holder of the lock removes; everything else stays
    before = {name: data for name, data in snapshot(run).items() if not name.endswith(".tmp")}
    with run_dir_lock(run, "test"):  # a stale lock does not block
        assert (run / LOCK_FILE).read_text().split() == [str(os.getpid()), "test"]
    assert snapshot(run) == before


def test_lock_refuses_a_second_holder_in_the_same_process(tmp_path):
    with run_dir_lock(tmp_path, "train"):
        with pytest.raises(RunDirError, match=f"pid {os.getpid()} \\(train\\)"):
            with run_dir_lock(tmp_path, "plot"):
                pass
    with run_dir_lock(tmp_path, "plot"):  # released when the block ends
        pass


# --- 2. --overwrite never destroys the old run before the new one exists ---------------


def test_overwrite_that_fails_at_start_keeps_the_old_run(evaluated, tmp_path, monkeypatch):
    cfg_path = config_file(tmp_path / "new.toml", tmp_path / "no-data")
    before = snapshot(evaluated)
    # the data cannot be loaded
    error_line(invoke("train", "--config", cfg_path, "--run-dir", evaluated, "--overwrite"), "not found")
    assert snapshot(evaluated) == before
    # the network cannot be allocated
    good = config_file(tmp_path / "good.toml", make_data_dir(tmp_path / "mnist"))

    def no_memory(cfg):
        raise MemoryError

    monkeypatch.setattr("stdp_mnist.training.new_network", no_memory)
    error_line(invoke("train", "--config", good, "--run-dir", evaluated, "--overwrite"), "out of memory")
    assert snapshot(evaluated) == before


def test_overwrite_puts_the_old_run_back_when_the_new_config_cannot_be_written(evaluated, tmp_path, monkeypatch):
    run = copy_run(evaluated, tmp_path / "run")
    before = snapshot(run)

    def disk_full(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("stdp_mnist.rundir.write_atomic", disk_full)
    result = invoke("train", "--config", config_file(tmp_path / "new.toml", make_data_dir(tmp_path / "mnist")),
                    "--run-dir", run, "--overwrite")
    error_line(result, "No space left", "previous run is kept")
    assert snapshot(run) == before
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == [LOCK_FILE]


def test_overwrite_replaces_the_old_run_once_the_new_one_starts(evaluated, tmp_path):
    run = copy_run(evaluated, tmp_path / "run")
    cfg_path = config_file(tmp_path / "new.toml", make_data_dir(tmp_path / "mnist"))
    result = invoke("train", "--config", cfg_path, "--run-dir", run, "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (run / "metrics.json").exists() and not (run / "assignments.npz").exists()
    assert "n_excitatory = 4" in (run / CONFIG_FILE).read_text()
    assert not [p for p in run.iterdir() if p.name.startswith(".replaced")]


# --- 3. bounded work, and signals always heard ------------------------------------------


@pytest.mark.parametrize("setting, key", [
    ("network.n_excitatory=1000000000", "network.n_excitatory"),
    ("input.max_retries=1000000", "input.max_retries"),
    ("input.min_spikes=1000000", "input.min_spikes"),
    ("simulation.present_ms=1e9", "simulation.present_ms"),
    ("simulation.rest_ms=1e9", "simulation.rest_ms"),
    ("simulation.dt_ms=1e-3,network.max_delay_ms=0", "simulation.dt_ms"),
    ("evaluation.block_size=100000000", "evaluation.block_size"),
    ("network.n_excitatory=20000", "network.n_excitatory"),  # neurons x steps x tries of one example
])
def test_work_bounds_name_the_key(tmp_path, setting, key):
    result = invoke("train", "--run-dir", tmp_path / "run", *[arg for one in setting.split(",") for arg in ("--set", one)])
    only_error_line(result, key)
    assert not (tmp_path / "run").exists()  # checked before anything is written


def test_network_larger_than_memory_is_refused(monkeypatch):
    monkeypatch.setattr(config, "physical_memory_bytes", lambda: 1 << 26)  # 64 MiB
    with pytest.raises(ConfigError, match="network.n_excitatory.*GiB"):
        Config().replace(network={"n_excitatory": 6400})
    Config().replace(network={"n_excitatory": 100})
    # the evaluation's responses count too: 60,000 labelled images' counts and features
    # of 6,400 neurons are about 2.3 GB, 10,000 images' about 0.5 GB
    monkeypatch.setattr(config, "physical_memory_bytes", lambda: 2 << 30)
    with pytest.raises(ConfigError, match="network.n_excitatory.*GiB"):
        Config().replace(network={"n_excitatory": 6400}, evaluation={"n_assign": 60000, "n_test": 10000})
    Config().replace(network={"n_excitatory": 6400}, evaluation={"n_assign": 10000, "n_test": 10000})


def test_paper_configs_are_within_the_bounds():
    for path in Path(__file__).resolve().parents[1].joinpath("configs").glob("*.toml"):
        config.load_config(path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_evaluation_hears_a_signal_within_a_second(tmp_path, sig):
    """One frozen kernel call of 4,000 images (several seconds) is under way when the
    signal comes: the command stops within about a second, with one line, and writes nothing."""
    data_dir = make_data_dir(tmp_path / "mnist", n_train=4000, n_test=20)
    cfg = Config().replace(network={"n_excitatory": 200}, evaluation={"n_assign": 4000, "block_size": 4000},
                           data={"dir": str(data_dir), "verify": False})
    run = tmp_path / "run"
    run.mkdir()
    (run / CONFIG_FILE).write_text(config_to_toml(cfg))
    save_network(new_network(cfg), run / MODEL_FILE, cfg.model_hash(), cfg.model_values())
    proc = cli_process("evaluate", run, env=dict(os.environ, NUMBA_NUM_THREADS="1"), start_new_session=True)
    line = ""
    while not line.startswith("assign"):  # the first progress line: the kernel call is running
        line = proc.stderr.readline()
        assert line or proc.poll() is None, proc.communicate()
    time.sleep(0.5)
    proc.send_signal(sig)
    sent = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 1.5
    assert proc.returncode == 130 and "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("stdp-mnist: error: interrupted; the finished responses are kept")
    assert not (run / "metrics.json").exists()


# --- 4. checkpoints are input too --------------------------------------------------------


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


@pytest.mark.parametrize("name, change, needle", [
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
])
def test_damaged_checkpoint_is_one_line_and_never_overwritten(evaluated, tmp_path, name, change, needle):
    run = copy_run(evaluated, tmp_path / "run")
    model = _damaged(run, name, change)
    before = model.read_bytes()
    for args in (("evaluate", run), ("train", "--resume", run), ("predict", run, "x.png")):
        only_error_line(invoke(*args), str(model), needle)
    assert model.read_bytes() == before


def test_checkpoint_claiming_a_huge_array_is_refused_before_reading_it(tmp_path):
    cfg = Config().replace(network={"n_excitatory": 4})
    path = tmp_path / MODEL_FILE
    save_network(new_network(cfg), path, cfg.model_hash(), cfg.model_values())
    raw = path.read_bytes()
    honest, huge = b"'shape': (784, 4), }", b"'shape': (78400000000000, 4), }"
    start = raw.index(honest)  # the weights' header; its padding absorbs the longer shape
    assert raw[start + len(huge):start + len(huge) + 1] == b" "
    path.write_bytes(raw[:start] + huge + raw[start + len(huge):])
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
    examples_seen = load_script("snapshot_passes").checkpoint_examples
    kinds = set()
    for member in members:
        start = member.header_offset + 30 + len(member.filename) + len(member.extra)
        for offset in range(0, min(member.compress_size, 120), 3):
            data = bytearray(raw)
            data[start + offset] ^= 0xFF
            damaged.write_bytes(bytes(data))
            try:
                load_network(damaged, cfg)
            except CheckpointError:
                pass
            try:
                read_npz(damaged)
            except NPZ_ERRORS as exc:
                kinds.add(type(exc))
            try:
                checkpoint_size(damaged)  # bench --trained
            except BenchmarkError:
                pass
            assert examples_seen(damaged.parent) in (None, 0)  # scripts/snapshot_passes.py
    assert {tokenize.TokenError, zlib.error if compressed else ValueError} <= kinds  # both paths were hit


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_damaged_assignments_file_is_a_run_dir_error(tmp_path):
    np.savez(tmp_path / ASSIGNMENTS_FILE, assignments=np.arange(4), class_rates=np.ones((4, 10)))
    raw = (tmp_path / ASSIGNMENTS_FILE).read_bytes()
    for offset in range(30, 160):  # the first member's name, .npy header and data
        data = bytearray(raw)
        data[offset] ^= 0xFF
        (tmp_path / ASSIGNMENTS_FILE).write_bytes(bytes(data))
        try:
            load_assignments(tmp_path)
        except RunDirError as exc:
            assert "not a readable assignments file" in str(exc)


FUZZ_CFG = Config().replace(network={"n_excitatory": 3, "max_delay_ms": 2.0},
                            simulation={"present_ms": 5.0, "rest_ms": 2.0}, training={"max_examples": 1})
FUZZ_NET = new_network(FUZZ_CFG)
FIELDS = [f.name for f in dataclasses.fields(Network)]
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**63, 2**64 - 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELDS), st.integers(0, 10**6), VALUES)
def test_fuzzed_checkpoint_values_are_refused_or_safe(tmp_path, name, position, value):
    """Any one value of a checkpoint changed: resuming it either fails with a one-line
    error, or trains on values the kernel can run on."""
    arrays = {f: getattr(FUZZ_NET, f).copy() for f in FIELDS}
    flat = arrays[name].reshape(-1)
    try:
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
    assert 0 <= net.since.min() and net.since.max() <= kernel.NEVER and net.clock[0] >= 0
    try:
        training.train(FUZZ_CFG, run, np.full((2, 784), 200, np.uint8), resume=True)
    except (CheckpointError, training.NumericalError) as exc:
        assert "\n" not in str(exc)


# --- 5. data files cannot exhaust memory -----------------------------------------------


def write_bomb(path: Path) -> Path:
    """A gzip IDX file under 1 MB that claims 10 images (7,840 bytes) and expands to 50 MB."""
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(_idx_bytes(np.zeros((10, 28, 28), np.uint8))[:16])
        zeros = bytes(1 << 20)
        for _ in range(50):
            fh.write(zeros)
    assert path.stat().st_size < 1 << 20
    return path


def test_gzip_expanding_far_beyond_its_header_fails_fast_and_small(tmp_path):
    path = write_bomb(tmp_path / "bomb-idx3-ubyte.gz")
    start = time.monotonic()
    with pytest.raises(DataError, match="trailing bytes"):
        read_idx(path)
    assert time.monotonic() - start < 2


def test_train_on_a_gzip_bomb_is_one_line_and_writes_no_run(tmp_path):
    data_dir = make_data_dir(tmp_path / "mnist")
    (data_dir / MNIST_FILES["train_images"]).unlink()
    bomb = write_bomb(data_dir / f"{MNIST_FILES['train_images']}.gz")
    start = time.monotonic()
    result = invoke("train", "--config", config_file(tmp_path / "c.toml", data_dir), "--run-dir", tmp_path / "run")
    error_line(result, bomb.name, "trailing bytes")
    assert time.monotonic() - start < 5
    assert not (tmp_path / "run" / CONFIG_FILE).exists() and not (tmp_path / "run" / MODEL_FILE).exists()


@pytest.mark.parametrize("dims, needle", [
    ((2**32 - 1, 2**32 - 1, 2**32 - 1), "more than"),
    ((60000, 28, 28, 28, 28), "dimensions"),
    ((2**31 + 1,), "more than"),
])
def test_idx_header_with_absurd_dimensions_is_refused(tmp_path, dims, needle):
    path = tmp_path / "claims.idx"
    path.write_bytes(bytes([0, 0, 8, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims) + b"\0" * 16)
    with pytest.raises(DataError, match=needle):
        read_idx(path)


# --- 6. no tracebacks under fuzzing -------------------------------------------------------

KEYS = [f"{section}.{name}" for section, cls in SECTIONS.items() if section != "data"
        for name in cls.__dataclass_fields__]
TEXT_VALUES = st.one_of(
    st.integers(-2**70, 2**70).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "nan", "inf", "-inf", "1e308", "''", "[1, 2]", "{a = 1}", "population"]),
    st.text(max_size=12))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(KEYS), TEXT_VALUES), min_size=1, max_size=3))
def test_fuzzed_train_settings_end_in_one_line(tmp_path, overrides):
    """Whatever --set values: a one-line error, never a traceback (valid settings reach
    the data, which is missing here, so nothing ever trains)."""
    sets = [arg for key, value in overrides for arg in ("--set", f"{key}={value}")]
    result = invoke("train", "--run-dir", tmp_path / "run", "--set", "data.verify=false",
                    "--set", f"data.dir={tmp_path / 'nothing'}", *sets)
    error_line(result)


def test_deeply_nested_values_are_one_line(tmp_path):
    nested = "[" * 5000 + "]" * 5000
    only_error_line(invoke("train", "--run-dir", tmp_path / "run", "--set", f"run.seed={nested}"), "run.seed")
    path = tmp_path / "deep.toml"
    path.write_text(f"[run]\nseed = {nested}\n")
    only_error_line(invoke("train", "--config", path, "--run-dir", tmp_path / "run"), "deep.toml")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30), st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6)))
def test_fuzzed_bench_arguments_end_in_one_line_or_run(sizes, scale):
    ran = []
    import stdp_mnist.bench as bench

    real = bench.run_benchmark
    bench.run_benchmark = lambda size_list, scale, log: ran.append(size_list) or []
    try:
        result = invoke("bench", "--sizes", sizes, "--scale", str(scale), "--output", os.devnull)
    finally:
        bench.run_benchmark = real
    if result.exit_code == 0:
        assert ran and all(1 <= n <= 100_000 for n in ran[0])
    elif result.exit_code != 2:  # 2: click's own usage error (e.g. --scale not a number)
        error_line(result)


# --- 7. resume refuses a changed model -------------------------------------------------


def test_resume_with_a_changed_model_setting_names_the_key(evaluated, tmp_path):
    run = copy_run(evaluated, tmp_path / "run")
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
    """Checkpoints written before model_values existed (runs in flight) resume as before."""
    cfg = Config().replace(network={"n_excitatory": 4})
    save_network(new_network(cfg), tmp_path / MODEL_FILE, cfg.model_hash())
    load_network(tmp_path / MODEL_FILE, cfg.replace(stdp={"nu_post": 0.02}))


# --- 8. a new user's first hour ------------------------------------------------------------


def test_compile_notice_is_shown_only_while_the_first_call_is_slow(capsys):
    with cli._compile_notice(after_s=0.05):
        time.sleep(0.3)
    assert cli.COMPILING in capsys.readouterr().err
    with cli._compile_notice(after_s=0.05) as call_off:
        call_off()
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_evaluation_reports_progress_within_a_kernel_call(evaluated, monkeypatch):
    cfg = config.load_config(evaluated / CONFIG_FILE).replace(evaluation={"block_size": 600})
    net = load_network(evaluated / MODEL_FILE, cfg)
    images = np.full((600, 784), 200, np.uint8)
    monkeypatch.setattr(evaluation, "POLL_SECONDS", 0.001)
    seen = []
    watched = np.concatenate([c for _, c, _ in evaluation.frozen_counts(cfg, net, images, STREAM_TEST,
                                                                        progress=seen.append)])
    plain = np.concatenate([c for _, c, _ in evaluation.frozen_counts(cfg, net, images, STREAM_TEST)])
    np.testing.assert_array_equal(watched, plain)  # watching does not change the results
    assert seen == sorted(seen) and seen[-1] == 600
    assert any(0 < k < 600 for k in seen)  # heard while the one kernel call was running


def test_info_knows_the_dataset_size_and_hides_temp_files(evaluated):
    (evaluated / "figures").mkdir(exist_ok=True)
    (evaluated / "figures" / ".receptive_fields.png.x1.tmp").write_bytes(b"torn")
    result = invoke("info", evaluated)
    assert result.exit_code == 0, result.output
    assert "over 40 images" in result.output and "finished" in result.output
    assert ".tmp" not in result.output and LOCK_FILE not in result.output


def test_stale_temp_files_are_removed_by_the_next_writer(evaluated):
    (evaluated / "figures").mkdir(exist_ok=True)
    stale = [evaluated / ".model.npz.abc.tmp", evaluated / "figures" / ".theta.png.def.tmp"]
    for path in stale:
        path.write_bytes(b"left by a killed process")
    result = invoke("plot", evaluated, "--what", "theta")
    assert result.exit_code == 0, result.output
    assert not any(path.exists() for path in stale)


def test_resume_hint_is_shell_quoted_and_keeps_evaluate():
    assert cli.resume_command("runs/my run", True) == "stdp-mnist train --resume 'runs/my run' --evaluate"
    assert cli.resume_command("runs/a", False) == "stdp-mnist train --resume runs/a"


def test_python_dash_m_works_like_the_command():
    proc = subprocess.run([sys.executable, "-m", "stdp_mnist", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and "Usage: stdp-mnist" in proc.stdout and "train" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "stdp_mnist", "info", "/nonexistent/run"],
                          capture_output=True, text=True, timeout=120)
    one_line_failure(proc, "/nonexistent/run")
