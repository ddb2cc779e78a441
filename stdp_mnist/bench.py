"""Speed benchmark: ms per example of training and of frozen evaluation, per network size.

Each measurement runs in its own child process (this file run as a script), so that its
peak resident memory is its own, and so that another copy of the package can be timed
beside this one (``run_benchmark``'s ``baseline``, e.g. an earlier revision's package:
child processes of the two alternate, round by round, on the same images and the same
starting network, so the speed-up is a ratio measured side by side). The repository's
benchmark script adds that comparison and Brian2's timings. Real MNIST images, the paper protocol (350 ms presentation + 150 ms
simulated rest at 0.5 ms steps, intensity boost on), after a compilation warm-up; from
a fresh network, and from trained checkpoints given with ``--trained``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

DEFAULT_SIZES = (100, 400, 1600, 6400)
MAX_SIZES = 16  # sizes in one benchmark
MAX_SCALE = 100.0  # times the default number of timed examples

# Examples timed per size: enough to average over boosts, few enough to stay quick.
EXAMPLES = {100: 400, 400: 200, 1600: 60, 6400: 16}


class BenchmarkError(Exception):
    """A benchmark that cannot run: a bad checkpoint or revision, or a failed child (its last line of stderr)."""


def validated_sizes(sizes: str, scale: float) -> list[int]:
    """The network sizes of a comma-separated ``sizes``, each one the config allows
    (bounds, memory), and ``scale`` checked; ConfigError naming the option otherwise."""
    import math

    from stdp_mnist.config import Config, ConfigError

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--sizes {sizes!r}: expected comma-separated integers") from None
    if not 1 <= len(size_list) <= MAX_SIZES:
        raise ConfigError(f"--sizes {sizes!r}: expected 1 to {MAX_SIZES} sizes")
    for n in size_list:
        try:
            Config().replace(network={"n_excitatory": n})
        except ConfigError as exc:
            raise ConfigError(f"--sizes: {exc}") from None
    if not (math.isfinite(scale) and 0 < scale <= MAX_SCALE):
        raise ConfigError(f"--scale {scale}: expected a number above 0 and at most {MAX_SCALE}")
    return size_list


def best_and_median_s(run, rounds: int) -> tuple[float, float]:
    """Call ``run()`` once to compile and warm the caches, then time ``rounds`` calls:
    (best, median) seconds (for microbenchmarks of single kernel phases)."""
    run()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _examples_for(n: int, scale: float) -> int:
    base = EXAMPLES.get(n, max(8, int(40000 / n)))
    return max(4, int(base * scale))


def fill_from_checkpoint(network, model: str | Path) -> None:
    """Copy a checkpoint's arrays into the fields of a fresh ``network`` of its size. An
    array of a later checkpoint format than the file's (``wins`` in a format-1 file)
    keeps the fresh network's value, as the package's own loader reads an older file;
    plain field copies, so that any revision's ``Network`` takes them."""
    with np.load(model, allow_pickle=False) as data:
        for field in dataclasses.fields(network):
            if field.name in data.files:
                getattr(network, field.name)[...] = data[field.name]


