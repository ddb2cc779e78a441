"""Command line: ``stdp-mnist download | train | evaluate | plot | predict | info | export | bench | sweep``.

A thin shell over the library: it parses options, shows progress, and turns every
expected failure into one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import threading
import time
from pathlib import Path

import click
import numpy as np

from .config import Config, ConfigError, apply_overrides, config_from_dict, load_config
from .data import DataError, ensure_mnist, load_configured
from .evaluation import evaluate, evaluate_network
from .figures import AFTER_EVALUATION, AFTER_TRAINING, FIGURES
from .linear import LinearReadoutError
from .model_file import ModelFileError, open_model
from .network import CheckpointError, load_network
from .predict import ImageError
from .rundir import (ASSIGNMENTS_FILE, EVAL_METRICS_FILE, MODEL_FILE, TRAIN_METRICS_FILE, RunDirError,
                     check_new_run_dir, read_jsonl, read_run_config)
from .training import NumericalError, Progress, TrainingInterrupted, total_examples, train

EXPECTED_ERRORS = (ConfigError, DataError, RunDirError, CheckpointError, NumericalError, ImageError, ModelFileError,
                   LinearReadoutError, OSError)
MNIST_TRAIN_IMAGES = 60000


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"stdp-mnist: error: {message}", err=True)
    sys.exit(code)


def one_line_errors(command):
    """Report the project's expected errors as one line and exit non-zero."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TrainingInterrupted as exc:
            click.echo(f"\nstdp-mnist: {exc}; continue with: stdp-mnist train --resume {kwargs.get('run_dir') or kwargs.get('resume')}",
                       err=True)
            sys.exit(130)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except EXPECTED_ERRORS as exc:
            message = str(exc)
            if isinstance(exc, OSError) and exc.filename:
                message = f"{exc.filename}: {exc.strerror}"
            _fail(" ".join(message.split()))

    return wrapper


