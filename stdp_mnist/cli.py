"""Command line: ``stdp-mnist download | train | evaluate | plot | predict | info | export | bench | sweep``.

A thin shell over the library: it parses options, shows progress, and turns every
expected failure into one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import click
import numpy as np

from .bench import BenchmarkError
from .config import Config, ConfigError, apply_overrides, config_from_dict, load_config
from .data import DataError, count_training_images, ensure_mnist, load_configured
from .evaluation import evaluate, evaluate_network, self_firing_warning
from .figures import AFTER_EVALUATION, AFTER_TRAINING, FIGURES
from .linear import LinearReadoutError
from .model_file import ModelFileError, open_model
from .network import CheckpointError, load_network
from .predict import ImageError
from .rundir import (ASSIGNMENTS_FILE, EVAL_METRICS_FILE, EVAL_PARTIAL_DIR, MODEL_FILE, TRAIN_METRICS_FILE, RunDirError,
                     check_new_run_dir, read_jsonl, read_run_config, run_dir_lock)
from .training import NumericalError, Progress, TrainingInterrupted, total_examples, train

EXPECTED_ERRORS = (ConfigError, DataError, RunDirError, CheckpointError, NumericalError, ImageError, BenchmarkError,
                   ModelFileError, LinearReadoutError, OSError)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"stdp-mnist: error: {message}", err=True)
    sys.exit(code)


def one_line_errors(command):
    """Report the project's expected errors as one line and exit non-zero."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (KeyboardInterrupt, _Interrupted):
            _fail("interrupted", 130)
        except MemoryError:
            _fail("out of memory; try a smaller network.n_excitatory or evaluation.block_size")
        except EXPECTED_ERRORS as exc:
            message = str(exc)
            if isinstance(exc, OSError) and exc.filename:
                message = f"{exc.filename}: {exc.strerror}"
            _fail(" ".join(message.split()))

    return wrapper


class ProgressBar:
    """click's progress bar (ETA from the rate so far) on stderr from ``start`` to
    ``total``; when stderr is not a terminal (a log file), its line every LOG_EVERY_S
    seconds and at the end instead."""

    LOG_EVERY_S = 10.0

    def __init__(self, label: str, start: int, total: int):
        self.tty = sys.stderr.isatty()
        self.bar = click.progressbar(length=max(1, total - start), label=label, file=sys.stderr, hidden=not self.tty,
                                     show_percent=False, item_show_func=lambda text: text, width=24)
        self.start, self.done = start, start
        self.started = self.logged = time.monotonic()

    def rate(self, done: int) -> float:
        """Steps per second from the bar's start to ``done`` now."""
        return (done - self.start) / max(time.monotonic() - self.started, 1e-9)

    def show(self, done: int, text: str) -> None:
        """Move the bar to ``done`` and show ``text`` after it."""
        if done == self.done and self.bar.finished:
            return
        self.bar.update(done - self.done, text)
        self.done = done
        if not self.tty and (time.monotonic() - self.logged >= self.LOG_EVERY_S or self.bar.finished):
            self.logged = time.monotonic()
            click.echo(self.bar.format_progress_line(), err=True)

    def close(self) -> None:
        if self.tty:
            self.bar.render_finish()


COMPILING = "compiling the simulation kernel (first run only, about 15-30 s) ..."


@contextlib.contextmanager
def _compile_notice(after_s: float = 2.0):
    """Say what a silent start is (numba compiling the kernel, or loading it from its
    cache) when the first kernel call has not returned after ``after_s`` seconds; yields
    the function that the first progress report calls to call the notice off."""
    timer = threading.Timer(after_s, click.echo, args=(COMPILING,), kwargs={"err": True})
    timer.daemon = True
    timer.start()
    try:
        yield timer.cancel
    finally:
        timer.cancel()


def resume_command(run_dir: str, then_evaluate: bool) -> str:
    """The shell command that continues a run (its path quoted for the shell)."""
    return f"stdp-mnist train --resume {shlex.quote(str(run_dir))}" + (" --evaluate" if then_evaluate else "")


