"""Small rough edges of the first hour: a closed pipe, a mistyped key, words that
agree with their numbers, one training time, a full disk named as such, and
snapshot_passes started too early. Tiny runs on synthetic data."""

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT
from helpers.cli import error_line, invoke
from helpers.scripts import load_script

from stdp_mnist import network, rundir
from stdp_mnist.config import Config, config_to_toml
from stdp_mnist.report import info


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`stdp-mnist info RUN | head`: the reader is gone; no "error:" line, and the exit
    status of a tool killed by SIGPIPE (141)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(config_to_toml(Config()))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first line
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "stdp_mnist", "info", str(run)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr


@pytest.mark.parametrize(
    "args, suggestion",
    [
        (["--set", "network.n_exc=3"], "did you mean network.n_excitatory?"),
        (["--set", "stdp.nu_pos=0.1"], "did you mean stdp.nu_post?"),
        (["--set", "netwrk.n_excitatory=3"], "did you mean network?"),
    ],
)
def test_an_unknown_key_suggests_the_nearest_known_one(tmp_path, args, suggestion):
    error_line(invoke("train", "--run-dir", tmp_path / "run", *args), suggestion)


def test_a_mistyped_key_in_a_config_file_suggests_too(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[training]\nmax_example = 4\n")
    error_line(
        invoke("train", "--config", path, "--run-dir", tmp_path / "run"),
        "training.max_example",
        "did you mean training.max_examples?",
    )


def test_words_agree_with_their_numbers(evaluated_run, tmp_path):
    text = "\n".join(info(evaluated_run))
    assert "(1 pass over 40 images" in text and "pass(es)" not in text
    result = invoke("plot", evaluated_run, "--what", "theta", "--out", tmp_path / "figures")
    assert result.exit_code == 0 and "1 figure in" in result.stderr, result.output


def train(config, run):
    return invoke("train", "--config", config, "--run-dir", run, "--set", "data.verify=false")


def test_train_and_info_report_the_same_training_time(tmp_path, config_file, data_dir):
    run = tmp_path / "run"
    trained = train(config_file, run)
    assert trained.exit_code == 0, trained.output
    shown = invoke("info", run)
    pattern = r"(\d+\.\d) s \(wall clock in the training loop, all sessions\)"
    assert re.findall(pattern, trained.stdout) == re.findall(pattern, shown.stdout) != []
    assert float(re.findall(pattern, shown.stdout)[0]) == pytest.approx(rundir.training_wall_s(run), abs=0.05)


def _failing_write(monkeypatch, module, name: str, at: int):
    """Make the ``at``-th atomic write of ``name`` (through ``module``'s atomic_open) fail as a full disk."""
    real = module.atomic_open
    writes = {"n": 0}

    def filling_disk(path, mode="wb"):
        if Path(path).name == name:
            writes["n"] += 1
            if writes["n"] == at:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, mode)

    monkeypatch.setattr(module, "atomic_open", filling_disk)


def test_a_full_disk_names_the_file_the_intact_checkpoint_and_how_to_continue(
    tmp_path, config_file, data_dir, monkeypatch
):
    run = tmp_path / "run"
    _failing_write(monkeypatch, network, "model.npz", at=2)  # the second checkpoint, at 16 examples
    result = train(config_file, run)
    line = error_line(
        result,
        f"{run / 'model.npz'}: No space left on device while writing it",
        "the checkpoint of 8 examples before it is intact",
        f"free some space, then continue with: stdp-mnist train --resume {run}",
    )
    assert "Errno" not in line
    assert rundir.checkpoint_examples(run) == 8  # the checkpoint said to be intact is


def test_a_full_disk_before_the_first_checkpoint_says_to_start_again(
    tmp_path, config_file, data_dir, monkeypatch
):
    run = tmp_path / "run"

    def full(run, record):
        raise OSError(errno.ENOSPC, "No space left on device", str(run.path("metrics.jsonl")))

    monkeypatch.setattr("stdp_mnist.rundir.Run.append_record", full)
    result = train(config_file, run)
    error_line(
        result,
        f"{run / 'metrics.jsonl'}: No space left on device",
        "no checkpoint was written yet",
        "start again with --overwrite",
    )


def test_snapshot_passes_started_before_the_run_is_one_line(tmp_path):
    script = REPO_ROOT / "scripts" / "experiments" / "snapshot_passes.py"
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "not-yet")], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"snapshot_passes: error: {tmp_path / 'not-yet'}: no such run directory; start it once the run exists"
    ]
    assert load_script("experiments/snapshot_passes").checkpoint_examples is rundir.checkpoint_examples
