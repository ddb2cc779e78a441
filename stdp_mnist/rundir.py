"""One run = one directory: the resolved config, the model checkpoint, metrics.

Layout of a run directory::

    config.toml      the resolved config the run was trained with (every key)
    model.npz        the network and its place in the training schedule (checkpoint format 1)
    metrics.jsonl    one line per run.metrics_every training examples (records.MetricsLine)
    metrics.json     the evaluation's results (records.Evaluation)
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

A ``Run`` is one run directory for the code that reads or writes it: it reads each file
once, when first needed, keeps what it writes, and names the file, what is kept and how
to go on when a write fails (``WriteError``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from . import linear
from .atomic import atomic_open, write_atomic
from .config import Config, ConfigError, config_to_toml, load_config
from .network import Network, read_checkpoint, save_network
from .npzfile import NPZ_ERRORS, read_npz
from .records import Evaluation, MetricsLine

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


class RunExistsError(RunDirError):
    """A new run's directory already holds a run (its message in the API's words:
    ``resume=True``, ``overwrite=True``; the command line says its own flags)."""

    def __init__(self, run_dir: Path):
        super().__init__(
            f"{run_dir}: holds a run already; train(..., resume=True) continues it, "
            "overwrite=True starts again in it"
        )
        self.run_dir = run_dir


def _holder(lock_path: Path) -> str:
    """Who holds a run directory's lock, as its lock file says ("pid 123 (train)")."""
    try:
        words = lock_path.read_text().split()
    except OSError:
        words = []
    if not words:
        return "another process"
    return f"pid {words[0]}" + (f" ({' '.join(words[1:])})" if len(words) > 1 else "")


