"""The comparison beyond Diehl & Cook, generated from committed records:

    python scripts/beyond.py [--write]

prints (and with ``--write`` writes results/beyond.md) one table, ``dataset | neurons |
variant | passes | seeds | accuracy_all | accuracy_linear``, and below it the exact
McNemar tests of the best variant against ``dc2015`` and against ``k-means`` at each
size. Its inputs, all in the repository:

- results/runs/NAME[-seedK]/: run records (scripts/collect_results.py --record), seeds
  pooled per config as in the results table. A config whose model values are the paper's
  network at its size (the defaults; only the seed, the data and the schedule's length
  may differ) is ``dc2015``; any other is a variant, named by its config. Only records of
  the full protocol (all training images labelled, all test images) are rows.
- results/beyond/baselines-DATASET.json: the baseline rows of
  scripts/experiments/baselines.py (its cache's rows.json, copied: k-means with N
  centroids labelled by majority vote, and the random projection with its linear
  readout), each with its per-image test predictions. The commands that made them are
  in BASELINE_COMMANDS.
- results/beyond/validation.jsonl: one JSON object a line, ``{"dataset", "neurons",
  "variant", "seed", "accuracy_all"}``, each a variant's 'all' accuracy on the
  validation split (trained and labelled without training images 50,000-59,999,
  scored on them). The best variant of a dataset and size is the recorded variant with
  the highest mean validation accuracy there; test scores never choose it.

Means are over seeds, ± the sample standard deviation where there are several.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from collect_results import MNIST_TEST_IMAGES, PREDICTIONS_FILE, RECORDS, ROOT, grouped, mean_sd, run_metrics
from comparisons import SIGNIFICANCE, format_p, mcnemar, paired_verdict

from stdp_mnist.config import Config, load_config
from stdp_mnist.data import DATASETS
from stdp_mnist.records import Evaluation
from stdp_mnist.rundir import CONFIG_FILE

INPUTS = ROOT / "results" / "beyond"
VALIDATION = INPUTS / "validation.jsonl"
REPORT = ROOT / "results" / "beyond.md"
PAPER = "dc2015"
KMEANS, PROJECTION = "k-means", "random-projection"
# Row names in baselines.py's rows.json -> the variant column here.
BASELINE_ROWS = {"k-means": KMEANS, "random projection + ReLU": PROJECTION}
SIZES = {"mnist": (100, 400, 1600, 6400), "fashion-mnist": (400,), "kmnist": (400,)}
BASELINE_COMMANDS = {
    "mnist": "python scripts/experiments/baselines.py --sizes 100,400,1600 --only random-projection,k-means "
    "--cache runs/baselines-mnist --out runs/baselines-mnist/baselines.md",
    "fashion-mnist": "python scripts/experiments/baselines.py --dataset fashion-mnist --sizes 400 "
    "--only random-projection,k-means --cache runs/baselines-fashion-mnist "
    "--out runs/baselines-fashion-mnist/baselines.md",
}
VERDICTS = {"first ahead": "variant ahead", "second ahead": "other ahead", "level": "level"}
COLUMNS = ("dataset", "neurons", "variant", "passes", "seeds", "accuracy_all", "accuracy_linear")


@dataclass
class Row:
    """One row of the table: a variant (or baseline) at one dataset and size, with each
    seed's test predictions for the paired tests."""

    dataset: str
    neurons: int
    variant: str
    passes: str
    all: dict[int, float]  # seed -> accuracy_all (voting); empty for the random projection
    linear: dict[int, float]  # seed -> accuracy_linear; empty for k-means
    predictions: dict[int, np.ndarray] = field(default_factory=dict)  # seed -> 'all' voting per image
    labels: np.ndarray | None = None

    def cells(self) -> dict[str, str]:
        seeds = sorted({*self.all, *self.linear})
        return {
            "dataset": DATASETS[self.dataset].title,
            "neurons": f"{self.neurons:,}",
            "variant": self.variant,
            "passes": self.passes,
            "seeds": str(len(seeds)),
            "accuracy_all": mean_sd(list(self.all.values())) if self.all else "-",
            "accuracy_linear": mean_sd(list(self.linear.values())) if self.linear else "-",
        }