class ProgressLine:
    """A single self-rewriting status line on stderr (a line every few seconds when
    stderr is not a terminal)."""

    def __init__(self, min_interval_s: float | None = None):
        self.tty = sys.stderr.isatty()
        self.min_interval_s = min_interval_s if min_interval_s is not None else (0.2 if self.tty else 10.0)
        self.last = 0.0

    def show(self, text: str, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < self.min_interval_s:
            return
        self.last = now
        if self.tty:
            click.echo(f"\r\033[K{text}", nl=final, err=True)
        else:
            click.echo(text, err=True)


def _bar(done: int, total: int, width: int = 24) -> str:
    filled = int(width * done / max(1, total))
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def _load_data(cfg):
    return load_configured(cfg, log=lambda msg: click.echo(msg, err=True))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _FiguresInterrupted(BaseException):  # not an Exception: keep_going must not swallow it
    """SIGINT or SIGTERM while the figures of a saved run were being drawn."""


@contextlib.contextmanager
def _signals_stop_figures():
    """While figures are drawn, turn SIGINT/SIGTERM into _FiguresInterrupted (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _FiguresInterrupted(signal.Signals(signum).name)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _write_figures_safely(run_dir: str, what: tuple[str, ...], data=None) -> bool:
    """Draw a run's figures after training or evaluation. Nothing here can fail the
    command (the run is already saved): a failure is a warning line on stderr, and a
    signal (Ctrl-C) stops the drawing with a warning. Returns False when interrupted."""
    try:
        with _signals_stop_figures():
            from .figures import figures_dir, write_figures

            results = write_figures(run_dir, what, data=data, skip_missing=True, keep_going=True)
    except (_FiguresInterrupted, KeyboardInterrupt):
        click.echo(f"stdp-mnist: warning: figures interrupted (the run is saved); draw them with: "
                   f"stdp-mnist plot {run_dir}", err=True)
        return False
    except Exception as exc:  # noqa: BLE001 - figures must never lose a run
        click.echo(f"stdp-mnist: warning: figures not written ({type(exc).__name__}: {_one_line(exc)})", err=True)
        return True
    for result in results:
        if result.error:
            click.echo(f"stdp-mnist: warning: figure {result.name} not written ({_one_line(result.error)})", err=True)
    written = [path.name for result in results for path in result.paths]
    if written:
        click.echo(f"figures: {figures_dir(run_dir)} ({', '.join(written)})")
    return True


@click.group()
@click.version_option(package_name="stdp-mnist")
def main() -> None:
    """Unsupervised MNIST learning with STDP in a spiking network (Diehl & Cook 2015)."""


@main.command()
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Where to put MNIST (default: $STDP_MNIST_DATA or the user cache dir).")
@one_line_errors
def download(data_dir: str | None) -> None:
    """Fetch MNIST (four IDX files, MD5-checked) into the data directory."""
    path = ensure_mnist(data_dir, log=lambda msg: click.echo(msg, err=True))
    click.echo(f"MNIST ready in {path}")


@main.command("train")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (default: built-in defaults = the 100-neuron reference).")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="Run directory (default: runs/<config name>).")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
              help="Override a config value; repeatable.")
@click.option("--resume", type=click.Path(file_okay=False), default=None,
              help="Continue the run in this directory from its last checkpoint.")
@click.option("--overwrite", is_flag=True, help="Start again in a run directory that holds a run.")
@click.option("--evaluate", "then_evaluate", is_flag=True, help="Evaluate the run when training ends.")
@one_line_errors
def train_command(config_path, run_dir, overrides, resume, overwrite, then_evaluate) -> None:
    """Train a network; checkpoints go to the run directory (Ctrl-C saves and stops)."""
    if resume:
        if config_path or overrides or overwrite:
            raise ConfigError("--resume takes its config from the run directory; drop --config/--set/--overwrite")
        run_dir = resume
        cfg = read_run_config(Path(run_dir))
        load_network(Path(run_dir) / MODEL_FILE, cfg)  # fail before fetching data
    else:
        cfg = load_config(config_path, overrides)
        run_dir = run_dir or str(Path("runs") / (Path(config_path).stem if config_path else "default"))
        check_new_run_dir(Path(run_dir), overwrite)
    data = _load_data(cfg)
    line = ProgressLine()

    header = [f"training {cfg.network.n_excitatory} neurons in {run_dir}"]

    def report(p: Progress) -> None:
        if header:  # said once training has started, so that a failure to start is one line
            click.echo(header.pop(), err=True)
        eta = (p.total - p.examples_seen) / max(p.examples_per_s, 1e-9)
        accuracy = p.running_accuracy
        shown = f", running acc {accuracy:.3f}" if accuracy is not None else ""
        line.show(f"train {_bar(p.examples_seen, p.total)} {p.examples_per_s:.0f} ex/s, "
                  f"{p.spikes_per_example:.1f} spikes/ex, {p.boosts} boosts{shown}, ETA {eta:.0f}s",
                  final=p.examples_seen == p.total)

    start = time.perf_counter()
    network = train(cfg, run_dir, data.train_images, resume=bool(resume), overwrite=overwrite, progress=report,
                    labels=data.train_labels)
    seen = int(network.examples_seen[0])
    click.echo(f"trained {seen} examples ({time.perf_counter() - start:.1f} s this session); "
               f"model: {Path(run_dir) / 'model.npz'}")
    drawn = _write_figures_safely(run_dir, AFTER_TRAINING)
    if then_evaluate:
        if not drawn:  # a Ctrl-C while drawing: the training is saved, stop before evaluating
            _fail(f"interrupted before the evaluation; run: stdp-mnist evaluate {run_dir}", 130)
        _evaluate(run_dir, data, cfg)


def _evaluate(run_dir: str, data, cfg=None, model=None) -> None:
    """Evaluate a run directory (writing its evaluation files and figures), or a model
    file's network (``model``; nothing is written)."""
    line = ProgressLine()

    def progress(stage, done, total):
        line.show(f"{stage:6s} {_bar(done, total)}", final=done == total)

    if model is None:
        metrics = evaluate(run_dir, data, progress, cfg)
    else:
        metrics, _, _ = evaluate_network(cfg, model.network, data, progress)
    click.echo(f"accuracy (all):        {metrics['accuracy_all']:.4f}")
    click.echo(f"accuracy (proportion): {metrics['accuracy_proportion']:.4f}")
    capped = " (stopped at the iteration limit)" if metrics["linear_iterations"] >= metrics["linear_max_iterations"] else ""
    click.echo(f"accuracy (linear):     {metrics['accuracy_linear']:.4f}   supervised readout: logistic regression "
               f"on the labelled images' spike counts{capped}, not the paper's voting")
    click.echo(f"test images: {metrics['n_test']}, labelled for assignment: {metrics['n_assign']}, "
               f"unassigned neurons: {metrics['unassigned_neurons']}")
    click.echo("confusion ('all' voting; rows = true class, columns = predicted):")
    click.echo("      " + "".join(f"{c:>6d}" for c in range(10)))
    for c, row in enumerate(metrics["confusion_all"]):
        click.echo(f"{c:>6d}" + "".join(f"{v:>6d}" for v in row))
    if model is None:
        click.echo(f"metrics: {Path(run_dir) / 'metrics.json'}")
        _write_figures_safely(run_dir, AFTER_EVALUATION, data)
    else:
        click.echo("(model file: nothing written; the file keeps the evaluation it was exported with)")


@main.command("evaluate")
@click.argument("run_dir", type=click.Path())
@click.option("--set", "overrides", multiple=True, metavar="evaluation.KEY=VALUE",
              help="Override an evaluation.* or data.* value for this evaluation; repeatable.")
@one_line_errors
def evaluate_command(run_dir: str, overrides: tuple[str, ...]) -> None:
    """Assign neurons to classes and classify the test set, weights and theta frozen
    (RUN_DIR: a run directory, or a model file written by export)."""
    model = open_model(run_dir) if Path(run_dir).is_file() else None
    cfg = model.cfg if model else read_run_config(Path(run_dir))
    if overrides:
        for text in overrides:
            if not text.startswith(("evaluation.", "data.")):
                raise ConfigError(f"--set {text!r}: evaluate only accepts evaluation.* and data.* keys")
        cfg = config_from_dict(apply_overrides(cfg.to_dict(), overrides))
    if model is None:
        load_network(Path(run_dir) / MODEL_FILE, cfg)  # fail before fetching data
    _evaluate(run_dir, _load_data(cfg), cfg, model)


@main.command("bench")
@click.option("--sizes", default="100,400,1600,6400", show_default=True,
              help="Comma-separated numbers of excitatory neurons.")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiply the number of timed examples per size.")
@click.option("--output", type=click.Path(dir_okay=False), default="results/benchmark.md", show_default=True,
              help="Where to write the markdown report.")
@one_line_errors
def bench_command(sizes: str, scale: float, output: str) -> None:
    """Time training and frozen evaluation per network size; write a markdown report."""
    from .bench import run_benchmark, write_report

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--sizes {sizes!r}: expected comma-separated integers") from None
    rows = run_benchmark(size_list, scale, log=lambda msg: click.echo(msg, err=True))
    if Path(sys.argv[0]).name == "stdp-mnist":
        command = " ".join(["stdp-mnist bench", *sys.argv[2:]])
    else:
        command = " ".join(["python", *sys.argv])
    click.echo(write_report(rows, Path(output), command))
    click.echo(f"report: {output}")


@main.command("sweep")
@click.argument("sweep_file", type=click.Path(dir_okay=False))
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Runs at a time with the local executor (default: one per core).")
@click.option("--executor", default="local", show_default=True, metavar="local|dask://HOST:PORT",
              help="Where runs execute: local worker processes, or a dask.distributed scheduler.")
@one_line_errors
def sweep_command(sweep_file: str, workers: int | None, executor: str) -> None:
    """Train and evaluate every point x seed of a sweep file in parallel; finished runs
    are skipped and partial ones resumed; writes summary.csv, summary.md, summary.png."""
    from .sweep import load_sweep, run_sweep

    if executor != "local" and not executor.startswith("dask://"):
        raise ConfigError(f"--executor {executor!r}: expected local or dask://HOST:PORT")
    if workers is not None and executor != "local":
        raise ConfigError("--workers applies to the local executor; a dask cluster has its own workers")
    sweep = load_sweep(sweep_file)
    total = len(sweep.runs)
    click.echo(f"sweep {sweep.path.name}: {total} runs ({total // len(sweep.seeds)} points x "
               f"{len(sweep.seeds)} seeds) in {sweep.out}", err=True)
    finished = []

    def report(row: dict) -> None:
        finished.append(row)
        accuracy = row["accuracy_all"]
        shown = f"accuracy {accuracy:.4f}" if accuracy is not None else row["error"]
        click.echo(f"[{len(finished)}/{total}] {row['name']}: {row['status']}, {shown}", err=True)

    try:
        rows, paths = run_sweep(sweep, executor, workers, on_result=report)
    except KeyboardInterrupt:
        _fail(f"interrupted; run the same command again to finish the missing runs "
              f"(partial summary in {sweep.out})", 130)
    for path in paths:
        click.echo(str(path))
    failed = [row for row in rows if row["status"] in ("error", "missing")]
    if failed:
        _fail(f"{len(failed)} of {total} runs failed (see {Path(sweep.out) / 'summary.md'}); "
              f"run the same command again to retry them")


@main.command("plot")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--what", "what", multiple=True, type=click.Choice(("all",) + FIGURES), default=("all",),
              show_default=True, help="Figure to draw; repeatable. all = every figure the run has the files for.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for the PNG files (default: RUN_DIR/figures).")
