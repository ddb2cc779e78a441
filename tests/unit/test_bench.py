"""stdp_mnist.bench's own measurements."""

import subprocess
import sys

import numpy as np
import pytest

from stdp_mnist import bench
from stdp_mnist.bench import brian2_note, brian2_timings, format_table, peak_rss_mb


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


def row(n, brian2):
    return {
        "n": n,
        "case": "fresh",
        "examples": 400,
        "train_ms": 2.0,
        "frozen_1core_ms": 1.0,
        "frozen_all_ms": 0.5,
        "threads": 2,
        "train_spikes_per_example": 14.0,
        "peak_rss_mb": 300.0,
        "brian2": brian2,
        "brian2_examples": 10,
    }


def test_the_brian2_columns_give_the_ratios_and_the_note_says_how_they_were_measured():
    runtime = {"train_ms": 500.0, "frozen_ms": 300.0, "target": "cython", "version": "2.9.0"}
    standalone = {"train_ms": 20.0, "frozen_ms": 12.5, "target": "cpp_standalone", "version": "2.9.0"}
    rows = [
        row(100, {"runtime": runtime, "standalone": standalone}),
        row(400, {"runtime": runtime, "standalone": "failed: g++ not found"}),
        row(1600, "not installed"),
    ]
    lines = format_table(rows).splitlines()
    assert lines[0].endswith(
        "| Brian2 runtime train / frozen ms (ratio) | Brian2 standalone train / frozen ms (ratio) |"
    )
    assert lines[1].count("---") == 11
    assert lines[2].endswith("| 500.0 / 300.0 (250x / 300x slower) | 20.0 / 12.5 (10x / 12x slower) |")
    assert lines[3].endswith("| failed: g++ not found |")
    assert lines[4].endswith("| not installed | not installed |")
    note = brian2_note(rows)
    assert (
        "Brian2 2.9.0 (cpp_standalone, cython)" in note and "(examples: 10 at N = 100, 10 at N = 400)" in note
    )
    assert brian2_note([row(400, "not installed")]) == ""


def test_brian2_timings_say_not_installed_without_brian2(monkeypatch):
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: None)
    assert brian2_timings(100, 3) == "not installed"


def test_brian2_timings_run_each_mode_in_its_own_process_and_name_a_failure(monkeypatch, tmp_path):
    script = tmp_path / "brian2_reference.py"  # stands in for the real one: echoes its mode, fails standalone
    script.write_text(
        "import json, sys\n"
        "mode = sys.argv[sys.argv.index('--mode') + 1]\n"
        "if mode == 'standalone':\n"
        "    sys.exit('error: no C++ compiler')\n"
        "print('compiling...')\n"
        "print(json.dumps({'train_ms': 5.0, 'frozen_ms': 4.0, 'target': mode, 'version': 'x'}))\n"
    )
    monkeypatch.setattr(bench, "BRIAN2_SCRIPT", script)
    monkeypatch.setattr(bench.importlib.util, "find_spec", lambda name: object())
    timings = brian2_timings(100, 3)
    assert timings == {
        "runtime": {"train_ms": 5.0, "frozen_ms": 4.0, "target": "runtime", "version": "x"},
        "standalone": "failed: error: no C++ compiler",
    }