def is_paper_network(cfg: Config) -> bool:
    """The paper's network at its size: every model value the default's, but the seed."""
    paper = Config().replace(network={"n_excitatory": cfg.network.n_excitatory}).model_values()
    mine = cfg.model_values()
    return {k: v for k, v in mine.items() if k != "run.seed"} == {
        k: v for k, v in paper.items() if k != "run.seed"
    }


def full_protocol(metrics: Evaluation) -> bool:
    return metrics.n_assign == 60000 and metrics.n_test == MNIST_TEST_IMAGES


def record_rows(records: Path = RECORDS) -> list[Row]:
    """The rows of the run records: one per config of the full protocol, seeds pooled."""
    rows = []
    for name, runs in grouped(records).items():
        metrics = [run_metrics(run) for run in runs]
        if not all(full_protocol(m) for m in metrics):
            continue
        cfg = load_config(runs[0] / CONFIG_FILE)
        row = Row(
            dataset=cfg.data.name,
            neurons=cfg.network.n_excitatory,
            variant=PAPER if is_paper_network(cfg) else name,
            passes=str(cfg.training.passes),
            all={m.seed: m.accuracy_all for m in metrics},
            linear={m.seed: m.accuracy_linear for m in metrics},
        )
        for run, m in zip(runs, metrics, strict=True):
            if (run / PREDICTIONS_FILE).is_file():
                with np.load(run / PREDICTIONS_FILE) as arrays:
                    row.predictions[m.seed] = arrays["all"]
                    row.labels = arrays["labels"]
        rows.append(row)
    return rows


def baseline_rows(inputs: Path = INPUTS) -> list[Row]:
    """The k-means and random-projection rows of each dataset's baselines file (keys
    ``name|N|...`` as baselines.py's RowCache writes them; seed 0, one run each)."""
    rows = []
    for dataset in DATASETS:
        path = inputs / f"baselines-{dataset}.json"
        if not path.is_file():
            continue
        for key, values in json.loads(path.read_text()).items():
            name, n = key.split("|")[:2]
            if name not in BASELINE_ROWS:
                continue
            row = Row(dataset, int(n), BASELINE_ROWS[name], "-", all={}, linear={})
            if "voting" in values:
                row.all[0] = values["voting"]
                digits = values["voting_predictions"].encode("ascii")
                row.predictions[0] = np.frombuffer(digits, np.uint8) - ord("0")
            if "linear" in values:
                row.linear[0] = values["linear"]
            rows.append(row)
    return rows