@click.option("--example", "example_index", type=int, default=0, show_default=True,
              help="Test image shown by the 'example' figure.")
@one_line_errors
def plot_command(run_dir: str, what: tuple[str, ...], out_dir: str | None, example_index: int) -> None:
    """Draw a run's figures as PNG files: receptive fields, theta, learning curve,
    neuron assignments, confusion matrices, one test example in detail."""
    from .figures import figures_dir, write_figures

    cfg = read_run_config(Path(run_dir))
    everything = "all" in what
    names = FIGURES if everything else tuple(dict.fromkeys(what))
    results = write_figures(run_dir, names, out_dir=out_dir, data=lambda: _load_data(cfg),
                            example_index=example_index, skip_missing=everything)
    for result in results:
        for path in result.paths:
            click.echo(str(path))
        if result.skipped:
            click.echo(f"skipped {result.name}: {_one_line(result.skipped)}", err=True)
    if not any(result.paths for result in results):
        raise RunDirError(f"{run_dir}: no figure could be drawn")
    click.echo(f"{sum(len(r.paths) for r in results)} figures in {out_dir or figures_dir(run_dir)}", err=True)


@main.command("predict")
@click.argument("run_dir", type=click.Path())
@click.argument("images", nargs=-1, required=True)
@click.option("--readout", type=click.Choice(("all", "proportion", "linear")), default=None,
              help="How spike counts become a class: 'all' or 'proportion' voting (the paper's, unsupervised "
                   "labels), or the supervised linear readout [default: linear when the run has one, else all].")
