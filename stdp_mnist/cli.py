"""Command line: ``stdp-mnist download | configs | train | evaluate | plot | predict | serve | info | export | bench | sweep``.

A thin shell over the library: it parses options, shows progress, prints the
summaries the library builds (stdp_mnist.report), and turns every expected failure
into one line on stderr with a non-zero exit code. A closed stdout (``| head``) ends
a command quietly, with exit status 141 as for a tool killed by SIGPIPE.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import signal
import socket
import sys
import threading
from pathlib import Path

import click
import numpy as np

from .bench import BenchmarkError
from .config import ConfigError, apply_overrides, config_from_dict, config_path, load_config
from .data import (
    DATASETS,
    DataError,
    configured_dir,
    count_training_images,
    ensure_dataset,
    load_configured,
    training_set,
)
from .evaluation import evaluate, evaluate_network, self_firing_warning
from .figures import AFTER_EVALUATION, AFTER_TRAINING, FIGURES, MECHANISMS
from .linear import LinearReadoutError
from .model_file import ModelFileError, open_model
from .network import CheckpointError
from .predict import ImageError
from .progress import StageProgress, plural
from .report import evaluation_report, file_size, info, resume_command, training_time
from .rundir import (
    ASSIGNMENTS_FILE,
    EVAL_METRICS_FILE,
    EVAL_PARTIAL_DIR,
    MODEL_FILE,
    Run,
    RunDirError,
    RunExistsError,
    WriteError,
    check_new_run_dir,
    run_dir_lock,
)
from .shipped import description, find_config, not_found_message, shipped_configs, shipped_dir
from .training import NumericalError, Progress, RunWriteError, TrainingInterrupted, total_examples, train

EXPECTED_ERRORS = (
    ConfigError,
    DataError,
    RunDirError,
    CheckpointError,
    NumericalError,
    WriteError,
    ImageError,
    BenchmarkError,
    ModelFileError,
    LinearReadoutError,
    OSError,
)
# The exit status of a command whose stdout was closed under it (a shell's for a tool killed by SIGPIPE).
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"stdp-mnist: error: {message}", err=True)
    sys.exit(code)


def one_line_errors(command):
    """Report the project's expected errors as one line and exit non-zero."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:  # `stdp-mnist info RUN | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
            sys.exit(EXIT_BROKEN_PIPE)
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


def _say(message: str) -> None:
    """A line on stderr saying what the command is doing (stdout keeps the results)."""
    click.echo(message, err=True)


class ProgressBar:
    """One stage's progress on stderr from ``start`` to ``total`` (``unit``: what is
    counted, singular), with the rate and ETA of StageProgress (measured only): click's
    bar on a terminal, drawn from the first finished item on (before it, a notice may
    say why nothing moves); when stderr is not a terminal (a log file), a line every
    StageProgress.LOG_EVERY_S seconds and at the end instead."""

    def __init__(self, label: str, start: int, total: int, unit: str):
        self.tty = sys.stderr.isatty()
        self.label = label
        self.meter = StageProgress(label, start, total, unit)
        self.shown = start
        self.bar = None

    def show(self, done: int, detail: str = "") -> None:
        """Move the bar to ``done`` and show the counts, rate, ETA and ``detail`` after it."""
        self.meter.update(done)
        if not self.meter.started:
            return
        text = self.meter.text(detail)
        if not self.tty:
            if self.meter.line_due():
                _say(f"{self.label}: {text}")
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=max(1, self.meter.total - self.shown),
                label=f"{self.label:6s}",
                file=sys.stderr,
                show_eta=False,
                show_percent=False,
                item_show_func=lambda item: item,
                width=24,
            )
        self.bar.update(done - self.shown, text)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


COMPILING = (
    "preparing the simulation kernel: numba compiles it on a first run (15-60 s) and loads it from "
    "its cache later ..."
)


