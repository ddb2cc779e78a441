"""scripts/experiments/paired_seeds.py: per-seed differences, their mean and standard
error, by hand."""

import json
import math

import pytest
from helpers.scripts import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("experiments/paired_seeds")


def write_summary(path, accuracies, run_dirs=None):
    lines = [
        "point,seed,status,accuracy_all,accuracy_proportion,examples_trained,train_wall_s,eval_wall_s,run_dir,error"
    ]
    for seed, acc in accuracies.items():
        run_dir = (run_dirs or {}).get(seed, "/nonexistent")
        lines.append(f"(base),{seed},done,{acc},{acc},60000,1.0,1.0,{run_dir},")
    lines.append("(base),9,error,,,0,,,/nonexistent,boom")  # an unfinished run is left out
    path.write_text("\n".join(lines) + "\n")
    return path


def test_paired_differences_mean_and_standard_error(script, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    records = [
        {"examples_seen": k * 1000, "spikes_per_example": 10.0 if k > 50 else 2.0, "mean_theta_mv": 20.0 + k}
        for k in range(1, 61)
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    old = write_summary(tmp_path / "old.csv", {0: 0.80, 1: 0.78, 2: 0.81})
    new = write_summary(tmp_path / "new.csv", {0: 0.81, 1: 0.77, 2: 0.84}, {2: run})
    result = script.paired(script.read_summary(old), script.read_summary(new))
    assert result["seeds"] == [0, 1, 2]
    diffs = [0.01, -0.01, 0.03]
    assert result["diffs"] == pytest.approx(diffs)
    assert result["mean"] == pytest.approx(0.01)
    sd = math.sqrt(sum((d - 0.01) ** 2 for d in diffs) / 2)
    assert result["se"] == pytest.approx(sd / math.sqrt(3))
    assert result["up"] == 2
    # the last 10,000 examples are the windows ending at 51,000 .. 60,000: 10 spikes each
    assert script.firing(run) == (10.0, 80.0)
    script.main([str(old), str(new)])
    out = capsys.readouterr().out
    assert "| 2 | 0.8100 | 0.8400 | +0.0300 | 10.0 | 80.0 |" in out
    assert "| 0 | 0.8000 | 0.8100 | +0.0100 | - | - |" in out
    assert "3 seeds: mean difference +0.0100" in out
