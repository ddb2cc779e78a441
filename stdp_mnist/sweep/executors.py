"""Parameter sweeps: many runs of one base config, in parallel, with a summary.

A sweep file (TOML)::

    base = "../quick.toml"          # config file, relative to the sweep file
    seeds = [0, 1, 2]               # every point runs once per seed (run.seed)
    out = "runs/sweeps/NAME"        # optional; default runs/sweeps/<sweep file stem>

    [grid]                          # cartesian product of the listed values
    "stdp.rule" = ["reference", "paper"]
    "network.n_excitatory" = [100, 400]

    [[points]]                      # and/or single points, each a table of overrides
    "network.inhibition" = "direct"

Every point x seed is a run directory under ``out`` (named from its overrides and
seed), trained and evaluated by :func:`run_point` in a worker process. A run whose
directory has metrics.json is skipped and a partly trained one resumed, so an
interrupted sweep finishes by running the same command again. A failing run is
recorded in the summary and does not stop the others. At the end ``summary.csv``,
``summary.md`` and ``summary.png`` (accuracy against the swept values, mean and seed
spread) are written to ``out``.

``run_point`` is a plain function of a dict, so the same work can be submitted to a
dask.distributed cluster (``executor="dask://HOST:PORT"``; dask is optional and
imported only then). Its workers must see the same filesystem (run directories and
data are absolute paths).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import SECTIONS, ConfigError, config_from_dict, read_toml

SUMMARY_CSV, SUMMARY_MD, SUMMARY_PNG = "summary.csv", "summary.md", "summary.png"
_SAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
_MAX_NAME = 100


@dataclass(frozen=True)
class Run:
    """One point of a sweep with one seed."""

    overrides: tuple[tuple[str, Any], ...]  # ("section.key", value), in sweep order
    seed: int
    name: str  # run directory name, filesystem-safe and unique within the sweep

    @property
    def point(self) -> str:
        """The point's label (its overrides), the same for all its seeds."""
        return ", ".join(f"{key}={_text(value)}" for key, value in self.overrides) or "(base)"


@dataclass(frozen=True)
class Sweep:
    path: Path
    base: Path  # base config file
    base_data: dict  # its content
    seeds: tuple[int, ...]
    out: Path
    runs: tuple[Run, ...]

    @property
    def keys(self) -> list[str]:
        """Every overridden key, in order of first appearance."""
        return list(dict.fromkeys(key for run in self.runs for key, _ in run.overrides))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def run_name(overrides: tuple[tuple[str, Any], ...], seed: int) -> str:
    """A filesystem-safe directory name from the overrides and seed."""
    parts = [f"{key}={_text(value)}" for key, value in overrides] + [f"seed={seed}"]
    name = _SAFE.sub("-", "_".join(parts)).strip("-.") or "run"
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(repr((overrides, seed)).encode()).hexdigest()[:8]
        name = f"{name[:_MAX_NAME - 9]}-{digest}"
    return name


