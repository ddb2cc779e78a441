"""One run = one directory: the resolved config, the model checkpoint, metrics.

Layout of a run directory::

    config.toml      the resolved config the run was trained with (every key)
    model.npz        the network and its place in the training schedule
    metrics.jsonl    one line per run.metrics_every training examples
    metrics.json     the evaluation's results
    assignments.npz  neuron classes and per-class rates from the evaluation
    linear.npz       the evaluation's supervised linear readout (stdp_mnist.linear)
    evaluate-partial/  an interrupted evaluation's finished frozen responses, from
                     which the next evaluate continues (removed when one completes)
    snapshots/       input weights every run.snapshot_every examples, when asked (stdp_mnist.snapshots)
    figures/         PNG figures drawn after training and evaluation (stdp_mnist.figures)
    .lock            held (flock) by the one process writing the run; holds its pid

Every command that writes a run directory holds its lock (``run_dir_lock``) for its
whole life, so two writers can never mix their files; the lock goes with the process,
so a killed writer never blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
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
EVAL_PARTIAL_DIR = "evaluate-partial"
FIGURES_DIR = "figures"
SNAPSHOTS_DIR = "snapshots"
LOCK_FILE = ".lock"
# What a new run replaces in a run directory (the lock file stays).
RUN_FILES = (
    CONFIG_FILE,
    MODEL_FILE,
    TRAIN_METRICS_FILE,
    EVAL_METRICS_FILE,
    ASSIGNMENTS_FILE,
    LINEAR_FILE,
    EVAL_PARTIAL_DIR,
    FIGURES_DIR,
    SNAPSHOTS_DIR,
)


class RunDirError(Exception):
    """A run directory that is missing, incomplete, or would be overwritten."""


def _holder(lock_path: Path) -> str:
    """Who holds a run directory's lock, as its lock file says ("pid 123 (train)")."""
    try:
        words = lock_path.read_text().split()
    except OSError:
        words = []
    if not words:
        return "another process"
    return f"pid {words[0]}" + (f" ({' '.join(words[1:])})" if len(words) > 1 else "")


@contextlib.contextmanager
def run_dir_lock(run_dir: Path, command: str, create: bool = False) -> Iterator[None]:
    """Hold the run directory's exclusive lock while the block runs, for ``command``
    (a word such as "train", shown to a second writer). A directory locked by a live
    process is a one-line RunDirError naming its pid; the lock of a killed process is
    gone with it (flock). ``create`` makes the directory first. Cleans up the temp
    files a killed writer left behind."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: exists and is not a directory")
    if not run_dir.is_dir() and not create:
        raise RunDirError(f"{run_dir}: no such run directory")
    lock_path = run_dir / LOCK_FILE
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunDirError(f"{run_dir}: cannot lock the run directory ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(lock_path)
            if holder.endswith("(train)") and command != "train":
                raise RunDirError(
                    f"{run_dir}: still training ({holder}); {command} it once training "
                    "stops (Ctrl-C there saves a checkpoint)"
                ) from None
            raise RunDirError(f"{run_dir}: in use by {holder}; wait for it to finish or stop it") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {command}\n".encode())
        remove_stale_temp_files(run_dir)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (unlinking it would race a waiting process)


def remove_stale_temp_files(run_dir: Path) -> None:
    """Delete the temp files of atomic writes (``.NAME.*.tmp``) that a killed process
    left in the run directory and its figures; only call it holding the run's lock."""
    for folder in (run_dir, run_dir / FIGURES_DIR):
        for path in folder.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                path.unlink()


def run_files(run_dir: Path) -> list[Path]:
    """What a run directory holds, its lock file aside."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    return [path for path in run_dir.iterdir() if path.name != LOCK_FILE]


def check_new_run_dir(run_dir: Path, overwrite: bool = False) -> None:
    """Refuse a path that is a file, or a directory already holding something unless ``overwrite``."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: exists and is not a directory")
    if run_files(run_dir) and not overwrite:
        raise RunDirError(f"{run_dir}: not empty; use --resume to continue it or --overwrite to start again")


def create_run_dir(run_dir: Path, cfg: Config, overwrite: bool = False) -> None:
    """Make a run directory for a new training run and write its resolved config.

    Refuses a directory that already holds a run unless ``overwrite``; with it, the old
    run's files are moved aside, the new config written, and only then the old files
    deleted: a failure on the way puts the old run back as it was."""
    run_dir = Path(run_dir)
    check_new_run_dir(run_dir, overwrite)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        aside = Path(tempfile.mkdtemp(dir=run_dir, prefix=".replaced-", suffix=".tmp"))
    except OSError as exc:
        raise RunDirError(f"{run_dir}: cannot write run directory ({exc.strerror or exc})") from None
    moved = []
    try:
        for name in RUN_FILES:
            if (run_dir / name).exists():
                os.replace(run_dir / name, aside / name)
                moved.append(name)
        write_atomic(run_dir / CONFIG_FILE, config_to_toml(cfg))
    except OSError as exc:
        for name in moved:
            os.replace(aside / name, run_dir / name)
        aside.rmdir()
        raise RunDirError(
            f"{run_dir}: cannot write run directory ({exc.strerror or exc}); the previous run is kept"
        ) from None
    shutil.rmtree(aside, ignore_errors=True)


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


# What read_npz raises for a file that is not a readable npz archive: numpy parses a
# damaged .npy header with ast and tokenize, which raise SyntaxError or TokenError.
NPZ_ERRORS = (OSError, ValueError, EOFError, SyntaxError, tokenize.TokenError, zipfile.BadZipFile, zlib.error)


def read_npz(path: Path) -> dict:
    """Every array of an npz file, read without pickle. Raises one of NPZ_ERRORS for a
    file that is not a readable npz (ValueError also for a plain .npy file)."""
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


def read_json_object(path: Path) -> dict:
    """The JSON object in ``path``, or {} when the file is missing, unreadable or holds
    anything else (for files a reader reports on or recomputes, never fails on)."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def read_evaluation(run_dir: Path) -> dict:
    """The run's evaluation results (metrics.json), or {} when it has none or the file
    is unreadable (a summary reports what is there; it does not fail)."""
    return read_json_object(Path(run_dir) / EVAL_METRICS_FILE)


def training_wall_s(run_dir: Path) -> float | None:
    """The run's training time: wall-clock seconds in the training loop summed over
    every session (each session's kernel compilation included; loading data, drawing
    figures and evaluating not), as its last metrics.jsonl line records it; None
    before the first line."""
    history = read_jsonl(Path(run_dir) / TRAIN_METRICS_FILE)
    return history[-1].get("wall_s") if history else None


def checkpoint_examples(run_dir: Path) -> int | None:
    """The training examples of the run's checkpoint (model.npz), read without loading
    the network; None when there is no readable checkpoint."""
    try:
        with np.load(Path(run_dir) / MODEL_FILE, allow_pickle=False) as arrays:
            return int(arrays["examples_seen"][0])
    except (*NPZ_ERRORS, KeyError, IndexError, TypeError):
        return None
