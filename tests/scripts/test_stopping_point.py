"""scripts/experiments/stopping_point.py: networks of a recorded run stopped earlier or
trained otherwise, each set against the run's final network on the same test images."""

import json

import numpy as np
import pytest
from helpers.records import make_record
from helpers.scripts import load_script

stopping = load_script("experiments/stopping_point")
IMAGES = 200
LABELS = np.arange(IMAGES, dtype=np.uint8) % 10


def right_on(right: np.ndarray) -> dict[str, np.ndarray]:
    """predictions.npz content whose 'all' readout is right exactly where ``right`` is."""
    chosen = np.where(right, LABELS, (LABELS + 1) % 10).astype(np.uint8)
    return {"labels": LABELS, "all": chosen, "proportion": chosen, "linear": chosen}


def images(first: int, last: int) -> np.ndarray:
    return (np.arange(IMAGES) >= first) & (np.arange(IMAGES) < last)


def set_metrics(record, **values):
    path = record / "metrics.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **values}))


@pytest.fixture
def records(tmp_path):
    """dc2015-400 seed 0's final record (right on images 0-149), its trajectory at 150,000
    examples (right on 0-169) and its validation protocol's network (right on 10-169)."""
    runs, inputs = tmp_path / "runs", tmp_path / "stopping"
    make_record(runs, "dc2015-400-seed0", 400, 0, 0.75, 0.3, predictions=right_on(images(0, 150)))
    early = make_record(
        inputs,
        "dc2015-400-seed0--150000-examples",
        400,
        0,
        0.85,
        0.3,
        ["training.max_examples=150000"],
        predictions=right_on(images(0, 170)),
    )
    set_metrics(early, examples_trained=150_000)
    validation = make_record(
        inputs,
        "dc2015-400-seed0--validation-protocol",
        400,
        0,
        0.80,
        0.3,
        ["evaluation.split=validation", "evaluation.n_assign=50000"],
        predictions=right_on(images(10, 170)),
    )
    set_metrics(validation, split="test", n_assign=50_000, examples_trained=150_000)
    return runs, inputs


def test_each_network_against_the_final_one(records):
    runs, inputs = records
    rows = {line.split(" | ")[0].lstrip("| "): line for line in stopping.report(inputs, runs).splitlines()}
    final = rows["dc2015-400-seed0 (final)"]
    assert final.endswith("| 0-59,999 | 180,000 | 59,999 | 0-59,999 | 0.7500 | 0.7700 | - | - | - | - | - |")
    early = rows["dc2015-400-seed0--150000-examples"]
    # 20 images only the early network gets right, none only the final: p = 2 / 2**20
    assert (
        "| 0-59,999 | 150,000 | 29,999 | 0-59,999 | 0.8500 | 0.8700 | +10.00 | 20 | 0 | 1.9e-06 | this ahead |"
        in early
    )
    validation = rows["dc2015-400-seed0--validation-protocol"]
    # passes over images 0-49,999: the 150,000th example is image 49,999
    assert "| 0-49,999 | 150,000 | 49,999 | 0-49,999 | 0.8000 |" in validation
    assert "| +5.00 | 20 | 10 | 0.099 | level |" in validation


def test_a_record_not_scored_on_all_test_images_is_refused(records):
    runs, inputs = records
    set_metrics(inputs / "dc2015-400-seed0--150000-examples", split="validation")
    with pytest.raises(SystemExit, match="150000-examples: not scored on all 10,000 test images"):
        stopping.report(inputs, runs)


def test_record_wants_a_run_of_a_recorded_run_and_finished(records, tmp_path, monkeypatch):
    runs, _ = records
    monkeypatch.setattr(stopping, "RECORDS", runs)
    with pytest.raises(SystemExit, match="name it RUN--LABEL"):
        stopping.record(tmp_path / "dc2015-400-seed0-early")
    unfinished = tmp_path / "dc2015-400-seed0--early"
    unfinished.mkdir()
    with pytest.raises(SystemExit, match="not trained through its schedule and evaluated"):
        stopping.record(unfinished)
