"""Speed benchmark: ms per example of training and of frozen evaluation, per network size.

Each size runs in its own child process so that its peak resident memory is its own.
Real MNIST images, the paper protocol (350 ms presentation + 150 ms simulated rest at
0.5 ms steps, intensity boost on), after a compilation warm-up. Where Brian2 is
installed, ``scripts/brian2_reference.py`` times the same network beside ours.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_SIZES = (100, 400, 1600, 6400)
MAX_SIZES = 16  # sizes in one benchmark
MAX_SCALE = 100.0  # times the default number of timed examples


class BenchmarkError(Exception):
    """A benchmark child process that failed (its last line of stderr)."""

# Examples timed per size: enough to average over boosts, few enough to stay quick.
EXAMPLES = {100: 400, 400: 200, 1600: 60, 6400: 16}


def _examples_for(n: int, scale: float) -> int:
    base = EXAMPLES.get(n, max(8, int(40000 / n)))
    return max(4, int(base * scale))


def measure_size(n: int, n_examples: int) -> dict:
    """Time training (1 thread), frozen runs on 1 thread and on all threads, for N = n."""
    import numba

    from . import kernel
    from .config import Config
    from .data import load_mnist
    from .network import kernel_params, new_network

    threads = numba.config.NUMBA_NUM_THREADS
    images = load_mnist().train_images
    cfg = Config().replace(network={"n_excitatory": n})
    network = new_network(cfg)
    params = kernel_params(cfg)
    state = network.kernel_state(cfg)

    def train(batch: np.ndarray) -> tuple[float, int, int]:
        counts = np.zeros((len(batch), n), np.int32)
        retries = np.zeros(len(batch), np.int64)
        start = time.perf_counter()
        kernel.train_examples(params, batch, network.rng, *state, counts, retries)
        return time.perf_counter() - start, int(counts.sum()), int(retries.sum())

    train(images[:2])  # compile or load the cached machine code
    train_s, train_spikes, train_boosts = train(images[2:2 + n_examples])

    frozen = kernel_params(cfg, frozen=True)

    def frozen_run(batch: np.ndarray, n_threads: int) -> float:
        numba.set_num_threads(n_threads)
        block = -(-len(batch) // n_threads)
        seeds = np.arange(1, n_threads + 1, dtype=np.uint64)
        counts = np.zeros((len(batch), n), np.int32)
        retries = np.zeros(len(batch), np.int64)
        start = time.perf_counter()
        kernel.frozen_responses(frozen, batch, block, seeds, network.weights, network.theta,
                                network.delays, counts, retries)
        return time.perf_counter() - start

    test = load_mnist().test_images
    frozen_run(test[:2], 1)
    one_core_s = frozen_run(test[:n_examples], 1)
    all_cores_s = frozen_run(test[:n_examples], threads)
    return {
        "n": n,
        "examples": n_examples,
        "train_ms": 1000 * train_s / n_examples,
        "train_spikes_per_example": train_spikes / n_examples,
        "train_boosts": train_boosts,
        "frozen_1core_ms": 1000 * one_core_s / n_examples,
        "frozen_all_ms": 1000 * all_cores_s / n_examples,
        "threads": threads,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _brian2_row(n: int, n_examples: int) -> dict | None:
    """Brian2's ms per example (1 core) for the same network, or None when Brian2 is absent."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "brian2_reference.py"
    try:
        import brian2  # noqa: F401
    except Exception:  # absent, or broken beside this numpy: skip the comparison
        return None
    if not script.is_file():
        return None
    sys.path.insert(0, str(script.parent))
    from brian2_reference import brian2_ms_per_example

    from .data import load_mnist

    images = load_mnist().train_images[2:2 + n_examples]
    return {"train_ms": brian2_ms_per_example(n, images, learn=True),
            "frozen_ms": brian2_ms_per_example(n, images, learn=False)}


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
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}")


def run_benchmark(sizes=DEFAULT_SIZES, scale: float = 1.0, brian2_sizes=(100, 400),
                  log=print) -> list[dict]:
    """Measure every size in a child process; return one dict per size."""
    rows = []
    for n in sizes:
        k = _examples_for(n, scale)
        log(f"N={n}: timing {k} examples ...")
        out = subprocess.run([sys.executable, "-m", "stdp_mnist.bench", "--one", str(n), str(k)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            last = (out.stderr.strip().splitlines() or ["no output"])[-1]
            raise BenchmarkError(f"benchmark of N={n} failed: {last}")
        row = json.loads(out.stdout.strip().splitlines()[-1])
        if n in brian2_sizes:
            row["brian2"] = _brian2_row(n, max(3, k // 40)) or "not installed"
        rows.append(row)
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| N | examples | train ms/example (1 core) | frozen ms/example (1 core) "
             "| frozen ms/example (all cores) | speed-up all/1 | spikes/example | peak RSS MB | Brian2 train / frozen ms (ratio) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        b2 = r.get("brian2", "not measured")
        brian = b2 if isinstance(b2, str) else (
            f"{b2['train_ms']:.0f} / {b2['frozen_ms']:.0f} ({b2['train_ms'] / r['train_ms']:.0f}x / "
            f"{b2['frozen_ms'] / r['frozen_1core_ms']:.0f}x slower)")
        lines.append(f"| {r['n']} | {r['examples']} | {r['train_ms']:.2f} | {r['frozen_1core_ms']:.2f} "
                     f"| {r['frozen_all_ms']:.2f} ({r['threads']} threads) "
                     f"| {r['frozen_1core_ms'] / r['frozen_all_ms']:.2f} | {r['train_spikes_per_example']:.1f} "
                     f"| {r['peak_rss_mb']:.0f} | {brian} |")
    return "\n".join(lines)


def write_report(rows: list[dict], path: Path, command: str) -> str:
    """Write the table with the machine, versions and command to ``path``; return the table."""
    table = format_table(rows)
    text = (f"# Benchmark\n\nCommand: `{command}`\n\nMachine: {machine_description()}\n\n"
            f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}\n\n"
            "Paper protocol on real MNIST images: 350 ms presentation + 150 ms simulated rest at "
            "0.5 ms steps, intensity boost on, from a freshly initialised network, after a "
            "compilation warm-up. Training runs on one core; frozen runs on one core and on all "
            "cores (blocks in parallel). Peak RSS is the child process's whole peak, Python, "
            "numba and MNIST included.\n\n" + table + "\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return table


def _main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(measure_size(int(sys.argv[2]), int(sys.argv[3]))))
        return
    raise SystemExit("usage: python -m stdp_mnist.bench --one N EXAMPLES")


if __name__ == "__main__":
    _main()