@contextlib.contextmanager
def _compile_notice(after_s: float = 2.0):
    """Say what a silent start is (numba compiling the kernel, or loading it from its
    cache) when no item is finished after ``after_s`` seconds; yields the function that
    the first finished item's report calls to call the notice off."""
    timer = threading.Timer(after_s, _say, args=(COMPILING,))
    timer.daemon = True
    timer.start()
    try:
        yield timer.cancel
    finally:
        timer.cancel()


def _load_data(cfg):
    """The config's data, saying where it comes from (loading takes a few seconds)."""
    _say(f"loading the data from {configured_dir(cfg)} ({DATASETS[cfg.data.name].title}) ...")
    return load_configured(cfg, log=_say)


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


def _write_figures_safely(run: Run, what: tuple[str, ...], data=None) -> bool:
    """Draw a run's figures after training or evaluation. Nothing here can fail the
    command (the run is already saved): a failure is a warning line on stderr, and a
    signal (Ctrl-C) stops the drawing with a warning. Returns False when interrupted."""
    from .figures import figures_dir, write_figures

    _say(f"figures: drawing {', '.join(what)} into {figures_dir(run.dir)} ...")
    try:
        with _signals_interrupt():
            results = write_figures(run, what, data=data, skip_missing=True, keep_going=True)
    except (_Interrupted, KeyboardInterrupt):
        click.echo(
            f"stdp-mnist: warning: figures interrupted (the run is saved); draw them with: "
            f"stdp-mnist plot {shlex.quote(str(run.dir))}",
            err=True,
        )
        return False
    except Exception as exc:
        click.echo(
            f"stdp-mnist: warning: figures not written ({type(exc).__name__}: {_one_line(exc)})", err=True
        )
        return True
    for result in results:
        if result.error:
            click.echo(
                f"stdp-mnist: warning: figure {result.name} not written ({_one_line(result.error)})", err=True
            )
    written = [path.name for result in results for path in result.paths]
    if written:
        click.echo(f"figures: {figures_dir(run.dir)} ({', '.join(written)})")
    return True


@click.group()
@click.version_option(package_name="stdp-mnist")
def main() -> None:
    """Unsupervised MNIST learning with STDP in a spiking network (Diehl & Cook 2015)."""


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to put it (default: its cache, under $STDP_MNIST_DATA or the user cache dir).",
)
@click.option(
    "--dataset",
    type=click.Choice(tuple(DATASETS)),
    default="mnist",
    show_default=True,
    help="Which dataset (data.name).",
)
@one_line_errors
def download(data_dir: str | None, dataset: str) -> None:
    """Fetch a dataset (four IDX files, checksum-verified) into its data directory."""
    path = ensure_dataset(dataset, data_dir, log=lambda msg: click.echo(msg, err=True))
    click.echo(f"{DATASETS[dataset].title} ready in {path}")


def _named_config(name: str) -> Path:
    """The config file a --config names (a file, or a shipped config's name), saying
    which shipped file it is when it is one."""
    path = config_path(name)
    if path != Path(name):
        _say(f"config: {name} is the shipped {path}")
    return path


