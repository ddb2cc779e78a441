"""The training protocol: passes over the images, checkpoints, metrics, progress, interruption.

The compiled kernel trains a chunk of examples at a time; between chunks this loop
reports progress, appends a line to metrics.jsonl every ``run.metrics_every``
examples, writes checkpoints every ``run.checkpoint_every`` examples (and, when
``run.snapshot_every`` > 0, weight snapshots: stdp_mnist.snapshots), and honours
Ctrl-C / SIGTERM by checkpointing before it stops. Chunk boundaries do not change
results: all state (random stream included) lives in the checkpointed arrays.

Each metrics line describes the window of examples since the previous line. Given the
training labels, it includes the reference code's running accuracy estimate: every
example of the window classified ("all" voting) from its training-time response with
the neuron assignment made from the previous window's responses (null for the first
window of a session: at the start and after a resume).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import kernel, readout
from .config import Config
from .network import (
    STREAM_ORDER,
    CheckpointError,
    Network,
    kernel_params,
    network_sizes,
    new_network,
    prepare_kernels,
    random_seed,
)
from .progress import LOGGER, LoggedStages, plural
from .records import MetricsLine
from .rundir import MODEL_FILE, TRAIN_METRICS_FILE, Run, WriteError, create_run_dir
from .snapshots import snapshot_path, write_snapshot

# Aim for kernel calls of about this long, so progress and Ctrl-C stay responsive.
CHUNK_SECONDS = 0.5


class TrainingInterrupted(Exception):
    """Training stopped on a signal after saving a checkpoint."""

    def __init__(self, examples_seen: int):
        super().__init__(f"interrupted after {examples_seen} examples; checkpoint saved")
        self.examples_seen = examples_seen


class NumericalError(Exception):
    """Weights or theta left their valid range; the last good checkpoint is kept."""


class RunWriteError(WriteError):
    """Writing the checkpoint or a metrics line failed (a full disk, say); training
    stopped there, and the last checkpoint written (``saved``, its examples; None
    when there is none yet) is intact: the writes are atomic."""

    def __init__(self, path: Path, error: OSError, saved: int | None):
        kept = (
            f"training stopped, the checkpoint of {plural(saved, 'example')} before it is intact"
            if saved is not None
            else "training stopped, no checkpoint was written yet"
        )
        super().__init__(path, error, kept)
        self.saved = saved


@dataclass
class Progress:
    """What the training loop reports after each chunk."""

    examples_seen: int
    total: int
    elapsed_s: float  # wall seconds of this session's training
    examples_per_s: float
    spikes_per_example: float  # mean over the latest chunk
    boosts: int  # intensity boosts in the latest chunk
    metrics: MetricsLine | None = None  # the latest metrics.jsonl record (None before the first)

    @property
    def running_accuracy(self) -> float | None:
        """The latest window's running accuracy estimate, if there is one yet."""
        return self.metrics.running_accuracy if self.metrics else None

    @property
    def detail(self) -> str:
        """The latest chunk's spikes and boosts, and the running accuracy once there is one."""
        accuracy = self.running_accuracy
        return f"{self.spikes_per_example:.1f} spikes/ex, {plural(self.boosts, 'boost')}" + (
            f", running acc {accuracy:.3f}" if accuracy is not None else ""
        )


class MetricsWindow:
    """Statistics of the training examples since the last metrics line.

    ``assignment`` is the neuron assignment made from the previous window (None for
    the first); the window classifies its examples with it and collects its own
    per-class responses for the next window's assignment."""

    def __init__(self, n_excitatory: int, assignment: np.ndarray | None = None):
        self.examples = self.spikes = self.boosts = 0
        self.labelled = self.correct = 0
        self.sums = np.zeros((n_excitatory, readout.N_CLASSES))
        self.class_sizes = np.zeros(readout.N_CLASSES, np.int64)
        self.assignment = assignment

    def add(self, counts: np.ndarray, retries: np.ndarray, labels: np.ndarray | None) -> None:
        """Take in a chunk: spike counts (K x N), retries (K), labels (K) or None."""
        self.examples += len(counts)
        self.spikes += int(counts.sum())
        self.boosts += int(retries.sum())
        if labels is None:
            return
        self.labelled += len(labels)
        self.sums += readout.class_spike_sums(counts, labels)
        self.class_sizes += np.bincount(labels, minlength=readout.N_CLASSES)
        if self.assignment is not None:
            self.correct += int((readout.predict_all(counts, self.assignment) == labels).sum())

    def running_accuracy(self) -> float | None:
        if self.assignment is None or self.labelled == 0:
            return None
        return self.correct / self.labelled

    def next_window(self) -> MetricsWindow:
        """The following window, classifying with this window's assignment."""
        assignment = None
        if self.labelled:
            assignment = readout.assign_classes(readout.class_rates(self.sums, self.class_sizes))
        return MetricsWindow(self.sums.shape[0], assignment)