def _load_data(cfg):
    return load_configured(cfg, log=lambda msg: click.echo(msg, err=True))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class _Interrupted(BaseException):  # not an Exception: keep_going must not swallow it
    """SIGINT or SIGTERM while a command that has nothing to save was working."""


@contextlib.contextmanager
def _signals_interrupt():
    """Turn SIGINT/SIGTERM into _Interrupted while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Interrupted(signal.Signals(signum).name)

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
        with _signals_interrupt():
            from .figures import figures_dir, write_figures

            results = write_figures(run_dir, what, data=data, skip_missing=True, keep_going=True)
    except (_Interrupted, KeyboardInterrupt):
        click.echo(f"stdp-mnist: warning: figures interrupted (the run is saved); draw them with: "
                   f"stdp-mnist plot {shlex.quote(str(run_dir))}", err=True)
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
    else:
        cfg = load_config(config_path, overrides)
        run_dir = run_dir or str(Path("runs") / (Path(config_path).stem if config_path else "default"))
        check_new_run_dir(Path(run_dir), overwrite)
    with run_dir_lock(Path(run_dir), "train", create=not resume):
        if resume:
            cfg = read_run_config(Path(run_dir))
            load_network(Path(run_dir) / MODEL_FILE, cfg)  # fail before fetching data
        else:
            check_new_run_dir(Path(run_dir), overwrite)  # again, now that no one else can write it
        data = _load_data(cfg)
        try:
            _train(cfg, run_dir, data, bool(resume), overwrite)
        except TrainingInterrupted as exc:
            click.echo(f"\nstdp-mnist: {exc}; continue with: {resume_command(run_dir, then_evaluate)}", err=True)
            sys.exit(130)
        drawn = _write_figures_safely(run_dir, AFTER_TRAINING)
        if then_evaluate:
            if not drawn:  # a Ctrl-C while drawing: the training is saved, stop before evaluating
                _fail(f"interrupted before the evaluation; run: stdp-mnist evaluate {shlex.quote(run_dir)}", 130)
            with _signals_interrupt():
                _evaluate(run_dir, data, cfg)


def _train(cfg, run_dir: str, data, resume: bool, overwrite: bool) -> None:
    """Train with a progress bar that starts once the kernel is compiled."""
    bars: list[ProgressBar] = []

    def report(p: Progress) -> None:
        if not bars:  # the first chunk (compiling the kernel on a first run) sets no rate
            call_off_notice()
            click.echo(f"training {cfg.network.n_excitatory} neurons in {run_dir}", err=True)
            bars.append(ProgressBar("train", p.examples_seen, p.total))
            return
        accuracy = p.running_accuracy
        shown = f", running acc {accuracy:.3f}" if accuracy is not None else ""
        bars[0].show(p.examples_seen, f"{p.examples_seen}/{p.total} examples, {p.examples_per_s:.0f} ex/s, "
                                      f"{p.spikes_per_example:.1f} spikes/ex, {p.boosts} boosts{shown}")

    start = time.perf_counter()
    try:
        with _compile_notice() as call_off_notice:
            network = train(cfg, run_dir, data.train_images, resume=resume, overwrite=overwrite, progress=report,
                            labels=data.train_labels)
    finally:
        for bar in bars:
            bar.close()
    seen = int(network.examples_seen[0])
    click.echo(f"trained {seen} examples ({time.perf_counter() - start:.1f} s this session); "
               f"model: {Path(run_dir) / MODEL_FILE}")


def _evaluate(run_dir: str, data, cfg=None, model=None) -> None:
    """Evaluate a run directory (writing its evaluation files and figures), or a model
    file's network (``model``; nothing is written)."""
    bars: dict[str, ProgressBar] = {}

    def report(stage: str, done: int, total: int) -> None:
        call_off_notice()
        if stage == "linear":  # one step, no bar: say what the pause is
            if done == 0:
                for earlier in bars.values():
                    earlier.close()
                click.echo("linear: fitting the supervised readout to the labelled images' counts", err=True)
            return
        bar = bars.get(stage)
        if bar is None:  # started at the first report, so that compiling sets no rate
            for earlier in bars.values():
                earlier.close()
            click.echo(f"{stage}: {total} images", err=True)
            bars[stage] = ProgressBar(f"{stage:6s}", done, total)
            return
        bar.show(done, f"{done}/{total} images, {bar.rate(done):.0f} images/s")

    interrupted = False
    try:
        with _compile_notice() as call_off_notice:
            if model is None:
                metrics = evaluate(run_dir, data, report, cfg, log=lambda line: click.echo(line, err=True))
            else:
                metrics, _, _ = evaluate_network(cfg, model.network, data, report,
                                                 log=lambda line: click.echo(line, err=True))
    except (_Interrupted, KeyboardInterrupt):
        if model is not None:
            raise
        interrupted = True
    finally:
        for bar in bars.values():
            bar.close()
    if interrupted:
        _fail(f"interrupted; the finished responses are kept in {Path(run_dir) / EVAL_PARTIAL_DIR}, and the same "
              "evaluate continues from them", 130)
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
    writing = run_dir_lock(Path(run_dir), "evaluate") if model is None else contextlib.nullcontext()
    with writing, _signals_interrupt():
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
              help="Comma-separated numbers of excitatory neurons (fresh networks).")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiply the number of timed examples per size.")
