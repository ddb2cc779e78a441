"""Summaries of a run, a model file and an evaluation, as lines of text: what
``stdp-mnist info`` and ``stdp-mnist evaluate`` print (the CLI only prints them).

A run's summary reports what its directory holds: a checkpoint, metrics or
evaluation that is missing or unreadable is said in its line, not an error.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .config import Config
from .constants import N_CLASSES
from .data import count_training_images
from .model_file import open_model
from .progress import plural
from .records import Evaluation
from .rundir import MODEL_FILE, Run, checkpoint_examples, lock_holder, read_evaluation
from .training import total_examples


def resume_command(run_dir: str | Path, then_evaluate: bool = False) -> str:
    """The shell command that continues a run (its path quoted for the shell)."""
    return f"stdp-mnist train --resume {shlex.quote(str(run_dir))}" + (" --evaluate" if then_evaluate else "")


def file_size(path: Path) -> str:
    """A file's size in B, KB, MB or GB."""
    size = float(path.stat().st_size)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def changed_settings(cfg: Config) -> str:
    """The config values that differ from the defaults, or 'all defaults'."""
    defaults = Config().to_dict()
    changed = [
        f"{section}.{key}={value!r}"
        for section, values in cfg.to_dict().items()
        for key, value in values.items()
        if defaults[section][key] != value
    ]
    return ", ".join(changed) if changed else "all defaults"


def evaluation_line(evaluation: Evaluation) -> str:
    """One line of an evaluation's accuracies (the linear readout's where it has one)."""
    linear = evaluation.accuracy_linear
    return (
        f"accuracy {evaluation.accuracy_all:.4f} ('all' voting), "
        f"{evaluation.accuracy_proportion:.4f} ('proportion')"
        + (f", {linear:.4f} (linear readout, supervised)" if linear is not None else "")
        + f"; {evaluation.n_test} test images, {evaluation.n_assign} labelled"
    )


def evaluation_report(evaluation: Evaluation) -> list[str]:
    """An evaluation's results in full: the three accuracies, the image counts and the
    'all' voting confusion matrix."""
    capped = " (stopped at the iteration limit)" if evaluation.linear_capped else ""
    lines = [
        f"accuracy (all):        {evaluation.accuracy_all:.4f}",
        f"accuracy (proportion): {evaluation.accuracy_proportion:.4f}",
    ]
    if evaluation.accuracy_linear is not None:
        lines.append(
            f"accuracy (linear):     {evaluation.accuracy_linear:.4f}   supervised readout: logistic "
            f"regression on the labelled images' spike counts{capped}, not the paper's voting"
        )
    lines.append(
        f"test images: {evaluation.n_test}, labelled for assignment: {evaluation.n_assign}, "
        f"unassigned neurons: {evaluation.unassigned_neurons}"
    )
    if evaluation.confusion_all is not None:
        lines += [
            "confusion ('all' voting; rows = true class, columns = predicted):",
            "      " + "".join(f"{c:>6d}" for c in range(N_CLASSES)),
        ]
        lines += [
            f"{c:>6d}" + "".join(f"{v:>6d}" for v in row) for c, row in enumerate(evaluation.confusion_all)
        ]
    return lines


def training_time(wall_s: float) -> str:
    """The one way a run's training time (rundir.training_wall_s) is shown, by info and train."""
    return f"{wall_s:.1f} s (wall clock in the training loop, all sessions)"


def model_file_info(path: Path) -> list[str]:
    """``info`` of a model file written by export: its network, settings and evaluation."""
    model = open_model(path)
    cfg = model.cfg
    return [
        f"model file: {path} ({file_size(path)}), written by stdp-mnist {model.project_version}",
        f"network:    {plural(cfg.network.n_excitatory, 'excitatory neuron')}, seed {cfg.run.seed}, "
        f"{plural(int(model.network.examples_seen[0]), 'example')} trained",
        f"settings:   {changed_settings(cfg)}",
        "evaluation: " + (evaluation_line(model.metrics) if model.metrics else "none"),
    ]