def _check_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or key.count(".") != 1:
        raise ConfigError(f"{where}: {key!r} is not a section.key name")
    section, name = key.split(".")
    if section not in SECTIONS:
        raise ConfigError(f"{where}: {key}: unknown section {section!r}")
    if name not in SECTIONS[section].__dataclass_fields__:
        raise ConfigError(f"{where}: {key}: unknown key")
    if key == "run.seed":
        raise ConfigError(f"{where}: run.seed is set by the sweep's seeds list")
    return key


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file (keys must exist; values are checked per run)."""
    path = Path(path)
    data = read_toml(path)
    known = {"base", "seeds", "grid", "points", "out"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown sweep entries {sorted(unknown)} (known: {', '.join(sorted(known))})")
    if not isinstance(data.get("base"), str):
        raise ConfigError(f"{path}: base: expected the path of a config file")
    base = (path.parent / data["base"]).resolve()
    base_data = read_toml(base)
    seeds = data.get("seeds", [base_data.get("run", {}).get("seed", 0)])
    if (not isinstance(seeds, list) or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise ConfigError(f"{path}: seeds: expected a non-empty list of non-negative integers")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"{path}: seeds: repeated seed")
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise ConfigError(f"{path}: [grid]: expected a table of \"section.key\" = [values]")
    for key, values in grid.items():
        _check_key(key, f"{path}: [grid]")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: [grid] {key}: expected a non-empty list of values")
    points = data.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise ConfigError(f"{path}: [[points]]: expected tables of \"section.key\" = value")
    for point in points:
        for key in point:
            _check_key(key, f"{path}: [[points]]")
    overrides: list[tuple[tuple[str, Any], ...]] = []
    if grid:
        overrides += [tuple(zip(grid, combo)) for combo in itertools.product(*grid.values())]
    overrides += [tuple(point.items()) for point in points]
    if not overrides:
        overrides = [()]
    if len({repr(o) for o in overrides}) != len(overrides):
        raise ConfigError(f"{path}: the same point is listed twice")
    runs, names = [], set()
    for o in overrides:
        for seed in seeds:
            name = run_name(o, seed)
            if name in names:  # two value spellings made the same safe name
                name = f"{name[:_MAX_NAME - 9]}-{hashlib.sha256(repr((o, seed)).encode()).hexdigest()[:8]}"
            names.add(name)
            runs.append(Run(o, seed, name))
    out = Path(data.get("out") or Path("runs") / "sweeps" / path.stem)
    return Sweep(path, base, base_data, tuple(seeds), out, tuple(runs))


def run_config_dict(sweep: Sweep, run: Run) -> dict:
    """The nested config dict of one run: base, overrides, seed."""
    merged = {name: dict(values) if isinstance(values, dict) else values for name, values in sweep.base_data.items()}
    for key, value in run.overrides:
        section, name = key.split(".")
        merged.setdefault(section, {})[name] = value
    merged.setdefault("run", {})["seed"] = run.seed
    return merged


def run_specs(sweep: Sweep) -> list[dict]:
    """What each worker needs (plain, picklable data): one dict per run."""
    out = sweep.out.resolve()
    return [{"name": run.name, "point": run.point, "overrides": [list(o) for o in run.overrides],
             "seed": run.seed, "config": run_config_dict(sweep, run), "run_dir": str(out / run.name)}
            for run in sweep.runs]


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _result(spec: dict, status: str, error: str = "") -> dict:
    """A summary row from what the run directory holds."""
    from .rundir import read_jsonl

    run_dir = Path(spec["run_dir"])
    metrics = _read_json(run_dir / "metrics.json")
    history = read_jsonl(run_dir / "metrics.jsonl") if (run_dir / "metrics.jsonl").is_file() else []
    eval_s = None
    if metrics:
        eval_s = round(metrics.get("assign_wall_s", 0.0) + metrics.get("test_wall_s", 0.0), 3)
    return {
        "name": spec["name"], "point": spec["point"], "overrides": dict(map(tuple, spec["overrides"])),
        "seed": spec["seed"], "status": status,
        "accuracy_all": metrics.get("accuracy_all"), "accuracy_proportion": metrics.get("accuracy_proportion"),
        "examples_trained": metrics.get("examples_trained"),
        "train_wall_s": history[-1]["wall_s"] if history else None, "eval_wall_s": eval_s,
        "run_dir": spec["run_dir"], "error": error,
    }


def run_point(spec: dict) -> dict:
    """Train (or resume) and evaluate one run; returns its summary row. Never raises
    for a failure of the run itself: the row's status is then "error"."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    try:
        import numba

        numba.set_num_threads(1)  # one run per core: evaluation must not oversubscribe
        from .data import load_configured
        from .evaluation import evaluate
        from .rundir import MODEL_FILE, run_dir_lock
        from .training import train

        run_dir = Path(spec["run_dir"])
        if (run_dir / "metrics.json").is_file():
            return _result(spec, "skipped")
        cfg = config_from_dict(spec["config"])
        with run_dir_lock(run_dir, "sweep", create=True):
            data = load_configured(cfg)
            resume = (run_dir / MODEL_FILE).is_file()
            train(cfg, run_dir, data.train_images, resume=resume, overwrite=not resume, labels=data.train_labels)
            evaluate(run_dir, data, cfg=cfg)
        return _result(spec, "resumed" if resume else "done")
    except Exception as exc:  # noqa: BLE001 - one run's failure must not stop the sweep
        message = " ".join(f"{type(exc).__name__}: {exc}".split())
        with open(Path(spec["run_dir"]).parent / "errors.log", "a") as fh:
            fh.write(f"== {spec['name']}\n{traceback.format_exc()}\n")
        return _result(spec, "error", message)


