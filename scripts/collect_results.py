"""The accuracy table, generated from run records: one row per config, its seeds pooled.

    python scripts/collect_results.py [--record RUNS_DIR] [--write | --all]

``--record RUNS_DIR`` first copies the record of every finished run under RUNS_DIR
(default: runs/) into results/runs/NAME/: config.toml, metrics.json, metrics.jsonl,
the code revisions that trained it (``code_revision``, when the run has one: a line per
commit, since a run resumed in several sessions ran the code of each) and its
test predictions (predictions.npz: the test labels and each readout's prediction per
image, uint8), so the table and the paired tests can be rerun from the repository
alone. A run is finished when its training went through the config's whole schedule
and it was evaluated; the copies kept at the end of each pass (NAME-passK) are a
curve, not a row, and are never recorded here.

The table (printed; with ``--write`` also written to results/table.md and into the
marked blocks of README.md, results/README.md and the docs site's docs/results.md) has
one row per config: runs named CONFIG or CONFIG-seedK whose configs differ only in the
seed are pooled, and each accuracy is the mean over seeds, with the sample standard
deviation where there are several. ``train wall h`` is the mean training wall-clock time in hours on this
project's shared 2-core machine, one core per run, contention from the other work
included (results/README.md): a record of what the runs took, not a measure of the work. Under the table, each row's sample and code revisions.

``--all`` rewrites every generated file whose inputs are committed: the table and its
README blocks, results/paired-tests.md (scripts/experiments/paired_tests.py),
results/beyond.md (scripts/beyond.py), results/benchmark-brian2.md
(scripts/benchmarks/brian2_report.py, from results/benchmark/brian2.json) and
results/stopping-point.md (scripts/experiments/stopping_point.py). The
other generated reports in results/ were made from run directories that are not in
the repository (NOT_REGENERATED names them); each says so in its first line, and
``--all`` leaves it as it is.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from comparisons import PAPER_ACCURACY

from stdp_mnist.config import load_config
from stdp_mnist.data import DATASETS, Mnist, count_training_images, load_configured
from stdp_mnist.evaluation import evaluation_split
from stdp_mnist.records import READOUTS, Evaluation
from stdp_mnist.rundir import (
    ASSIGNMENTS_FILE,
    CONFIG_FILE,
    EVAL_METRICS_FILE,
    TRAIN_METRICS_FILE,
    read_npz,
    training_wall_s,
)
from stdp_mnist.training import total_examples

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "results" / "runs"
TABLE = ROOT / "results" / "table.md"
TABLE_HOMES = (ROOT / "README.md", ROOT / "results" / "README.md", ROOT / "docs" / "results.md")
START, END = "<!-- results-table:start -->", "<!-- results-table:end -->"
PREDICTIONS_FILE = "predictions.npz"
REVISION_FILE = "code_revision"
SEED_SUFFIX = re.compile(r"-seed\d+$")
MNIST_TEST_IMAGES = 10000


def config_name(run_name: str) -> str:
    """The config a run directory belongs to: its name without a trailing -seedK."""
    return SEED_SUFFIX.sub("", run_name)


def run_metrics(run: Path) -> Evaluation:
    """A run's (or record's) evaluation results, metrics.json."""
    path = run / EVAL_METRICS_FILE
    return Evaluation.from_json(path.read_text(), str(path))


def is_finished(run: Path) -> bool:
    """Evaluated, and trained through its config's whole schedule."""
    if not ((run / EVAL_METRICS_FILE).is_file() and (run / CONFIG_FILE).is_file()):
        return False
    cfg = load_config(run / CONFIG_FILE)
    n_images = count_training_images(cfg)
    return n_images is not None and run_metrics(run).examples_trained == total_examples(cfg, n_images)


def print_report(text: str, report: Path, write: bool) -> None:
    """A generated report's command line: print the text, and write it to ``report`` when asked."""
    print(text, end="")
    if write:
        report.write_text(text)