@main.command("train")
@click.option(
    "--config",
    "config_name",
    default=None,
    metavar="FILE|NAME",
    help="TOML config file, or the name of a shipped one (quick, dc2015-400, ...: see stdp-mnist configs) "
    "when no such file exists (default: built-in defaults = the 100-neuron reference).",
)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Run directory (default: runs/<config name>).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override a config value; repeatable.",
)
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    default=None,
    help="Continue the run in this directory from its last checkpoint.",
)
@click.option("--overwrite", is_flag=True, help="Start again in a run directory that holds a run.")
@click.option("--evaluate", "then_evaluate", is_flag=True, help="Evaluate the run when training ends.")
@one_line_errors
def train_command(config_name, run_dir, overrides, resume, overwrite, then_evaluate) -> None:
    """Train a network; checkpoints go to the run directory (Ctrl-C saves and stops)."""
    if resume:
        if config_name or overrides or overwrite:
            raise ConfigError(
                "--resume takes its config from the run directory; drop --config/--set/--overwrite"
            )
        run = Run(resume)
    else:
        cfg = load_config(_named_config(config_name) if config_name else None, overrides)
        run = Run(run_dir or Path("runs") / (Path(config_name).stem if config_name else "default"), cfg)
        _check_new_run(run, overwrite)  # before the lock: it would create the directory
    with run.locked("train", create=not resume):
        if resume:
            _ = run.network  # fail before fetching data
            if _finished(run, then_evaluate):
                return
        else:
            _check_new_run(run, overwrite)  # again, now that no one else can write it
        _say(
            f"training {plural(run.cfg.network.n_excitatory, 'neuron')} in {run.dir}"
            + (", resumed from its checkpoint" if resume else "")
        )
        data = _load_data(run.cfg)
        try:
            _train(run, data, bool(resume), overwrite)
        except TrainingInterrupted as exc:
            click.echo(
                f"\nstdp-mnist: {exc}; continue with: {resume_command(run.dir, then_evaluate)}", err=True
            )
            sys.exit(130)
        except RunWriteError as exc:
            then = (
                f"continue with: {resume_command(run.dir, then_evaluate)}"
                if exc.saved is not None
                else "start again with --overwrite"
            )
            _fail(f"{exc}; free some space, then {then}")
        drawn = _write_figures_safely(run, AFTER_TRAINING)
        if then_evaluate:
            if not drawn:  # a Ctrl-C while drawing: the training is saved, stop before evaluating
                _fail(
                    f"interrupted before the evaluation; run: stdp-mnist evaluate {shlex.quote(str(run.dir))}",
                    130,
                )
            with _signals_interrupt():
                _evaluate(run, data, run.cfg)


def _check_new_run(run: Run, overwrite: bool) -> None:
    """Refuse a new run's directory that holds a run, in the command line's words."""
    try:
        check_new_run_dir(run.dir, overwrite)
    except RunExistsError:
        raise RunDirError(
            f"{run.dir}: not empty; use --resume {shlex.quote(str(run.dir))} to continue it "
            "or --overwrite to start again"
        ) from None


def _finished(run: Run, then_evaluate: bool) -> bool:
    """Say so when a resumed run has trained its whole schedule (nothing to train, no
    figures redrawn); with --evaluate, evaluate it unless its evaluation is current.
    Returns whether the run was finished."""
    n_images = count_training_images(run.cfg)
    seen = int(run.network.examples_seen[0])
    if n_images is None or seen < total_examples(run.cfg, n_images):
        return False
    finished = f"{run.dir}: finished ({plural(seen, 'example')} trained); nothing to train"
    evaluation = run.evaluation
    if evaluation is not None and evaluation.examples_trained == seen:
        _say(f"{finished}, and its evaluation is current (stdp-mnist info {shlex.quote(str(run.dir))})")
    elif not then_evaluate:
        _say(f"{finished}; evaluate it with: stdp-mnist evaluate {shlex.quote(str(run.dir))}")
    else:
        _say(f"{finished}; evaluating it")
        with _signals_interrupt():
            _evaluate(run, _load_data(run.cfg), run.cfg)
    return True


def _train(run: Run, data, resume: bool, overwrite: bool) -> None:
    """Train with a progress bar whose rate starts after the first chunk (the kernel is
    compiled before it); ends with the run's training time as info reports it."""
    bars: list[ProgressBar] = []

    def report(p: Progress) -> None:
        call_off_notice()
        if not bars:
            bars.append(ProgressBar("train", p.examples_seen, p.total, "example"))
        bars[0].show(p.examples_seen, p.detail)

    try:
        with _compile_notice() as call_off_notice:
            images, labels = training_set(run.cfg, data)
            network = train(
                run.cfg, run, images, resume=resume, overwrite=overwrite, progress=report, labels=labels
            )
    finally:
        for bar in bars:
            bar.close()
    seen = int(network.examples_seen[0])
    records = run.records()
    took = f"; training time {training_time(records[-1].wall_s)}" if records and records[-1].wall_s else ""
    click.echo(f"trained {plural(seen, 'example')}{took}; model: {run.path(MODEL_FILE)}")


