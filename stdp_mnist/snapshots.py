"""Snapshots of the input weights through training, for watching prototypes form.

With ``run.snapshot_every`` > 0, training writes the 784 x N input weights into
``RUN_DIR/snapshots/`` before its first example (a fresh run) and after every
``snapshot_every`` examples, one ``weights-EXAMPLES.npy`` file each (float32, written
atomically). Nothing is written with the default of 0. ``read_snapshots`` reads them
back in training order for ``stdp-mnist plot --what prototypes``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .rundir import NPZ_ERRORS, SNAPSHOTS_DIR, RunDirError

_NAME = re.compile(r"weights-(\d+)\.npy")


def snapshot_path(run_dir: Path, examples_seen: int) -> Path:
    return Path(run_dir) / SNAPSHOTS_DIR / f"weights-{examples_seen:09d}.npy"


def write_snapshot(run_dir: Path, examples_seen: int, weights: np.ndarray) -> Path:
    """Keep a copy of ``weights`` as trained after ``examples_seen`` examples."""
    path = snapshot_path(run_dir, examples_seen)
    path.parent.mkdir(exist_ok=True)
    with atomic_open(path) as fh:
        np.save(fh, weights, allow_pickle=False)
    return path


def read_snapshots(run_dir: Path, n_inputs: int, n_excitatory: int) -> list[tuple[int, np.ndarray]]:
    """(examples seen, weights n_inputs x n_excitatory) of every snapshot, in training
    order; RunDirError when there are none or one is unreadable or of another shape."""
    folder = Path(run_dir) / SNAPSHOTS_DIR
    found = sorted(
        (int(match.group(1)), path)
        for path in (folder.iterdir() if folder.is_dir() else ())
        if (match := _NAME.fullmatch(path.name))
    )
    if not found:
        raise RunDirError(
            f"{run_dir}: no weight snapshots in {SNAPSHOTS_DIR}/; train with run.snapshot_every > 0 "
            "(e.g. stdp-mnist train ... --set run.snapshot_every=100)"
        )
    snapshots = []
    for examples, path in found:
        try:
            weights = np.load(path, allow_pickle=False)
        except NPZ_ERRORS as exc:
            raise RunDirError(f"{path}: not a readable snapshot ({exc})") from None
        if weights.shape != (n_inputs, n_excitatory) or weights.dtype.kind != "f":
            raise RunDirError(
                f"{path}: weights of shape {weights.shape}, expected ({n_inputs}, {n_excitatory})"
            )
        snapshots.append((examples, weights))
    return snapshots
