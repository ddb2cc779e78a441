"""Benchmark the simulation per network size, beside an earlier revision and Brian2.

What ``stdp-mnist bench`` measures (same options), plus what needs this repository:

- ``--compare REV`` extracts the ``stdp_mnist`` package of git revision REV (``git
  archive``) into a temporary directory and times it beside this checkout's package,
  alternating child processes round by round, and reports the speed-up;
- where Brian2 is installed, ``scripts/benchmarks/brian2_reference.py`` times the same
  network in Brian2's Cython runtime and its C++ standalone device, each in a process
  of its own (``--no-brian2`` skips it).

    python scripts/benchmark.py --sizes 100,6400 --compare b5b1dc4 --rounds 3 --output FILE
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from stdp_mnist.bench import BenchmarkError, run_benchmark, validated_sizes, write_report
from stdp_mnist.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]
BRIAN2_SCRIPT = Path(__file__).resolve().parent / "benchmarks" / "brian2_reference.py"
BRIAN2_MODES = ("runtime", "standalone")  # brian2_reference.py's Cython runtime and C++ standalone


@contextmanager
def revision_package(rev: str) -> Iterator[Path]:
    """A temporary directory holding the ``stdp_mnist`` package of git revision ``rev``
    of this repository."""
    with tempfile.TemporaryDirectory(prefix="stdp-mnist-bench-") as tmp:
        try:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "stdp_mnist"],
                capture_output=True,
                check=False,
            )
        except OSError:
            raise BenchmarkError("--compare needs git on PATH") from None
        if archive.returncode != 0:
            reason = archive.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["git failed"]
            raise BenchmarkError(f"--compare {rev}: {reason[0]}")
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        yield Path(tmp)


def _last_line(stderr: str) -> str:
    return (stderr.strip().splitlines() or ["no output"])[-1]


def brian2_timings(n: int, n_examples: int) -> dict[str, dict | str] | str:
    """Brian2's ms per example (1 core) for the same network in each of BRIAN2_MODES,
    each measured by brian2_reference.py in a process of its own (so that neither its
    memory nor its device settings reach anything else): {mode: {"train_ms",
    "frozen_ms", "target", "version"}, or why that mode failed}; "not installed" when
    Brian2 or the script is absent."""
    if importlib.util.find_spec("brian2") is None or not BRIAN2_SCRIPT.is_file():
        return "not installed"
    timings: dict[str, dict | str] = {}
    for mode in BRIAN2_MODES:
        cmd = [sys.executable, str(BRIAN2_SCRIPT), "--n", str(n), "--examples", str(n_examples)]
        cmd += ["--first", "2", "--mode", mode, "--json"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=BRIAN2_SCRIPT.parent)
        if out.returncode != 0:
            timings[mode] = "failed: " + _last_line(out.stderr)[:80]
            continue
        timings[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    return timings


def add_brian2(row: dict, log=print) -> None:
    """Time Brian2 on the fresh network of ``row`` (a fortieth of its examples, at least 3)."""
    row["brian2_examples"] = max(3, row["examples"] // 40)
    log(
        f"N={row['n']} fresh: timing Brian2 ({', '.join(BRIAN2_MODES)}) on {row['brian2_examples']} examples "
        "where it is installed ..."
    )
    row["brian2"] = brian2_timings(row["n"], row["brian2_examples"])


def brian2_cell(row: dict, mode: str) -> str:
    """'train / frozen ms (ratios)' of one Brian2 mode for a row, or why there is none."""
    timings = row.get("brian2", "not measured")
    timing = timings.get(mode, "not measured") if isinstance(timings, dict) else timings
    if isinstance(timing, str):
        return timing
    return (
        f"{timing['train_ms']:.1f} / {timing['frozen_ms']:.1f} ({timing['train_ms'] / row['train_ms']:.0f}x / "
        f"{timing['frozen_ms'] / row['frozen_1core_ms']:.0f}x slower)"
    )


def brian2_columns() -> tuple:
    """The report's Brian2 columns, one per mode."""
    return tuple(
        (f"Brian2 {mode} train / frozen ms (ratio)", lambda row, mode=mode: brian2_cell(row, mode))
        for mode in BRIAN2_MODES
    )


def brian2_note(rows: list[dict]) -> str:
    """How the Brian2 columns were measured (empty when they were not)."""
    measured = [r for r in rows if isinstance(r.get("brian2"), dict)]
    done = [t for r in measured for t in r["brian2"].values() if isinstance(t, dict)]
    if not done:
        return ""
    targets = ", ".join(sorted({t["target"] for t in done}))
    examples = ", ".join(f"{r['brian2_examples']} at N = {r['n']}" for r in measured)
    return (
        f"\n\nBrian2 columns: Brian2 {done[0]['version']} ({targets}), scripts/benchmarks/brian2_reference.py, "
        "each mode in a process of its own, starting from the same fresh network, after one untimed warm-up example, "
        f"timed training on the training images from index 2 and frozen on the test images from 0 (examples: "
        f"{examples}). Runtime: the network built once and run example by example from "
        "Python, as the public Brian2 ports do. Standalone: every example compiled into one C++ program, "
        "timed inside it (compilation and start-up excluded), without the intensity boost (a standalone "
        "program cannot choose its next run from the last one's spikes), so slightly less work than the "
        "protocol. Ratio = Brian2's time / ours."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,400,1600,6400", help="comma-separated numbers of neurons")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the number of timed examples")
    parser.add_argument("--trained", action="append", default=[], help="also time this trained checkpoint")
    parser.add_argument("--compare", metavar="REV", help="time git revision REV's package beside this one")
    parser.add_argument("--rounds", type=int, default=1, choices=range(1, 21), metavar="1-20")
    parser.add_argument("--no-brian2", action="store_true", help="do not time Brian2")
    parser.add_argument("--output", default="runs/bench/benchmark.md", help="the markdown report")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr)

    try:
        sizes = validated_sizes(args.sizes, args.scale)
        with revision_package(args.compare) if args.compare else nullcontext() as baseline_root:
            rows = run_benchmark(
                sizes,
                args.scale,
                log=log,
                trained=tuple(args.trained),
                rounds=args.rounds,
                baseline=(args.compare, baseline_root) if args.compare else None,
                per_fresh_row=None if args.no_brian2 else lambda row: add_brian2(row, log),
            )
    except (BenchmarkError, ConfigError) as exc:
        raise SystemExit(f"benchmark: error: {exc}") from None
    command = " ".join(["python", "scripts/benchmark.py", *(sys.argv[1:] if argv is None else argv)])
    print(write_report(rows, Path(args.output), command, brian2_columns(), brian2_note(rows)))
    print(f"report: {args.output}")


if __name__ == "__main__":
    main()
