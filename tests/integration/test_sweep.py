"""Sweeps (stdp_mnist.sweep, ``stdp-mnist sweep``): the sweep file, run naming,
resuming an interrupted sweep, the summaries, and real parallel execution (local
worker processes, and a dask.distributed LocalCluster when dask is installed).
Tiny networks on synthetic IDX files; no MNIST."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers.runs import summary_rows

from stdp_mnist import cli
from stdp_mnist.config import ConfigError, load_config
from stdp_mnist.sweep import load_sweep, run_name, run_point, run_sweep
from stdp_mnist.sweep.summary import ACCURACY_ALL, shown
from stdp_mnist.training import train


def write_sweep(tmp_path, text, name="s.toml"):
    path = tmp_path / "configs" / "sweeps" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'base = "../tiny.toml"\nout = "{tmp_path / "out"}"\n' + text)
    return path


def test_sweep_file_grid_points_seeds_and_names(sweep_base, tmp_path):
    path = write_sweep(
        tmp_path,
        'seeds = [0, 1]\n[grid]\n"stdp.rule" = ["reference", "paper"]\n'
        '"network.w_max" = [1.0, 0.5]\n[[points]]\n"network.inhibition" = "direct"\n'
        '"data.dir" = "a/b c"\n',
    )
    sweep = load_sweep(path)
    assert sweep.base == sweep_base.resolve() and sweep.seeds == (0, 1)
    assert len(sweep.runs) == (2 * 2 + 1) * 2
    assert sweep.keys == ["stdp.rule", "network.w_max", "network.inhibition", "data.dir"]
    names = [run.name for run in sweep.runs]
    assert len(set(names)) == len(names)
    assert names[0] == "stdp.rule=reference_network.w_max=1.0_seed=0"
    assert all("/" not in n and " " not in n for n in names)
    assert run_name((("x.y", "v" * 300),), 0).__len__() <= 100
    # default out: runs/sweeps/<stem>
    bare = tmp_path / "configs" / "bare.toml"
    bare.write_text('base = "tiny.toml"\n')
    assert load_sweep(bare).out == Path("runs/sweeps/bare") and len(load_sweep(bare).runs) == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ('[grid]\n"stdp.nope" = [1]\n', "unknown key"),
        ('[grid]\n"stdp" = [1]\n', "section.key"),
        ('[grid]\n"run.seed" = [1]\n', "seeds"),
        ("seeds = []\n", "seeds"),
        ('[grid]\n"stdp.rule" = []\n', "non-empty"),
        ("colour = 1\n", "unknown sweep entries"),
    ],
)
def test_bad_sweep_files_are_one_line_errors(sweep_base, tmp_path, text, message):
    path = write_sweep(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        load_sweep(path)
    result = CliRunner().invoke(cli.main, ["sweep", str(path)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output


def test_interrupted_sweep_reruns_only_the_missing_points(sweep_base, tmp_path):
    path = write_sweep(tmp_path, '[grid]\n"network.w_max" = [1.0, 0.8, 0.6]\n')
    sweep = load_sweep(path)
    calls = []

    def interrupt_after_first(spec):
        if calls:
            raise KeyboardInterrupt
        calls.append(spec["name"])
        return run_point(spec)

    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, "inline", point_fn=interrupt_after_first)
    first = sweep.out / sweep.runs[0].name
    assert (first / "metrics.json").is_file()
    partial = summary_rows(sweep.out)
    assert [r["status"] for r in partial] == ["done", "missing", "missing"]

    # a second run dir partly trained (checkpoint at 4 of 8 examples), as a killed worker leaves it
    second = sweep.out / sweep.runs[1].name
    cfg = load_config(sweep_base, ["network.w_max=0.8", "run.seed=0"])
    images = np.zeros((20, 784), np.uint8) + 200

    class Stop(Exception):
        pass

    def stop_after_checkpoint(progress):
        if progress.examples_seen > 4:
            raise Stop

    with pytest.raises(Stop):
        train(cfg, second, images, progress=stop_after_checkpoint)
    assert not (second / "metrics.json").exists()

    ran = []

    def recording(spec):
        ran.append(spec["name"])
        return run_point(spec)

    mtime = (first / "metrics.json").stat().st_mtime_ns
    rows, paths = run_sweep(sweep, "inline", point_fn=recording)
    assert [r["status"] for r in rows] == ["skipped", "resumed", "done"]
    assert (first / "metrics.json").stat().st_mtime_ns == mtime  # not trained again
    assert all(r["examples_trained"] == 8 and r[ACCURACY_ALL] is not None for r in rows)
    assert [p.name for p in paths] == ["summary.csv", "summary.md", "summary.png"]
    table = summary_rows(sweep.out)
    assert [r["network.w_max"] for r in table] == ["1.0", "0.8", "0.6"]
    assert all(float(r["train_wall_s"]) > 0 and float(r["eval_wall_s"]) >= 0 for r in table)
    assert "| network.w_max |" in (sweep.out / "summary.md").read_text()


def test_failing_point_is_recorded_and_others_finish(sweep_base, tmp_path):
    # a value that fails the config check (and a real process pool, 2 workers, via the CLI)
    path = write_sweep(
        tmp_path, '[grid]\n"network.w_max" = [1.0, -1.0]\n"stdp.traces" = ["set", "increment"]\n'
    )
    t0 = time.perf_counter()
    result = CliRunner().invoke(cli.main, ["sweep", str(path), "--workers", "2"])
    assert result.exit_code == 1
    assert "2 of 4 runs failed" in result.output
    rows = summary_rows(tmp_path / "out")
    assert [r["status"] for r in rows] == ["done", "done", "error", "error"]
    assert "w_max" in rows[2]["error"] and rows[0][ACCURACY_ALL]
    assert (tmp_path / "out" / "summary.png").stat().st_size > 0
    print(f"local pool sweep: {time.perf_counter() - t0:.1f} s")


def test_dask_executor_missing_dask_is_one_line(sweep_base, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.startswith(("dask", "distributed")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    path = write_sweep(tmp_path, "")
    result = CliRunner().invoke(cli.main, ["sweep", str(path), "--executor", "dask://127.0.0.1:1"])
    assert result.exit_code == 1
    assert 'pip install -e ".[dask]"' in result.output and len(result.output.strip().splitlines()) == 2


def test_sweep_through_a_dask_local_cluster(sweep_base, tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write_sweep(tmp_path, 'seeds = [0, 1]\n[grid]\n"network.inhibition" = ["population", "direct"]\n')
    t0 = time.perf_counter()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "")
        result = CliRunner().invoke(cli.main, ["sweep", str(path), "--executor", f"dask://{address}"])
    assert result.exit_code == 0, result.output
    rows = summary_rows(tmp_path / "out")
    assert [r["status"] for r in rows] == ["done"] * 4
    assert [r["network.inhibition"] for r in rows] == ["population"] * 2 + ["direct"] * 2
    print(f"dask sweep: {time.perf_counter() - t0:.1f} s")


def test_summary_shows_paths_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "configs" / "quick.toml") == str(Path("configs") / "quick.toml")
    assert shown(Path("runs/sweeps/x")) == str(Path("runs/sweeps/x"))
    outside = tmp_path.parent / "elsewhere.toml"
    assert shown(outside) == str(outside)


# A task that runs like training: SIGTERM only sets a flag; the run then checkpoints and returns.
TRAIN_UNTIL_SIGNALLED = """
import os, signal, threading, time


