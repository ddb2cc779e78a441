"""stdp_mnist.rundir.Run: a run directory read once. The command line hands the trained
network in memory to the evaluation and the figures; each file is read once, and every
write failure names its file, what is kept and how to go on."""

import builtins
import errno
import io
import time
from pathlib import Path

import numpy as np
import pytest
from helpers.cli import error_line, invoke
from helpers.runs import tiny_config

from stdp_mnist import RunExistsError, cli, network, training
from stdp_mnist.rundir import EVAL_PARTIAL_DIR, MODEL_FILE, Run, read_evaluation


@pytest.fixture
def opened_for_reading(monkeypatch):
    """The paths ending in model.npz opened for reading in this process (by open,
    Path.read_bytes, np.load or zipfile, which all go through io.open)."""
    opened = []
    real = io.open

    def counting_open(file, mode="r", *args, **kwargs):
        if (
            isinstance(file, (str, Path))
            and str(file).endswith(MODEL_FILE)
            and "r" in mode
            and "+" not in mode
        ):
            opened.append(str(file))
        return real(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    return opened


def test_train_and_evaluate_open_the_model_at_most_twice(tmp_path, data_dir, no_md5, opened_for_reading):
    run = tmp_path / "q"
    result = invoke(
        "train",
        "--config",
        "quick",
        "--run-dir",
        run,
        *("--set", "training.max_examples=8", "--set", "evaluation.n_assign=20"),
        *("--set", "evaluation.n_test=10", "--set", "simulation.present_ms=20"),
        "--evaluate",
    )
    assert result.exit_code == 0, result.output
    assert (run / "metrics.json").is_file() and (run / "figures" / "confusion_all.png").is_file()
    assert len(opened_for_reading) <= 2, opened_for_reading
    # and resuming the finished run reads it once more (to say it is finished), not again per step
    opened_for_reading.clear()
    assert invoke("train", "--resume", run, "--evaluate").exit_code == 0
    assert len(opened_for_reading) <= 2, opened_for_reading


def test_a_run_reads_each_file_once(tmp_path, opened_for_reading):
    cfg = tiny_config(training={"max_examples": 4})
    images = np.random.default_rng(0).integers(0, 256, (4, 784)).astype(np.uint8)
    training.train(cfg, tmp_path / "run", images)
    opened_for_reading.clear()
    run = Run(tmp_path / "run")
    assert run.network is run.network and int(run.network.examples_seen[0]) == 4
    assert run.records() is run.records() and [r.examples_seen for r in run.records()] == [4]
    assert run.evaluation is None
    assert opened_for_reading == [str(tmp_path / "run" / MODEL_FILE)]


def test_the_api_names_its_own_arguments_and_the_cli_its_flags(tmp_path, data_dir, no_md5):
    cfg = tiny_config(training={"max_examples": 4})
    images = np.random.default_rng(0).integers(0, 256, (4, 784)).astype(np.uint8)
    training.train(cfg, tmp_path / "run", images)
    with pytest.raises(RunExistsError, match=r"resume=True\) continues it, overwrite=True starts again"):
        training.train(cfg, tmp_path / "run", images)
    config = tmp_path / "tiny.toml"
    config.write_text("[network]\nn_excitatory = 4\n")
    line = error_line(invoke("train", "--config", config, "--run-dir", tmp_path / "run"), "not empty")
    assert "--resume" in line and "--overwrite" in line and "=True" not in line


def test_training_time_excludes_the_kernels_compilation(tmp_path, monkeypatch):
    def slow_first_compile(cfg, net):
        time.sleep(1.0)
        return 1.0

    monkeypatch.setattr(training, "prepare_kernels", slow_first_compile)
    cfg = tiny_config(training={"max_examples": 4})
    images = np.random.default_rng(0).integers(0, 256, (4, 784)).astype(np.uint8)
    training.train(cfg, tmp_path / "run", images)
    assert Run(tmp_path / "run").records()[-1].wall_s < 0.9  # 4 tiny examples, the second not counted


def test_the_compile_notice_is_said_once_per_run(tmp_path, data_dir, no_md5, monkeypatch):
    compiled = []

    def compile_once(cfg, net):  # as numba on a first run: slow the first time in a process
        network.prepare_kernels(cfg, net)
        if not compiled:
            time.sleep(2.5)
            compiled.append(True)
        return 0.0

    monkeypatch.setattr(training, "prepare_kernels", compile_once)
    config = tmp_path / "tiny.toml"
    config.write_text(
        "[network]\nn_excitatory = 4\n[simulation]\npresent_ms = 20.0\n[training]\nmax_examples = 4\n"
        "[evaluation]\nn_assign = 20\nn_test = 10\n"
    )
    result = invoke("train", "--config", config, "--run-dir", tmp_path / "run", "--evaluate")
    assert result.exit_code == 0, result.output
    assert result.stderr.count(cli.COMPILING) == 1


def test_a_full_disk_while_evaluating_names_the_file_and_what_is_kept(
    tmp_path, data_dir, no_md5, monkeypatch
):
    config = tmp_path / "tiny.toml"
    config.write_text(
        "[network]\nn_excitatory = 4\n[simulation]\npresent_ms = 20.0\n[training]\nmax_examples = 4\n"
        "[evaluation]\nn_assign = 20\nn_test = 10\n"
    )
    run = tmp_path / "run"
    assert invoke("train", "--config", config, "--run-dir", run).exit_code == 0
    from stdp_mnist import rundir

    real = rundir.write_atomic

    def full(path, content):
        if Path(path).name == "metrics.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, content)

    monkeypatch.setattr(rundir, "write_atomic", full)
    line = error_line(
        invoke("evaluate", run),
        f"{run / 'metrics.json'}: No space left on device while writing it",
        f"the frozen responses are kept in {run / EVAL_PARTIAL_DIR}",
        f"free some space, then run: stdp-mnist evaluate {run}",
    )
    assert "Errno" not in line
    assert read_evaluation(run) is None and (run / EVAL_PARTIAL_DIR).is_dir()
    monkeypatch.setattr(rundir, "write_atomic", real)
    assert invoke("evaluate", run).exit_code == 0  # continues from the kept responses
    assert read_evaluation(run).n_test == 10


def test_export_keeps_an_existing_file_unless_overwrite(evaluated_run, tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"mine")
    error_line(invoke("export", evaluated_run, target), f"{target}: exists; use --overwrite to replace it")
    assert target.read_bytes() == b"mine"
    result = invoke("export", evaluated_run, target, "--overwrite")
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:2] == b"PK"


