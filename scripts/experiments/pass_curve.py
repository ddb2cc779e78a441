"""Print a long training run's per-pass curve as a markdown table.

    python scripts/experiments/pass_curve.py RUN_DIR [--plot PNG] [--markdown MD]

One row per finished pass of RUN_DIR (from its metrics.jsonl): the training wall time
of the pass as recorded (s), the median milliseconds per training example over the
pass's log entries, spikes per training example (mean over the pass), mean theta (mV)
at the pass end, and from `RUN_DIR-passK` (the copies scripts/experiments/snapshot_passes.py
makes) the neurons whose theta is below the self-firing line (they fire with no input,
which frozen runs cannot stop: see network.count_self_firing) and, where that copy has
been evaluated, its accuracies. Ends with the
time the remaining passes need at the median speed of the last pass (the one in
progress when none has finished). The recorded wall time counts any time the run was
paused (kill -STOP) or shared its core; the median of the per-entry speeds is what a
long stretch of unpaused training costs. ``--plot`` also draws the curve: accuracy per
pass beside the paper's figure for the size, spikes and ms per training example;
``--markdown`` writes the table into a file, headed by the command that made it.
Where two or more passes were evaluated, each is then compared with the last one
evaluated, readout by readout, by the exact McNemar test on the same test images
(scripts/comparisons.py): a curve's points differ by chance too.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from comparisons import PAPER_ACCURACY, format_p, mcnemar, paired_verdict

from stdp_mnist.data import count_training_images, load_configured
from stdp_mnist.network import count_self_firing, self_firing_theta_mv
from stdp_mnist.plots import plot_pass_curve
from stdp_mnist.records import READOUTS, MetricsLine
from stdp_mnist.rundir import (
    ASSIGNMENTS_FILE,
    EVAL_METRICS_FILE,
    MODEL_FILE,
    NPZ_ERRORS,
    read_evaluation,
    read_npz,
    read_records,
    read_run_config,
)


def entry_speeds(history: list[MetricsLine]) -> list[tuple[int, float]]:
    """(examples_seen, s per example) of each log entry after the first: the wall time
    since the previous entry over the examples since it. The first entry has none (it
    includes start-up and compilation)."""
    return [
        (b.examples_seen, (b.wall_s - a.wall_s) / (b.examples_seen - a.examples_seen))
        for a, b in itertools.pairwise(history)
        if b.examples_seen > a.examples_seen
    ]


def pass_rows(history: list[MetricsLine], per_pass: int) -> list[dict]:
    """Per finished pass: examples, wall s, median s per example, spikes per example,
    theta at the end.

    ``history`` is metrics.jsonl: each entry covers the examples since the previous
    one (``spikes_per_example`` is their mean) and ``wall_s`` is cumulative. A pass is
    finished when an entry stands exactly at its end (training logs one there)."""
    speeds = entry_speeds(history)
    rows = []
    start_seen, start_wall = 0, 0.0
    spikes = 0.0
    previous_seen = 0
    for entry in history:
        seen, wall = entry.examples_seen, entry.wall_s
        spikes += entry.spikes_per_example * (seen - previous_seen)
        previous_seen = seen
        if seen % per_pass == 0 and seen > start_seen:
            in_pass = [speed for at, speed in speeds if start_seen < at <= seen]
            rows.append(
                {
                    "pass": seen // per_pass,
                    "examples": seen - start_seen,
                    "wall_s": wall - start_wall,
                    "median_s_per_example": statistics.median(in_pass)
                    if in_pass
                    else (wall - start_wall) / (seen - start_seen),
                    "spikes_per_example": spikes / (seen - start_seen),
                    "mean_theta_mv": entry.mean_theta_mv,
                }
            )
            start_seen, start_wall, spikes = seen, wall, 0.0
    return rows


def current_speed(history: list[MetricsLine], per_pass: int) -> float | None:
    """Median s per example over the log entries of the pass in progress (None: none)."""
    pass_start = (history[-1].examples_seen - 1) // per_pass * per_pass if history else 0
    speeds = [speed for at, speed in entry_speeds(history) if at > pass_start]
    return statistics.median(speeds) if speeds else None


def remaining_s(history: list[MetricsLine], rows: list[dict], per_pass: int, passes: int) -> float | None:
    """Seconds the passes not yet trained need at the last measured speed (None: no data)."""
    s_per_example = rows[-1]["median_s_per_example"] if rows else current_speed(history, per_pass)
    if s_per_example is None:
        return None
    return (passes * per_pass - history[-1].examples_seen) * s_per_example


def pass_copy(run_dir: Path, k: int) -> Path:
    """Where scripts/experiments/snapshot_passes.py keeps the copy of pass k."""
    return run_dir.with_name(f"{run_dir.name}-pass{k}")


def pass_self_firing(run_dir: Path, k: int, cfg) -> int | None:
    """Neurons of the copy of pass k whose theta is below the self-firing line (None
    when there is no readable copy)."""
    try:
        with np.load(pass_copy(run_dir, k) / MODEL_FILE, allow_pickle=False) as model:
            return count_self_firing(cfg, model["theta"])
    except (*NPZ_ERRORS, KeyError):
        return None


def evaluated_at(run_dir: Path, k: int, per_pass: int) -> Path | None:
    """The directory holding the evaluation of the network after pass k: its copy, or
    the run itself where it was evaluated at the end of pass k (its last); None when
    neither was."""
    if (pass_copy(run_dir, k) / EVAL_METRICS_FILE).is_file():
        return pass_copy(run_dir, k)
    evaluation = read_evaluation(run_dir)
    if evaluation is not None and evaluation.examples_trained == k * per_pass:
        return run_dir
    return None


def pass_accuracies(run_dir: Path, k: int, per_pass: int) -> dict[str, float]:
    """The evaluated accuracies of the network after pass k, by readout ({} when not
    evaluated)."""
    evaluated = evaluated_at(run_dir, k, per_pass)
    if evaluated is None:
        return {}
    evaluation = read_evaluation(evaluated)
    if evaluation is None:
        raise SystemExit(f"{evaluated / EVAL_METRICS_FILE}: not an evaluation's results")
    accuracies = {readout: evaluation.accuracy(readout) for readout in READOUTS}
    return {readout: value for readout, value in accuracies.items() if value is not None}


def paired_with_last(run_dir: Path, evaluated: dict[int, Path], test_labels: np.ndarray) -> str:
    """Markdown: each evaluated pass (``evaluated``: pass -> the directory holding its
    evaluation) against the last one, per readout, by the exact McNemar test on their
    test predictions ('' when fewer than two were evaluated)."""
    if len(evaluated) < 2:
        return ""
    predictions = {}
    for k, directory in evaluated.items():
        arrays = read_npz(directory / ASSIGNMENTS_FILE)
        predictions[k] = {readout: arrays[f"predictions_{readout}"] for readout in READOUTS}
    last = max(predictions)
    n_test = len(predictions[last][READOUTS[0]])
    labels = test_labels[:n_test]
    lines = [
        f"Each evaluated pass against pass {last}, on the same {n_test:,} test "
        "images (exact McNemar test; b: images only the earlier pass gets right, c: only the later; level "
        "unless p < 0.05):",
        "",
        "| passes | readout | accuracy | accuracy | b | c | p | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k in sorted(predictions)[:-1]:
        if len(predictions[k][READOUTS[0]]) != n_test:
            raise SystemExit(f"{run_dir}: passes {k} and {last} were evaluated on different test images")
        for readout in READOUTS:
            early_right, late_right = predictions[k][readout] == labels, predictions[last][readout] == labels
            only_early, only_late, p = mcnemar(early_right, late_right)
            verdict = paired_verdict(early_right.mean(), late_right.mean(), p)
            verdict = {"first ahead": f"pass {k} ahead", "second ahead": f"pass {last} ahead"}.get(
                verdict, verdict
            )
            lines.append(
                f"| {k} vs {last} | {readout} | {early_right.mean():.4f} | "
                f"{late_right.mean():.4f} | {only_early} | {only_late} | {format_p(p)} | {verdict} |"
            )
    return "\n".join(lines)


def curve(run_dir: Path):
    """(config, training images per pass, log history, finished-pass rows, each
    finished pass's evaluated accuracies)."""
    cfg = read_run_config(run_dir)
    per_pass = count_training_images(cfg)
    if per_pass is None:
        raise SystemExit(f"{run_dir}: its training data is not found (run stdp-mnist download)")
    history = read_records(run_dir)
    rows = pass_rows(history, per_pass)
    return cfg, per_pass, history, rows, [pass_accuracies(run_dir, row["pass"], per_pass) for row in rows]


def table(run_dir: Path) -> str:
    cfg, per_pass, history, rows, accuracies = curve(run_dir)
    line_mv = self_firing_theta_mv(cfg)
    lines = [
        f"| pass | wall s | median ms/example | spikes/example | theta mV | theta < {line_mv:g} mV | accuracy_all "
        "| accuracy_proportion | accuracy_linear |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row, acc in zip(rows, accuracies, strict=True):
        low = pass_self_firing(run_dir, row["pass"], cfg)
        cells = [f"{acc[readout]:.4f}" if readout in acc else "-" for readout in READOUTS]
        lines.append(
            f"| {row['pass']} | {row['wall_s']:.0f} | {1000 * row['median_s_per_example']:.1f} | "
            f"{row['spikes_per_example']:.1f} | {row['mean_theta_mv']:.2f} | {'-' if low is None else low} | "
            + " | ".join(cells)
            + " |"
        )
    seen = history[-1].examples_seen if history else 0
    total = cfg.training.passes * per_pass
    left = remaining_s(history, rows, per_pass, cfg.training.passes)
    lines.append("")
    if seen >= total:
        lines.append(f"all {total:,} examples trained")
    else:
        lines.append(
            f"{seen:,} of {total:,} examples trained"
            + (
                f"; the rest needs about {left / 3600:.1f} h at the last pass's median speed"
                if left is not None
                else ""
            )
        )
    return "\n".join(lines)


def report(run_dir: Path) -> str:
    """The table, then (where two or more passes were evaluated) their paired tests."""
    text = table(run_dir)
    cfg, per_pass, _, rows, _ = curve(run_dir)
    evaluated = {row["pass"]: evaluated_at(run_dir, row["pass"], per_pass) for row in rows}
    evaluated = {k: directory for k, directory in evaluated.items() if directory is not None}
    if len(evaluated) >= 2:  # the test labels are read only when there is something to test
        text += "\n\n" + paired_with_last(run_dir, evaluated, load_configured(cfg).test_labels)
    return text


def plot(run_dir: Path, path: Path) -> Path:
    cfg, _, _, rows, accuracies = curve(run_dir)
    if not rows:
        raise SystemExit(f"{run_dir}: no finished pass to plot")
    readouts = {readout: [acc.get(readout, float("nan")) for acc in accuracies] for readout in READOUTS}
    n = cfg.network.n_excitatory
    return plot_pass_curve(
        [row["pass"] for row in rows],
        readouts,
        [row["spikes_per_example"] for row in rows],
        [1000 * row["median_s_per_example"] for row in rows],
        path,
        PAPER_ACCURACY.get(n),
        f"{run_dir.name}: {n} neurons, per pass",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument(
        "--plot", type=Path, metavar="PNG", help="also draw the per-pass curve into this file"
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="MD",
        help="also write the table into this file, headed by the command that made it",
    )
    args = parser.parse_args(argv)
    text = report(args.run_dir)
    print(text)
    if args.markdown:
        command = " ".join(
            ["python scripts/experiments/pass_curve.py", *(sys.argv[1:] if argv is None else argv)]
        )
        args.markdown.write_text(
            f"# Per-pass curve of {args.run_dir.name}\n\nGenerated by `{command}`. One row per "
            "finished pass; the accuracies of the passes whose network was evaluated (each with "
            "its run's evaluation settings), '-' elsewhere. Points of a learning curve, not a "
            f"row of the table.\n\n{text}\n"
        )
    if args.plot:
        print(f"figure: {plot(args.run_dir, args.plot)}")


if __name__ == "__main__":
    main()
