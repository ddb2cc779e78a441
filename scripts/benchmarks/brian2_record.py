"""Record stdp-mnist and Brian2 side by side on the same networks: timings and spike counts.

For each network (a fresh one of the paper's config, ``fresh:N``, or a stdp-mnist run
directory or model.npz), in this order and in one invocation, so that the machine's
load is shared alike:

- stdp-mnist: ``--rounds`` child processes of ``stdp_mnist.bench`` (training on the
  training images from 2, frozen on the test images from 0, ``--examples`` each, one
  thread, intensity boost on);
- Brian2's C++ standalone device, and its Cython runtime at the sizes of
  ``--runtime-sizes``: scripts/benchmarks/brian2_reference.py started from the same
  network on the same images, ``--rounds`` timed runs each;
- the spike comparison: both simulators on the first ``--compare`` test images with the
  same input spike trains (brian2_reference.py ``--compare-spikes``).

The raw numbers (every round's ms per example, every image's spike count, the load
average around each network) go to one JSON file, rewritten after each network, from
which scripts/benchmarks/brian2_report.py writes the report::

    python scripts/benchmarks/brian2_record.py --network fresh:100 \\
        --network "runs/dc2015-100-seed0::the recorded seed-0 network" --output results/benchmark/brian2.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from stdp_mnist.bench import BenchmarkError, _child_row, checkpoint_size, machine_description, package_root

ROOT = Path(__file__).resolve().parents[2]
BRIAN2_SCRIPT = Path(__file__).resolve().parent / "brian2_reference.py"
FIRST_TRAINING_IMAGE = 2  # as stdp_mnist.bench times training (its warm-up trains images 0 and 1)


def parse_network(spec: str) -> dict:
    """``fresh:N`` or ``PATH``, each optionally followed by ``::NOTE`` (what the network
    is, for the report): {"source", "n", "examples_seen", "note"}; BenchmarkError (one
    line) for a model file that cannot be read."""
    source, _, note = spec.partition("::")
    if source.startswith("fresh:"):
        try:
            n = int(source.removeprefix("fresh:"))
        except ValueError:
            raise BenchmarkError(f"--network {spec!r}: expected fresh:N or a model file") from None
        return {"source": source, "n": n, "examples_seen": 0, "note": note or "fresh (untrained)"}
    try:
        n = checkpoint_size(source)
    except BenchmarkError as exc:  # its messages name stdp-mnist bench's option
        raise BenchmarkError(str(exc).replace("--trained ", "--network ", 1)) from None
    model = Path(source) / "model.npz" if Path(source).is_dir() else Path(source)
    with np.load(model, allow_pickle=False) as data:
        seen = int(data["examples_seen"][0])
    return {"source": source, "n": n, "examples_seen": seen, "note": note or "trained"}


def brian2_json(network: dict, *args: str) -> dict:
    """One JSON row of brian2_reference.py run on ``network`` in a process of its own."""
    start = (
        ["--n", str(network["n"])]
        if network["source"].startswith("fresh:")
        else ["--model", network["source"]]
    )
    cmd = [sys.executable, str(BRIAN2_SCRIPT), *start, *args, "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchmarkError(f"brian2_reference.py {' '.join(args)} on {network['source']} failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def record_network(
    network: dict, examples: int, rounds: int, runtime: bool, compare: int, build_dir: Path
) -> dict:
    """Every measurement of one network (see the module docstring)."""
    source = Path(network["source"])
    model = (
        None
        if network["source"].startswith("fresh:")
        else source / "model.npz"
        if source.is_dir()
        else source
    )
    model = model and str(model.resolve())
    load_before = os.getloadavg()[0]
    ours = [_child_row(package_root(), network["n"], examples, model) for _ in range(rounds)]
    timing = ["--examples", str(examples), "--first", str(FIRST_TRAINING_IMAGE), "--rounds", str(rounds)]
    build = ["--build-dir", str(build_dir / str(network["n"]))]
    standalone = brian2_json(network, *timing, "--mode", "standalone", *build)
    row = {
        **network,
        "commit": git_commit(),
        "examples": examples,
        "ours": [
            {
                key: r[key]
                for key in (
                    "train_ms",
                    "frozen_1core_ms",
                    "train_spikes_per_example",
                    "train_boosts",
                    "threads",
                )
            }
            for r in ours
        ],
        "brian2_version": standalone["version"],
        "standalone": {key: standalone[key] for key in ("train", "frozen")},
    }
    if runtime:
        runtime_row = brian2_json(network, *timing, "--mode", "runtime")
        row["runtime"] = {key: runtime_row[key] for key in ("train", "frozen")}
    row["spikes"] = {
        "images": f"test 0-{compare - 1}",
        **brian2_json(network, "--compare-spikes", str(compare))["spikes"],
    }
    row["load_average_1min"] = [load_before, os.getloadavg()[0]]
    return row


def git_commit() -> str:
    """The checkout's commit, marked -dirty when tracked files differ from it."""
    cmd = ["git", "-C", str(ROOT), "describe", "--always", "--dirty", "--abbrev=7"]
    return subprocess.run(cmd, capture_output=True, text=True).stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", action="append", required=True, help="fresh:N or a model file, [::NOTE]")
    parser.add_argument("--examples", type=int, default=20, help="timed examples per network and mode")
    parser.add_argument("--rounds", type=int, default=3, help="times each timing is repeated")
    parser.add_argument(
        "--runtime-sizes", default="", help="comma-separated sizes also timed on Brian2's runtime"
    )
    parser.add_argument("--compare", type=int, default=50, help="test images of the spike comparison")
    parser.add_argument("--build-dir", type=Path, default=ROOT / "runs" / "brian2-build")
    parser.add_argument("--output", type=Path, default=ROOT / "runs" / "bench" / "brian2.json")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the networks already in --output and record only the others",
    )
    args = parser.parse_args(argv)
    try:
        networks = [parse_network(spec) for spec in args.network]
        runtime_sizes = {int(s) for s in args.runtime_sizes.split(",") if s.strip()}
        import brian2  # noqa: F401  (fail here, before an hour of timing, when it is absent)
    except (BenchmarkError, ValueError, ImportError) as exc:
        raise SystemExit(f"brian2_record: error: {exc}") from None
    command = shlex.join(["python", "scripts/benchmarks/brian2_record.py", *(argv or sys.argv[1:])])
    if args.resume and args.output.is_file():
        record = json.loads(args.output.read_text())
        record["commands"].append(command)
    else:
        record = {"commands": [command], "machine": machine_description(), "networks": []}
    done = {row["source"] for row in record["networks"]}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    for network in (network for network in networks if network["source"] not in done):
        print(f"{network['source']} (N = {network['n']}) ...", file=sys.stderr, flush=True)
        try:
            row = record_network(
                network,
                args.examples,
                args.rounds,
                network["n"] in runtime_sizes,
                args.compare,
                args.build_dir,
            )
        except BenchmarkError as exc:
            raise SystemExit(
                f"brian2_record: error: {exc} (the networks before it are in {args.output})"
            ) from None
        record["networks"].append({**row, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
        args.output.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