def test_the_checkpoint_carries_its_format_and_a_newer_one_is_refused_by_name(tmp_path):
    cfg = tiny_config()
    net = network.new_network(cfg)
    path = tmp_path / MODEL_FILE
    network.save_network(net, path, cfg.model_hash(), cfg.model_values())
    with np.load(path) as data:
        assert int(data["format_version"]) == network.CHECKPOINT_FORMAT == 2
        arrays = {name: data[name] for name in data.files}
    np.savez(path, **{**arrays, "format_version": np.array(3)})
    with pytest.raises(network.CheckpointError) as error:
        network.load_network(path, cfg)
    assert str(error.value) == (
        f"{path}: checkpoint format 3, written by a newer stdp-mnist; this one reads format 2 "
        "(upgrade stdp-mnist to continue or evaluate this run)"
    )
    del arrays["format_version"]  # a checkpoint from before versions: format 1
    np.savez(path, **arrays)
    assert int(network.load_network(path, cfg).examples_seen[0]) == 0


def test_a_figure_that_cannot_be_written_names_its_file_and_how_to_draw_it_again(evaluated_run, monkeypatch):
    from stdp_mnist import plots

    def full(theta, path, **options):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(plots, "plot_theta", full)
    figure = evaluated_run / "figures" / "theta.png"
    error_line(
        invoke("plot", evaluated_run, "--what", "theta"),
        f"{figure}: No space left on device while writing it; the run's other files are intact",
        f"draw it again with: stdp-mnist plot {evaluated_run} --what theta",
    )
