"""Command line: ``stdp-mnist download | train | evaluate``.

A thin shell over the library: it parses options, shows progress, and turns every
expected failure into one line on stderr with a non-zero exit code.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import click

from .config import ConfigError, apply_overrides, config_from_dict, load_config
from .data import DataError, ensure_mnist, load_mnist
from .evaluation import evaluate
from .network import CheckpointError, load_network
from .rundir import MODEL_FILE, RunDirError, check_new_run_dir, read_run_config
from .training import NumericalError, Progress, TrainingInterrupted, train

EXPECTED_ERRORS = (ConfigError, DataError, RunDirError, CheckpointError, NumericalError, OSError)


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
    return load_mnist(cfg.data.dir or None, fetch=cfg.data.verify, log=lambda msg: click.echo(msg, err=True))


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

    def report(p: Progress) -> None:
        eta = (p.total - p.examples_seen) / max(p.examples_per_s, 1e-9)
        line.show(f"train {_bar(p.examples_seen, p.total)} {p.examples_per_s:.0f} ex/s, "
                  f"{p.spikes_per_example:.1f} spikes/ex, {p.boosts} boosts, ETA {eta:.0f}s",
                  final=p.examples_seen == p.total)

    click.echo(f"training {cfg.network.n_excitatory} neurons in {run_dir}", err=True)
    start = time.perf_counter()
    network = train(cfg, run_dir, data.train_images, resume=bool(resume), overwrite=overwrite, progress=report)
    seen = int(network.examples_seen[0])
    click.echo(f"trained {seen} examples ({time.perf_counter() - start:.1f} s this session); "
               f"model: {Path(run_dir) / 'model.npz'}")
    if then_evaluate:
        _evaluate(run_dir, data, cfg)


def _evaluate(run_dir: str, data, cfg=None) -> None:
    line = ProgressLine()
    metrics = evaluate(run_dir, data, lambda stage, done, total: line.show(
        f"{stage:6s} {_bar(done, total)}", final=done == total), cfg)
    click.echo(f"accuracy (all):        {metrics['accuracy_all']:.4f}")
    click.echo(f"accuracy (proportion): {metrics['accuracy_proportion']:.4f}")
    click.echo(f"test images: {metrics['n_test']}, labelled for assignment: {metrics['n_assign']}, "
               f"unassigned neurons: {metrics['unassigned_neurons']}")
    click.echo("confusion ('all' voting; rows = true class, columns = predicted):")
    click.echo("      " + "".join(f"{c:>6d}" for c in range(10)))
    for c, row in enumerate(metrics["confusion_all"]):
        click.echo(f"{c:>6d}" + "".join(f"{v:>6d}" for v in row))
    click.echo(f"metrics: {Path(run_dir) / 'metrics.json'}")


@main.command("evaluate")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--set", "overrides", multiple=True, metavar="evaluation.KEY=VALUE",
              help="Override an evaluation.* or data.* value for this evaluation; repeatable.")
@one_line_errors
def evaluate_command(run_dir: str, overrides: tuple[str, ...]) -> None:
    """Assign neurons to classes and classify the test set, weights and theta frozen."""
    cfg = read_run_config(Path(run_dir))
    if overrides:
        for text in overrides:
            if not text.startswith(("evaluation.", "data.")):
                raise ConfigError(f"--set {text!r}: evaluate only accepts evaluation.* and data.* keys")
        cfg = config_from_dict(apply_overrides(cfg.to_dict(), overrides))
    load_network(Path(run_dir) / MODEL_FILE, cfg)  # fail before fetching data
    _evaluate(run_dir, _load_data(cfg), cfg)


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