@click.option("--show", is_flag=True, help="Also draw each image's detail figure (input, rasters, voltages).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Directory for --show's figures (default: RUN_DIR/figures, or figures/ beside a model file).")
@one_line_errors
def predict_command(run_dir: str, images: tuple[str, ...], readout: str | None, show: bool,
                    out_dir: str | None) -> None:
    """Classify your own digit images (PNG, JPEG, ...; any size) with an evaluated run
    (RUN_DIR: a run directory, or a model file written by export).

    Each image is made MNIST-like (grey, inverted if the background is light, scaled
    into 20x20, centred by centre of mass in 28x28), shown once to the frozen network,
    and classified by the chosen readout."""
    from .predict import classify, load_digit

    model = open_model(run_dir)
    run, cfg, network = model.path, model.cfg, model.network
    if model.assignments is None:
        raise RunDirError(f"{run_dir}: no {ASSIGNMENTS_FILE}: the run has not been evaluated; "
                          f"run: stdp-mnist evaluate {run_dir}")
    assignments, rates = model.assignments, model.class_rates
    readout = readout or ("linear" if model.linear else "all")
    if readout == "linear" and model.linear is None:
        raise RunDirError(f"{run_dir}: no linear readout (evaluated before it existed); "
                          f"run: stdp-mnist evaluate {run_dir}")
    evaluated_at = model.metrics.get("examples_trained")
    if evaluated_at is not None and evaluated_at != int(network.examples_seen[0]):
        click.echo(f"stdp-mnist: warning: the assignments are from an evaluation after {evaluated_at} training "
                   f"examples, the model has {int(network.examples_seen[0])}; run: stdp-mnist evaluate {run_dir}",
                   err=True)
    digits = np.stack([load_digit(path) for path in images])
    for path, digit, result in zip(images, digits, classify(cfg, network, assignments, rates, digits)):
        if readout == "linear":
            probabilities = model.linear.probabilities(result.counts[None])[0]
            label, note = int(probabilities.argmax()), "  (linear readout: supervised)"
            scores = "  probabilities: " + "  ".join(f"{c}:{p:.3f}" for c, p in enumerate(probabilities))
        else:
            label = result.label_all if readout == "all" else result.label_proportion
            votes = result.scores_all if readout == "all" else result.scores_proportion
            note = f"  ({readout} voting)" + ("" if result.spikes else "  (no spikes: no vote, the class is only "
                                                                     "the tie-break)")
            scores = "  votes: " + "  ".join(f"{c}:{v:.2f}" for c, v in enumerate(votes))
        click.echo(f"{path}: {label}  spikes: {result.spikes}  boosts: {result.retries}{note}")
        click.echo(scores)
        if show:
            from .figures import example_figure, figures_dir

            target = Path(out_dir) if out_dir else figures_dir(run if not model.is_file else run.parent)
            figure = example_figure(cfg, network, digit, target / f"predict_{Path(path).stem}.png",
                                    assignments, rates, title=f"{Path(path).name} in detail "
                                    f"({network.n_excitatory} neurons; frozen, from rest)")
            click.echo(f"  figure: {figure}")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _size(path: Path) -> str:
    size = path.stat().st_size
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def _changed_settings(cfg: Config) -> str:
    """The config values that differ from the defaults, or 'all defaults'."""
    defaults = Config().to_dict()
    changed = [f"{section}.{key}={value!r}" for section, values in cfg.to_dict().items()
               for key, value in values.items() if defaults[section][key] != value]
    return ", ".join(changed) if changed else "all defaults"


