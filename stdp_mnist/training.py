"""The training protocol: passes over the images, checkpoints, progress, interruption.

The compiled kernel trains a chunk of examples at a time; between chunks this loop
reports progress, writes checkpoints every ``run.checkpoint_every`` examples, and
honours Ctrl-C / SIGTERM by checkpointing before it stops. Chunk boundaries do not
change results: all state (random stream included) lives in the checkpointed arrays.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import kernel
from .config import Config
from .network import (STREAM_ORDER, Network, kernel_params, load_network, new_network, random_seed,
                      save_network)
from .rundir import MODEL_FILE, TRAIN_METRICS_FILE, append_jsonl, create_run_dir, read_jsonl

# Aim for kernel calls of about this long, so progress and Ctrl-C stay responsive.
CHUNK_SECONDS = 0.5


class TrainingInterrupted(Exception):
    """Training stopped on a signal after saving a checkpoint."""

    def __init__(self, examples_seen: int):
        super().__init__(f"interrupted after {examples_seen} examples; checkpoint saved")
        self.examples_seen = examples_seen


class NumericalError(Exception):
    """Weights or theta left their valid range; the last good checkpoint is kept."""


@dataclass
class Progress:
    """What the training loop reports after each chunk."""

    examples_seen: int
    total: int
    elapsed_s: float  # wall seconds of this session's training
    examples_per_s: float
    spikes_per_example: float  # mean over the latest chunk
    boosts: int  # intensity boosts in the latest chunk


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
    w = network.weights
    if not (np.isfinite(w).all() and np.isfinite(network.theta).all()):
        raise NumericalError("weights or theta became NaN or infinite; last checkpoint kept")
    # Normalisation may lift a weight above w_max until its next STDP update clips it,
    # but never above the column total.
    upper = max(cfg.network.w_max, cfg.network.weight_sum)
    if w.min() < 0 or w.max() > upper:
        raise NumericalError(f"weights left [0, {upper}]; last checkpoint kept")


def train(cfg: Config, run_dir: str | Path, images: np.ndarray, resume: bool = False,
          overwrite: bool = False, progress: Callable[[Progress], None] | None = None) -> Network:
    """Train the network of ``cfg`` on ``images`` (uint8, K x 784) into ``run_dir``.

    A fresh run creates the run directory (refusing one that holds a run unless
    ``overwrite``) and starts from ``new_network``; ``resume`` continues from the
    run's model.npz. Raises TrainingInterrupted (after checkpointing) on SIGINT/SIGTERM.
    """
    run_dir = Path(run_dir)
    if not resume:
        create_run_dir(run_dir, cfg, overwrite)
    model_path = run_dir / MODEL_FILE
    network = load_network(model_path, cfg) if resume else new_network(cfg)
    history = read_jsonl(run_dir / TRAIN_METRICS_FILE)
    previous_wall = history[-1]["wall_s"] if history else 0.0
    total = total_examples(cfg, len(images))
    params = kernel_params(cfg)
    state = network.kernel_state(cfg)
    every = cfg.run.checkpoint_every
    n = network.n_excitatory

    def checkpoint(seen: int, window_spikes: int, window_examples: int, window_boosts: int) -> None:
        _check_numbers(network, cfg)
        save_network(network, model_path, cfg.model_hash())
        append_jsonl(run_dir / TRAIN_METRICS_FILE, {
            "examples_seen": seen,
            "wall_s": round(previous_wall + time.perf_counter() - start, 3),
            "spikes_per_example": window_spikes / max(1, window_examples),
            "boosts": window_boosts,
            "mean_theta_mv": float(network.theta.mean()),
        })

    start = time.perf_counter()
    chunk = 8
    window = [0, 0, 0]  # spikes, examples, boosts since the last checkpoint
    with _stop_flag() as stop:
        while (seen := int(network.examples_seen[0])) < total:
            pass_index, offset = divmod(seen, len(images))
            next_checkpoint = (seen // every + 1) * every
            end = min(total, (pass_index + 1) * len(images), next_checkpoint, seen + chunk)
            batch = images[pass_order(cfg, pass_index, len(images))[offset:offset + end - seen]]
            counts = np.zeros((len(batch), n), np.int32)
            retries = np.zeros(len(batch), np.int64)
            t0 = time.perf_counter()
            kernel.train_examples(params, batch, network.rng, *state, counts, retries)
            took = time.perf_counter() - t0
            network.examples_seen[0] = end
            spikes, boosts = int(counts.sum()), int(retries.sum())
            window = [window[0] + spikes, window[1] + len(batch), window[2] + boosts]
            chunk = int(np.clip(len(batch) * CHUNK_SECONDS / max(took, 1e-6), 1, 2000))
            if progress is not None:
                elapsed = time.perf_counter() - start
                progress(Progress(end, total, elapsed, len(batch) / max(took, 1e-9),
                                  spikes / len(batch), boosts))
            # Checked after the progress callback, so a signal arriving during it is saved too.
            interrupted = stop.is_set()
            if end % every == 0 or end == total or interrupted:
                checkpoint(end, *window)
                window = [0, 0, 0]
            if interrupted:
                raise TrainingInterrupted(end)
    return network
