"""Parameter sweeps: many runs of one base config, in parallel, with a summary.

A sweep file (TOML)::

    base = "../quick.toml"          # config file relative to the sweep file, or a shipped config's name
    seeds = [0, 1, 2]               # every point runs once per seed (run.seed)
    out = "../../runs/sweeps/NAME"  # optional, relative to the sweep file; default runs/sweeps/<stem>
                                    # under the working directory

    [grid]                          # cartesian product of the listed values
    "stdp.rule" = ["reference", "paper"]
    "network.n_excitatory" = [100, 400]

    [[points]]                      # and/or single points, each a table of overrides
    "network.inhibition" = "direct"

The concerns, one module each: ``sweep_file`` reads a sweep file into its runs (every
point x seed, a run directory under ``out`` named from its overrides and seed);
``executors`` trains and evaluates them (``run_point``, in worker processes, inline or
on a dask cluster); ``summary`` and ``plot`` write ``summary.csv``, ``summary.md`` and
``summary.png`` to ``out``. A run whose directory has metrics.json is skipped and a
partly trained one resumed, so an interrupted sweep finishes by running the same
command again; a failing run is recorded in the summary and does not stop the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from ..config import ConfigError, config_from_dict
from .executors import PointFn, Progress, execute, run_point
from .summary import write_summary
from .sweep_file import Run, Sweep, load_sweep, run_name, run_specs

__all__ = [
    "Run",
    "Sweep",
    "execute",
    "load_sweep",
    "run_name",
    "run_point",
    "run_specs",
    "run_sweep",
    "write_summary",
]


def _configs(specs: list[dict]) -> list:
    """The configs of the runs that are valid (an invalid one fails in its worker)."""
    configs = []
    for spec in specs:
        with contextlib.suppress(ConfigError):
            configs.append(config_from_dict(spec["config"]))
    return configs


def run_sweep(
    sweep: Sweep,
    executor: str = "local",
    workers: int | None = None,
    point_fn: PointFn = run_point,
    on_result: Callable[[dict], None] | None = None,
    on_progress: Progress | None = None,
) -> tuple[list[dict], list[Path]]:
    """Run every run of the sweep (skipping finished ones, resuming partial ones) and
    write the summaries, also when interrupted. Returns (rows, summary paths).
    ``on_result`` and ``on_progress`` as in :func:`execute`."""
    from ..data import ensure_dataset

    specs = run_specs(sweep)
    sweep.out.mkdir(parents=True, exist_ok=True)
    # Fetch the data once here rather than in every worker at the same time.
    for name, data_dir in {(cfg.data.name, cfg.data.dir) for cfg in _configs(specs) if cfg.data.verify}:
        ensure_dataset(name, data_dir or None)
    rows: list[dict] = []
    try:
        execute(specs, executor, workers, point_fn, on_result, rows, on_progress)
    except BaseException:
        if rows:
            write_summary(sweep, rows)
        raise
    return rows, write_summary(sweep, rows)