def measure_size(n: int, n_examples: int, model: str | None = None) -> dict:
    """Time training (1 thread) and frozen runs on 1 thread and on all threads, for
    N = n, from a fresh network or from the checkpoint ``model``.

    Runs in a child process against whichever ``stdp_mnist`` is first on sys.path, so it
    uses only what every revision of the package has (absolute imports, the kernel
    called with ``*network.kernel_state(cfg)``, the checkpoint read as plain arrays
    into the fields of ``Network``)."""
    import numba

    from stdp_mnist import kernel
    from stdp_mnist.config import Config
    from stdp_mnist.data import load_mnist
    from stdp_mnist.network import kernel_params, new_network

    threads = numba.config.NUMBA_NUM_THREADS
    images = load_mnist().train_images
    cfg = Config().replace(network={"n_excitatory": n})
    network = new_network(cfg)
    if model is not None:
        fill_from_checkpoint(network, model)
    params = kernel_params(cfg)
    state = network.kernel_state(cfg)

    def train(batch: np.ndarray) -> tuple[float, int, int]:
        counts = np.zeros((len(batch), n), np.int32)
        retries = np.zeros(len(batch), np.int64)
        start = time.perf_counter()
        kernel.train_examples(params, batch, network.rng, *state, counts, retries)
        return time.perf_counter() - start, int(counts.sum()), int(retries.sum())

    train(images[:2])  # compile or load the cached machine code
    train_s, train_spikes, train_boosts = train(images[2 : 2 + n_examples])
    row = {
        "n": n,
        "case": "trained" if model else "fresh",
        "examples": n_examples,
        "train_ms": 1000 * train_s / n_examples,
        "train_spikes_per_example": train_spikes / n_examples,
        "train_boosts": train_boosts,
        "threads": threads,
    }
    frozen_params = kernel_params(cfg, frozen=True)

    def frozen_run(batch: np.ndarray, n_threads: int) -> float:
        numba.set_num_threads(n_threads)
        block = -(-len(batch) // n_threads)
        seeds = np.arange(1, n_threads + 1, dtype=np.uint64)
        counts = np.zeros((len(batch), n), np.int32)
        retries = np.zeros(len(batch), np.int64)
        start = time.perf_counter()
        kernel.frozen_responses(
            frozen_params,
            batch,
            block,
            seeds,
            network.weights,
            network.theta,
            network.delays,
            counts,
            retries,
        )
        return time.perf_counter() - start

    test = load_mnist().test_images
    frozen_run(test[:2], 1)
    row["frozen_1core_ms"] = 1000 * frozen_run(test[:n_examples], 1) / n_examples
    row["frozen_all_ms"] = 1000 * frozen_run(test[:n_examples], threads) / n_examples
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): Linux's VmHWM, which belongs to the
    process's own address space. getrusage's ru_maxrss is the fallback elsewhere; on
    Linux it also counts the parent's memory at the fork that started the process, so a
    child of a large benchmark process would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def checkpoint_size(path: str | Path) -> int:
    """Excitatory neurons of a model.npz (or of a run directory's), every array checked
    by the network state table in the sizes the file's weights and pending ring give."""
    # imported here: the benchmark's child loads this file outside the package
    from .kernel import STATE_TABLE, Sizes, table_problem
    from .network import N_INPUTS
    from .npzfile import NPZ_ERRORS

    path = _model_file(path)
    try:
        with np.load(path, allow_pickle=False) as data:  # every array read: damage shows here
            arrays = {spec.name: data[spec.name] for spec in STATE_TABLE if spec.name in data.files}
    except NPZ_ERRORS as err:
        raise BenchmarkError(f"--trained {path}: not a readable model file ({type(err).__name__})") from None
    weights, pending = arrays.get("weights", np.empty(0)), arrays.get("pending", np.empty(0))
    if weights.ndim != 2 or pending.ndim != 2 or weights.shape[1] < 1:
        raise BenchmarkError(f"--trained {path}: not a stdp-mnist model file")
    # an array of a later checkpoint format may be absent (an older file)
    specs = [spec for spec in STATE_TABLE if spec.name in arrays or spec.since_format == 1]
    problem = table_problem(specs, arrays, Sizes(n=weights.shape[1], inputs=N_INPUTS, ring=pending.shape[0]))
    if problem:
        raise BenchmarkError(f"--trained {path}: {problem}")
    return weights.shape[1]


def package_root() -> Path:
    """The directory holding this ``stdp_mnist`` package."""
    return Path(__file__).resolve().parents[1]


# The child loads this file by path (the revision under test may not have it) with the
# package root as its working directory and first on sys.path.
_CHILD = (
    "import importlib.util as u, sys; spec = u.spec_from_file_location('stdp_mnist_bench_child', sys.argv[1]); "
    "m = u.module_from_spec(spec); spec.loader.exec_module(m); m._main(sys.argv[2:])"
)


def _last_line(stderr: str) -> str:
    """A failed child's last stderr line (its error), or "no output"."""
    return (stderr.strip().splitlines() or ["no output"])[-1]


def _child_row(root: Path, n: int, k: int, model: str | None) -> dict:
    """Run measure_size in a child process importing the package under ``root``."""
    cmd = [sys.executable, "-c", _CHILD, str(Path(__file__).resolve()), "--one", str(n), str(k)]
    if model:
        cmd += ["--model", model]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env, cwd=root)
    if out.returncode != 0:
        last = _last_line(out.stderr)
        raise BenchmarkError(f"benchmark of N={n} ({root}) failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_row(rows: list[dict]) -> dict:
    """The first row with every timing replaced by its median over the rounds."""
    row = dict(rows[0])
    for key in ("train_ms", "frozen_1core_ms", "frozen_all_ms"):
        if key in row:
            row[key] = statistics.median(r[key] for r in rows)
    row["rounds"] = len(rows)
    row["train_ms_range"] = (min(r["train_ms"] for r in rows), max(r["train_ms"] for r in rows))
    return row


def machine_description() -> str:
    import numba

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}"
    )


# A column a caller adds to the report: (header, the cell of a row).
Column = tuple[str, Callable[[dict], str]]


