"""Signals never lose a run: SIGINT, SIGTERM or SIGKILL at any moment of training
leaves a whole checkpoint that resumes bit-identically, an evaluation hears a signal
within about a second, and a signal while the figures are drawn keeps the trained run.
(Interrupted evaluations that continue are in test_resumable_evaluation.py, a sweep's
workers in test_sweep.py.)"""

import os
import random
import signal
import threading
import time

import pytest
from helpers.cli import cli_process, error_line, invoke, run_cli
from helpers.runs import assert_networks_equal, make_data_dir, tiny_config

from stdp_mnist import plots, training
from stdp_mnist.config import Config, config_to_toml
from stdp_mnist.network import load_network, new_network, save_network
from stdp_mnist.rundir import CONFIG_FILE, MODEL_FILE


def require_main_thread():
    """Skip where Python cannot install signal handlers (a test run outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handling needs the main thread")


# --- training ------------------------------------------------------------------------


def test_interrupt_checkpoints_and_resumes_bit_identically(tmp_path, images, monkeypatch):
    """A SIGINT arriving while the kernel runs: checkpoint, TrainingInterrupted, and a
    resume that ends exactly where an uninterrupted run does."""
    require_main_thread()
    cfg = tiny_config(training={"max_examples": 16}, run={"checkpoint_every": 1000})
    reference = training.train(cfg, tmp_path / "A", images)

    original = training.kernel.train_examples
    calls = []

    def interrupted_kernel(*args):
        original(*args)
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(training.kernel, "train_examples", interrupted_kernel)
    run = tmp_path / "B"
    with pytest.raises(training.TrainingInterrupted) as info:
        training.train(cfg, run, images)
    stopped = info.value.examples_seen
    assert 0 < stopped < 16
    assert int(load_network(run / MODEL_FILE, cfg).examples_seen[0]) == stopped
    monkeypatch.setattr(training.kernel, "train_examples", original)
    resumed = training.train(cfg, run, images, resume=True)
    assert_networks_equal(reference, resumed)


def test_interrupt_during_progress_still_checkpoints(tmp_path, images):
    require_main_thread()
    cfg = tiny_config(training={"max_examples": 16}, run={"checkpoint_every": 1000})
    run = tmp_path / "run"
    with pytest.raises(training.TrainingInterrupted) as info:
        training.train(cfg, run, images, progress=lambda p: os.kill(os.getpid(), signal.SIGINT))
    assert (run / MODEL_FILE).is_file()
    assert int(load_network(run / MODEL_FILE, cfg).examples_seen[0]) == info.value.examples_seen


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_signal_at_a_random_moment_then_resume_is_bit_identical(bar_config, bar_reference, sig):
    cfg = bar_config.cfg
    run_dir = bar_config.root / f"run-{sig.name}"
    proc = cli_process("train", "--config", bar_config.path, "--run-dir", run_dir)
    model = run_dir / MODEL_FILE
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
    assert_networks_equal(load_network(model, cfg), bar_reference)


# --- evaluation and figures ------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_evaluation_hears_a_signal_within_a_second(tmp_path, sig):
    """One frozen kernel call of 4,000 images (several seconds) is under way when the
    signal comes: the command stops within about a second, with one line, and writes nothing."""
    data_dir = make_data_dir(tmp_path / "mnist", n_train=4000, n_test=20)
    cfg = Config().replace(
        network={"n_excitatory": 200},
        evaluation={"n_assign": 4000, "block_size": 4000},
        data={"dir": str(data_dir), "verify": False},
    )
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
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("stdp-mnist: error: interrupted; the finished responses are kept")
    )
    assert not (run / "metrics.json").exists()


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_signal_while_drawing_figures_keeps_the_run(
    tmp_path, data_dir, no_md5, config_file, monkeypatch, sig
):
    """Ctrl-C (or SIGTERM) after training, while its figures are drawn: the run is
    complete and saved, the drawing stops with a warning, and with --evaluate the
    command stops before evaluating (exit 130)."""
    require_main_thread()
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), getattr(signal, sig))
        raise AssertionError("the signal should have stopped the drawing")

    monkeypatch.setattr(plots, "plot_receptive_fields", interrupted)
    run = tmp_path / "run"
    args = (
        "train",
        "--config",
        config_file,
        "--run-dir",
        run,
        "--set",
        f"data.dir={data_dir}",
        "--set",
        "training.max_examples=4",
    )
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "figures interrupted" in result.stderr and f"stdp-mnist plot {run}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "trained 4 examples" in result.stdout and (run / "model.npz").is_file()
    assert not (run / "figures" / "theta.png").exists()  # drawing stopped there
    assert not list((run / "figures").glob("*.tmp")) if (run / "figures").exists() else True
    result = invoke(*args, "--overwrite", "--evaluate")
    assert result.exit_code == 130
    error_line(result, "interrupted before the evaluation", f"stdp-mnist evaluate {run}")
    assert not (run / "metrics.json").exists()
    assert (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
    ) == handlers  # handlers restored