def _evaluation_summary(metrics: dict) -> str:
    """One line of an evaluation's accuracies (the linear readout's where it has one)."""
    linear = metrics.get("accuracy_linear")
    return (f"accuracy {metrics.get('accuracy_all', float('nan')):.4f} ('all' voting), "
            f"{metrics.get('accuracy_proportion', float('nan')):.4f} ('proportion')"
            + (f", {linear:.4f} (linear readout, supervised)" if linear is not None else "")
            + f"; {metrics.get('n_test')} test images, {metrics.get('n_assign')} labelled")


@main.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("file", type=click.Path(dir_okay=False))
@one_line_errors
def export_command(run_dir: str, file: str) -> None:
    """Write an evaluated run as one model file (weights, theta, delays, config, voting
    assignments, linear readout, versions) that predict, evaluate and info accept in
    place of the run directory."""
    from .model_file import export_model

    model = export_model(run_dir, file)
    click.echo(f"model file: {file} ({_size(Path(file))}; {model.network.n_excitatory} neurons, "
               f"{int(model.network.examples_seen[0])} examples trained)")


def _info_model_file(path: Path) -> None:
    model = open_model(path)
    cfg = model.cfg
    click.echo(f"model file: {path} ({_size(path)}), written by stdp-mnist {model.project_version}")
    click.echo(f"network:    {cfg.network.n_excitatory} excitatory neurons, seed {cfg.run.seed}, "
               f"{int(model.network.examples_seen[0])} examples trained")
    click.echo(f"settings:   {_changed_settings(cfg)}")
    click.echo(f"evaluation: {_evaluation_summary(model.metrics)}")


