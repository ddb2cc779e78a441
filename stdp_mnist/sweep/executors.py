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

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ..config import ConfigError, config_from_dict
from .summary import result_row

PointFn = Callable[[dict], dict]
Notify = Callable[[dict], None]
Progress = Callable[[str, str, int, int], None]  # (run name, stage, done, total)


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
            report = _progress_sink
            name = spec["name"]
            train(
                cfg,
                run,
                data.train_images,
                resume=resume,
                overwrite=not resume,
                labels=data.train_labels,
                progress=None
                if report is None
                else lambda p: report(name, "train", p.examples_seen, p.total),
            )
            evaluate(  # the network trained, in memory
                run,
                data,
                cfg=cfg,
                progress=None
                if report is None
                else lambda stage, done, total: report(name, stage, done, total),
            )
        return result_row(spec, "resumed" if resume else "done")
    except Exception as exc:
        with open(Path(spec["run_dir"]).parent / "errors.log", "a") as fh:
            fh.write(f"== {spec['name']}\n{traceback.format_exc()}\n")
        return _failed(spec, exc)


def _failed(spec: dict, exc: BaseException) -> dict:
    """The row of a run that raised ``exc``."""
    return result_row(spec, "error", " ".join(f"{type(exc).__name__}: {exc}".split()))


# Where run_point reports a run's progress, (run name, stage, done, total): set in a
# worker process to a pipe to the sweep process, and by the inline executor to the
# sweep's progress display; None where nothing listens (dask).
_progress_sink: Progress | None = None


def _worker(conn: Connection, sweep_pid: int, point_fn: PointFn) -> None:
    """A local worker process: run the spec the sweep process sends, send back its row
    (and its progress on the way), until the sweep sends None or is gone. The sweep
    process hands a run only to an idle worker, so no run waits inside a worker: a
    killed sweep leaves nothing queued to start. No multiprocessing lock or queue is
    used (only this pipe), so a killed sweep leaves no semaphore behind to warn about."""
    global _progress_sink
    os.environ["NUMBA_NUM_THREADS"] = "1"
    threading.Thread(target=_stop_when_orphaned, args=(sweep_pid,), daemon=True).start()

    def send(message: tuple) -> None:
        with contextlib.suppress(OSError):  # the sweep process is gone: the run still checkpoints
            conn.send(message)

    def report_progress(*report) -> None:
        send(("progress", report))

    _progress_sink = report_progress
    try:
        while (spec := conn.recv()) is not None and os.getppid() == sweep_pid:
            send(("row", point_fn(spec)))
    except (EOFError, OSError, KeyboardInterrupt):  # the sweep ended or was interrupted
        pass


def _stop_when_orphaned(sweep_pid: int, poll_s: float = 1.0) -> None:
    """Stop this worker as Ctrl-C would once the sweep process that started it is gone,
    e.g. killed by SIGTERM or SIGKILL: an orphan would otherwise train on, and a rerun
    of the sweep would write into the same run directory beside it. The first SIGTERM
    makes a training run checkpoint and return; the signal is repeated because the
    worker, idle after that, must still end (training's handler only set a flag)."""
    while os.getppid() == sweep_pid:
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
    ``completed`` (dask's as_completed) yields them."""
    for future in completed(list(futures)):
        i = futures[future]
        try:
            results[i] = future.result()
        except Exception as exc:
            results[i] = _failed(specs[i], exc)
        notify(results[i])


def _run_inline(
    specs: list[dict], point_fn: PointFn, results: dict[int, dict], notify: Notify, on_progress: Progress
) -> None:
    global _progress_sink
    _progress_sink = on_progress
    try:
        for i, spec in enumerate(specs):
            results[i] = point_fn(spec)
            notify(results[i])
    finally:
        _progress_sink = None


def _start_workers(count: int, point_fn: PointFn) -> dict[Connection, multiprocessing.Process]:
    """``count`` worker processes (see _worker), each with its end of a pipe."""
    # Fresh interpreters (spawn): forking a process whose numba thread pool has started
    # is unsafe. They inherit NUMBA_NUM_THREADS=1, set while they start.
    context = multiprocessing.get_context("spawn")
    saved = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"
    workers = {}
    try:
        for _ in range(count):
            conn, worker_end = context.Pipe()
            process = context.Process(target=_worker, args=(worker_end, os.getpid(), point_fn))
            process.start()
            worker_end.close()
            workers[conn] = process
    finally:
        if saved is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = saved
    return workers


def _stop_workers(workers: dict[Connection, multiprocessing.Process], interrupted: bool) -> None:
    """End the workers: tell them (a closed pipe), and when the sweep was interrupted,
    send each a SIGTERM, so a run in training checkpoints and returns; then wait."""
    for conn, process in workers.items():
        conn.close()
        if interrupted and process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
    for process in workers.values():
        process.join()


def _run_local(
    specs: list[dict],
    point_fn: PointFn,
    results: dict[int, dict],
    notify: Notify,
    workers: int | None,
    on_progress: Progress,
) -> None:
    """Run the specs in a pool of local worker processes, each handed a run only when
    it is idle; the runs' progress goes to ``on_progress`` as it comes."""
    queued = list(enumerate(specs))[::-1]
    pool = _start_workers(min(workers or os.cpu_count() or 1, len(specs)) or 1, point_fn)
    running: dict[Connection, int] = {}  # a busy worker's pipe -> its run's index

    def hand_out(conn: Connection) -> None:
        if queued:
            running[conn], spec = queued.pop()
            with contextlib.suppress(OSError):  # a worker that died: its pipe's end is read below
                conn.send(spec)

    interrupted = True
    try:
        for conn in pool:
            hand_out(conn)
        while running:
            for conn in wait(list(running)):
                i = running[conn]
                try:
                    kind, payload = conn.recv()
                except (EOFError, OSError):  # the worker died (killed, out of memory)
                    del running[conn]
                    results[i] = result_row(specs[i], "error", "its worker process ended")
                    notify(results[i])
                    continue
                if kind == "progress":
                    on_progress(*payload)
                else:
                    del running[conn]
                    results[i] = payload
                    notify(payload)
                    hand_out(conn)
        interrupted = False
    finally:
        _stop_workers(pool, interrupted)


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
    on_progress: Progress | None = None,
) -> list[dict]:
    """Run ``point_fn`` on every spec: ``local`` (a process pool of ``workers``,
    default one per core), ``inline`` (in this process, one after the other) or
    ``dask://HOST:PORT``. Returns the rows in spec order, also written into ``rows``
    (when given) if interrupted; runs not finished then are "missing". ``on_result``
    hears each run's row as it finishes, ``on_progress`` (run name, stage, done, total)
    the progress of the runs in flight (not with dask)."""
    rows = [] if rows is None else rows
    results: dict[int, dict] = {}
    notify = on_result or (lambda row: None)
    on_progress = on_progress or (lambda *report: None)
    try:
        if executor == "inline":
            _run_inline(specs, point_fn, results, notify, on_progress)
        elif executor == "local":
            _run_local(specs, point_fn, results, notify, workers, on_progress)
        elif executor.startswith("dask://"):
            _run_dask(specs, point_fn, results, notify, "tcp://" + executor[len("dask://") :])
        else:
            raise ConfigError(f"--executor {executor!r}: expected local or dask://HOST:PORT")
    finally:
        for i, spec in enumerate(specs):
            results.setdefault(i, result_row(spec, "missing"))
        rows[:] = [results[i] for i in range(len(specs))]
    return rows