def _schedule_line(cfg: Config, total: int | None, n_images: int | None) -> str:
    images = f"{n_images}" if n_images is not None else "? (training data not found)"
    limits = (f", max {cfg.training.max_examples}" if cfg.training.max_examples else "") + (
        ", shuffled" if cfg.training.shuffle else ""
    )
    return (
        f"schedule:   {total if total is not None else '?'} training examples "
        f"({plural(cfg.training.passes, 'pass', 'passes')} over {images} images{limits}); "
        f"checkpoint every {cfg.run.checkpoint_every}, metrics every {cfg.run.metrics_every}"
    )


def _progress_line(run: Run, seen: int | None, total: int | None) -> str:
    if not run.path(MODEL_FILE).is_file():
        return "progress:   no model yet (not trained)"
    if seen is None:
        return f"progress:   {run.path(MODEL_FILE)} is not readable"
    if total is None:
        return f"progress:   {plural(seen, 'example')} trained"
    done = f"progress:   {seen} / {total} examples ({100 * seen / max(1, total):.1f}%)"
    holder = lock_holder(run.dir)
    if seen >= total:
        return f"{done}, finished"
    if holder is not None and holder.endswith("(train)"):
        return f"{done} at the last checkpoint; training now, by {holder.removesuffix(' (train)')}"
    return f"{done}, stopped; continue with: {resume_command(run.dir)}"


def _training_line(run: Run) -> str | None:
    history = run.records()
    if not history:
        return None
    last = history[-1]
    accuracy = last.running_accuracy
    return (
        f"training:   {training_time(last.wall_s or 0.0)}; last metrics at {last.examples_seen} "
        f"examples: {last.spikes_per_example or 0.0:.2f} spikes/example, {plural(last.boosts or 0, 'boost')}, "
        f"mean theta {last.mean_theta_mv or 0.0:.2f} mV"
        + (f", running accuracy {accuracy:.3f}" if accuracy is not None else "")
    )


def _evaluation_status(run: Run, seen: int | None) -> str:
    evaluation = read_evaluation(run.dir)
    if evaluation is None:
        return f"evaluation: none yet (stdp-mnist evaluate {shlex.quote(str(run.dir))})"
    stale = ""
    if seen is not None and evaluation.examples_trained != seen:
        stale = f" (STALE: evaluated after {evaluation.examples_trained} examples)"
    return f"evaluation: {evaluation_line(evaluation)}{stale}"


def _visible(folder: Path) -> list[Path]:
    """A folder's entries but hidden ones (the lock, temp files of unfinished writes)."""
    return sorted(path for path in folder.iterdir() if not path.name.startswith("."))


def _file_lines(run: Path) -> list[str]:
    lines = ["files:"]
    for path in _visible(run):
        if path.is_file():
            lines.append(f"  {path.name:<18s} {file_size(path):>9s}")
        elif path.is_dir():
            inner = [p for p in _visible(path) if p.is_file()]
            lines.append(
                f"  {path.name + '/':<18s} {plural(len(inner), 'file')}: {', '.join(p.name for p in inner)}"
            )
    return lines


def run_info(run_dir: str | Path | Run) -> list[str]:
    """``info`` of a run directory: config, schedule, training progress, the last
    metrics line, the evaluation and the files."""
    run = Run.of(run_dir)
    cfg = run.cfg
    n_images = count_training_images(cfg)
    total = total_examples(cfg, n_images) if n_images is not None else None
    seen = checkpoint_examples(run.dir)
    lines = [
        f"run:        {run.dir}",
        f"network:    {plural(cfg.network.n_excitatory, 'excitatory neuron')}, seed {cfg.run.seed}",
        _schedule_line(cfg, total, n_images),
        f"settings:   {changed_settings(cfg)}",
        _progress_line(run, seen, total),
    ]
    training = _training_line(run)
    if training:
        lines.append(training)
    return lines + [_evaluation_status(run, seen)] + _file_lines(run.dir)


def info(path: str | Path) -> list[str]:
    """``info`` of a run directory or of a model file written by export."""
    path = Path(path)
    return model_file_info(path) if path.is_file() else run_info(path)