def train_until_signalled():
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.is_set():
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGTERM, previous)
"""

ORPHANING_SWEEP = (
    TRAIN_UNTIL_SIGNALLED
    + """
from stdp_mnist.sweep.executors import _start_workers


def task(spec):
    if spec["task"] == "train":
        train_until_signalled()
    else:
        time.sleep(120)
    return spec


if __name__ == "__main__":
    (conn, worker), = _start_workers(1, task).items()
    with open(os.environ["WORKER_PID_FILE"], "w") as fh:
        fh.write(str(worker.pid))
    conn.send({"task": os.environ["WORKER_TASK"]})
    time.sleep(0.5)
    os._exit(0)  # the sweep process dies as SIGKILL would leave it: no shutdown
"""
)


def _running(pid: int) -> bool:
    """Whether process pid exists and is not a zombie (an orphan may not be reaped here)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("task", ["sleep", "train"])
def test_worker_stops_when_its_sweep_process_is_gone(tmp_path, task):
    script = tmp_path / "orphaning_sweep.py"
    script.write_text(ORPHANING_SWEEP)
    pid_file = tmp_path / "worker.pid"
    subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "WORKER_PID_FILE": str(pid_file), "WORKER_TASK": task},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=True,
    )
    worker = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(worker), "the worker outlived its sweep process"