def record_run(run: Path, records: Path, scored_labels: np.ndarray) -> Path:
    """Copy a finished run's record (small files only) into ``records/NAME``, with the
    labels of the images it was scored on (its evaluation split's)."""
    target = records / run.name
    target.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG_FILE, EVAL_METRICS_FILE, TRAIN_METRICS_FILE, REVISION_FILE):
        if (run / name).is_file():
            shutil.copyfile(run / name, target / name)
    arrays = read_npz(run / ASSIGNMENTS_FILE)
    predictions = {readout: arrays[f"predictions_{readout}"].astype(np.uint8) for readout in READOUTS}
    np.savez_compressed(
        target / PREDICTIONS_FILE,
        labels=scored_labels[: len(predictions["all"])].astype(np.uint8),
        **predictions,
    )
    return target


def dataset_of(cfg, loaded: dict[tuple[str, str], Mnist]) -> Mnist:
    """The data a run's config names, loaded once per dataset and directory into ``loaded``
    however many runs ask for it."""
    where = (cfg.data.name, cfg.data.dir)
    if where not in loaded:
        loaded[where] = load_configured(cfg)
    return loaded[where]


def record_runs(runs_dir: Path, records: Path = RECORDS, split: str = "test") -> list[Path]:
    """Record every finished run under ``runs_dir`` scored on ``split`` (the test images,
    or the validation split of the training images); returns the records written."""
    finished = [run for run in sorted(runs_dir.iterdir()) if run.is_dir() and is_finished(run)]
    loaded: dict[tuple[str, str], Mnist] = {}
    recorded = []
    for run in finished:
        cfg = load_config(run / CONFIG_FILE)
        if cfg.evaluation.split != split:
            continue
        _, _, scored_labels = evaluation_split(cfg, dataset_of(cfg, loaded))
        recorded.append(record_run(run, records, scored_labels))
    return recorded


def _without_seed(cfg) -> dict:
    settings = asdict(cfg)
    settings["run"].pop("seed")
    return settings


def grouped(records: Path = RECORDS) -> dict[str, list[Path]]:
    """Recorded runs by config name; refuses a group whose configs differ beyond the seed."""
    groups: dict[str, list[Path]] = {}
    for run in sorted(records.iterdir()) if records.is_dir() else []:
        if (run / EVAL_METRICS_FILE).is_file():
            groups.setdefault(config_name(run.name), []).append(run)
    for runs in groups.values():
        first = _without_seed(load_config(runs[0] / CONFIG_FILE))
        for run in runs[1:]:
            if _without_seed(load_config(run / CONFIG_FILE)) != first:
                raise SystemExit(f"error: {run} and {runs[0]} differ beyond the seed; name them apart")
    return groups


def mean_sd(values: list[float]) -> str:
    """'0.8958' for one value, '0.8958 ± 0.0041' (sample sd) for several."""
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.fmean(values):.4f} ± {statistics.stdev(values):.4f}"


def versus_paper(values: list[float], paper: float) -> str:
    """How the seeds' 'all' accuracies stand against the paper's single run: how many
    are above it and the mean difference in points."""
    above = sum(value > paper for value in values)
    return (
        f"'all' against the paper's {paper:.3f}: {above} of {len(values)} seed{'s' if len(values) > 1 else ''} "
        f"above, mean {100 * (statistics.fmean(values) - paper):+.2f} points"
        + ("; one seed: the spread between seeds is unmeasured" if len(values) == 1 else "")
    )


def code_revisions(run: Path) -> list[str]:
    """The short commits a run record names, one per line of its code_revision file
    (what follows a commit on its line, such as '+local changes', is a remark), or
    ['unrecorded'] when it has none."""
    if not (run / REVISION_FILE).is_file():
        return ["unrecorded"]
    return [
        line.split()[0][:7] for line in (run / REVISION_FILE).read_text().splitlines() if line.strip()
    ] or ["unrecorded"]


def config_row(name: str, runs: list[Path]) -> dict:
    """One table row, plus the sample and revisions behind it."""
    cfg = load_config(runs[0] / CONFIG_FILE)
    metrics = [run_metrics(run) for run in runs]
    hours = [training_wall_s(run) / 3600 for run in runs]
    n = cfg.network.n_excitatory
    full_protocol = metrics[0].n_assign == 60000 and metrics[0].n_test == MNIST_TEST_IMAGES
    seeds = sorted(m.seed for m in metrics)
    revisions = list(
        dict.fromkeys(revision for run in runs for revision in code_revisions(run))
    )  # in the order first met
    paper = PAPER_ACCURACY.get(n) if full_protocol and cfg.data.name == "mnist" else None
    sample = (
        f"seeds {', '.join(map(str, seeds))}; {metrics[0].n_assign:,} labelled, "
        f"{metrics[0].n_test:,} test images; code {', '.join(revisions)}"
    )
    return {
        "dataset": cfg.data.name,
        "config": name,
        "neurons": n,
        "passes": cfg.training.passes,
        "seeds": len(runs),
        **{f"accuracy_{r}": mean_sd([m.accuracy(r) for m in metrics]) for r in READOUTS},
        "paper": f"{paper:.3f}" if paper else "-",
        "train wall h": f"{statistics.fmean(hours):.2f}",
        "sample": sample + (f"; {versus_paper([m.accuracy_all for m in metrics], paper)}" if paper else ""),
    }


