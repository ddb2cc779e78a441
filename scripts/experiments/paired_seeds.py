"""Paired comparison of two sweeps over the same seeds (e.g. a kernel change).

    python scripts/experiments/paired_seeds.py BASELINE.csv NEW.csv [--label-baseline A] [--label-new B]

Each CSV is a sweep's summary.csv (results/sweeps/*.csv). Prints, per seed, both
accuracies ("all" voting) and their difference, then the mean difference, its standard
error (sample standard deviation / sqrt(seeds)) and how many seeds moved up; where the
new sweep's run directories are on this machine, also each run's spikes per training
example over its last 10,000 examples and mean theta at the end (metrics.jsonl).
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from pathlib import Path

from stdp_mnist.rundir import read_records
from stdp_mnist.sweep.summary import ACCURACY_ALL


def read_summary(path: Path) -> dict[int, dict]:
    """Rows of a sweep summary.csv by seed (finished runs only)."""
    with open(path, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r[ACCURACY_ALL]]
    return {int(r["seed"]): r for r in rows}


def paired(baseline: dict[int, dict], new: dict[int, dict]) -> dict:
    """Per-seed differences (new - baseline) of accuracy_all over the seeds both have."""
    seeds = sorted(set(baseline) & set(new))
    diffs = [float(new[s][ACCURACY_ALL]) - float(baseline[s][ACCURACY_ALL]) for s in seeds]
    sd = statistics.stdev(diffs) if len(diffs) > 1 else float("nan")
    return {
        "seeds": seeds,
        "diffs": diffs,
        "mean": statistics.fmean(diffs) if diffs else float("nan"),
        "se": sd / math.sqrt(len(diffs)) if diffs else float("nan"),
        "up": sum(d > 0 for d in diffs),
    }


def firing(run_dir: Path, last_examples: int = 10000) -> tuple[float, float] | None:
    """(spikes per training example over the last ``last_examples``, mean theta at the end)
    from a run's metrics.jsonl, or None when the run is not on this machine."""
    lines = read_records(run_dir)
    if not lines:
        return None
    end = lines[-1].examples_seen
    window = [r for r in lines if r.examples_seen > end - last_examples]
    return statistics.fmean(r.spikes_per_example for r in window), lines[-1].mean_theta_mv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--label-baseline", default="baseline")
    parser.add_argument("--label-new", default="new")
    args = parser.parse_args(argv)
    baseline, new = read_summary(args.baseline), read_summary(args.new)
    result = paired(baseline, new)
    print(
        f"| seed | {args.label_baseline} | {args.label_new} | difference | spikes/example (last 10,000) | theta at the end (mV) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for seed, diff in zip(result["seeds"], result["diffs"], strict=True):
        stats = firing(Path(new[seed]["run_dir"]))
        spikes, theta = (f"{stats[0]:.1f}", f"{stats[1]:.1f}") if stats else ("-", "-")
        print(
            f"| {seed} | {float(baseline[seed]['accuracy_all']):.4f} | {float(new[seed]['accuracy_all']):.4f} "
            f"| {diff:+.4f} | {spikes} | {theta} |"
        )
    print(
        f"\n{len(result['seeds'])} seeds: mean difference {result['mean']:+.4f} (standard error "
        f"{result['se']:.4f}); {result['up']} of {len(result['seeds'])} seeds higher; "
        f"means {statistics.fmean(float(baseline[s]['accuracy_all']) for s in result['seeds']):.4f} "
        f"and {statistics.fmean(float(new[s]['accuracy_all']) for s in result['seeds']):.4f}"
    )


if __name__ == "__main__":
    main()
