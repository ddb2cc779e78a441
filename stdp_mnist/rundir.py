"""One run = one directory: the resolved config, the model checkpoint, metrics.

Layout of a run directory::

    config.toml      the resolved config the run was trained with (every key)
    model.npz        the network and its place in the training schedule
    metrics.jsonl    one line per run.metrics_every training examples
    metrics.json     the evaluation's results
    assignments.npz  neuron classes and per-class rates from the evaluation
    linear.npz       the evaluation's supervised linear readout (stdp_mnist.linear)
    figures/         PNG figures drawn after training and evaluation (stdp_mnist.figures)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .config import Config, ConfigError, config_to_toml, load_config

CONFIG_FILE = "config.toml"
MODEL_FILE = "model.npz"
TRAIN_METRICS_FILE = "metrics.jsonl"
EVAL_METRICS_FILE = "metrics.json"
ASSIGNMENTS_FILE = "assignments.npz"
LINEAR_FILE = "linear.npz"
FIGURES_DIR = "figures"


class RunDirError(Exception):
    """A run directory that is missing, incomplete, or would be overwritten."""


def check_new_run_dir(run_dir: Path, overwrite: bool = False) -> None:
    """Refuse a path that is a file, or a directory already holding something unless ``overwrite``."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: exists and is not a directory")
    if run_dir.is_dir() and any(run_dir.iterdir()) and not overwrite:
        raise RunDirError(f"{run_dir}: not empty; use --resume to continue it or --overwrite to start again")


def create_run_dir(run_dir: Path, cfg: Config, overwrite: bool = False) -> None:
    """Make a run directory for a new training run and write its resolved config.

    Refuses a directory that already holds a run unless ``overwrite``; with it, the old
    run's files are replaced as the new run writes its own."""
    run_dir = Path(run_dir)
    check_new_run_dir(run_dir, overwrite)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        for name in (MODEL_FILE, TRAIN_METRICS_FILE, EVAL_METRICS_FILE, ASSIGNMENTS_FILE, LINEAR_FILE):
            (run_dir / name).unlink(missing_ok=True)
        for figure in (run_dir / FIGURES_DIR).glob("*.png"):  # the old run's figures
            figure.unlink()
        write_atomic(run_dir / CONFIG_FILE, config_to_toml(cfg))
    except OSError as exc:
        raise RunDirError(f"{run_dir}: cannot write run directory ({exc.strerror or exc})") from None


def read_run_config(run_dir: Path) -> Config:
    """The resolved config of an existing run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: no such run directory")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise RunDirError(f"{run_dir}: not a run directory (no {CONFIG_FILE})")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise RunDirError(str(exc)) from None


def read_npz(path: Path) -> dict:
    """Every array of an npz file, read without pickle. Raises OSError, ValueError,
    EOFError or zipfile.BadZipFile (zlib.error) for a file that is not a readable npz
    (ValueError also for a plain .npy file)."""
    loaded = np.load(path, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError("not an npz archive")
    with loaded as npz:
        return {name: npz[name] for name in npz.files}


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON line and flush it to disk."""
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_jsonl(path: Path) -> list[dict]:
    """All complete JSON lines of a file (a torn last line is ignored)."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records
