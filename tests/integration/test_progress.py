"""Progress that tells the truth: rates and ETAs from measured progress only (none
while the first kernel call compiles), the Python API's progress through the
"stdp_mnist" logger (silent unless asked), and the CLI saying what it does before
each long step."""

import logging
import subprocess
import sys

import pytest
from helpers.cli import invoke
from helpers.runs import TINY_TOML, make_data_dir

from stdp_mnist import evaluate, train
from stdp_mnist.config import config_from_dict
from stdp_mnist.progress import LOGGER, LoggedStages, StageProgress, format_duration, plural


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_no_rate_or_eta_until_measured_from_the_first_finished_item():
    clock = Clock()
    stage = StageProgress("assign", 0, 10_000, "image", clock)
    clock.now += 50  # the first kernel call compiles: 50 s and nothing done
    stage.update(0)
    assert not stage.started and stage.rate is None and stage.eta_s is None
    assert stage.text() == "0/10,000 images"
    stage.update(10)  # the first images are done: the clock starts here, not 50 s ago
    clock.now += 0.5
    stage.update(60)
    assert stage.rate is None and "ETA" not in stage.text()  # half a second is no measurement yet
    clock.now += 0.5
    stage.update(110)
    assert stage.rate == pytest.approx(100.0) and stage.eta_s == pytest.approx(98.9)
    assert stage.text("x") == "110/10,000 images, 100 images/s, ETA 1:39, x"
    stage.update(10_000)
    assert "ETA" not in stage.text()


def test_log_lines_at_the_start_every_ten_seconds_and_at_the_end():
    clock = Clock()
    stage = StageProgress("test", 0, 100, "image", clock)
    assert stage.line_due()
    stage.update(5)
    assert not stage.line_due()
    clock.now += StageProgress.LOG_EVERY_S
    assert stage.line_due() and not stage.line_due()
    stage.update(100)
    assert stage.line_due() and not stage.line_due()  # the end, once


def test_words_agree_with_their_numbers():
    assert plural(1, "figure") == "1 figure" and plural(2, "figure") == "2 figures"
    assert plural(1, "pass", "passes") == "1 pass" and plural(3, "pass", "passes") == "3 passes"
    assert plural(0, "spike") == "0 spikes" and plural(10_000, "image") == "10,000 images"
    assert format_duration(59.6) == "1:00" and format_duration(3725) == "1:02:05"


def test_logged_stages_log_each_stage_and_a_one_step_one(caplog):
    caplog.set_level(logging.INFO, logger="stdp_mnist")
    stages = LoggedStages({"assign": "image"})
    stages("assign", 0, 40)
    stages("assign", 40, 40)
    stages("linear", 0, 1)
    stages("linear", 1, 1)
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:2] == ["assign: 0/40 images", "assign: 40/40 images"]
    assert messages[2] == "linear: started" and messages[3].startswith("linear: finished in ")


def tiny_config():
    import tomllib

    return config_from_dict(tomllib.loads(TINY_TOML))


def test_the_python_api_reports_progress_through_logging_when_asked(tmp_path, tiny_data, caplog):
    caplog.set_level(logging.INFO, logger="stdp_mnist")
    run = tmp_path / "run"
    train(tiny_config(), run, tiny_data.train_images, labels=tiny_data.train_labels)
    evaluate(run, tiny_data)
    messages = [r.getMessage() for r in caplog.records if r.name == "stdp_mnist"]
    assert messages[0].startswith("train: 4 neurons in ") and "examples 0 to 20" in messages[0]
    assert any(m.startswith("train: 20/20 examples") for m in messages)
    for expected in ("assign: 40/40 images", "linear: started", "test: 20/20 images"):
        assert any(m.startswith(expected) for m in messages), (expected, messages)


def test_the_python_api_is_silent_by_default(tmp_path):
    """In a fresh interpreter with no logging configured, train and evaluate print nothing."""
    data = make_data_dir(tmp_path / "mnist")
    script = f"""
import tomllib
from stdp_mnist import evaluate, train
from stdp_mnist.config import config_from_dict
from stdp_mnist.data import load_mnist
data = load_mnist({str(data)!r}, fetch=False)
cfg = config_from_dict(tomllib.loads({TINY_TOML!r}))
train(cfg, {str(tmp_path / "run")!r}, data.train_images)
evaluate({str(tmp_path / "run")!r}, data)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    assert any(isinstance(h, logging.NullHandler) for h in LOGGER.handlers)


def test_the_cli_says_what_it_does_before_each_long_step(tmp_path, monkeypatch):
    data = make_data_dir(tmp_path / "mnist")
    monkeypatch.setenv("STDP_MNIST_DATA", str(data))
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_TOML)
    result = invoke(
        "train", "--config", config, "--run-dir", tmp_path / "run", "--evaluate", "--set", "data.verify=false"
    )
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    steps = [
        "training 4 neurons in",
        "loading the data from",
        "figures: drawing receptive-fields",
        "assign: 40 labelled training images",
        "linear: fitting",
        "test: 20 test images",
        "figures: drawing learning-curve",
    ]
    found = [next(i for i, line in enumerate(lines) if line.startswith(step)) for step in steps]
    assert found == sorted(found), result.stderr  # each said before it is done, in order
