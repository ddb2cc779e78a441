"""Where a sweep's runs execute: in this process one after the other (``inline``), in
a pool of local worker processes (``local``, one per core by default), or on a
dask.distributed cluster (``dask://HOST:PORT``; dask is optional and imported only
then, and its workers must see the same filesystem: run directories and data are
absolute paths).

Each run is :func:`run_point` of a plain dict (a run spec), which trains (or resumes)
and evaluates one run directory and returns its summary row; a run whose directory
has metrics.json is skipped, so an interrupted sweep finishes by running it again.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from ..config import ConfigError, config_from_dict
from .summary import result_row

PointFn = Callable[[dict], dict]
Notify = Callable[[dict], None]


def _other_run(run_dir: Path, cfg) -> str | None:
    """Why a run directory holds a run of other settings than ``cfg`` (the first key
    that differs), or None when it holds none or the same."""
    from ..rundir import CONFIG_FILE, read_run_config

    if not (run_dir / CONFIG_FILE).is_file():
        return None
    held = read_run_config(run_dir).to_dict()
    for section, values in cfg.to_dict().items():
        for key, value in values.items():
            if held[section][key] != value:
                return (
                    f"{run_dir} holds a run with {section}.{key}={held[section][key]!r}, not {value!r}; "
                    "move it away or give the sweep another out directory"
                )
    return None


def run_point(spec: dict) -> dict:
    """Train (or resume) and evaluate one run; returns its summary row. Never raises
    for a failure of the run itself: the row's status is then "error"."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    try:
        import numba

        numba.set_num_threads(1)  # one run per core: evaluation must not oversubscribe
        from ..data import load_configured
        from ..evaluation import evaluate
        from ..rundir import EVAL_METRICS_FILE, MODEL_FILE, Run
        from ..training import train

        run_dir = Path(spec["run_dir"])
        cfg = config_from_dict(spec["config"])
        other = _other_run(run_dir, cfg)
        if other:
            return result_row(spec, "error", other)
        if (run_dir / EVAL_METRICS_FILE).is_file():
            return result_row(spec, "skipped")
        run = Run(run_dir, cfg)
        with run.locked("sweep", create=True):
            data = load_configured(cfg)
            resume = (run_dir / MODEL_FILE).is_file()
            train(cfg, run, data.train_images, resume=resume, overwrite=not resume, labels=data.train_labels)
            evaluate(run, data, cfg=cfg)  # the network trained, in memory
        return result_row(spec, "resumed" if resume else "done")
    except Exception as exc:
        with open(Path(spec["run_dir"]).parent / "errors.log", "a") as fh:
            fh.write(f"== {spec['name']}\n{traceback.format_exc()}\n")
        return _failed(spec, exc)


def _failed(spec: dict, exc: BaseException) -> dict:
    """The row of a run that raised ``exc``."""
    return result_row(spec, "error", " ".join(f"{type(exc).__name__}: {exc}".split()))


# The sweep process's stop event, in a worker (see _init_worker).
_WORKER_STOP = None


def _init_worker(sweep_pid: int, stop=None) -> None:
    global _WORKER_STOP
    os.environ["NUMBA_NUM_THREADS"] = "1"
    _WORKER_STOP = stop
    threading.Thread(target=_stop_when_orphaned, args=(sweep_pid, stop), daemon=True).start()


def _unless_stopped(point_fn: PointFn, spec: dict) -> dict:
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
        raise ConfigError(
            '--executor dask://...: dask is not installed; install it with: pip install -e ".[dask]"'
        ) from None
    try:
        return Client(address, timeout="10s"), dask_completed
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"--executor {address}: cannot reach the dask scheduler ({' '.join(str(exc).split())})"
        ) from None


def _collect(futures: dict, completed, specs: list[dict], results: dict[int, dict], notify: Notify) -> None:
    """Take each finished future's row (a future that raised is an "error" row) as
    ``completed`` (concurrent.futures' or dask's as_completed) yields them."""
    for future in completed(list(futures)):
        i = futures[future]
        try:
            results[i] = future.result()
        except Exception as exc:
            results[i] = _failed(specs[i], exc)
        notify(results[i])


def _run_inline(specs: list[dict], point_fn: PointFn, results: dict[int, dict], notify: Notify) -> None:
    for i, spec in enumerate(specs):
        results[i] = point_fn(spec)
        notify(results[i])


def _run_local(
    specs: list[dict], point_fn: PointFn, results: dict[int, dict], notify: Notify, workers: int | None
) -> None:
    n = workers or os.cpu_count() or 1
    # Fresh interpreters (spawn): forking a process whose numba thread pool has
    # started is unsafe. They inherit NUMBA_NUM_THREADS=1, set while they start.
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    with ProcessPoolExecutor(
        max_workers=min(n, len(specs)) or 1,
        mp_context=context,
        initializer=_init_worker,
        initargs=(os.getpid(), stop),
    ) as pool:
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
            _collect(futures, as_completed, specs, results, notify)
        except BaseException:  # interrupted: the workers checkpoint and end
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _run_dask(
    specs: list[dict], point_fn: PointFn, results: dict[int, dict], notify: Notify, address: str
) -> None:
    client, dask_completed = _dask_client(address)
    try:
        futures = {
            client.submit(point_fn, spec, key=f"stdp-mnist-{spec['name']}-{time.time_ns()}", pure=False): i
            for i, spec in enumerate(specs)
        }
        try:
            _collect(futures, dask_completed, specs, results, notify)
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()


def execute(
    specs: list[dict],
    executor: str = "local",
    workers: int | None = None,
    point_fn: PointFn = run_point,
    on_result: Notify | None = None,
    rows: list | None = None,
) -> list[dict]:
    """Run ``point_fn`` on every spec: ``local`` (a process pool of ``workers``,
    default one per core), ``inline`` (in this process, one after the other) or
    ``dask://HOST:PORT``. Returns the rows in spec order, also written into ``rows``
    (when given) if interrupted; runs not finished then are "missing"."""
    rows = [] if rows is None else rows
    results: dict[int, dict] = {}
    notify = on_result or (lambda row: None)
    try:
        if executor == "inline":
            _run_inline(specs, point_fn, results, notify)
        elif executor == "local":
            _run_local(specs, point_fn, results, notify, workers)
        elif executor.startswith("dask://"):
            _run_dask(specs, point_fn, results, notify, "tcp://" + executor[len("dask://") :])
        else:
            raise ConfigError(f"--executor {executor!r}: expected local or dask://HOST:PORT")
    finally:
        for i, spec in enumerate(specs):
            results.setdefault(i, result_row(spec, "missing"))
        rows[:] = [results[i] for i in range(len(specs))]
    return rows
