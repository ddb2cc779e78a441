"""Hand-drawn digits read by networks trained on real MNIST: the quick run of
runs/quick (the README's quick run) when this checkout has one, and (slow) 100 neurons trained on 6,000
images here."""

import shutil
from pathlib import Path

import pytest
from helpers import REPO_ROOT
from helpers.cli import invoke, parse_predictions

from stdp_mnist import evaluation, training
from stdp_mnist.config import Config
from stdp_mnist.data import load_mnist

REAL_RUN = REPO_ROOT / "runs" / "quick"  # what the README's first command trains and evaluates


def predict_one_and_zero(run: Path, digits) -> dict[str, int]:
    """{file name: class} that `stdp-mnist predict RUN` gives the hand-drawn digits."""
    result = invoke("predict", run, *digits)
    assert result.exit_code == 0, result.output
    return parse_predictions(result.stdout)


@pytest.mark.skipif(
    not (REAL_RUN / "assignments.npz").is_file(),
    reason="needs runs/quick, made by the README's command (stdp-mnist train --config "
    "configs/quick.toml --run-dir runs/quick --evaluate)",
)
def test_predict_with_the_real_quick_run(tmp_path, digits):
    run = tmp_path / "quick"
    shutil.copytree(REAL_RUN, run)
    assert predict_one_and_zero(run, digits) == {"one.png": 1, "zero.png": 0}


@pytest.mark.slow
def test_predict_with_a_small_network_trained_on_mnist(tmp_path, digits):
    """Train 100 neurons on 6,000 MNIST images, label them from 5,000, and read a clear
    hand-made 1 and 0."""
    cfg = Config().replace(training={"max_examples": 6000}, evaluation={"n_assign": 5000, "n_test": 100})
    data = load_mnist()
    run = tmp_path / "small"
    training.train(cfg, run, data.train_images, labels=data.train_labels)
    evaluation.evaluate(run, data)
    assert predict_one_and_zero(run, digits) == {"one.png": 1, "zero.png": 0}