COLUMNS = (
    "config",
    "neurons",
    "passes",
    "seeds",
    "accuracy_all",
    "accuracy_proportion",
    "accuracy_linear",
    "paper",
    "train wall h",
)


def wall_note(groups: dict[str, list[Path]]) -> str:
    """The note that says what ``train wall h`` measures, with the widest spread of
    training wall times among the seeds of one config (the same work each)."""
    walls = {name: [training_wall_s(run) for run in runs] for name, runs in groups.items() if len(runs) > 1}
    note = (
        "- train wall h: mean training wall-clock hours, one core per run on this project's shared 2-core "
        "machine, slowed by whatever else ran on it: not a measure of the work"
    )
    if not walls:
        return note
    name = max(walls, key=lambda name: max(walls[name]) / min(walls[name]))
    return (
        note + f" ({name}'s seeds took {min(walls[name]):.0f} to {max(walls[name]):.0f} s for the same work)"
    )


def is_reproduction(name: str) -> bool:
    """A config of the reproduction's table: the paper's networks and their readings
    (dc2015-*) and quick. Variants beyond the paper (e.g. instar-400) are compared in
    results/beyond.md (scripts/beyond.py) instead, beside the baselines, not the paper."""
    return name == "quick" or name.startswith("dc2015-")


def table(records: Path = RECORDS) -> str:
    """The reproduction's markdown table with its notes, rows ordered by size then name: MNIST's, then
    one table per other dataset under its name (datasets are never pooled)."""
    groups = {name: runs for name, runs in grouped(records).items() if is_reproduction(name)}
    rows = sorted(
        (config_row(name, runs) for name, runs in groups.items()),
        key=lambda row: (row["neurons"], row["config"]),
    )
    text = dataset_table([row for row in rows if row["dataset"] == "mnist"], groups)
    for name, spec in DATASETS.items():
        if name != "mnist" and (theirs := [row for row in rows if row["dataset"] == name]):
            text += f"\n{spec.title}:\n\n" + dataset_table(theirs, groups)
    return text


def dataset_table(rows: list[dict], groups: dict[str, list[Path]]) -> str:
    """One dataset's markdown table with its notes (``groups``: the runs of each config)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "| " + " | ".join("---" for _ in COLUMNS) + " |"]
    lines += ["| " + " | ".join(str(row[c]) for c in COLUMNS) + " |" for row in rows]
    lines.append("")
    lines += [f"- {row['config']}: {row['sample']}" for row in rows]
    lines.append(wall_note({row["config"]: groups[row["config"]] for row in rows}))
    return "\n".join(lines) + "\n"


def with_table(text: str, generated: str, where: Path) -> str:
    """``text`` with the block between the table markers replaced by ``generated``."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"error: {where} has no {START} ... {END} block for the table")
    return text[: start + len(START)] + "\n" + generated + text[end:]


