"""A sweep's results: one row per run (read from its run directory), written as
summary.csv and summary.md (one row per run, then per-point means over seeds in the
.md); summary.png is drawn by ``stdp_mnist.sweep.plot``."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..progress import plural
from ..records import READOUTS
from ..rundir import read_evaluation, training_wall_s
from .sweep_file import Sweep, text

SUMMARY_CSV, SUMMARY_MD, SUMMARY_PNG = "summary.csv", "summary.md", "summary.png"
# The columns of a run's test accuracies, one per readout: the paper's two votings and
# the supervised linear readout.
ACCURACIES = tuple(f"accuracy_{readout}" for readout in READOUTS)
ACCURACY_ALL, ACCURACY_PROPORTION, ACCURACY_LINEAR = ACCURACIES
COLUMNS = [
    "point",
    "seed",
    "status",
    *ACCURACIES,
    "examples_trained",
    "train_wall_s",
    "eval_wall_s",
    "run_dir",
    "error",
]
MD_COLUMNS = ["seed", "status", *ACCURACIES, "train_wall_s", "eval_wall_s"]


def result_row(spec: dict, status: str, error: str = "") -> dict:
    """A summary row of one run from what its run directory holds."""
    run_dir = Path(spec["run_dir"])
    evaluation = read_evaluation(run_dir)
    return {
        "name": spec["name"],
        "point": spec["point"],
        "overrides": dict(map(tuple, spec["overrides"])),
        "seed": spec["seed"],
        "status": status,
        **{
            column: evaluation.accuracy(readout) if evaluation else None
            for column, readout in zip(ACCURACIES, READOUTS, strict=True)
        },
        "examples_trained": evaluation.examples_trained if evaluation else None,
        "train_wall_s": training_wall_s(run_dir),
        "eval_wall_s": evaluation.eval_wall_s if evaluation else None,
        "run_dir": spec["run_dir"],
        "error": error,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if value < 10 else f"{value:.1f}"
    return text(value)


def shown(path: Path) -> str:
    """A path as a summary shows it: relative to the working directory when inside it,
    so that committed summaries do not carry one machine's absolute paths."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def by_point(rows: list[dict]) -> dict[str, list[dict]]:
    """The rows grouped by point (each point's seeds together), in sweep order."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["point"], []).append(row)
    return groups


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.4f}" if values else ""


def _write_csv(sweep: Sweep, rows: list[dict], path: Path) -> None:
    keys = sweep.keys
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(keys + COLUMNS)
        for row in rows:
            writer.writerow(
                [text(row["overrides"][k]) if k in row["overrides"] else "" for k in keys]
                + ["" if row[c] is None else row[c] for c in COLUMNS]
            )


def _run_lines(keys: list[str], rows: list[dict]) -> list[str]:
    """The .md table of every run."""
    lines = ["| " + " | ".join(keys + MD_COLUMNS) + " |", "|" + " --- |" * (len(keys) + len(MD_COLUMNS))]
    for row in rows:
        status = (row["status"] + (f": {row['error']}" if row["error"] else "")).replace("|", "/")
        cells = [text(row["overrides"].get(k, "")) for k in keys] + [str(row["seed"]), status]
        cells += [_cell(row[c]) for c in MD_COLUMNS[2:]]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _point_lines(rows: list[dict]) -> list[str]:
    """The .md table of every point: its accuracies over seeds."""
    lines = [
        "| point | runs | accuracy_all mean | min | max | accuracy_proportion mean | accuracy_linear mean |",
        "|" + " --- |" * 7,
    ]
    for point, group in by_point(rows).items():
        values = {key: [r[key] for r in group if r[key] is not None] for key in ACCURACIES}
        acc = values[ACCURACY_ALL]
        spread = f"{min(acc):.4f} | {max(acc):.4f}" if acc else " | "
        lines.append(
            f"| {point} | {len(acc)}/{len(group)} | {_mean(acc)} | {spread} | "
            f"{_mean(values[ACCURACY_PROPORTION])} | {_mean(values[ACCURACY_LINEAR])} |"
        )
    return lines


def write_tables(sweep: Sweep, rows: list[dict]) -> list[Path]:
    """summary.csv and summary.md in the sweep's out directory; returns their paths."""
    out = sweep.out
    out.mkdir(parents=True, exist_ok=True)
    _write_csv(sweep, rows, out / SUMMARY_CSV)
    common = "".join(f"; every point: `{key}={text(value)}`" for key, value in sweep.common)
    lines = [
        f"# Sweep {sweep.path.name}",
        "",
        f"Base config: `{shown(sweep.base)}`; seeds: {list(sweep.seeds)}; "
        f"{plural(len(rows), 'run')} in `{shown(out)}`{common}.",
        "",
        *_run_lines(sweep.keys, rows),
        "",
        "Per point (over seeds; accuracy_linear: the supervised linear readout):",
        "",
        *_point_lines(rows),
    ]
    (out / SUMMARY_MD).write_text("\n".join(lines) + "\n")
    return [out / SUMMARY_CSV, out / SUMMARY_MD]


def write_summary(sweep: Sweep, rows: list[dict]) -> list[Path]:
    """summary.csv, summary.md and summary.png (when a run has an accuracy); returns
    the paths written."""
    from .plot import plot_summary

    paths = write_tables(sweep, rows)
    png = plot_summary(sweep, rows, sweep.out / SUMMARY_PNG)
    return paths + ([png] if png is not None else [])
