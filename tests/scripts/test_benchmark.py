"""scripts/benchmark.py: the benchmark's Brian2 columns and a git revision beside the package."""

import subprocess

import pytest
from helpers import REPO_ROOT
from helpers.scripts import load_script

from stdp_mnist.bench import BenchmarkError, format_table

benchmark = load_script("benchmark")


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
    lines = format_table(rows, benchmark.brian2_columns()).splitlines()
    assert lines[0].endswith(
        "| Brian2 runtime train / frozen ms (ratio) | Brian2 standalone train / frozen ms (ratio) |"
    )
    assert lines[1].count("---") == 11
    assert lines[2].endswith("| 500.0 / 300.0 (250x / 300x slower) | 20.0 / 12.5 (10x / 12x slower) |")
    assert lines[3].endswith("| failed: g++ not found |")
    assert lines[4].endswith("| not installed | not installed |")
    note = benchmark.brian2_note(rows)
    assert (
        "Brian2 2.9.0 (cpp_standalone, cython)" in note and "(examples: 10 at N = 100, 10 at N = 400)" in note
    )
    assert benchmark.brian2_note([row(400, "not installed")]) == ""


def test_brian2_timings_say_not_installed_without_brian2(monkeypatch):
    monkeypatch.setattr(benchmark.importlib.util, "find_spec", lambda name: None)
    assert benchmark.brian2_timings(100, 3) == "not installed"


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
    monkeypatch.setattr(benchmark, "BRIAN2_SCRIPT", script)
    monkeypatch.setattr(benchmark.importlib.util, "find_spec", lambda name: object())
    timings = benchmark.brian2_timings(100, 3)
    assert timings == {
        "runtime": {"train_ms": 5.0, "frozen_ms": 4.0, "target": "runtime", "version": "x"},
        "standalone": "failed: error: no C++ compiler",
    }


def test_compare_extracts_a_revisions_package_and_names_an_unknown_revision():
    head = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if head.returncode != 0:
        pytest.skip("not a git checkout")
    with benchmark.revision_package("HEAD") as root:
        assert (root / "stdp_mnist" / "kernel.py").is_file()
    with (
        pytest.raises(BenchmarkError, match="--compare no-such-revision"),
        benchmark.revision_package("no-such-revision"),
    ):
        pass