# What the evaluation's frozen stages show to the network.
STAGE_IMAGES = {"assign": "labelled training image", "test": "test image"}


def _evaluate(run: Run | None, data, cfg, model=None) -> None:
    """Evaluate a run (writing its evaluation files and figures), or a model file's
    network (``model``, with ``run`` None; nothing is written)."""
    bars: dict[str, ProgressBar] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage == "linear":  # one step, no bar: say what the pause is
            call_off_notice()
            if done == 0:
                for earlier in bars.values():
                    earlier.close()
                _say("linear: fitting the supervised readout to the labelled images' counts ...")
            return
        bar = bars.get(stage)
        if bar is None:  # the stage starts: say so at once, the bar follows its first finished image
            for earlier in bars.values():
                earlier.close()
            _say(f"{stage}: {plural(total, STAGE_IMAGES[stage])}" + (f", {done:,} kept" if done else ""))
            bar = bars[stage] = ProgressBar(stage, done, total, "image")
        bar.show(done)
        if bar.meter.started:
            call_off_notice()

    interrupted = False
    try:
        # the kernel is compiled at the first frozen call, unless training compiled it
        with _compile_notice() as call_off_notice:
            if model is None:
                metrics = evaluate(run, data, report, cfg, log=_say)
            else:
                metrics, _, _ = evaluate_network(cfg, model.network, data, report, log=_say)
    except (_Interrupted, KeyboardInterrupt):
        if model is not None:
            raise
        interrupted = True
    finally:
        for bar in bars.values():
            bar.close()
    if interrupted:
        _fail(
            f"interrupted; the finished responses are kept in {run.path(EVAL_PARTIAL_DIR)}, and the same "
            "evaluate continues from them",
            130,
        )
    for line in evaluation_report(metrics):
        click.echo(line)
    if model is None:
        click.echo(f"metrics: {run.path(EVAL_METRICS_FILE)}")
        _write_figures_safely(run, AFTER_EVALUATION, data)
    else:
        click.echo("(model file: nothing written; the file keeps the evaluation it was exported with)")


@main.command("evaluate")
@click.argument("run_dir", type=click.Path())
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="evaluation.KEY=VALUE",
    help="Override an evaluation.* or data.* value for this evaluation; repeatable.",
)
@one_line_errors
def evaluate_command(run_dir: str, overrides: tuple[str, ...]) -> None:
    """Assign neurons to classes and classify the test set, weights and theta frozen
    (RUN_DIR: a run directory, or a model file written by export)."""
    model = open_model(run_dir) if Path(run_dir).is_file() else None
    run = None if model else Run(run_dir)
    writing = run.locked("evaluate") if run else contextlib.nullcontext()
    with writing, _signals_interrupt():
        cfg = model.cfg if model else run.cfg
        if overrides:
            for text in overrides:
                if not text.startswith(("evaluation.", "data.")):
                    raise ConfigError(f"--set {text!r}: evaluate only accepts evaluation.* and data.* keys")
            cfg = config_from_dict(apply_overrides(cfg.to_dict(), overrides))
        if run:
            _ = run.network  # fail before fetching data
        _evaluate(run, _load_data(cfg), cfg, model)


