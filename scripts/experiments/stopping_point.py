"""Where a run stops, and what that costs on the test images: results/stopping-point.md.

    python scripts/experiments/stopping_point.py [--record RUN_DIR ...] [--write]

Each record in results/stopping-point/RUN--LABEL/ is a network related to the recorded
run results/runs/RUN (a config's final network of one seed), evaluated on all 10,000
test images as the full protocol does: the same trajectory stopped earlier
(``training.max_examples``; the examples, the input spikes and so the states are the
run's own, example for example), the validation protocol's network of the same config
and seed (trained on training images 0-49,999 only), or the final network labelled from
fewer images. The report sets each against RUN's final network image by image (exact
McNemar on 'all' voting), and names what it trained on, how many examples, the last
training image it saw and the images it was labelled from.

``--record RUN_DIR`` copies a finished run directory named RUN--LABEL, evaluated on the
test images, into the records (config, metrics, training log, code_revision and its
per-image predictions); the run directories themselves are not committed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from collect_results import (
    PREDICTIONS_FILE,
    RECORDS,
    ROOT,
    dataset_of,
    is_finished,
    print_report,
    record_run,
    run_metrics,
)
from comparisons import format_p, mcnemar, paired_verdict

from stdp_mnist.config import load_config
from stdp_mnist.constants import VALIDATION_START
from stdp_mnist.rundir import CONFIG_FILE

INPUTS = ROOT / "results" / "stopping-point"
REPORT = ROOT / "results" / "stopping-point.md"
SEPARATOR = "--"  # RUN--LABEL: the recorded run a record belongs to, and what it is
TRAINING_IMAGES = 60_000  # MNIST's training set, the passes' length outside the validation split


@dataclass(frozen=True)
class Network:
    """One evaluated network: its record, what trained it and how it scored."""

    name: str
    trained_on: int  # training images 0 .. trained_on - 1 make up each pass
    examples: int
    labelled_from: int
    accuracy_all: float
    accuracy_linear: float
    right: np.ndarray  # per test image: 'all' voting right

    @property
    def last_image(self) -> int:
        """The training image the network saw last (passes go through the images in order)."""
        return (self.examples - 1) % self.trained_on


def network(record: Path) -> Network:
    """A record (or a results/runs record) read into a Network."""
    cfg = load_config(record / CONFIG_FILE)
    if cfg.training.shuffle:
        raise SystemExit(f"error: {record}: a shuffled run has no last training image to report")
    metrics = run_metrics(record)
    if metrics.split not in (None, "test") or metrics.n_test != 10_000:  # None: recorded before splits
        raise SystemExit(f"error: {record}: not scored on all 10,000 test images")
    with np.load(record / PREDICTIONS_FILE) as arrays:
        right = arrays["all"] == arrays["labels"]
    return Network(
        name=record.name,
        trained_on=VALIDATION_START if cfg.evaluation.split == "validation" else TRAINING_IMAGES,
        examples=metrics.examples_trained,
        labelled_from=metrics.n_assign,
        accuracy_all=metrics.accuracy_all,
        accuracy_linear=metrics.accuracy_linear,
        right=right,
    )


def record(run_dir: Path, loaded: dict | None = None, inputs: Path = INPUTS) -> Path:
    """Copy a finished, test-scored run directory named RUN--LABEL into ``inputs``
    (``loaded``: the datasets already loaded, shared by the runs recorded together)."""
    base = run_dir.name.split(SEPARATOR)[0]
    if SEPARATOR not in run_dir.name or not (RECORDS / base).is_dir():
        raise SystemExit(f"error: {run_dir}: name it RUN{SEPARATOR}LABEL, RUN a record in {RECORDS}")
    if not is_finished(run_dir):
        raise SystemExit(f"error: {run_dir}: not trained through its schedule and evaluated")
    cfg = load_config(run_dir / CONFIG_FILE)
    test_labels = dataset_of(cfg, {} if loaded is None else loaded).test_labels
    inputs.mkdir(parents=True, exist_ok=True)
    return record_run(run_dir, inputs, test_labels)


def images(first: int, count: int) -> str:
    return f"{first:,}-{first + count - 1:,}"


def row(net: Network, final: Network | None) -> str:
    """One network's line; ``final`` None for the final network itself."""
    cells = [
        net.name if final else f"{net.name} (final)",
        images(0, net.trained_on),
        f"{net.examples:,}",
        f"{net.last_image:,}",
        images(0, net.labelled_from),
        f"{net.accuracy_all:.4f}",
        f"{net.accuracy_linear:.4f}",
    ]
    if final is None:
        cells += ["-"] * 5
    else:
        only_this, only_final, p = mcnemar(net.right, final.right)
        verdict = paired_verdict(net.accuracy_all, final.accuracy_all, p)
        cells += [
            f"{100 * (net.accuracy_all - final.accuracy_all):+.2f}",
            f"{only_this:,}",
            f"{only_final:,}",
            format_p(p),
            verdict.replace("first", "this").replace("second", "final"),
        ]
    return "| " + " | ".join(cells) + " |"


def report(inputs: Path = INPUTS, records: Path = RECORDS) -> str:
    """The page: per recorded run, its final network and every related record against it."""
    by_run: dict[str, list[Path]] = {}
    for path in sorted(p for p in inputs.iterdir() if p.is_dir()):
        by_run.setdefault(path.name.split(SEPARATOR)[0], []).append(path)
    lines = [
        "# Where a run stops: the same networks stopped earlier or trained otherwise",
        "",
        "Generated by `python scripts/experiments/stopping_point.py --write` from the records in "
        "results/stopping-point/ and results/runs/ (see the script's docstring). Every network is "
        "scored on all 10,000 test images; 'all' voting is set against the run's recorded final "
        "network image by image (exact McNemar: a two-sided binomial test of the images only one of "
        "the two gets right against 1/2; 'level' unless p < 0.05). One seed per run: the spread "
        "across seeds of these differences is not measured. The passes go through the training "
        "images in order (no shuffle), so the last training image says which images the network "
        "saw last.",
    ]
    header = (
        "| network | passes over training images | examples | last training image | labelled from "
        "training images | accuracy_all | accuracy_linear | against final (points) | only this right | "
        "only final right | exact McNemar p | verdict |"
    )
    for run, paths in by_run.items():
        final = network(records / run)
        lines += ["", f"## {run}", "", header, "| " + " | ".join(["---"] * 12) + " |"]
        lines.append(row(final, None))
        for net in sorted(
            (network(path) for path in paths), key=lambda n: (n.trained_on, n.examples, n.name)
        ):
            lines.append(row(net, final))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", type=Path, nargs="+", default=[], metavar="RUN_DIR")
    parser.add_argument("--write", action="store_true", help=f"write {REPORT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    loaded = {}
    for run_dir in args.record:
        print(f"recorded {record(run_dir, loaded).relative_to(ROOT)}", file=sys.stderr)
    print_report(report(), REPORT, args.write)


if __name__ == "__main__":
    main()