def validation_means(path: Path = VALIDATION) -> dict[tuple[str, int, str], tuple[float, int]]:
    """(dataset, neurons, variant) -> (mean validation 'all' accuracy, seeds)."""
    scores: dict[tuple[str, int, str], list[float]] = {}
    if path.is_file():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key = (entry["dataset"], int(entry["neurons"]), entry["variant"])
                scores.setdefault(key, []).append(float(entry["accuracy_all"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise SystemExit(f"error: {path}:{number}: not a validation record ({exc})") from None
    return {key: (statistics.fmean(values), len(values)) for key, values in scores.items()}


def best_variant(rows: list[Row], dataset: str, neurons: int, validation: dict) -> Row | None:
    """The variant with the best mean validation accuracy among those recorded at this
    dataset and size (never dc2015 or a baseline; never chosen by a test score)."""
    candidates = [
        row
        for row in rows
        if (row.dataset, row.neurons) == (dataset, neurons)
        and row.variant not in (PAPER, KMEANS, PROJECTION)
        and (dataset, neurons, row.variant) in validation
    ]
    return max(candidates, key=lambda row: validation[dataset, neurons, row.variant][0], default=None)


def paired_lines(best: Row, rows: list[Row]) -> list[str]:
    """The best variant against dc2015 (seed by seed) and against k-means (seed 0), 'all'
    voting, on the same test images."""
    lines = []
    for other_name in (PAPER, KMEANS):
        other = next(
            (
                r
                for r in rows
                if (r.dataset, r.neurons, r.variant) == (best.dataset, best.neurons, other_name)
            ),
            None,
        )
        if other is None:
            lines.append(
                f"| {best.neurons:,} | {best.variant} | - | {other_name} | no {other_name} row recorded |"
            )
            continue
        for seed in sorted(best.predictions):
            other_seed = seed if other_name == PAPER else 0
            if other_seed not in other.predictions:
                lines.append(
                    f"| {best.neurons:,} | {best.variant} | {seed} | {other_name} | no {other_name} "
                    f"predictions of seed {other_seed} |"
                )
                continue
            mine, theirs = best.predictions[seed], other.predictions[other_seed]
            if len(mine) != len(theirs):
                raise SystemExit(f"error: {best.variant} and {other_name} were tested on different images")
            right = mine == best.labels, theirs == best.labels
            only_mine, only_theirs, p = mcnemar(*right)
            first, second = float(right[0].mean()), float(right[1].mean())
            lines.append(
                f"| {best.neurons:,} | {best.variant} | {seed} | {other_name} (seed {other_seed}) | {first:.4f} "
                f"| {second:.4f} | {100 * (first - second):+.2f} | {only_mine:,} | {only_theirs:,} "
                f"| {format_p(p)} | {VERDICTS[paired_verdict(first, second, p)]} |"
            )
    return lines


def report(records: Path = RECORDS, inputs: Path = INPUTS, validation_path: Path = VALIDATION) -> str:
    rows = [
        row
        for row in record_rows(records) + baseline_rows(inputs)
        if row.neurons in SIZES.get(row.dataset, ())
    ]
    order = {name: k for k, name in enumerate(DATASETS)}
    kinds = {PAPER: 0, KMEANS: 2, PROJECTION: 3}
    rows.sort(key=lambda r: (order[r.dataset], r.neurons, kinds.get(r.variant, 1), r.variant))
    validation = validation_means(validation_path)
    lines = [
        "# Beyond Diehl & Cook: variants beside the paper's network and the baselines",
        "",
        "Generated by `python scripts/beyond.py --write` from the run records in results/runs/, the baseline "
        "rows in results/beyond/baselines-*.json and the validation records in results/beyond/validation.jsonl "
        "(see the script's docstring). Every accuracy is on all test images of its dataset (10,000), the "
        "neurons labelled from all 60,000 training images; mean over seeds, ± the sample standard deviation "
        "where there are several. `dc2015` is the paper's network; `k-means` has N centroids on the pixels, "
        "each labelled by its training images' majority vote (its accuracy is under accuracy_all); "
        "`random-projection` is a rectified Gaussian projection of the pixels to N features with a "
        "logistic-regression readout (under accuracy_linear). Baselines: seed 0, one run.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    lines += ["| " + " | ".join(row.cells()[c] for c in COLUMNS) + " |" for row in rows]
    lines += [
        "",
        "## Best variant against dc2015 and k-means",
        "",
        "The best variant of each dataset and size is the one with the highest mean 'all' accuracy on the "
        "validation split (training images 50,000-59,999 held out), from results/beyond/validation.jsonl; "
        "it is then compared on the test images by the exact McNemar test (a two-sided binomial test of the "
        "images only one of the two gets right against 1/2; 'level' unless p < "
        f"{SIGNIFICANCE}), 'all' voting, seed by seed against dc2015's same seed and against k-means.",
        "",
    ]
    sizes = sorted({(order[r.dataset], r.dataset, r.neurons) for r in rows})
    tests = []
    for _, dataset, neurons in sizes:
        best = best_variant(rows, dataset, neurons, validation)
        title = DATASETS[dataset].title
        if best is None:
            lines.append(f"- {title}, {neurons:,} neurons: no variant with validation records yet.")
            continue
        mean, seeds = validation[dataset, neurons, best.variant]
        lines.append(
            f"- {title}, {neurons:,} neurons: {best.variant} (validation 'all' {mean:.4f}, "
            f"{seeds} seed{'s' * (seeds != 1)})."
        )
        tests += paired_lines(best, rows)
    if tests:
        lines += [
            "",
            "| neurons | variant | seed | against | variant acc | other acc | difference (points) "
            "| only variant right | only other right | exact McNemar p | verdict |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *tests,
        ]
    lines += ["", "Baseline rows were computed by:", ""]
    lines += [f"- {DATASETS[name].title}: `{command}`" for name, command in BASELINE_COMMANDS.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {REPORT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    text = report()
    print(text, end="")
    if args.write:
        REPORT.write_text(text)


if __name__ == "__main__":
    main()