def run_benchmark(
    sizes=DEFAULT_SIZES,
    scale: float = 1.0,
    log=print,
    trained: tuple[str, ...] = (),
    rounds: int = 1,
    baseline: tuple[str, Path] | None = None,
    per_fresh_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Measure every size (fresh network) and every trained checkpoint in child
    processes, ``rounds`` times each; return one row per case with median timings.
    ``baseline`` (a name and the directory holding another ``stdp_mnist`` package) is
    timed beside this one, alternating, into each row's "baseline"; ``per_fresh_row``
    may add to each fresh size's row (e.g. another simulator's timings)."""
    cases = [(n, None) for n in sizes] + [
        (checkpoint_size(path), str(_model_file(path).resolve())) for path in trained
    ]
    rows = []
    for n, model in cases:
        k = _examples_for(n, scale)
        log(
            f"N={n} {'trained' if model else 'fresh'}: timing {k} examples x {rounds} round(s)"
            + (f", beside {baseline[0]}" if baseline else "")
            + " ..."
        )
        ours, theirs = [], []
        for _ in range(rounds):
            if baseline is not None:
                theirs.append(_child_row(baseline[1], n, k, model))
            ours.append(_child_row(package_root(), n, k, model))
        row = _median_row(ours)
        if theirs:
            row["baseline"] = _median_row(theirs)
            row["baseline_rev"] = baseline[0]
        if model is None and per_fresh_row is not None:
            per_fresh_row(row)
        rows.append(row)
    return rows


def _model_file(path: str | Path) -> Path:
    path = Path(path)
    return path / "model.npz" if path.is_dir() else path


def format_table(rows: list[dict], columns: tuple[Column, ...] = ()) -> str:
    """The report's markdown table (with the caller's ``columns`` last), and a second
    one of the baseline's timings side by side where the rows have them."""
    lines = [
        "| N | network | examples | train ms/example (1 core) | frozen ms/example (1 core) "
        "| frozen ms/example (all cores) | speed-up all/1 | spikes/example | peak RSS MB "
        + "".join(f"| {header} " for header, _ in columns)
        + "|",
        "| --- " * (9 + len(columns)) + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r.get('case', 'fresh')} | {r['examples']} | {r['train_ms']:.2f} "
            f"| {r['frozen_1core_ms']:.2f} | {r['frozen_all_ms']:.2f} ({r['threads']} threads) "
            f"| {r['frozen_1core_ms'] / r['frozen_all_ms']:.2f} | {r['train_spikes_per_example']:.1f} "
            f"| {r['peak_rss_mb']:.0f} " + "".join(f"| {cell(r)} " for _, cell in columns) + "|"
        )
    compared = [r for r in rows if "baseline" in r]
    if compared:
        rev = compared[0]["baseline_rev"]
        lines += [
            "",
            f"Side by side with revision `{rev}` (medians over the rounds, alternating; "
            "speed-up = its time / ours):",
            "",
            f"| N | network | rounds | train ms ours (range) | train ms {rev} (range) | training speed-up "
            f"| frozen 1-core ms ours / {rev} | frozen speed-up | spikes/example ours / {rev} |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in compared:
            b = r["baseline"]
            lines.append(
                f"| {r['n']} | {r['case']} | {r['rounds']} "
                f"| {r['train_ms']:.2f} ({r['train_ms_range'][0]:.2f}-{r['train_ms_range'][1]:.2f}) "
                f"| {b['train_ms']:.2f} ({b['train_ms_range'][0]:.2f}-{b['train_ms_range'][1]:.2f}) "
                f"| {b['train_ms'] / r['train_ms']:.2f}x "
                f"| {r['frozen_1core_ms']:.2f} / {b['frozen_1core_ms']:.2f} "
                f"| {b['frozen_1core_ms'] / r['frozen_1core_ms']:.2f}x "
                f"| {r['train_spikes_per_example']:.1f} / {b['train_spikes_per_example']:.1f} |"
            )
    return "\n".join(lines)


def write_report(
    rows: list[dict], path: Path, command: str, columns: tuple[Column, ...] = (), note: str = ""
) -> str:
    """Write the table (with the caller's ``columns``, then its ``note``) with the
    machine, versions and command to ``path``; return the table."""
    table = format_table(rows, columns) + note
    text = (
        f"# Benchmark\n\nCommand: `{command}`\n\nMachine: {machine_description()}\n\n"
        f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
        "Paper protocol on real MNIST images: 350 ms presentation + 150 ms simulated rest at "
        "0.5 ms steps, intensity boost on, from a freshly initialised network (and from the "
        "trained checkpoints listed, continuing their training), after a "
        "compilation warm-up. Training runs on one core; frozen runs on one core and on all "
        "cores (blocks in parallel). Peak RSS is the child process's whole peak, Python, "
        "numba and MNIST included.\n\n" + table + "\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return table


def _main(args: list[str]) -> None:
    """Child process: ``--one N EXAMPLES [--model PATH]`` prints one JSON row."""
    if len(args) >= 3 and args[0] == "--one":
        model = args[args.index("--model") + 1] if "--model" in args else None
        print(json.dumps(measure_size(int(args[1]), int(args[2]), model)))
        return
    raise SystemExit("usage: --one N EXAMPLES [--model PATH]")