def total_examples(cfg: Config, n_images: int) -> int:
    """Examples in the training schedule: passes over the images, capped by max_examples."""
    total = cfg.training.passes * n_images
    return min(total, cfg.training.max_examples) if cfg.training.max_examples else total


def pass_order(cfg: Config, pass_index: int, n_images: int) -> np.ndarray:
    """Image order of one pass: as stored, or a seeded shuffle per pass."""
    if not cfg.training.shuffle:
        return np.arange(n_images)
    return np.random.default_rng(random_seed(cfg.run.seed, STREAM_ORDER, pass_index)).permutation(n_images)


@contextmanager
def _stop_flag():
    """Turn SIGINT/SIGTERM into a flag checked between chunks (main thread only)."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: flag.set())
    try:
        yield flag
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _check_numbers(network: Network, cfg: Config) -> None:
    """The learnt arrays (weights, theta) still within kernel.STATE_TABLE's bounds (finite;
    the weights in [0, network_sizes' max_weight]) before a checkpoint replaces the last one."""
    sizes = network_sizes(cfg)
    for name in ("weights", "theta"):
        problem = kernel.STATE_ARRAYS[name].value_problem(getattr(network, name), sizes)
        if problem:
            raise NumericalError(f"{problem}; last checkpoint kept")


def _metrics_history(run: Run, examples_seen: int) -> list[MetricsLine]:
    """The metrics lines of a run resumed at ``examples_seen``; lines written after its
    last checkpoint (their examples will be trained again) and a torn last line are
    dropped from the file."""
    path = run.path(TRAIN_METRICS_FILE)
    history = run.records()
    kept = [r for r in history if r.examples_seen <= examples_seen]
    if path.is_file() and len(path.read_text().splitlines()) != len(kept):
        run.keep_records(kept)
    return kept


def _logged_training() -> Callable[[Progress], None]:
    """The progress callback of a train() call given none: the "stdp_mnist" logger."""
    logged = LoggedStages({"train": "example"})

    def report(p: Progress) -> None:
        logged("train", p.examples_seen, p.total, p.detail)

    return report


@contextmanager
def _naming_write_errors(path: Path, saved: int | None):
    """Turn an OSError while writing ``path`` into a RunWriteError naming it and the
    checkpoint that is intact."""
    try:
        yield
    except OSError as exc:
        raise RunWriteError(path, exc, saved) from exc


def _network_to_train(run: Run, cfg: Config, resume: bool, overwrite: bool) -> Network:
    """The run's checkpoint (``resume``), or a new network in a new run directory."""
    if resume:
        return run.network
    network = new_network(cfg)  # before create_run_dir: a network that cannot be made replaces no run
    create_run_dir(run.dir, cfg, overwrite)
    return network


def _checked_total(run: Run, network: Network, cfg: Config, n_images: int) -> int:
    """The examples of the schedule, refusing a checkpoint already past them."""
    total = total_examples(cfg, n_images)
    if int(network.examples_seen[0]) > total:
        raise CheckpointError(
            f"{run.path(MODEL_FILE)}: trained {int(network.examples_seen[0])} examples, more than the "
            f"{total} of this schedule on {n_images} images (other training data?)"
        )
    return total


def _chunk_end(seen: int, total: int, pass_length: int, chunk: int, periods: tuple[int, ...]) -> int:
    """Where the next kernel call stops: ``chunk`` examples on at most, and never past the
    schedule's total, the end of the pass or the next multiple of a period that is on
    (checkpoints, metrics lines, snapshots), so each of those falls between two calls."""
    pass_end = (seen // pass_length + 1) * pass_length
    return min(total, pass_end, seen + chunk, *((seen // p + 1) * p for p in periods if p))


def train(
    cfg: Config,
    run_dir: str | Path | Run,
    images: np.ndarray,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[Progress], None] | None = None,
    labels: np.ndarray | None = None,
) -> Network:
    """Train the network of ``cfg`` on ``images`` (uint8, K x 784) into ``run_dir`` (a
    path, or a Run).

    A fresh run creates the run directory (refusing one that holds a run, RunExistsError,
    unless ``overwrite``) and starts from ``new_network``; ``resume`` continues from the
    run's model.npz. ``labels`` (K), optional and never used for learning, give the
    metrics lines their running accuracy. ``progress`` hears every chunk; without it
    progress goes to the "stdp_mnist" logger (stdp_mnist.progress). The kernel is
    compiled (or loaded from numba's cache) before the clock of the training time
    starts. Raises TrainingInterrupted (after checkpointing) on SIGINT/SIGTERM, and
    RunWriteError when the checkpoint or metrics cannot be written.
    """
    run = run_dir if isinstance(run_dir, Run) else Run(run_dir, cfg)
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    network = _network_to_train(run, cfg, resume, overwrite)
    history = _metrics_history(run, int(network.examples_seen[0]))
    previous_wall = (history[-1].wall_s or 0.0) if history else 0.0
    total = _checked_total(run, network, cfg, len(images))
    params = kernel_params(cfg)
    synapses, state = network.kernel_state(cfg)
    every, metrics_every = cfg.run.checkpoint_every, cfg.run.metrics_every
    snapshot_every = cfg.run.snapshot_every
    n = network.n_excitatory
    saved = int(network.examples_seen[0]) if resume else None  # the examples of the checkpoint on disk
    if progress is None:
        progress = _logged_training()
    LOGGER.info(
        "train: %s in %s, examples %d to %d",
        plural(n, "neuron"),
        run.dir,
        int(network.examples_seen[0]),
        total,
    )

    def checkpoint() -> None:
        nonlocal saved
        _check_numbers(network, cfg)
        with _naming_write_errors(run.path(MODEL_FILE), saved):
            run.save_network(network)
        saved = int(network.examples_seen[0])

    def snapshot(seen: int) -> None:
        """The weights after ``seen`` examples into snapshots/, when the run keeps them."""
        if snapshot_every and seen % snapshot_every == 0:
            with _naming_write_errors(snapshot_path(run.dir, seen), saved):
                write_snapshot(run.dir, seen, network.weights)

    def record(seen: int, window: MetricsWindow) -> MetricsLine:
        accuracy = window.running_accuracy()
        line = MetricsLine(
            examples_seen=seen,
            wall_s=round(previous_wall + time.perf_counter() - start, 3),
            spikes_per_example=window.spikes / max(1, window.examples),
            boosts=window.boosts,
            mean_theta_mv=float(network.theta.mean()),
            running_accuracy=None if accuracy is None else round(accuracy, 6),
        )
        with _naming_write_errors(run.path(TRAIN_METRICS_FILE), saved):
            run.append_record(line)
        return line

    chunk = 1  # later calls are sized to CHUNK_SECONDS by the time of this one
    window = MetricsWindow(n)
    latest = history[-1] if history else None
    if not resume:
        snapshot(0)
    with _stop_flag() as stop:
        prepare_kernels(cfg, network)  # compiled (a signal meanwhile stops after the first chunk)
        start = time.perf_counter()  # the training time starts after the compilation
        while (seen := int(network.examples_seen[0])) < total:
            pass_index, offset = divmod(seen, len(images))
            end = _chunk_end(seen, total, len(images), chunk, (every, metrics_every, snapshot_every))
            order = pass_order(cfg, pass_index, len(images))[offset : offset + end - seen]
            batch = images[order]
            counts = np.zeros((len(batch), n), np.int32)
            retries = np.zeros(len(batch), np.int64)
            t0 = time.perf_counter()
            kernel.train_examples(params, batch, network.rng, synapses, state, counts, retries)
            took = time.perf_counter() - t0
            network.examples_seen[0] = end
            snapshot(end)
            window.add(counts, retries, None if labels is None else labels[order])
            chunk = int(np.clip(len(batch) * CHUNK_SECONDS / max(took, 1e-6), 1, 2000))
            if end % metrics_every == 0 or end == total:
                latest = record(end, window)
                window = window.next_window()
            elapsed = time.perf_counter() - start
            progress(
                Progress(
                    end,
                    total,
                    elapsed,
                    len(batch) / max(took, 1e-9),
                    int(counts.sum()) / len(batch),
                    int(retries.sum()),
                    latest,
                )
            )
            # Checked after the progress callback, so a signal arriving during it is saved too.
            interrupted = stop.is_set()
            if interrupted and window.examples:
                latest = record(end, window)
            if end % every == 0 or end == total or interrupted:
                checkpoint()
            if interrupted:
                raise TrainingInterrupted(end)
    return network