@click.option("--trained", multiple=True, type=click.Path(exists=True),
              help="Also time this trained checkpoint (a run directory or model.npz), continuing its training. Repeatable.")
@click.option("--compare", "compare_rev", metavar="REV",
              help="Time git revision REV's kernel beside this one, alternating, and report the speed-up.")
@click.option("--rounds", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Measurements per case (per revision with --compare); the report gives medians.")
@click.option("--output", type=click.Path(dir_okay=False), default="runs/bench/benchmark.md", show_default=True,
              help="Where to write the markdown report (the committed results/benchmark.md only when named).")
@one_line_errors
def bench_command(sizes: str, scale: float, trained: tuple[str, ...], compare_rev: str | None, rounds: int,
                  output: str) -> None:
    """Time training and frozen evaluation per network size; write a markdown report."""
    from .bench import MAX_SCALE, MAX_SIZES, run_benchmark, write_report

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--sizes {sizes!r}: expected comma-separated integers") from None
    if not 1 <= len(size_list) <= MAX_SIZES:
        raise ConfigError(f"--sizes {sizes!r}: expected 1 to {MAX_SIZES} sizes")
    for n in size_list:  # each size is a network the config must allow (bounds, memory)
        try:
            Config().replace(network={"n_excitatory": n})
        except ConfigError as exc:
            raise ConfigError(f"--sizes: {exc}") from None
    if not (math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise ConfigError(f"--scale {scale}: expected a number above 0 and at most {MAX_SCALE}")
    rows = run_benchmark(size_list, scale, log=lambda msg: click.echo(msg, err=True), trained=trained,
                         compare=compare_rev, rounds=rounds)
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

    everything = "all" in what
    names = FIGURES if everything else tuple(dict.fromkeys(what))
    with _lock_if_writing_into(run_dir, out_dir, "plot"), _signals_interrupt():
        cfg = read_run_config(Path(run_dir))
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


def _lock_if_writing_into(run_dir: str, out_dir: str | None, command: str):
    """The run directory's lock when a command's output goes into it (no ``out_dir``)."""
    return run_dir_lock(Path(run_dir), command) if out_dir is None else contextlib.nullcontext()


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
                   f"examples, the model has {int(network.examples_seen[0])}; run: stdp-mnist evaluate "
                   f"{shlex.quote(run_dir)}", err=True)
    warning = self_firing_warning(cfg, network.theta)
    if warning:
        click.echo(warning, err=True)
    good, failed = [], 0
    for path in images:  # every image is read; a bad one is reported and the others still classified
        try:
            good.append((path, load_digit(path)))
        except ImageError as exc:
            click.echo(f"stdp-mnist: error: {_one_line(exc)}", err=True)
            failed += 1
    if not good:
        sys.exit(1)
    digits = np.stack([digit for _, digit in good])
    into_run = show and not model.is_file
    writing = _lock_if_writing_into(run_dir, out_dir, "predict") if into_run else contextlib.nullcontext()
    with writing, _signals_interrupt():
        predictions = classify(cfg, network, assignments, rates, digits)
        for (path, digit), result in zip(good, predictions):
            _show_prediction(path, result, readout, model.linear, cfg.input.min_spikes)
            if show:
                from .figures import example_figure, figures_dir

                target = Path(out_dir) if out_dir else figures_dir(run if not model.is_file else run.parent)
                figure = example_figure(cfg, network, digit, target / f"predict_{Path(path).stem}.png",
                                        assignments, rates, title=f"{Path(path).name} in detail "
                                        f"({network.n_excitatory} neurons; frozen, from rest)")
                click.echo(f"  figure: {figure}")
    if failed:
        _fail(f"{failed} of {len(images)} images could not be read (see above)")


def _show_prediction(path: str, result, readout: str, linear, min_spikes: int) -> None:
    """One image's class by the chosen readout, a confidence cue (the linear readout's
    probability of it, or its share of the vote), and a warning when the network barely fired."""
    if readout == "linear":
        probabilities = linear.probabilities(result.counts[None])[0]
        label = int(probabilities.argmax())
        confidence, kind = f"{probabilities[label]:.0%} probability", "linear readout: supervised"
        scores = "  probabilities: " + "  ".join(f"{c}:{p:.3f}" for c, p in enumerate(probabilities))
    else:
        label = result.label_all if readout == "all" else result.label_proportion
        votes = result.scores_all if readout == "all" else result.scores_proportion
        positive = np.clip(votes, 0.0, None)
        share = positive[label] / positive.sum() if positive.sum() > 0 else 0.0
        confidence, kind = f"{share:.0%} of the vote", f"{readout} voting"
        scores = "  votes: " + "  ".join(f"{c}:{v:.2f}" for c, v in enumerate(votes))
    if not result.spikes:
        note = "  (no spikes: the class is only a tie-break)"
    elif result.spikes < min_spikes:
        note = f"  (warning: the network barely fired, {result.spikes} spikes: a guess)"
    else:
        note = ""
    click.echo(f"{path}: {label}  confidence: {confidence}  spikes: {result.spikes}  boosts: {result.retries}  "
               f"({kind}){note}")
    click.echo(scores)


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


def _visible(folder: Path) -> list[Path]:
    """A folder's entries but hidden ones (the lock, temp files of unfinished writes)."""
    return [path for path in folder.iterdir() if not path.name.startswith(".")]


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
    n_images = count_training_images(cfg)
    total = total_examples(cfg, n_images) if n_images is not None else None
    images = f"{n_images}" if n_images is not None else "? (training data not found)"
    click.echo(f"run:        {run}")
    click.echo(f"network:    {cfg.network.n_excitatory} excitatory neurons, seed {cfg.run.seed}")
    click.echo(f"schedule:   {total if total is not None else '?'} training examples ({cfg.training.passes} pass(es) "
               f"over {images} images{', max ' + str(cfg.training.max_examples) if cfg.training.max_examples else ''}"
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
    if seen is not None and total is None:
        click.echo(f"progress:   {seen} examples trained")
    elif seen is not None:
        status = "finished" if seen >= total else "stopped; continue with: " + resume_command(run_dir, False)
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
        click.echo(f"evaluation: none yet (stdp-mnist evaluate {shlex.quote(run_dir)})")
    click.echo("files:")
    for path in sorted(_visible(run)):
        if path.is_file():
            click.echo(f"  {path.name:<18s} {_size(path):>9s}")
        elif path.is_dir():
            inner = sorted(p for p in _visible(path) if p.is_file())
            click.echo(f"  {path.name + '/':<18s} {len(inner)} files: {', '.join(p.name for p in inner)}")