@main.command("bench")
@click.option(
    "--sizes",
    default="100,400,1600,6400",
    show_default=True,
    help="Comma-separated numbers of excitatory neurons (fresh networks).",
)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Multiply the number of timed examples per size.",
)
@click.option(
    "--trained",
    multiple=True,
    type=click.Path(exists=True),
    help="Also time this trained checkpoint (a run directory or model.npz), continuing its training. Repeatable.",
)
@click.option(
    "--rounds",
    type=click.IntRange(1, 20),
    default=1,
    show_default=True,
    help="Measurements per case; the report gives medians.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default="runs/bench/benchmark.md",
    show_default=True,
    help="Where to write the markdown report (the committed results/benchmark.md only when named).",
)
@one_line_errors
def bench_command(sizes: str, scale: float, trained: tuple[str, ...], rounds: int, output: str) -> None:
    """Time training and frozen evaluation per network size; write a markdown report."""
    from .bench import run_benchmark, validated_sizes, write_report

    rows = run_benchmark(
        validated_sizes(sizes, scale),
        scale,
        log=lambda msg: click.echo(msg, err=True),
        trained=trained,
        rounds=rounds,
    )
    if Path(sys.argv[0]).name == "stdp-mnist":
        command = " ".join(["stdp-mnist bench", *sys.argv[2:]])
    else:
        command = " ".join(["python", *sys.argv])
    click.echo(write_report(rows, Path(output), command))
    click.echo(f"report: {output}")


@main.command("sweep")
@click.argument("sweep_file", metavar="SWEEP_FILE|NAME")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override a config value in every point of the sweep (not a swept key, nor run.seed); "
    "repeatable. The runs then go to their own directory, OUT_KEY=VALUE.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Put the runs and summaries here (relative to the working directory), in place of the "
    "sweep file's out.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Runs at a time with the local executor (default: one per core).",
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    metavar="local|dask://HOST:PORT",
    help="Where runs execute: local worker processes, or a dask.distributed scheduler.",
)
@one_line_errors
def sweep_command(
    sweep_file: str, overrides: tuple[str, ...], out_dir: str | None, workers: int | None, executor: str
) -> None:
    """Train and evaluate every point x seed of a sweep file in parallel; finished runs
    are skipped and partial ones resumed; writes summary.csv, summary.md, summary.png.

    SWEEP_FILE is a sweep file, or the name of a shipped one (seeds-100,
    sweeps/variants-100, ...: see stdp-mnist configs) when no such file exists. Paths
    inside a sweep file, base and out, are relative to the sweep file (base may also
    name a shipped config, e.g. quick); without out, the runs go to
    runs/sweeps/<sweep file name without .toml> under the working directory. --out
    DIR, relative to the working directory, takes the place of either.

    A quick trial of a sweep: --set training.max_examples=300 --set
    evaluation.n_assign=300 --set evaluation.n_test=300 (its runs go to a directory
    of their own, so they never mix with the full sweep's)."""
    from .sweep import load_sweep, run_specs, run_sweep
    from .sweep.progress import ProgressDisplay, SweepProgress
    from .sweep.summary import ACCURACY_ALL, ACCURACY_LINEAR

    if executor != "local" and not executor.startswith("dask://"):
        raise ConfigError(f"--executor {executor!r}: expected local or dask://HOST:PORT")
    if workers is not None and executor != "local":
        raise ConfigError("--workers applies to the local executor; a dask cluster has its own workers")
    sweep = load_sweep(sweep_file, overrides, out_dir)
    total = len(sweep.runs)
    click.echo(
        f"sweep {sweep.path.name}: {plural(total, 'run')} ({plural(total // len(sweep.seeds), 'point')} x "
        f"{plural(len(sweep.seeds), 'seed')}) in {sweep.out}",
        err=True,
    )
    finished = []
    display = ProgressDisplay(
        SweepProgress(run_specs(sweep)),
        lambda text: click.echo(text, err=True, nl=False),
        sys.stderr.isatty(),
    )

    def report(row: dict) -> None:
        finished.append(row)
        accuracy, linear = row[ACCURACY_ALL], row[ACCURACY_LINEAR]
        shown = f"accuracy {accuracy:.4f}" if accuracy is not None else row["error"]
        shown += f" (linear readout {linear:.4f})" if linear is not None else ""
        display.finished(row, f"[{len(finished)}/{total}] {row['name']}: {row['status']}, {shown}")

    try:
        with display:
            rows, paths = run_sweep(sweep, executor, workers, on_result=report, on_progress=display.update)
    except KeyboardInterrupt:
        _fail(
            f"interrupted; run the same command again to finish the missing runs "
            f"(partial summary in {sweep.out})",
            130,
        )
    for path in paths:
        click.echo(str(path))
    failed = [row for row in rows if row["status"] in ("error", "missing")]
    if failed:
        _fail(
            f"{len(failed)} of {plural(total, 'run')} failed (see {Path(sweep.out) / 'summary.md'}); "
            f"run the same command again to retry them"
        )


