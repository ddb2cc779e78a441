"""Slow: the README's main job on real MNIST (run by scripts/slow_tests.sh and CI)."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT

from stdp_mnist.records import READOUTS
from stdp_mnist.rundir import read_evaluation


@pytest.mark.slow
def test_quick_config_scores_what_the_readme_says(tmp_path):
    run_dir = tmp_path / "quick"
    cli = Path(sys.executable).with_name("stdp-mnist")
    result = subprocess.run(
        [
            str(cli),
            "train",
            "--config",
            str(REPO_ROOT / "configs" / "quick.toml"),
            "--run-dir",
            str(run_dir),
            "--evaluate",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr
    metrics = read_evaluation(run_dir)
    print(result.stdout)
    assert metrics.n_test == 10000 and metrics.n_assign == 10000
    assert sum(map(sum, metrics.confusion_all)) == 10000
    # The README's command must score exactly what the README says (seed 0's record, which
    # the README quotes), which the same seed must reproduce exactly.
    recorded = read_evaluation(REPO_ROOT / "results" / "runs" / "quick-seed0")
    for readout in READOUTS:
        assert metrics.accuracy(readout) == recorded.accuracy(readout), readout
    for name in ("config.toml", "model.npz", "metrics.jsonl", "assignments.npz"):
        assert (run_dir / name).is_file()