@main.command("info")
@click.argument("run_dir", type=click.Path())
@one_line_errors
def info_command(run_dir: str) -> None:
    """Summarise a run: its config, training progress, last metrics, evaluation, files
    (or a model file written by export: its network, settings and evaluation)."""
    run = Path(run_dir)
    if run.is_file():
        _info_model_file(run)
        return
    cfg = read_run_config(run)
    total = total_examples(cfg, MNIST_TRAIN_IMAGES)
    click.echo(f"run:        {run}")
    click.echo(f"network:    {cfg.network.n_excitatory} excitatory neurons, seed {cfg.run.seed}")
    click.echo(f"schedule:   {total} training examples ({cfg.training.passes} pass(es) over {MNIST_TRAIN_IMAGES} "
               f"images{', max ' + str(cfg.training.max_examples) if cfg.training.max_examples else ''}"
               f"{', shuffled' if cfg.training.shuffle else ''}); checkpoint every {cfg.run.checkpoint_every}, "
               f"metrics every {cfg.run.metrics_every}")
    click.echo(f"settings:   {_changed_settings(cfg)}")
    model = run / MODEL_FILE
    seen = None
    if model.is_file():
        try:
            with np.load(model, allow_pickle=False) as arrays:
                seen = int(arrays["examples_seen"][0])
        except Exception:  # noqa: BLE001 - info reports, it does not fail
            click.echo(f"progress:   {model} is not readable")
    if seen is not None:
        status = "finished" if seen >= total else "stopped; continue with: stdp-mnist train --resume " + str(run)
        click.echo(f"progress:   {seen} / {total} examples ({100 * seen / max(1, total):.1f}%), {status}")
    elif not model.is_file():
        click.echo("progress:   no model yet (not trained)")
    history = read_jsonl(run / TRAIN_METRICS_FILE)
    if history:
        last = history[-1]
        accuracy = last.get("running_accuracy")
        click.echo(f"training:   {last['wall_s']:.1f} s wall; last metrics at {last['examples_seen']} examples: "
                   f"{last['spikes_per_example']:.2f} spikes/example, {last['boosts']} boosts, "
                   f"mean theta {last['mean_theta_mv']:.2f} mV"
                   + (f", running accuracy {accuracy:.3f}" if accuracy is not None else ""))
    metrics = _read_json(run / EVAL_METRICS_FILE)
    if metrics:
        stale = ""
        if seen is not None and metrics.get("examples_trained") != seen:
            stale = f" (STALE: evaluated after {metrics.get('examples_trained')} examples)"
        click.echo(f"evaluation: {_evaluation_summary(metrics)}{stale}")
    else:
        click.echo(f"evaluation: none yet (stdp-mnist evaluate {run})")
    click.echo("files:")
    for path in sorted(run.iterdir()):
        if path.is_file():
            click.echo(f"  {path.name:<18s} {_size(path):>9s}")
        elif path.is_dir():
            inner = sorted(p for p in path.iterdir() if p.is_file())
            click.echo(f"  {path.name + '/':<18s} {len(inner)} files: {', '.join(p.name for p in inner)}")