# The sweep process's stop event, in a worker (see _init_worker).
_WORKER_STOP = None


def _init_worker(sweep_pid: int, stop=None) -> None:
    global _WORKER_STOP
    os.environ["NUMBA_NUM_THREADS"] = "1"
    _WORKER_STOP = stop
    threading.Thread(target=_stop_when_orphaned, args=(sweep_pid, stop), daemon=True).start()


def _unless_stopped(point_fn: Callable[[dict], dict], spec: dict) -> dict:
    """Run one point in a worker, unless the sweep was interrupted while it was queued."""
    if _WORKER_STOP is not None and _WORKER_STOP.is_set():
        raise RuntimeError("not started: the sweep was interrupted")
    return point_fn(spec)


def _stop_when_orphaned(sweep_pid: int, stop=None, poll_s: float = 1.0) -> None:
    """Stop this worker as Ctrl-C would once the sweep process that started it is gone,
    e.g. killed by SIGTERM or SIGKILL, or once it sets ``stop`` (a multiprocessing Event:
    the sweep process was interrupted, perhaps by a SIGINT sent to it alone): an orphan
    would otherwise train on, a run already queued would start, and a rerun of the sweep
    would write into the same run directory beside it. The first SIGTERM makes a
    training run checkpoint and return; the signal is repeated because the worker,
    idle after that, must still end (training's handler only set a flag)."""
    while os.getppid() == sweep_pid and not (stop is not None and stop.is_set()):
        time.sleep(poll_s)
    while True:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(poll_s)


def _dask_client(address: str):
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ConfigError('--executor dask://...: dask is not installed; install it with: pip install -e ".[dask]"') from None
    try:
        return Client(address, timeout="10s"), dask_completed
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"--executor {address}: cannot reach the dask scheduler ({' '.join(str(exc).split())})") from None


def execute(specs: list[dict], executor: str = "local", workers: int | None = None,
            point_fn: Callable[[dict], dict] = run_point,
            on_result: Callable[[dict], None] | None = None, rows: list | None = None) -> list[dict]:
    """Run ``point_fn`` on every spec: ``local`` (a process pool of ``workers``,
    default one per core), ``inline`` (in this process, one after the other) or
    ``dask://HOST:PORT``. Returns the rows in spec order, also written into ``rows``
    (when given) if interrupted; runs not finished then are "missing"."""
    rows = [] if rows is None else rows
    results: dict[int, dict] = {}
    notify = on_result or (lambda row: None)

    def failed(i: int, exc: BaseException) -> dict:
        return _result(specs[i], "error", " ".join(f"{type(exc).__name__}: {exc}".split()))

    try:
        if executor == "inline":
            for i, spec in enumerate(specs):
                results[i] = point_fn(spec)
                notify(results[i])
        elif executor == "local":
            n = workers or os.cpu_count() or 1
            # Fresh interpreters (spawn): forking a process whose numba thread pool has
            # started is unsafe. They inherit NUMBA_NUM_THREADS=1, set while they start.
            context = multiprocessing.get_context("spawn")
            stop = context.Event()
            with ProcessPoolExecutor(max_workers=min(n, len(specs)) or 1, mp_context=context,
                                     initializer=_init_worker, initargs=(os.getpid(), stop)) as pool:
                saved = os.environ.get("NUMBA_NUM_THREADS")
                os.environ["NUMBA_NUM_THREADS"] = "1"
                try:
                    futures = {pool.submit(_unless_stopped, point_fn, spec): i for i, spec in enumerate(specs)}
                finally:
                    if saved is None:
                        os.environ.pop("NUMBA_NUM_THREADS", None)
                    else:
                        os.environ["NUMBA_NUM_THREADS"] = saved
                try:
                    for future in as_completed(futures):
                        i = futures[future]
                        try:
                            results[i] = future.result()
                        except Exception as exc:  # noqa: BLE001 - e.g. a worker that died
                            results[i] = failed(i, exc)
                        notify(results[i])
                except BaseException:  # interrupted: the workers checkpoint and end
                    stop.set()
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
        elif executor.startswith("dask://"):
            client, dask_completed = _dask_client("tcp://" + executor[len("dask://"):])
            try:
                futures = {client.submit(point_fn, spec, key=f"stdp-mnist-{spec['name']}-{time.time_ns()}",
                                         pure=False): i for i, spec in enumerate(specs)}
                try:
                    for future in dask_completed(list(futures)):
                        i = futures[future]
                        try:
                            results[i] = future.result()
                        except Exception as exc:  # noqa: BLE001
                            results[i] = failed(i, exc)
                        notify(results[i])
                except BaseException:
                    client.cancel(list(futures))
                    raise
            finally:
                client.close()
        else:
            raise ConfigError(f"--executor {executor!r}: expected local or dask://HOST:PORT")
    finally:
        for i, spec in enumerate(specs):
            results.setdefault(i, _result(spec, "missing"))
        rows[:] = [results[i] for i in range(len(specs))]
    return rows


