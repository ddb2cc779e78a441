"""Weight snapshots (run.snapshot_every): when they are written, what they hold, and that
keeping them changes nothing a run computes."""

import numpy as np
import pytest
from helpers.runs import blob_images, snapshot, tiny_config

from stdp_mnist import training
from stdp_mnist.rundir import MODEL_FILE, SNAPSHOTS_DIR, TRAIN_METRICS_FILE, RunDirError, read_jsonl
from stdp_mnist.snapshots import read_snapshots, write_snapshot


def untimed_metrics(run):
    """A run's metrics lines without their wall times."""
    return [{**record, "wall_s": None} for record in read_jsonl(run / TRAIN_METRICS_FILE)]


def test_snapshots_every_n_examples_change_nothing_else(tmp_path):
    images = blob_images(12)
    plain_cfg = tiny_config(training={"max_examples": 10})
    plain = training.train(plain_cfg, tmp_path / "plain", images)
    kept = training.train(plain_cfg.replace(run={"snapshot_every": 3}), tmp_path / "kept", images)
    assert not (tmp_path / "plain" / SNAPSHOTS_DIR).exists()
    np.testing.assert_array_equal(plain.weights, kept.weights)
    np.testing.assert_array_equal(plain.theta, kept.theta)
    # The checkpoint is the same byte for byte, the metrics lines but for their wall times.
    assert snapshot(tmp_path / "plain")[MODEL_FILE] == snapshot(tmp_path / "kept")[MODEL_FILE]
    assert untimed_metrics(tmp_path / "plain") == untimed_metrics(tmp_path / "kept")
    frames = read_snapshots(tmp_path / "kept", 784, 5)
    assert [examples for examples, _ in frames] == [0, 3, 6, 9]
    assert not np.array_equal(frames[0][1], frames[-1][1])  # the weights moved
    resumed_cfg = plain_cfg.replace(run={"snapshot_every": 3}, training={"max_examples": 12})
    resumed = training.train(resumed_cfg, tmp_path / "kept", images, resume=True)
    frames = read_snapshots(tmp_path / "kept", 784, 5)
    assert [examples for examples, _ in frames] == [0, 3, 6, 9, 12]
    np.testing.assert_array_equal(frames[-1][1], resumed.weights)


def test_missing_or_damaged_snapshots_are_one_line_errors(tmp_path):
    with pytest.raises(RunDirError, match="run.snapshot_every"):
        read_snapshots(tmp_path, 784, 5)
    write_snapshot(tmp_path, 0, np.zeros((784, 4), np.float32))
    with pytest.raises(RunDirError, match=r"expected \(784, 5\)"):
        read_snapshots(tmp_path, 784, 5)
    (tmp_path / SNAPSHOTS_DIR / "weights-000000001.npy").write_bytes(b"not numpy")
    with pytest.raises(RunDirError, match="not a readable snapshot"):
        read_snapshots(tmp_path, 784, 4)
