"""One-file models: a trained, evaluated network in a single versioned npz file.

``export_model`` writes what classifying needs (weights, theta, delays, the resolved
config as TOML text, the voting assignments and class rates, the linear readout, the
evaluation's metrics) with the project version and a format version; ``open_model``
reads such a file, or a run directory, into the same ``Model``. Nothing in the file
is pickled, and every array is checked on loading (presence, dtype, shape,
finiteness, range), so a corrupt, truncated or mismatched file is a one-line
ModelFileError.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import kernel, linear
from .atomic import atomic_open
from .config import Config, ConfigError, config_from_dict, config_to_toml
from .network import Network, network_sizes, new_network
from .readout import N_CLASSES, UNASSIGNED
from .records import Evaluation
from .rundir import (
    ASSIGNMENTS_FILE,
    LINEAR_FILE,
    NPZ_ERRORS,
    Run,
    RunDirError,
    naming_write_errors,
    read_npz,
)

FORMAT = "stdp-mnist-model"
FORMAT_VERSION = 1
LINEAR_PREFIX = "linear_"
FORMAT_VERSION_ARRAY = kernel.ArraySpec("format_version", np.int64, (), None, None)
# The arrays of a model file (beside its text entries and the linear readout): the
# network's, as the network state table declares them, and the file's own.
MODEL_ARRAYS = (
    *(kernel.STATE_ARRAYS[name] for name in ("weights", "theta", "delays")),
    kernel.ArraySpec("examples_trained", np.int64, (), 0, None),
    kernel.ArraySpec("assignments", np.int64, ("n",), UNASSIGNED, N_CLASSES - 1),
    kernel.ArraySpec("class_rates", np.float64, ("n", N_CLASSES), 0.0, None),
)


class ModelFileError(Exception):
    """A model file that is missing, unreadable, of another format or inconsistent."""


@dataclass
class Model:
    """A trained network and what classifies its responses, from a run directory or a
    model file. ``assignments``, ``class_rates`` and ``linear`` are None where the run
    has not been evaluated (or, for ``linear``, was evaluated before the linear readout)."""

    path: Path
    cfg: Config
    network: Network
    assignments: np.ndarray | None  # int64 (N,), class per neuron, -1 unassigned
    class_rates: np.ndarray | None  # float64 (N, 10), mean spikes per class
    linear: linear.LinearReadout | None
    metrics: Evaluation | None  # the evaluation's results (None when not evaluated)
    is_file: bool
    project_version: str = ""  # of the stdp-mnist that wrote a model file


def project_version() -> str:
    """This installation's stdp-mnist version."""
    try:
        return importlib.metadata.version("stdp-mnist")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def open_run_dir(run_dir: str | Path | Run) -> Model:
    """A run directory (or a Run) as a Model (its evaluation's files where they exist)."""
    run = Run.of(run_dir)
    network = run.network
    assignments = rates = None
    if run.evaluation is not None or run.path(ASSIGNMENTS_FILE).is_file():
        assignments, rates = run.assignments  # evaluated: the assignments must be readable
    return Model(
        path=run.dir,
        cfg=run.cfg,
        network=network,
        assignments=assignments,
        class_rates=rates,
        linear=run.linear if assignments is not None else None,
        metrics=run.evaluation,
        is_file=False,
    )


def open_model(path: str | Path) -> Model:
    """A run directory or a model file (written by ``export_model``) as a Model."""
    path = Path(path)
    if not path.exists():
        raise RunDirError(f"{path}: no such run directory or model file")
    return read_model_file(path) if path.is_file() else open_run_dir(path)


