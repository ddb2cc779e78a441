"""Exact McNemar tests between readouts and networks on the same test images.

    python scripts/experiments/paired_tests.py [--write]

Reads the run records in results/runs/ (their predictions.npz, written by
scripts/collect_results.py --record) and prints, as markdown:
- per run, each pair of readouts of the same network ("all" voting against
  "proportion" and against the supervised linear readout);
- per seed, each paper config (dc2015-N) against the next larger one recorded with
  that seed (same readout): two networks, not two configs, since the seed spread is
  not in the test;
- per seed, each dc2015-N-brian1 config (the reference's Brian 1 numerics) and each
  dc2015-N-brian1-PART (one of them alone) against dc2015-N, and each PART against
  dc2015-N-brian1, where both are recorded;
- per config, its seeds against the paper's figure (each seed's accuracy with its
  binomial standard error, and how many seeds lie above the paper).
A McNemar test counts the test images that exactly one of the two gets right (b and c)
and asks how likely so uneven a split is if both were equally good: a two-sided exact
binomial test of b against b + c with p = 1/2 (scipy.stats.binomtest). A difference is
called "level" unless p < 0.05. With ``--write`` the report goes to
results/paired-tests.md too.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from collect_results import PREDICTIONS_FILE, READOUTS, RECORDS, ROOT, grouped, print_report, run_metrics
from comparisons import PAPER_ACCURACY, format_p, mcnemar, paired_verdict

from stdp_mnist.config import load_config
from stdp_mnist.rundir import CONFIG_FILE

REPORT = ROOT / "results" / "paired-tests.md"
PAPER_CONFIG = re.compile(r"dc2015-\d+$")
BRIAN1_SUFFIX = "-brian1"


def correct(run: Path) -> dict[str, np.ndarray]:
    """Per readout, a boolean per test image: right or wrong."""
    with np.load(run / PREDICTIONS_FILE) as data:
        return {r: data[r] == data["labels"] for r in READOUTS}


def seed_of(run: Path) -> int:
    return run_metrics(run).seed


def row(label_a: str, label_b: str, a: np.ndarray, b: np.ndarray) -> str:
    only_a, only_b, p = mcnemar(a, b)
    acc_a, acc_b = a.mean(), b.mean()
    return (
        f"| {label_a} | {label_b} | {acc_a:.4f} | {acc_b:.4f} | {100 * (acc_a - acc_b):+.2f} | {only_a} | {only_b} "
        f"| {format_p(p)} | {paired_verdict(acc_a, acc_b, p)} |"
    )


HEADER = (
    "| first | second | first acc | second acc | difference (points) | only first right | only second right "
    "| exact McNemar p | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def seed_pairs(groups: dict[str, list[Path]], first: str, second: str) -> list[str]:
    """Rows of config ``first`` against ``second``, run by run where both have the seed."""
    second_by_seed = {seed_of(run): run for run in groups[second]}
    lines = []
    for run in groups[first]:
        other = second_by_seed.get(seed_of(run))
        if other is not None:
            a, b = correct(run), correct(other)
            lines += [row(f"{run.name} {r}", f"{other.name} {r}", a[r], b[r]) for r in ("all", "linear")]
    return lines


def dataset_of(runs: list[Path]) -> str:
    """The dataset a config's recorded runs were trained and tested on."""
    return load_config(runs[0] / CONFIG_FILE).data.name


def brian1_readings(groups: dict[str, list[Path]], paper_config: str) -> list[str]:
    """The recorded configs that run ``paper_config`` in some of the reference's Brian 1
    numerics, on its dataset (their test images are its): PAPER-brian1 (all of them)
    first, then PAPER-brian1-PART (one alone) by name."""
    prefix = paper_config + BRIAN1_SUFFIX
    dataset = dataset_of(groups[paper_config])
    return sorted(
        (
            name
            for name in groups
            if (name == prefix or name.startswith(prefix + "-")) and dataset_of(groups[name]) == dataset
        ),
        key=lambda name: (name != prefix, name),
    )


def report(records: Path = RECORDS) -> str:
    groups = grouped(records)
    runs = [run for name in groups for run in groups[name]]
    lines = ["## Readouts of the same network", "", HEADER]
    for run in runs:
        right = correct(run)
        lines += [
            row(f"{run.name} all", f"{run.name} {other}", right["all"], right[other])
            for other in ("proportion", "linear")
        ]
    lines += [
        "",
        "## Each size against the next larger one, seed by seed",
        "",
        "Each row compares two networks (one seed of each config) on the same test images: the test says "
        "whether these two networks differ, not whether the two configs do, whose seeds spread too.",
        "",
        HEADER,
    ]
    by_size = sorted(groups, key=lambda name: run_metrics(groups[name][0]).n_excitatory)
    paper_sizes = [name for name in by_size if PAPER_CONFIG.fullmatch(name)]
    for smaller, larger in itertools.pairwise(paper_sizes):
        lines += seed_pairs(groups, smaller, larger)
    brian1 = [(reading, name) for name in paper_sizes for reading in brian1_readings(groups, name)]
    if brian1:
        lines += [
            "",
            "## The reference's Brian 1 numerics against the default, seed by seed",
            "",
            "dc2015-N-brian1 runs all three of Brian 1's numerics (forward Euler, v not clamped, its STDP "
            "lookup) where they apply at that size; dc2015-N-brian1-euler, -unclamped and -lookup run one of "
            "them alone.",
            "",
            HEADER,
        ]
        for reading, name in brian1:
            lines += seed_pairs(groups, reading, name)
    parts = [(reading, name + BRIAN1_SUFFIX) for reading, name in brian1 if reading != name + BRIAN1_SUFFIX]
    parts = [(part, whole) for part, whole in parts if whole in groups]
    if parts:
        lines += ["", "## One of Brian 1's numerics alone against all of them, seed by seed", "", HEADER]
        for part, whole in parts:
            lines += seed_pairs(groups, part, whole)
    lines += [
        "",
        "## Against the paper, seed by seed",
        "",
        "The ± is one network's binomial standard error on the test images, not the spread between "
        "seeds (the table's standard deviation); where a config has one seed, that spread is unmeasured. "
        "The paper's figure is one run, itself with a spread unknown.",
        "",
        "| config | paper | seeds | accuracy_all per seed (± binomial SE) | seeds above the paper |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in (name for name in by_size if name.startswith("dc2015-")):
        metrics = [run_metrics(run) for run in groups[name]]
        n = metrics[0].n_excitatory
        dataset = dataset_of(groups[name])
        if n not in PAPER_ACCURACY or metrics[0].n_assign != 60000 or dataset != "mnist":
            continue  # the paper's figures are MNIST's, on its full protocol
        per_seed = ", ".join(
            f"{m.accuracy_all:.4f} ± {math.sqrt(m.accuracy_all * (1 - m.accuracy_all) / m.n_test):.4f}"
            for m in metrics
        )
        above = sum(m.accuracy_all > PAPER_ACCURACY[n] for m in metrics)
        lines.append(
            f"| {name} | {PAPER_ACCURACY[n]:.3f} | {len(metrics)} | {per_seed} | {above} of {len(metrics)} |"
        )
    return "\n".join(lines) + "\n"


def document() -> str:
    """results/paired-tests.md as --write writes it: a heading, the command, the report."""
    return (
        "# Paired tests on the same test images\n\nGenerated by `python scripts/experiments/paired_tests.py "
        "--write` from the run records in results/runs/.\n\n" + report()
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="also write results/paired-tests.md")
    args = parser.parse_args(argv)
    print_report(document(), REPORT, args.write)


if __name__ == "__main__":
    main()