# ----------------------------------------------------------------------- summaries

COLUMNS = ["point", "seed", "status", "accuracy_all", "accuracy_proportion", "examples_trained",
           "train_wall_s", "eval_wall_s", "run_dir", "error"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if value < 10 else f"{value:.1f}"
    return _text(value)


def _shown(path: Path) -> str:
    """A path as a summary shows it: relative to the working directory when inside it,
    so that committed summaries do not carry one machine's absolute paths."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def write_summary(sweep: Sweep, rows: list[dict]) -> list[Path]:
    """summary.csv and summary.md (one row per run, then per-point means in the .md)
    and summary.png; returns the paths written."""
    out = sweep.out
    out.mkdir(parents=True, exist_ok=True)
    keys = sweep.keys
    header = keys + COLUMNS
    with open(out / SUMMARY_CSV, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_text(row["overrides"][k]) if k in row["overrides"] else "" for k in keys]
                            + ["" if row[c] is None else row[c] for c in COLUMNS])
    md_cols = keys + ["seed", "status", "accuracy_all", "accuracy_proportion", "train_wall_s", "eval_wall_s"]
    lines = [f"# Sweep {sweep.path.name}", "", f"Base config: `{_shown(sweep.base)}`; seeds: {list(sweep.seeds)}; "
             f"{len(rows)} runs in `{_shown(out)}`.", "", "| " + " | ".join(md_cols) + " |",
             "|" + " --- |" * len(md_cols)]
    for row in rows:
        cells = [_text(row["overrides"].get(k, "")) for k in keys]
        status = row["status"] + (f": {row['error']}" if row["error"] else "")
        cells += [str(row["seed"]), status.replace("|", "/")] + [_cell(row[c]) for c in md_cols[len(keys) + 2:]]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Per point (over seeds):", "", "| point | runs | accuracy_all mean | min | max | "
              "accuracy_proportion mean |", "| --- | --- | --- | --- | --- | --- |"]
    for point, group in _by_point(rows).items():
        acc = [r["accuracy_all"] for r in group if r["accuracy_all"] is not None]
        prop = [r["accuracy_proportion"] for r in group if r["accuracy_proportion"] is not None]
        if acc:
            lines.append(f"| {point} | {len(acc)}/{len(group)} | {sum(acc) / len(acc):.4f} | {min(acc):.4f} | "
                         f"{max(acc):.4f} | {sum(prop) / len(prop):.4f} |")
        else:
            lines.append(f"| {point} | 0/{len(group)} | | | | |")
    (out / SUMMARY_MD).write_text("\n".join(lines) + "\n")
    paths = [out / SUMMARY_CSV, out / SUMMARY_MD]
    png = plot_summary(sweep, rows, out / SUMMARY_PNG)
    if png is not None:
        paths.append(png)
    return paths


def _by_point(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["point"], []).append(row)
    return groups


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def plot_summary(sweep: Sweep, rows: list[dict], path: Path) -> Path | None:
    """Accuracy ('all' voting) against each swept key: a panel per key whose value
    varies, one line per combination of the other keys, mean over seeds with the
    seeds' min-max as error bars and each seed as a dot. Non-numeric values are
    categories. Returns None when no run has an accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r["accuracy_all"] is not None]
    if not done:
        return None
    base = "(base)"
    varying = [k for k in sweep.keys if len({repr(r["overrides"].get(k, base)) for r in rows}) > 1]
    if not varying:  # one point (several seeds): a single category
        varying = [None]
    fig, axes = plt.subplots(1, len(varying), figsize=(4.8 * len(varying) + 1, 4.2), squeeze=False)
    for ax, key in zip(axes[0], varying):
        values = list(dict.fromkeys(r["overrides"].get(key, base) for r in rows)) if key else ["all runs"]
        numeric = key is not None and _numeric(values)
        position = {repr(v): (v if numeric else i) for i, v in enumerate(values)}
        series: dict[str, dict[str, list[float]]] = {}
        for r in done:
            x = r["overrides"].get(key, base) if key else "all runs"
            other = ", ".join(f"{k}={_text(v)}" for k, v in r["overrides"].items() if k != key) or "base"
            series.setdefault(other, {}).setdefault(repr(x), []).append(100 * r["accuracy_all"])
        for label, points in series.items():
            xs = sorted(points, key=lambda k: position[k])
            px = [position[k] for k in xs]
            mean = [sum(points[k]) / len(points[k]) for k in xs]
            low = [m - min(points[k]) for m, k in zip(mean, xs)]
            high = [max(points[k]) - m for m, k in zip(mean, xs)]
            line = ax.errorbar(px, mean, yerr=[low, high], marker="o", capsize=4, label=label)
            for k in xs:
                ax.scatter([position[k]] * len(points[k]), points[k], s=12, color=line[0].get_color(),
                           alpha=0.5, zorder=3)
        if not numeric:
            ax.set_xticks(range(len(values)))
            ax.set_xticklabels([_text(v) for v in values], rotation=20 if len(values) > 3 else 0)
            ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(key or "")
        ax.set_ylabel("test accuracy, 'all' voting (%)")
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=7)
    n_seeds = len(sweep.seeds)
    fig.suptitle(f"{sweep.path.name}: mean over {n_seeds} seed(s), bars = seed min-max, dots = seeds")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_sweep(sweep: Sweep, executor: str = "local", workers: int | None = None,
              point_fn: Callable[[dict], dict] = run_point,
              on_result: Callable[[dict], None] | None = None) -> tuple[list[dict], list[Path]]:
    """Run every run of the sweep (skipping finished ones, resuming partial ones) and
    write the summaries, also when interrupted. Returns (rows, summary paths)."""
    from .data import ensure_mnist

    specs = run_specs(sweep)
    sweep.out.mkdir(parents=True, exist_ok=True)
    # Fetch MNIST once here rather than in every worker at the same time.
    for data_dir in {cfg.data.dir for cfg in _configs(specs) if cfg.data.verify}:
        ensure_mnist(data_dir or None)
    rows: list[dict] = []
    try:
        execute(specs, executor, workers, point_fn, on_result, rows)
    except BaseException:
        if rows:
            write_summary(sweep, rows)
        raise
    return rows, write_summary(sweep, rows)


def _configs(specs: list[dict]) -> list:
    """The configs of the runs that are valid (an invalid one fails in its worker)."""
    configs = []
    for spec in specs:
        try:
            configs.append(config_from_dict(spec["config"]))
        except ConfigError:
            pass
    return configs