def start_sweep(tmp_path, script_text: str, **popen) -> tuple[subprocess.Popen, int, Path]:
    """Start a sweep script of four runs with one worker in a process of its own and wait
    until the worker has begun the first run: (the sweep process, the worker's pid, the
    file where every started run appends its worker's pid)."""
    script = tmp_path / "sweep_script.py"
    script.write_text(script_text)
    pid_file = tmp_path / "workers.pid"
    sweep = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "WORKER_PID_FILE": str(pid_file), "OUT": str(tmp_path)},
        **popen,
    )
    deadline = time.monotonic() + 60
    while not (pid_file.is_file() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sweep, int(pid_file.read_text().split()[0]), pid_file


INTERRUPTED_SWEEP = (
    TRAIN_UNTIL_SIGNALLED
    + """
from stdp_mnist.sweep import execute


def run_point(spec):
    with open(os.environ["WORKER_PID_FILE"], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    train_until_signalled()
    raise RuntimeError("interrupted")


if __name__ == "__main__":
    import signal
    # Ctrl-C's default, as in a terminal's foreground, even when the tests were started
    # in the background (where the shell leaves SIGINT ignored, and Python keeps it so)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    specs = [{"name": f"run{k}", "run_dir": os.environ["OUT"] + f"/run{k}"} for k in range(4)]
    execute(specs, "local", 1, point_fn=run_point)
"""
)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigint_to_the_sweep_process_alone_stops_its_workers(tmp_path):
    # A SIGINT sent to the sweep process only (not a terminal's Ctrl-C, which reaches the
    # workers too): the running run stops (checkpoints), the queued ones never start,
    # and the sweep process ends instead of waiting for them.
    sweep, worker, pid_file = start_sweep(tmp_path, INTERRUPTED_SWEEP, stderr=subprocess.DEVNULL)
    sweep.send_signal(signal.SIGINT)
    assert sweep.wait(timeout=15) != 0
    deadline = time.monotonic() + 10
    while _running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(worker), "the worker outlived its interrupted sweep"
    assert len(pid_file.read_text().split()) == 1, "a queued run started after the interrupt"


KILLED_SWEEP = (
    TRAIN_UNTIL_SIGNALLED
    + """
from stdp_mnist.sweep import execute


def run_point(spec):
    with open(os.environ["WORKER_PID_FILE"], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    train_until_signalled()
    return {"name": spec["name"]}  # as a run that checkpointed and returned


if __name__ == "__main__":
    specs = [{"name": f"run{k}", "run_dir": os.environ["OUT"] + f"/run{k}"} for k in range(4)]
    execute(specs, "local", 1, point_fn=run_point)
"""
)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_sweep_starts_no_queued_run_and_its_worker_ends_quietly(tmp_path):
    # SIGKILL to the sweep process while its one worker trains the first of four runs:
    # the worker checkpoints and ends, no queued run starts, and nothing (no leaked
    # semaphore warning from multiprocessing's resource tracker) is written to stderr.
    sweep, worker, pid_file = start_sweep(tmp_path, KILLED_SWEEP, stderr=subprocess.PIPE, text=True)
    sweep.kill()
    _, stderr = sweep.communicate(timeout=30)  # its end of the pipe closes once the worker (and tracker) end
    assert not _running(worker), "the worker outlived its killed sweep"
    time.sleep(1.5)  # a worker that took a queued run would have written its pid by now
    assert len(pid_file.read_text().split()) == 1, "a queued run started after the sweep was killed"
    assert stderr == ""


def test_a_two_run_sweep_prints_progress_before_its_first_run_is_done(sweep_base, tmp_path):
    # Through the CLI with its local worker pool; stderr is not a terminal here, so the
    # progress comes as log lines: the first one as soon as a run reports its training.
    path = write_sweep(tmp_path, "seeds = [0, 1]\n")
    result = CliRunner().invoke(cli.main, ["sweep", str(path), "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    first_done = next(k for k, line in enumerate(lines) if line.startswith("[1/2] "))
    progress = [line for line in lines[:first_done] if line.startswith("sweep: 0/2 runs done, 1 in flight")]
    assert progress and "(seed=0: train " in progress[0], result.stderr
