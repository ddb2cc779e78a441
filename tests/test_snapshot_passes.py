"""scripts/snapshot_passes.py copies a run exactly at each pass end, whole or not at all."""

import numpy as np
from script_loader import load_script


def checkpoint(run, seen):
    np.savez(run / "model.npz", examples_seen=np.array([seen], np.int64))


def test_copies_at_pass_ends_and_reports_a_missed_one(tmp_path):
    script = load_script("snapshot_passes")
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
    assert script.examples_seen(copy) == 100 and (copy / "config.toml").is_file()
    assert not (tmp_path / "run-pass1.partial").exists()
    checkpoint(run, 250)  # pass 2 ended while nobody looked
    assert script.snapshot_due(run, 100, 2, log.append) == 3
    assert not (tmp_path / "run-pass2").exists()
    assert log == [f"pass 1: {copy}", "pass 2: missed (the checkpoint is at 250 examples)"]
