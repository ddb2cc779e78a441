"""stdp_mnist.bench's own measurements."""

import subprocess
import sys

import numpy as np
import pytest

from stdp_mnist.bench import brian2_note, format_table, peak_rss_mb


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_a_child_reports_its_own_peak_memory_not_its_parents():
    ballast = np.ones(400 * 2**20, np.uint8)  # 400 MB resident in this (parent) process
    assert peak_rss_mb() > 400
    child = subprocess.run([sys.executable, "-c", "from stdp_mnist.bench import brian2_note, format_table, peak_rss_mb; print(peak_rss_mb())"],
                           capture_output=True, text=True, check=True)
    assert 5 < float(child.stdout) < 300  # Python and numpy, not the parent's 400 MB
    del ballast


def row(n, brian2):
    return {"n": n, "case": "fresh", "examples": 400, "train_ms": 2.0, "frozen_1core_ms": 1.0, "frozen_all_ms": 0.5,
            "threads": 2, "train_spikes_per_example": 14.0, "peak_rss_mb": 300.0, "brian2": brian2}


def test_the_brian2_column_gives_the_ratios_and_the_note_says_how_it_was_measured():
    measured = {"train_ms": 500.0, "frozen_ms": 300.0, "examples": 10, "about": "Brian2 2.9.0, cython target"}
    rows = [row(100, measured), row(400, "not installed")]
    table = format_table(rows)
    assert "| 500 / 300 (250x / 300x slower) |" in table and "| not installed |" in table
    note = brian2_note(rows)
    assert "Brian2 2.9.0, cython target" in note and "10 examples at N = 100;" in note
    assert brian2_note([row(400, "not installed")]) == ""