@main.command("plot")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--what",
    "what",
    multiple=True,
    type=click.Choice(("all", *FIGURES, "mechanisms", *MECHANISMS)),
    default=("all",),
    show_default=True,
    help="Figure to draw; repeatable. all = every figure of the run it has the files for; "
    "mechanisms = the five mechanism figures (neuron, stdp-window, encoding, inhibition, and "
    "prototypes, which needs a run trained with run.snapshot_every > 0), each measured on the "
    "kernel with the run's config.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for the PNG files (default: RUN_DIR/figures).",
)
@click.option(
    "--example",
    "example_index",
    type=int,
    default=0,
    show_default=True,
    help="Test image shown by the 'example' figure.",
)
@one_line_errors
def plot_command(run_dir: str, what: tuple[str, ...], out_dir: str | None, example_index: int) -> None:
    """Draw a run's figures as PNG files: receptive fields, theta, learning curve,
    neuron assignments, confusion matrices, one test example in detail; and on request
    the model's mechanisms measured on the kernel (one neuron, the STDP window, input
    encoding, lateral inhibition, prototypes forming as a strip and a GIF)."""
    from .figures import figures_dir, write_figures

    everything = "all" in what
    named = [name for choice in what for name in (MECHANISMS if choice == "mechanisms" else (choice,))]
    names = FIGURES if everything else tuple(dict.fromkeys(named))
    run = Run(run_dir)
    with _lock_if_writing_into(run_dir, out_dir, "plot"), _signals_interrupt():
        results = write_figures(
            run,
            names,
            out_dir=out_dir,
            data=lambda: _load_data(run.cfg),
            example_index=example_index,
            skip_missing=everything or "mechanisms" in what,
        )
    for result in results:
        for path in result.paths:
            click.echo(str(path))
        if result.skipped:
            click.echo(f"skipped {result.name}: {_one_line(result.skipped)}", err=True)
    if not any(result.paths for result in results):
        raise RunDirError(f"{run_dir}: no figure could be drawn")
    _say(f"{plural(sum(len(r.paths) for r in results), 'figure')} in {out_dir or figures_dir(run_dir)}")


def _lock_if_writing_into(run_dir: str, out_dir: str | None, command: str):
    """The run directory's lock when a command's output goes into it (no ``out_dir``)."""
    return run_dir_lock(Path(run_dir), command) if out_dir is None else contextlib.nullcontext()


