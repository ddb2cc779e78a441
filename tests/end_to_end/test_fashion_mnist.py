"""Slow: Fashion-MNIST by name, from the four .gz files as Debian's package
dataset-fashion-mnist ships them (recompressed: they verify by their decompressed
content), through the CLI. CI installs the package; elsewhere the test is skipped
where it is not installed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stdp_mnist.data import MNIST_FILES
from stdp_mnist.records import Evaluation

DEBIAN_FILES = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.slow
def test_quick_fashion_mnist_run_from_debians_files(tmp_path):
    if not all((DEBIAN_FILES / f"{name}.gz").is_file() for name in MNIST_FILES.values()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DEBIAN_FILES}: Fashion-MNIST missing; .ci/run installs dataset-fashion-mnist")
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    data_dir = tmp_path / "fashion"
    data_dir.mkdir()
    for name in MNIST_FILES.values():
        shutil.copyfile(DEBIAN_FILES / f"{name}.gz", data_dir / f"{name}.gz")
    run_dir = tmp_path / "run"
    cli = Path(sys.executable).with_name("stdp-mnist")
    settings = {
        "data.name": "fashion-mnist",
        "data.dir": data_dir,
        "training.max_examples": 1000,
        "evaluation.n_assign": 2000,
        "evaluation.n_test": 1000,
    }
    overrides = [word for key, value in settings.items() for word in ("--set", f"{key}={value}")]
    result = subprocess.run(
        [str(cli), "train", "--config", "quick", *overrides, "--run-dir", str(run_dir), "--evaluate"],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "STDP_MNIST_DATA": str(tmp_path / "no-cache")},  # nothing fetched
    )
    assert result.returncode == 0, result.stderr
    metrics = Evaluation.from_json((run_dir / "metrics.json").read_text())
    assert metrics.dataset == "fashion-mnist" and metrics.n_test == 1000
    # Well above chance (0.1) after 1,000 examples: the images and labels were read as Fashion-MNIST's.
    assert metrics.accuracy_all > 0.3
    assert sorted(p.name for p in data_dir.iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES.values())
    assert not (tmp_path / "no-cache").exists()
