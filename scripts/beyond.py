"""The comparison beyond Diehl & Cook, generated from committed records:

    python scripts/beyond.py [--record-validation RUNS_DIR] [--record-screen RUNS_DIR] [--write]

prints (and with ``--write`` writes results/beyond.md) one table, ``dataset | neurons |
variant | passes | seeds | accuracy_all | accuracy_linear``; below it the best variant of
each size (chosen on the validation split) and the exact McNemar tests of every variant
against ``dc2015`` and against ``k-means`` on the test images; then the validation
search, each variant against dc2015 on the validation images. Its inputs, all in the
repository:

- results/runs/NAME[-seedK]/: run records (scripts/collect_results.py --record), seeds
  pooled per config as in the results table. A config whose model values are the paper's
  network at its size (the defaults; only the seed, the data and the schedule's length
  may differ) is ``dc2015``; any other is a variant, named by its records less the seed
  and a dataset suffix (homeostasis-400-fashion-mnist-seed0 is homeostasis-400, as the
  dataset has its own column). Only records of
  the full protocol (all training images labelled, all test images) are rows.
- results/beyond/baselines-DATASET.json: the baseline rows of
  scripts/experiments/baselines.py (its cache's rows.json, copied: k-means with N
  centroids labelled by majority vote, and the random projection with its linear
  readout), each with its per-image test predictions. The commands that made them are
  in BASELINE_COMMANDS.
- results/beyond/validation/NAME-seedK/: records of runs scored on the validation split
  (``evaluation.split = "validation"``: trained and labelled without training images
  50,000-59,999, scored on them), as ``--record-validation RUNS_DIR`` copies them, with
  their predictions on those images. The best variant of a dataset and size is the
  recorded variant with the highest mean validation 'all' accuracy there; a dataset or
  size with no search of its own takes MNIST's choice at the largest searched size up to
  its own, recognised by its settings (variant_settings); test scores never choose it. Every recorded variant is also set against dc2015's validation run of
  the same seed, image by image, so the page says how close each came.
- results/beyond/baselines-DATASET-validation.json: k-means scored on the same validation
  images (baselines.py --split validation; VALIDATION_BASELINE_COMMANDS), fitted as the
  size's records were trained; each validation record is set against it too.
- results/beyond/screen/NAME-seedK/: the same for the one-pass screen (50,000 examples),
  shown beside the validation search, never choosing.

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
from collect_results import (
    MNIST_TEST_IMAGES,
    PREDICTIONS_FILE,
    RECORDS,
    ROOT,
    grouped,
    mean_sd,
    print_report,
    record_runs,
    run_metrics,
)
from comparisons import SIGNIFICANCE, baseline_key_fields, format_p, mcnemar, paired_verdict

from stdp_mnist.config import Config, load_config
from stdp_mnist.constants import VALIDATION_START
from stdp_mnist.data import DATASETS
from stdp_mnist.records import Evaluation
from stdp_mnist.rundir import CONFIG_FILE

INPUTS = ROOT / "results" / "beyond"
VALIDATION = INPUTS / "validation"  # each config's own schedule over images 0-49,999: chooses
SCREEN = INPUTS / "screen"  # one pass of 50,000 examples: a cheaper first look, chooses nothing
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
# The validation search's k-means rows (baselines.py --split validation), per size as
# its records were trained: 100 neurons on the search protocol's first 10,000 images.
VALIDATION_BASELINE_COMMANDS = {
    "mnist": (
        "python scripts/experiments/baselines.py --split validation --train-images 10000 --sizes 100 "
        "--only k-means --cache runs/baselines-validation --out runs/baselines-validation/baselines-100.md",
        "python scripts/experiments/baselines.py --split validation --sizes 400 --only k-means "
        "--cache runs/baselines-validation --out runs/baselines-validation/baselines-400.md",
    ),
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
    settings: tuple[tuple[str, str], ...] = ()  # variant_settings of its config; () for a baseline
    protocol: str = ""  # how its records were trained and labelled (validation_protocol); "" for a baseline

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


def variant_settings(cfg: Config) -> tuple[tuple[str, str], ...]:
    """What makes a variant what it is: every model value but the seed and the layer's
    size (the data and the schedule's length are not model values), so that one variant
    run at two sizes or on two datasets is recognised as the same variant."""
    return tuple(
        sorted(
            (key, repr(value))
            for key, value in cfg.model_values().items()
            if key not in ("run.seed", "network.n_excitatory")
        )
    )


# The paper's network's variant_settings: what every row is told apart from.
PAPER_SETTINGS = variant_settings(Config())


def is_paper_network(cfg: Config) -> bool:
    """The paper's network at its size: every model value the default's, but the seed."""
    return variant_settings(cfg) == PAPER_SETTINGS


# The values in which the reference's own Brian 1 code ran the paper's network, as
# configs/dc2015-*-brian1.toml set them (docs/FIDELITY.md): forward Euler, v not clamped,
# Brian 1's STDP delay lookup.
REFERENCE_NUMERICS = frozenset({"simulation.integrator", "excitatory.refractory_ms", "stdp.timing"})


def is_reference_numerics(settings: tuple[tuple[str, str], ...]) -> bool:
    """Whether a config's variant_settings are the paper's network in the reference's own
    numerics: they differ from the default's in some of REFERENCE_NUMERICS and in nothing
    else. Such a row stands beside dc2015 as a fidelity row, not as a variant of the search."""
    default = dict(PAPER_SETTINGS)
    changed = {key for key, value in settings if default.get(key) != value}
    return bool(changed) and changed <= REFERENCE_NUMERICS


def validation_protocol(metrics: Evaluation) -> str:
    """How a validation record was trained and labelled, from its evaluation record: the
    examples it trained on (all from training images 0-49,999) and the images labelling
    its neurons."""
    examples, images = metrics.examples_trained, VALIDATION_START
    if examples <= images:
        trained = f"the first {examples:,} training images, one pass"
    else:
        trained = f"{examples:,} examples, {examples / images:g} passes over training images 0-{images - 1:,}"
    return f"{trained}, labelled from training images 0-{metrics.n_assign - 1:,}"


def scored_on(metrics: Evaluation, split: str) -> bool:
    """Whether a record belongs in the ``split`` rows: validation records, or the test
    set's full protocol (all training images labelled, all test images)."""
    if split == "validation":
        return metrics.split == "validation"
    return (
        metrics.split in (None, "test") and metrics.n_assign == 60000 and metrics.n_test == MNIST_TEST_IMAGES
    )


def record_rows(records: Path = RECORDS, split: str = "test") -> list[Row]:
    """The rows of the run records scored on ``split``: one per config, seeds pooled."""
    rows = []
    for name, runs in grouped(records).items():
        metrics = [run_metrics(run) for run in runs]
        if not all(scored_on(m, split) for m in metrics):
            if split == "validation":
                raise SystemExit(
                    f"error: {runs[0].parent}/{name}: a record not scored on the validation split"
                )
            continue
        cfg = load_config(runs[0] / CONFIG_FILE)
        row = Row(
            dataset=cfg.data.name,
            neurons=cfg.network.n_excitatory,
            variant=PAPER if is_paper_network(cfg) else name.removesuffix(f"-{cfg.data.name}"),
            passes=str(cfg.training.passes),
            all={m.seed: m.accuracy_all for m in metrics},
            linear={m.seed: m.accuracy_linear for m in metrics},
            settings=variant_settings(cfg),
            protocol=validation_protocol(metrics[0]) if split == "validation" else "",
        )
        for run, m in zip(runs, metrics, strict=True):
            if (run / PREDICTIONS_FILE).is_file():
                with np.load(run / PREDICTIONS_FILE) as arrays:
                    row.predictions[m.seed] = arrays["all"]
                    row.labels = arrays["labels"]
        rows.append(row)
    return rows


def baseline_rows(inputs: Path = INPUTS, split: str = "test") -> list[Row]:
    """The k-means and random-projection rows of each dataset's baselines file (keys
    comparisons.BASELINE_KEY_FIELDS; seed 0, one run each): scored
    on the test images, or with ``split`` "validation" those of baselines.py --split
    validation (baselines-DATASET-validation.json), each with the training images it
    was fitted on as its protocol."""
    rows = []
    for dataset in DATASETS:
        path = inputs / (
            f"baselines-{dataset}.json" if split == "test" else f"baselines-{dataset}-validation.json"
        )
        if not path.is_file():
            continue
        for key, values in json.loads(path.read_text()).items():
            fields = baseline_key_fields(key)
            name = fields["name"]
            if name not in BASELINE_ROWS:
                continue
            row = Row(dataset, int(fields["n"]), BASELINE_ROWS[name], "-", all={}, linear={})
            if split == "validation":
                row.protocol = (
                    f"{name} fitted and labelled on training images 0-{int(fields['fitted_on']) - 1:,}"
                )
            if "voting" in values:
                row.all[0] = values["voting"]
                digits = values["voting_predictions"].encode("ascii")
                row.predictions[0] = np.frombuffer(digits, np.uint8) - ord("0")
            if "linear" in values:
                row.linear[0] = values["linear"]
            rows.append(row)
    return rows


def is_variant(row: Row) -> bool:
    return row.variant not in (PAPER, KMEANS, PROJECTION)


def find_row(rows: list[Row], like: Row, variant: str) -> Row | None:
    """The row of ``variant`` at ``like``'s dataset and size, if recorded."""
    return next(
        (r for r in rows if (r.dataset, r.neurons, r.variant) == (like.dataset, like.neurons, variant)), None
    )


def best_variant(validation: list[Row], dataset: str, neurons: int) -> Row | None:
    """The validation row of the variant with the best mean validation 'all' accuracy at
    this dataset and size (never dc2015; never chosen by a test score)."""
    scored = [
        row for row in validation if (row.dataset, row.neurons) == (dataset, neurons) and is_variant(row)
    ]
    return max(scored, key=lambda row: statistics.fmean(row.all.values()), default=None)


@dataclass(frozen=True)
class Paired:
    """One seed of a variant against another row's seed on the same images, 'all' voting."""

    first: float  # the variant's accuracy
    second: float  # the other's
    only_first: int  # images only the variant gets right
    only_second: int
    p: float  # exact McNemar

    @property
    def verdict(self) -> str:
        return paired_verdict(self.first, self.second, self.p)


def paired(row: Row, seed: int, other: Row, other_seed: int) -> Paired:
    """The exact McNemar test of ``row``'s seed against ``other``'s on the same images."""
    mine, theirs = row.predictions[seed], other.predictions[other_seed]
    if len(mine) != len(theirs):
        raise SystemExit(f"error: {row.variant} and {other.variant} were scored on different images")
    right = mine == row.labels, theirs == row.labels
    only_first, only_second, p = mcnemar(*right)
    return Paired(float(right[0].mean()), float(right[1].mean()), only_first, only_second, p)


def paired_cells(row: Row, seed: int, other: Row | None, other_name: str, other_seed: int) -> str:
    """One seed of ``row`` against ``other`` on the same images, 'all' voting, exact
    McNemar: the table cells from 'against' on."""
    if other is None:
        return f"{other_name} | no {other_name} row recorded | | | | | |"
    if other_seed not in other.predictions:
        return f"{other_name} | no {other_name} predictions of seed {other_seed} | | | | | |"
    test = paired(row, seed, other, other_seed)
    first, second, only_mine, only_theirs, p = (
        test.first,
        test.second,
        test.only_first,
        test.only_second,
        test.p,
    )
    return (
        f"{other_name} (seed {other_seed}) | {first:.4f} | {second:.4f} | {100 * (first - second):+.2f} "
        f"| {only_mine:,} | {only_theirs:,} | {format_p(p)} | {VERDICTS[test.verdict]}"
    )


PAIRED_HEADER = [
    "| dataset | neurons | variant | seed | against | variant acc | other acc | difference (points) "
    "| only variant right | only other right | exact McNemar p | verdict |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
]


def paired_lines(row: Row, rows: list[Row], against: tuple[str, ...]) -> list[str]:
    """Each seed of a variant against dc2015's same seed and k-means (seed 0), as named
    in ``against``, on the same images."""
    lines = []
    for other_name in against:
        other = find_row(rows, row, other_name)
        for seed in sorted(row.predictions):
            other_seed = seed if other_name == PAPER else 0
            cells = paired_cells(row, seed, other, other_name, other_seed)
            lines.append(
                f"| {DATASETS[row.dataset].title} | {row.neurons:,} | {row.variant} | {seed} | {cells} |"
            )
    return lines


def seeds_text(count: int) -> str:
    return f"{count} seed{'s' * (count != 1)}"


def chosen_variant(validation: list[Row], dataset: str, neurons: int) -> tuple[Row, int | None] | None:
    """The variant chosen for a dataset and size, as its validation row, and the MNIST
    size whose search chose it when the dataset and size had no search of its own (None
    when it had): the best variant of the largest MNIST size searched at or below it,
    carried over with the same settings, so that nothing is chosen on the target's test
    images. A size below every search has no choice."""
    own = best_variant(validation, dataset, neurons)
    if own is not None:
        return own, None
    searched = {
        row.neurons
        for row in validation
        if row.dataset == "mnist" and is_variant(row) and row.neurons <= neurons
    }
    if not searched:
        return None
    source = max(searched)
    return best_variant(validation, "mnist", source), source


def choice_text(chosen: Row, carried_from: int | None) -> str:
    """How a variant was chosen, for the verdict line."""
    mean = statistics.fmean(chosen.all.values())
    scored = f"validation 'all' {mean:.4f}, {seeds_text(len(chosen.all))}"
    if carried_from is None:
        return f"{chosen.variant} ({scored})"
    return (
        f"the choice of MNIST's validation search at {carried_from:,} neurons ({chosen.variant}, {scored}), "
        "carried over unchanged, not searched here"
    )


def verdict_line(best: Row, rows: list[Row], chosen: str) -> str:
    """The best variant of a size in one sentence: how it was chosen, its test mean
    against k-means, and on how many seeds it is ahead of dc2015 by the paired test."""
    title = DATASETS[best.dataset].title
    mean = statistics.fmean(best.all.values())
    line = (
        f"- {title}, {best.neurons:,} neurons: {chosen}; on the test images"
        f"{'' if chosen.startswith(best.variant + ' ') else f' ({best.variant})'} {mean:.4f} "
        f"over {seeds_text(len(best.all))}"
    )
    kmeans = find_row(rows, best, KMEANS)
    if kmeans is not None:
        gap = 100 * (mean - kmeans.all[0])
        line += f", {abs(gap):.2f} points {'above' if gap >= 0 else 'below'} k-means ({kmeans.all[0]:.4f})"
    paper = find_row(rows, best, PAPER)
    if paper is not None:
        tests = [paired(best, seed, paper, seed) for seed in best.predictions if seed in paper.predictions]
        ahead = sum(test.verdict == "first ahead" for test in tests)
        line += f"; ahead of dc2015 by the paired test on {ahead} of {len(tests)} seeds"
    return line + "."


def protocol_lines(validation: list[Row]) -> list[str]:
    """Each searched dataset and size with the protocol of its records, a line each
    (a size whose records were trained differently gets each protocol named)."""
    protocols: dict[tuple[str, int], list[str]] = {}
    for row in validation:
        found = protocols.setdefault((row.dataset, row.neurons), [])
        if row.protocol not in found:
            found.append(row.protocol)
    return [
        f"- {DATASETS[dataset].title}, {neurons:,} neurons: {'; '.join(found)}."
        for (dataset, neurons), found in protocols.items()
    ]


def validation_lines(validation: list[Row], baselines: list[Row] = ()) -> list[str]:
    """Every validation record, each seed against dc2015's validation run of that seed,
    and against k-means on the same images where ``baselines`` has it at that size."""
    lines = []
    for row in validation:
        if not is_variant(row):
            continue
        against = (PAPER, KMEANS) if find_row(list(baselines), row, KMEANS) else (PAPER,)
        lines += paired_lines(row, [*validation, *baselines], against)
    return lines


def report(
    records: Path = RECORDS,
    inputs: Path = INPUTS,
    validation_records: Path = VALIDATION,
    screen_records: Path = SCREEN,
) -> str:
    rows = [
        row
        for row in record_rows(records) + baseline_rows(inputs)
        if row.neurons in SIZES.get(row.dataset, ())
    ]
    order = {name: k for k, name in enumerate(DATASETS)}
    kinds = {PAPER: 0, KMEANS: 2, PROJECTION: 3}

    def sort_key(r: Row):
        return (order[r.dataset], r.neurons, kinds.get(r.variant, 1), r.variant)

    rows.sort(key=sort_key)
    validation = sorted(record_rows(validation_records, "validation"), key=sort_key)
    validation_baselines = baseline_rows(inputs, "validation")
    screen = sorted(record_rows(screen_records, "validation"), key=sort_key)
    lines = [
        "# Beyond Diehl & Cook: variants beside the paper's network and the baselines",
        "",
        "Generated by `python scripts/beyond.py --write` from the run records in results/runs/, the baseline "
        "rows in results/beyond/baselines-*.json and the validation records in results/beyond/validation/ "
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
    fidelity = sorted({row.variant for row in rows if is_reference_numerics(row.settings)})
    if fidelity:
        lines += [
            "",
            f"{', '.join(f'`{name}`' for name in fidelity)}: the paper's network run in the reference's own "
            "Brian 1 numerics (forward Euler, v not clamped, Brian 1's STDP delay lookup; docs/FIDELITY.md), "
            "all of those that apply at its size or, where the name ends in -euler, -unclamped or -lookup, "
            "that one alone: fidelity rows beside dc2015, not variants of the search, set against dc2015 and "
            "k-means in the tests below as the variants are.",
        ]
    lines += [
        "",
        "## Best variant against dc2015 and k-means",
        "",
        "The best variant of each dataset and size is the one with the highest mean 'all' accuracy on the "
        "validation split (training images 50,000-59,999 held out), from results/beyond/validation/; "
        "a dataset or size without a search of its own takes, unchanged, the choice of MNIST's search at the "
        "largest searched size up to its own (the same settings, whatever its records are named). The choice "
        "is then compared on the test images by the exact McNemar test (a two-sided binomial test of the "
        "images only one of the two gets right against 1/2; 'level' unless p < "
        f"{SIGNIFICANCE}), 'all' voting, seed by seed against dc2015's same seed and against k-means. The "
        "table below the list sets every variant with test records against both, the best and the others.",
        "",
    ]
    sizes = sorted({(order[r.dataset], r.dataset, r.neurons) for r in rows})
    for _, dataset, neurons in sizes:
        choice = chosen_variant(validation, dataset, neurons)
        if choice is None:
            lines.append(
                f"- {DATASETS[dataset].title}, {neurons:,} neurons: no variant with validation records yet."
            )
            continue
        text = choice_text(*choice)
        best = next(
            (
                row
                for row in rows
                if (row.dataset, row.neurons, row.settings) == (dataset, neurons, choice[0].settings)
            ),
            None,
        )
        if best is None:
            lines.append(f"- {DATASETS[dataset].title}, {neurons:,} neurons: {text}; no test record yet.")
            continue
        lines.append(verdict_line(best, rows, text))
    tests = [line for row in rows if is_variant(row) for line in paired_lines(row, rows, (PAPER, KMEANS))]
    if tests:
        lines += ["", *PAIRED_HEADER, *tests]
    lines += [
        "",
        "## The validation search",
        "",
        "Each recorded variant on the validation split, seed by seed against dc2015's validation run of the same "
        "seed on the same 10,000 images: trained on training images 0-49,999 only, labelled from them and "
        "scored on images 50,000-59,999, which neither sees (at 400 neurons the config's own schedule: "
        "`stdp-mnist train --config CONFIG --set evaluation.split=validation --set evaluation.n_assign=50000 "
        "--evaluate`; at 100 neurons the search protocol of configs/search-100.toml, run by the sweep "
        "configs/sweeps/search-100.toml; recorded by `python scripts/beyond.py --record-validation RUNS_DIR`). "
        "These choose the best variant. Where k-means has been scored on the same validation images "
        "(results/beyond/baselines-DATASET-validation.json, from `baselines.py --split validation`, fitted as "
        "the size's records were trained), each variant is set against it too. What each size's records and "
        "k-means trained on:",
        "",
        *protocol_lines([*validation, *validation_baselines]),
        "",
        *(
            [*PAIRED_HEADER, *checks]
            if (checks := validation_lines(validation, validation_baselines))
            else ["No validation records yet."]
        ),
        "",
        "## The one-pass screen",
        "",
        "A cheaper first look on the same split: one pass of 50,000 examples (`--set "
        "training.max_examples=50000` as well), recorded by `python scripts/beyond.py --record-screen RUNS_DIR`. "
        "It chooses nothing; a variant it ranks differently from the validation search above shows how much "
        "the schedule's length matters.",
        "",
        *([*PAIRED_HEADER, *checks] if (checks := validation_lines(screen)) else ["No screen records yet."]),
    ]
    lines += ["", "Baseline rows were computed by:", ""]
    lines += [f"- {DATASETS[name].title}: `{command}`" for name, command in BASELINE_COMMANDS.items()]
    lines += [
        f"- {DATASETS[name].title}, on the validation images: " + "; ".join(f"`{c}`" for c in commands)
        for name, commands in VALIDATION_BASELINE_COMMANDS.items()
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {REPORT.relative_to(ROOT)}")
    parser.add_argument(
        "--record-validation",
        type=Path,
        metavar="RUNS_DIR",
        help=f"first record every finished validation run under RUNS_DIR into {VALIDATION.relative_to(ROOT)}/",
    )
    parser.add_argument(
        "--record-screen",
        type=Path,
        metavar="RUNS_DIR",
        help=f"first record every finished one-pass screen run under RUNS_DIR into {SCREEN.relative_to(ROOT)}/",
    )
    args = parser.parse_args(argv)
    for runs_dir, records in ((args.record_validation, VALIDATION), (args.record_screen, SCREEN)):
        for record in record_runs(runs_dir, records, split="validation") if runs_dir else ():
            print(f"recorded {record.relative_to(ROOT)}", file=sys.stderr)
    print_report(report(), REPORT, args.write)


if __name__ == "__main__":
    main()
