"""scripts/experiments/snapshot_passes.py copies a run exactly at each pass end, whole
or not at all."""

import sys

import numpy as np
from helpers.scripts import load_script

from stdp_mnist.rundir import checkpoint_examples


def checkpoint(run, seen):
    np.savez(run / "model.npz", examples_seen=np.array([seen], np.int64))


def test_copies_at_pass_ends_and_reports_a_missed_one(tmp_path):
    script = load_script("experiments/snapshot_passes")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("# the run's files travel with it\n")
    log = []
    assert script.snapshot_due(run, 100, 1, log.append) == 1  # no checkpoint yet
    checkpoint(run, 50)
    assert script.snapshot_due(run, 100, 1, log.append) == 1  # not there yet
    checkpoint(run, 100)
    assert script.snapshot_due(run, 100, 1, log.append) == 2  # the end of pass 1
    copy = tmp_path / "run-pass1"
    assert checkpoint_examples(copy) == 100 and (copy / "config.toml").is_file()
    assert not (tmp_path / "run-pass1.partial").exists()
    checkpoint(run, 250)  # pass 2 ended while nobody looked
    assert script.snapshot_due(run, 100, 2, log.append) == 3
    assert not (tmp_path / "run-pass2").exists()
    assert log == [f"pass 1: {copy}", "pass 2: missed (the checkpoint is at 250 examples)"]


def test_evaluations_run_one_at_a_time_skip_the_evaluated_and_stop_on_request(tmp_path):
    script = load_script("experiments/snapshot_passes")
    run = tmp_path / "run"
    for k in (1, 2, 3):
        (tmp_path / f"run-pass{k}").mkdir()
    (tmp_path / "run-pass2" / "metrics.json").write_text("{}")  # evaluated already
    started = []

    def command(copy):  # a stand-in for stdp-mnist evaluate: writes metrics.json, pass 3 hangs
        started.append(copy.name)
        wait = "import time; time.sleep(60)" if copy.name.endswith("3") else ""
        return [sys.executable, "-c", f"{wait}\nopen({str(copy / 'metrics.json')!r}, 'w').write('{{}}')"]

    log = []
    evaluations = script.PassEvaluations(run, passes=3, command=command, log=log.append)
    assert evaluations.poll()  # pass 1 started
    evaluations.child.wait()
    assert evaluations.poll()  # pass 1 done, pass 3 started (pass 2 skipped)
    assert started == ["run-pass1", "run-pass3"]
    assert (tmp_path / "run-pass1" / "metrics.json").exists()
    evaluations.stop()  # pass 3 is still sleeping: stopped, not evaluated
    assert not (tmp_path / "run-pass3" / "metrics.json").exists()
    assert log[-1] == f"stopped the evaluation of {tmp_path / 'run-pass3'}"
    assert (tmp_path / "run-pass1.evaluate.log").exists()


def test_a_failed_evaluation_is_reported_and_not_retried(tmp_path):
    script = load_script("experiments/snapshot_passes")
    (tmp_path / "run-pass1").mkdir()
    log = []
    evaluations = script.PassEvaluations(
        tmp_path / "run",
        passes=1,
        log=log.append,
        command=lambda copy: [sys.executable, "-c", "raise SystemExit(1)"],
    )
    assert evaluations.poll()
    evaluations.child.wait()
    assert not evaluations.poll()  # nothing left to run: the failed copy waits for a new start
    assert (
        log[-1]
        == f"evaluation of {tmp_path / 'run-pass1'} failed (exit 1); see {tmp_path / 'run-pass1'}.evaluate.log"
    )