def export_model(run_dir: str | Path | Run, path: str | Path, overwrite: bool = False) -> Model:
    """Write an evaluated run's model to one file; returns the Model read back from it
    (so the written file has passed the loader's checks). An existing file is replaced
    only with ``overwrite``."""
    run, path = Run.of(run_dir), Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a directory; give a file name")
    if path.exists() and not overwrite:
        raise ModelFileError(f"{path}: exists; overwrite=True (export --overwrite) replaces it")
    model = open_run_dir(run)
    if model.assignments is None or model.metrics is None:
        raise RunDirError(f"{run.dir}: not evaluated; run: stdp-mnist evaluate {run.dir}")
    if model.linear is None:
        raise RunDirError(
            f"{run.dir}: no {LINEAR_FILE} (evaluated before the linear readout existed); "
            f"run: stdp-mnist evaluate {run.dir}"
        )
    trained = int(model.network.examples_seen[0])
    if model.metrics.examples_trained != trained:
        raise RunDirError(
            f"{run.dir}: the evaluation is older than the model ({trained} examples trained); "
            f"run: stdp-mnist evaluate {run.dir}"
        )
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION, np.int64),
        "project_version": np.array(project_version()),
        "config_toml": np.array(config_to_toml(model.cfg)),
        "metrics_json": np.array(json.dumps(model.metrics.to_dict())),
        "examples_trained": np.array(trained, np.int64),
        "weights": model.network.weights,
        "theta": model.network.theta,
        "delays": model.network.delays,
        "assignments": model.assignments.astype(np.int64),
        "class_rates": model.class_rates.astype(np.float64),
        **{LINEAR_PREFIX + name: value for name, value in linear.to_arrays(model.linear).items()},
    }
    kept = "nothing was written there (the run directory is unchanged)" + (
        ", the file there before is intact" if path.exists() else ""
    )
    with naming_write_errors(path, kept, "free some space, then export again"), atomic_open(path) as fh:
        np.savez(fh, **arrays)
    return read_model_file(path)


def _check(path: Path, arrays: dict, specs, sizes: kernel.Sizes | None) -> None:
    """Refuse a file whose arrays ``specs`` are missing, of another shape or dtype, or
    hold values out of their bounds."""
    problem = kernel.table_problem(specs, arrays, sizes)
    if problem:
        raise ModelFileError(f"{path}: {problem}")


def _text(path: Path, arrays: dict, name: str) -> str:
    if name not in arrays:
        raise ModelFileError(f"{path}: no {name!r} entry (not a stdp-mnist model file)")
    value = arrays[name]
    if value.dtype.kind != "U" or value.shape != ():
        raise ModelFileError(f"{path}: {name} is not a text entry")
    return str(value)


def read_model_file(path: str | Path) -> Model:
    """Read and check a model file written by ``export_model``."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        arrays = read_npz(path)
    except (*NPZ_ERRORS, KeyError):
        raise ModelFileError(
            f"{path}: not a readable model file (corrupt, truncated or from another program)"
        ) from None
    if _text(path, arrays, "format") != FORMAT:
        raise ModelFileError(f"{path}: not a stdp-mnist model file")
    _check(path, arrays, [FORMAT_VERSION_ARRAY], None)
    if int(arrays["format_version"]) != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format {int(arrays['format_version'])}; "
            f"this stdp-mnist reads format {FORMAT_VERSION}"
        )
    try:
        cfg = config_from_dict(tomllib.loads(_text(path, arrays, "config_toml")))
    except (tomllib.TOMLDecodeError, ConfigError) as exc:
        raise ModelFileError(f"{path}: its config is not valid ({' '.join(str(exc).split())})") from None
    try:
        metrics = Evaluation.from_json(_text(path, arrays, "metrics_json"), "its metrics")
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc} (not an evaluation's results)") from None
    _check(path, arrays, MODEL_ARRAYS, network_sizes(cfg))
    stored = {
        name[len(LINEAR_PREFIX) :]: value for name, value in arrays.items() if name.startswith(LINEAR_PREFIX)
    }
    try:
        readout = linear.from_arrays(stored, cfg.network.n_excitatory, str(path))
    except linear.LinearReadoutError as exc:
        raise ModelFileError(str(exc)) from None
    trained = np.array([int(arrays["examples_trained"])], np.int64)
    network = dataclasses.replace(
        new_network(cfg),
        weights=arrays["weights"],
        theta=arrays["theta"],
        delays=arrays["delays"],
        examples_seen=trained,
    )
    return Model(
        path=path,
        cfg=cfg,
        network=network,
        assignments=arrays["assignments"],
        class_rates=arrays["class_rates"],
        linear=readout,
        metrics=metrics,
        is_file=True,
        project_version=_text(path, arrays, "project_version"),
    )