def lock_holder(run_dir: Path) -> str | None:
    """Who holds the run directory's lock now ("pid 123 (train)"), or None when no live
    process does. Probes with a shared lock it drops at once, so it never blocks."""
    try:
        fd = os.open(Path(run_dir) / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder(Path(run_dir) / LOCK_FILE)
    finally:
        os.close(fd)
    return None


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
        raise RunExistsError(run_dir)


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


def read_evaluation(run_dir: Path) -> Evaluation | None:
    """The run's evaluation results (metrics.json), or None when it has none or the file
    is unreadable (a summary reports what is there; it does not fail)."""
    path = Path(run_dir) / EVAL_METRICS_FILE
    try:
        return Evaluation.from_json(path.read_text(), str(path))
    except (OSError, ValueError):
        return None


def read_records(run_dir: Path) -> list[MetricsLine]:
    """The run's training metrics lines (metrics.jsonl); a torn or foreign line ends them."""
    path = Path(run_dir) / TRAIN_METRICS_FILE
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(MetricsLine.from_json(line, str(path)))
        except ValueError:  # a torn last line (JSON) or not a metrics line (RecordError)
            break
    return records


def training_wall_s(run_dir: Path) -> float | None:
    """The run's training time: wall-clock seconds in the training loop summed over
    every session (the kernel's compilation, loading data, drawing figures and
    evaluating not counted), as its last metrics.jsonl line records it; None before
    the first line."""
    history = read_records(run_dir)
    return history[-1].wall_s if history else None


def checkpoint_examples(run_dir: Path) -> int | None:
    """The training examples of the run's checkpoint (model.npz), read without loading
    the network; None when there is no readable checkpoint."""
    try:
        with np.load(Path(run_dir) / MODEL_FILE, allow_pickle=False) as arrays:
            return int(arrays["examples_seen"][0])
    except (*NPZ_ERRORS, KeyError, IndexError, TypeError):
        return None


class WriteError(Exception):
    """Writing a file failed (a full disk, say): the message names the file, what is
    kept (every write is atomic: the previous file stays whole) and how to go on."""

    def __init__(self, path: Path, error: OSError, kept: str, then: str = ""):
        reason = error.strerror or str(error)
        super().__init__(f"{path}: {reason} while writing it; {kept}" + (f"; {then}" if then else ""))
        self.path = path


@contextlib.contextmanager
def naming_write_errors(path: Path, kept: str, then: str = "") -> Iterator[None]:
    """Turn an OSError in the block into a WriteError naming ``path``, what is ``kept``
    and what to do ``then``."""
    try:
        yield
    except OSError as exc:
        raise WriteError(path, exc, kept, then) from None


_UNREAD = object()


class Run:
    """One run directory: its config read and checked once, and each of its files read
    when first needed and then kept (the network, the training records, the
    evaluation, the assignments, the linear readout); what it writes replaces a file
    atomically and is kept as the value read from then on.

    ``cfg`` gives the config of a run not written yet (a new training run); otherwise
    it is read from config.toml. ``locked`` takes the run's lock for a writer."""

    def __init__(self, path: str | Path, cfg: Config | None = None):
        self.dir = Path(path)
        self._cfg = cfg
        self._network: Network | None = None
        self._model_digest: hashlib._Hash | None = None
        self._records: list[MetricsLine] | None = None
        self._evaluation = _UNREAD
        self._assignments: tuple[np.ndarray, np.ndarray] | None = None
        self._linear = _UNREAD

    def __repr__(self) -> str:
        return f"Run({str(self.dir)!r})"

    @classmethod
    def of(cls, run: Run | str | Path, cfg: Config | None = None) -> Run:
        """``run`` itself when it is a Run, else the Run of that directory."""
        return run if isinstance(run, Run) else cls(run, cfg)

    @contextlib.contextmanager
    def locked(self, command: str, create: bool = False) -> Iterator[Run]:
        """Hold the run directory's lock (``run_dir_lock``) while the block runs."""
        with run_dir_lock(self.dir, command, create):
            yield self

    def path(self, name: str) -> Path:
        """A file of the run (MODEL_FILE, ...)."""
        return self.dir / name

    @property
    def cfg(self) -> Config:
        """The run's resolved config (config.toml), read once."""
        if self._cfg is None:
            self._cfg = read_run_config(self.dir)
        return self._cfg

    @property
    def network(self) -> Network:
        """The network of model.npz, read and checked once (CheckpointError)."""
        if self._network is None:
            self._network, self._model_digest = read_checkpoint(self.path(MODEL_FILE), self.cfg)
        return self._network

    def model_digest(self) -> hashlib._Hash:
        """sha256 of model.npz's bytes (of the read or the last write)."""
        if self._model_digest is None:
            _ = self.network
        return self._model_digest.copy()

    def save_network(self, network: Network) -> None:
        """Checkpoint ``network`` to model.npz (atomically; OSError when it cannot be
        written, the previous checkpoint intact) and keep it as the run's network."""
        cfg = self.cfg
        self._model_digest = save_network(
            network, self.path(MODEL_FILE), cfg.model_hash(), cfg.model_values()
        )
        self._network = network

    def records(self) -> list[MetricsLine]:
        """The training metrics lines (metrics.jsonl), read once."""
        if self._records is None:
            self._records = read_records(self.dir)
        return self._records

    def keep_records(self, records: list[MetricsLine]) -> None:
        """Rewrite metrics.jsonl to hold just ``records`` (atomically)."""
        write_atomic(self.path(TRAIN_METRICS_FILE), "".join(r.to_json() + "\n" for r in records))
        self._records = list(records)

    def append_record(self, record: MetricsLine) -> None:
        """Append a line to metrics.jsonl (flushed to disk)."""
        records = self.records()
        path = self.path(TRAIN_METRICS_FILE)
        with open(path, "a") as fh:
            fh.write(record.to_json() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        records.append(record)

    @property
    def evaluation(self) -> Evaluation | None:
        """The evaluation's results (metrics.json), read once; None when not evaluated.
        An unreadable file is a RunDirError."""
        if self._evaluation is _UNREAD:
            path = self.path(EVAL_METRICS_FILE)
            if not path.is_file():
                self._evaluation = None
            else:
                try:
                    self._evaluation = Evaluation.from_json(path.read_text(), str(path))
                except (OSError, ValueError) as exc:
                    raise RunDirError(f"{path}: not readable ({exc}); evaluate the run again") from None
        return self._evaluation

    def require_evaluation(self) -> Evaluation:
        """The evaluation's results, or a RunDirError saying how to evaluate the run."""
        if self.evaluation is None:
            raise RunDirError(
                f"{self.dir}: no {EVAL_METRICS_FILE}: the run has not been evaluated; "
                f"run: stdp-mnist evaluate {self.dir}"
            )
        return self.evaluation

    @property
    def assignments(self) -> tuple[np.ndarray, np.ndarray]:
        """(class of each neuron N, class rates N x 10) of the evaluation (assignments.npz),
        read once; RunDirError when the run has not been evaluated or the file is unreadable."""
        if self._assignments is None:
            path = self.path(ASSIGNMENTS_FILE)
            if not path.is_file():
                raise RunDirError(
                    f"{self.dir}: no {ASSIGNMENTS_FILE}: the run has not been evaluated; "
                    f"run: stdp-mnist evaluate {self.dir}"
                )
            try:
                arrays = read_npz(path)
                self._assignments = arrays["assignments"], arrays["class_rates"]
            except (*NPZ_ERRORS, KeyError) as exc:
                raise RunDirError(
                    f"{path}: not a readable assignments file ({exc}); evaluate the run again"
                ) from None
        return self._assignments

    @property
    def linear(self) -> linear.LinearReadout | None:
        """The evaluation's linear readout (linear.npz), read once; None when there is none."""
        if self._linear is _UNREAD:
            path = self.path(LINEAR_FILE)
            self._linear = linear.load(path, self.network.n_excitatory) if path.is_file() else None
        return self._linear

    def save_evaluation(
        self, evaluation: Evaluation, arrays: dict[str, np.ndarray], readout: linear.LinearReadout
    ) -> None:
        """Write the evaluation's files (metrics.json, assignments.npz, linear.npz), each
        atomically; a failure is a WriteError naming the file."""
        kept = f"the frozen responses are kept in {self.path(EVAL_PARTIAL_DIR)}"
        then = f"free some space, then run: stdp-mnist evaluate {self.dir} (it continues from them)"
        # metrics.json last: it is what marks a run evaluated (a sweep skips such a run)
        assignments_path = self.path(ASSIGNMENTS_FILE)
        with naming_write_errors(assignments_path, kept, then), atomic_open(assignments_path) as fh:
            np.savez(fh, **arrays)
        with naming_write_errors(self.path(LINEAR_FILE), kept, then):
            linear.save(readout, self.path(LINEAR_FILE))
        with naming_write_errors(self.path(EVAL_METRICS_FILE), kept, then):
            write_atomic(self.path(EVAL_METRICS_FILE), evaluation.to_json())
        self._evaluation = evaluation
        self._assignments = arrays["assignments"], arrays["class_rates"]
        self._linear = readout