# The generated reports in results/ that --all cannot rewrite: the inputs each was made
# from (all under runs/ on the development machine). Each report's first line is not_regenerated_line(path).
NOT_REGENERATED = {
    "pass-curve-dc2015-6400.md": "the per-pass copies runs/dc2015-6400-passK/ (their evaluations, "
    "predictions and thetas, behind the accuracy, theta < 7 mV and McNemar columns; the training-log "
    "columns come from results/runs/dc2015-6400/metrics.jsonl, which is committed)",
    "baselines.md": "runs/baselines-cache/ and the recorded runs' model files under runs/",
    "self-firing.md": "runs/dc2015-6400-pass1/ and runs/self-firing-6400-pass1/",
    "self-firing-at25k.md": "runs/dc2015-6400-at25k/ and runs/self-firing-6400-at25k/",
    "benchmark.md": "the raw timings of `stdp-mnist bench` and scripts/benchmarks/brian2_reference.py "
    "under runs/bench/, and the runs they timed",
    "benchmark/speed-6400-against-b5b1dc4.md": "the timings of `python scripts/benchmark.py --sizes 6400 "
    "--compare b5b1dc4 --no-brian2 --rounds 9 --scale 2` at 5a3d858, with every training run paused",
    "linear-readout.md": "the emission-time kernel's run directories it names (runs/quick-seed0, "
    "runs/quick400-20k, ...)",
    "rest-spikes.md": "the arrival-time kernel's runs/dc2015-100-seed0 to -seed2 and runs/dc2015-400-seed0",
    "assignment-sources.md": "the arrival-time kernel's runs/dc2015-100-seed0 to -seed2 and "
    "runs/dc2015-400-seed0",
    **{
        f"sweeps/{name}.md": f"the run directories under runs/sweeps/ (each run's row is in "
        f"sweeps/{name}.csv beside it; an earlier `stdp-mnist sweep` wrote this summary in its format "
        "of the time)"
        for name in (
            "brian1-100",
            "brian1-dense-100",
            "brian1-euler-100",
            "drive-100",
            "gap-100",
            "inhibition-100",
            "refractory-100",
            "seeds-100",
            "seeds-100-emission-kernel",
            "variants-100",
        )
    },
    "sweeps/search-100.md": "the run directories under runs/sweeps/search-100/ of the worktree that ran "
    "the search (each run's row is in sweeps/search-100.csv beside it; rounds 1 and 2 were trained by "
    "earlier code, rounds 3 and 4 by the code that added their variants, and `stdp-mnist sweep` wrote this "
    "summary after round 4)",
}
# The reports whose inputs were still on the development machine when they were written.
INPUTS_KEPT = {"sweeps/search-100.md"}


def not_regenerated_line(report: str) -> str:
    """The first line of a report in NOT_REGENERATED (a path under results/)."""
    return (
        f"> Not regenerable from this repository: made from {NOT_REGENERATED[report]}, on the development "
        f"machine; those inputs are not committed{'' if report in INPUTS_KEPT else ' and are no longer there'}. "
        "`python scripts/collect_results.py --all` leaves this file as it is."
    )


def regenerated_files() -> dict[Path, str]:
    """Every file ``--all`` writes, with the text it writes, from the committed records:
    the table, the README blocks that quote it, the paired tests, results/beyond.md,
    results/benchmark-brian2.md and results/stopping-point.md."""
    sys.path.insert(0, str(ROOT / "scripts" / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts" / "experiments"))
    sys.path.insert(0, str(ROOT / "scripts"))
    paired_tests = importlib.import_module("paired_tests")
    beyond = importlib.import_module("beyond")
    brian2_report = importlib.import_module("brian2_report")
    stopping_point = importlib.import_module("stopping_point")
    generated = table()
    files = {TABLE: generated}
    files.update({home: with_table(home.read_text(), generated, home) for home in TABLE_HOMES})
    files[paired_tests.REPORT] = paired_tests.document()
    files[beyond.REPORT] = beyond.report()
    files[brian2_report.REPORT] = brian2_report.report()
    files[stopping_point.REPORT] = stopping_point.report()
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--record", type=Path, metavar="RUNS_DIR", help="record finished runs from RUNS_DIR first"
    )
    parser.add_argument("--write", action="store_true", help="write results/table.md and the README blocks")
    parser.add_argument(
        "--all",
        action="store_true",
        help="rewrite every generated file whose inputs are committed (the table, its README blocks, "
        "results/paired-tests.md, results/beyond.md, results/benchmark-brian2.md, results/stopping-point.md)",
    )
    args = parser.parse_args(argv)
    if args.record:
        if not args.record.is_dir():
            raise SystemExit(f"error: {args.record}: no such directory")
        for record in record_runs(args.record):
            print(f"recorded {record.relative_to(ROOT)}", file=sys.stderr)
    if args.all:
        for path, text in regenerated_files().items():
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
        return
    generated = table()
    print(generated, end="")
    if args.write:
        TABLE.write_text(generated)
        for home in TABLE_HOMES:
            home.write_text(with_table(home.read_text(), generated, home))


if __name__ == "__main__":
    main()
