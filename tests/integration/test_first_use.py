"""What a new user meets besides errors: a notice while the kernel compiles, progress
heard from within one long kernel call, resume hints that can be pasted into a shell,
and `python -m stdp_mnist` working like the installed command."""

import subprocess
import sys
import time

import numpy as np
from helpers.cli import one_line_failure

from stdp_mnist import cli, config, evaluation
from stdp_mnist.network import STREAM_TEST, load_network
from stdp_mnist.rundir import CONFIG_FILE, MODEL_FILE


def test_compile_notice_is_shown_only_while_the_first_call_is_slow(capsys):
    with cli._compile_notice(after_s=0.05):
        time.sleep(0.3)
    assert cli.COMPILING in capsys.readouterr().err
    with cli._compile_notice(after_s=0.05) as call_off:
        call_off()
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_evaluation_reports_progress_within_a_kernel_call(evaluated_run, monkeypatch):
    cfg = config.load_config(evaluated_run / CONFIG_FILE).replace(evaluation={"block_size": 600})
    net = load_network(evaluated_run / MODEL_FILE, cfg)
    images = np.full((600, 784), 200, np.uint8)
    monkeypatch.setattr(evaluation, "POLL_SECONDS", 0.001)
    seen = []
    watched = np.concatenate(
        [c for _, c, _ in evaluation.frozen_counts(cfg, net, images, STREAM_TEST, progress=seen.append)]
    )
    plain = np.concatenate([c for _, c, _ in evaluation.frozen_counts(cfg, net, images, STREAM_TEST)])
    np.testing.assert_array_equal(watched, plain)  # watching does not change the results
    assert seen == sorted(seen) and seen[-1] == 600
    assert any(0 < k < 600 for k in seen)  # heard while the one kernel call was running


def test_resume_hint_is_shell_quoted_and_keeps_evaluate():
    assert cli.resume_command("runs/my run", True) == "stdp-mnist train --resume 'runs/my run' --evaluate"
    assert cli.resume_command("runs/a", False) == "stdp-mnist train --resume runs/a"


def test_python_dash_m_works_like_the_command():
    proc = subprocess.run(
        [sys.executable, "-m", "stdp_mnist", "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "Usage: stdp-mnist" in proc.stdout and "train" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "stdp_mnist", "info", "/nonexistent/run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    one_line_failure(proc, "/nonexistent/run")