@main.command("predict")
@click.argument("run_dir", type=click.Path())
@click.argument("images", nargs=-1, required=True)
@click.option(
    "--readout",
    type=click.Choice(("all", "proportion", "linear")),
    default=None,
    help="How spike counts become a class: 'all' or 'proportion' voting (the paper's, unsupervised "
    "labels), or the supervised linear readout [default: linear when the run has one, else all].",
)
@click.option("--show", is_flag=True, help="Also draw each image's detail figure (input, rasters, voltages).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory for --show's figures (default: RUN_DIR/figures, or figures/ beside a model file).",
)
@one_line_errors
def predict_command(
    run_dir: str, images: tuple[str, ...], readout: str | None, show: bool, out_dir: str | None
) -> None:
    """Classify your own digit images (PNG, JPEG, ...; any size) with an evaluated run
    (RUN_DIR: a run directory, or a model file written by export).

    Each image is made MNIST-like (grey, inverted if the background is light, scaled
    into 20x20, centred by centre of mass in 28x28), shown once to the frozen network,
    and classified by the chosen readout."""
    from .predict import classify, load_digit

    model = open_model(run_dir)
    run, cfg, network = model.path, model.cfg, model.network
    if model.assignments is None:
        raise RunDirError(
            f"{run_dir}: no {ASSIGNMENTS_FILE}: the run has not been evaluated; "
            f"run: stdp-mnist evaluate {run_dir}"
        )
    assignments, rates = model.assignments, model.class_rates
    readout = readout or ("linear" if model.linear else "all")
    if readout == "linear" and model.linear is None:
        raise RunDirError(
            f"{run_dir}: no linear readout (evaluated before it existed); run: stdp-mnist evaluate {run_dir}"
        )
    _warn_of_stale_or_self_firing(model, run_dir)
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
        for (path, digit), result in zip(good, predictions, strict=True):
            _show_prediction(path, result, readout, model.linear, cfg.input.min_spikes)
            if show:
                from .figures import example_figure, figures_dir

                target = Path(out_dir) if out_dir else figures_dir(run if not model.is_file else run.parent)
                figure = example_figure(
                    cfg,
                    network,
                    digit,
                    target / f"predict_{Path(path).stem}.png",
                    assignments,
                    rates,
                    title=f"{Path(path).name} in detail ({network.n_excitatory} neurons; frozen, from rest)",
                )
                click.echo(f"  figure: {figure}")
    if failed:
        _fail(f"{failed} of {plural(len(images), 'image')} could not be read (see above)")


def _warn_of_stale_or_self_firing(model, run_dir: str) -> None:
    """Warn when the model's evaluation is older than its network, and of self-firing neurons."""
    trained = int(model.network.examples_seen[0])
    if model.metrics is not None and model.metrics.examples_trained != trained:
        click.echo(
            f"stdp-mnist: warning: the assignments are from an evaluation after "
            f"{model.metrics.examples_trained} training examples, the model has {trained}; run: "
            f"stdp-mnist evaluate {shlex.quote(run_dir)}",
            err=True,
        )
    warning = self_firing_warning(model.cfg, model.network.theta)
    if warning:
        click.echo(warning, err=True)


def _show_prediction(path: str, result, readout: str, linear, min_spikes: int) -> None:
    """One image's class by the chosen readout, a confidence cue (the linear readout's
    probability of it, or its share of the vote), and a warning when the network barely fired."""
    if readout == "linear":
        probabilities = linear.probabilities(result.counts[None])[0]
        label = result.classes(linear)["linear"]
        confidence, kind = f"{probabilities[label]:.0%} probability", "linear readout: supervised"
        scores = "  probabilities: " + "  ".join(f"{c}:{p:.3f}" for c, p in enumerate(probabilities))
    else:
        label = result.classes()[readout]
        votes = result.scores_all if readout == "all" else result.scores_proportion
        positive = np.clip(votes, 0.0, None)
        share = positive[label] / positive.sum() if positive.sum() > 0 else 0.0
        confidence, kind = f"{share:.0%} of the vote", f"{readout} voting"
        scores = "  votes: " + "  ".join(f"{c}:{v:.2f}" for c, v in enumerate(votes))
    if not result.spikes:
        note = "  (no spikes: the class is only a tie-break)"
    elif result.spikes < min_spikes:
        note = f"  (warning: the network barely fired, {plural(result.spikes, 'spike')}: a guess)"
    else:
        note = ""
    click.echo(
        f"{path}: {label}  confidence: {confidence}  spikes: {result.spikes}  boosts: {result.retries}  "
        f"({kind}){note}"
    )
    click.echo(scores)


