"""stdp_mnist.bench's own measurements (its side-by-side extras: tests/scripts/test_benchmark.py)."""

import subprocess
import sys

import numpy as np
import pytest

from stdp_mnist.bench import peak_rss_mb


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_a_child_reports_its_own_peak_memory_not_its_parents():
    ballast = np.ones(400 * 2**20, np.uint8)  # 400 MB resident in this (parent) process
    assert peak_rss_mb() > 400
    child = subprocess.run(
        [sys.executable, "-c", "from stdp_mnist.bench import peak_rss_mb; print(peak_rss_mb())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert 5 < float(child.stdout) < 300  # Python and numpy, not the parent's 400 MB
    del ballast