def _check_can_listen(host: str, port: int) -> None:
    """OSError naming the address unless a server can bind to ``host``:``port``."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.command("serve")
@click.argument("run_dir", metavar="RUN_DIR|MODEL_FILE", type=click.Path())
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every one)."
)
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one)."
)
@one_line_errors
def serve_command(run_dir: str, host: str, port: int) -> None:
    """Serve a page to look inside an evaluated run (or model file): draw a digit and see
    what the network sees, its answer by each readout with the votes, the spike rasters
    and the receptive fields of the neurons that fired most; with the run's figures and
    metrics. POST /api/predict takes an image file and answers as predict does. Needs
    the serve extra (pip install "stdp-mnist[serve]"). Ctrl-C stops it."""
    try:
        from werkzeug.serving import make_server

        from .serve.app import create_app
    except ImportError as exc:
        _fail(f'serve needs Flask, which is not installed ({exc}); pip install "stdp-mnist[serve]"')
    app = create_app(run_dir)
    _check_can_listen(host, port)  # werkzeug would print its own lines and exit
    server = make_server(host, port, app, threaded=True)
    # Ctrl-C and SIGTERM end serve_forever as KeyboardInterrupt (also where a shell
    # started the server in the background with SIGINT ignored).
    previous = {
        sig: signal.signal(sig, signal.default_int_handler) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    _say(f"serving {run_dir} on http://{host}:{server.server_port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()  # werkzeug's returns on KeyboardInterrupt
    except KeyboardInterrupt:
        pass  # one arriving outside its loop
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _say("stopped")


@main.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--overwrite", is_flag=True, help="Replace FILE when it exists.")
@one_line_errors
def export_command(run_dir: str, file: str, overwrite: bool) -> None:
    """Write an evaluated run as one model file (weights, theta, delays, config, voting
    assignments, linear readout, versions) that predict, evaluate and info accept in
    place of the run directory. An existing FILE is kept unless --overwrite."""
    from .model_file import export_model

    if Path(file).exists() and not Path(file).is_dir() and not overwrite:
        raise ModelFileError(f"{file}: exists; use --overwrite to replace it")
    model = export_model(run_dir, file, overwrite=True)
    click.echo(
        f"model file: {file} ({file_size(Path(file))}; {plural(model.network.n_excitatory, 'neuron')}, "
        f"{plural(int(model.network.examples_seen[0]), 'example')} trained)"
    )


@main.command("info")
@click.argument("run_dir", type=click.Path())
@one_line_errors
def info_command(run_dir: str) -> None:
    """Summarise a run: its config, training progress and time, last metrics,
    evaluation, files (or a model file written by export: its network, settings and
    evaluation)."""
    for line in info(run_dir):
        click.echo(line)


@main.command("configs")
@click.argument("name", required=False)
@one_line_errors
def configs_command(name: str | None) -> None:
    """List the configs that ship with stdp-mnist, one line each; with NAME, print that
    config (to start your own: stdp-mnist configs quick > my.toml).

    Give a name to --config (train) or to sweep in place of a file: a file of that
    name is used when there is one, else the shipped config."""
    if name is not None:
        path = find_config(name) or find_config(name, sweep=True)
        if path is None:
            raise ConfigError(not_found_message(name))
        click.echo(path.read_text(), nl=False)
        return
    click.echo(f"shipped configs (in {shipped_dir()}):")
    listed = {sweeps: shipped_configs(sweeps=sweeps) for sweeps in (False, True)}
    width = max(len(config) for configs in listed.values() for config in configs)  # names in one column
    for kind, sweeps in (("train --config NAME", False), ("sweep NAME", True)):
        click.echo(f"  for stdp-mnist {kind}:")
        for config, path in listed[sweeps].items():
            click.echo(f"    {config:<{width}s} {description(path)}")
