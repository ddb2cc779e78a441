"""results/benchmark-brian2.md from results/benchmark/brian2.json: stdp-mnist beside Brian2.

The JSON holds the raw measurements of scripts/benchmarks/brian2_record.py (every
round's ms per example, every image's spike count); this script only summarises them:
per network and mode the min / median / max over the rounds and the ratio of medians,
and per network the spikes per image of both simulators with a paired Wilcoxon
signed-rank test across the images. ``python scripts/collect_results.py --all`` runs it.

    python scripts/benchmarks/brian2_report.py [--data JSON] [--output MD]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "results" / "benchmark" / "brian2.json"
REPORT = ROOT / "results" / "benchmark-brian2.md"
MODES = (("standalone", "C++ standalone"), ("runtime", "Cython runtime"))


def spread(values: list[float]) -> str:
    """'min / median / max' of a mode's rounds (ms per example)."""
    return " / ".join(
        f"{v:.1f}" if v >= 10 else f"{v:.2f}" for v in (min(values), statistics.median(values), max(values))
    )


def ratio(theirs: list[float], ours: list[float]) -> str:
    """Their median over ours, with the range the rounds allow (slowest of theirs over
    fastest of ours, and the other way round)."""
    middle = statistics.median(theirs) / statistics.median(ours)
    return f"{middle:.1f}x ({min(theirs) / max(ours):.1f}-{max(theirs) / min(ours):.1f})"


def mean_sd(values: list[int]) -> str:
    return f"{statistics.fmean(values):.1f} ± {statistics.stdev(values):.1f}"


def wilcoxon_p(first: list[int], second: list[int]) -> str:
    """Two-sided p of the Wilcoxon signed-rank test of the pairs (scipy; zero
    differences dropped), or why there is none."""
    from scipy.stats import wilcoxon  # slow to import; only the report needs it

    if all(a == b for a, b in zip(first, second, strict=True)):
        return "all pairs equal"
    return f"{wilcoxon(first, second).pvalue:.2g}"


def network_name(row: dict) -> str:
    return (
        f"{row['note']} ({row['examples_seen']:,} examples trained)" if row["examples_seen"] else row["note"]
    )


def timing_table(rows: list[dict], phase: str) -> list[str]:
    """One table of ms per example, ``phase`` 'train' or 'frozen'."""
    ours_key = "train_ms" if phase == "train" else "frozen_1core_ms"
    head = "| N | network | stdp-mnist ms | " + " | ".join(
        f"Brian2 {title} ms | {title} / stdp-mnist" for _, title in MODES
    )
    lines = [head + " |", "| --- " * (3 + 2 * len(MODES)) + "|"]
    for row in rows:
        ours = [r[ours_key] for r in row["ours"]]
        cells = [str(row["n"]), network_name(row), spread(ours)]
        for mode, _ in MODES:
            if mode in row:
                theirs = row[mode][phase]["ms"]
                cells += [spread(theirs), ratio(theirs, ours)]
            else:
                cells += ["not timed", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def spike_table(rows: list[dict]) -> list[str]:
    """Spikes per image: same input trains, and each simulator's own Poisson stream."""
    lines = [
        "| N | network | images | stdp-mnist | Brian2, same trains | Brian2 - stdp-mnist (mean) | Wilcoxon p "
        "| images | Brian2, own Poisson | stdp-mnist on those | Wilcoxon p |",
        "| --- " * 11 + "|",
    ]
    for row in rows:
        ours, same = row["spikes"]["ours"], row["spikes"]["brian2"]
        own = row["standalone"]["frozen"]["first_presentation_spikes"]
        ours_own = ours[: len(own)]
        lines.append(
            f"| {row['n']} | {network_name(row)} | {row['spikes']['images']} | {mean_sd(ours)} | {mean_sd(same)} "
            f"| {statistics.fmean(same) - statistics.fmean(ours):+.1f} | {wilcoxon_p(same, ours)} "
            f"| test 0-{len(own) - 1} | {mean_sd(own)} | {mean_sd(ours_own)} | {wilcoxon_p(own, ours_own)} |"
        )
    return lines


def summary(rows: list[dict]) -> str:
    """The sentence the README and docs/performance.md quote: the range of the median
    training ratios against the standalone device, trained and fresh networks apart."""

    def ratios(trained: bool, phase: str, ours_key: str) -> str:
        values = [
            statistics.median(row["standalone"][phase]["ms"])
            / statistics.median(r[ours_key] for r in row["ours"])
            for row in rows
            if bool(row["examples_seen"]) == trained
        ]
        return f"{min(values):.0f}-{max(values):.0f}x" if values else "not measured"

    sizes = ", ".join(f"{n:,}" for n in sorted({row["n"] for row in rows}))
    return (
        f"On one core, stdp-mnist trained {ratios(True, 'train', 'train_ms')} faster than Brian2's C++ standalone "
        f"device on the trained networks and {ratios(False, 'train', 'train_ms')} on the fresh ones (medians; "
        f"sizes {sizes}); frozen, {ratios(True, 'frozen', 'frozen_1core_ms')} and "
        f"{ratios(False, 'frozen', 'frozen_1core_ms')}."
    )


def report(data: Path = DATA) -> str:
    record = json.loads(data.read_text())
    shown = data.relative_to(ROOT).as_posix() if data.is_relative_to(ROOT) else str(data)
    rows = record["networks"]
    examples = sorted({row["examples"] for row in rows})
    rounds = sorted({len(row["ours"]) for row in rows})
    versions = sorted({row["brian2_version"] for row in rows})
    commits = ", ".join(dict.fromkeys(row["commit"] for row in rows))
    lines = [
        "# Benchmark: stdp-mnist beside Brian2, fresh and trained networks",
        "",
        f"Generated by `python scripts/benchmarks/brian2_report.py` from {shown}, the raw measurements of "
        f"scripts/benchmarks/brian2_record.py (code {commits}; {rows[0]['date']} to {rows[-1]['date']}), "
        "invoked as",
        "",
        *[f"    {command}" for command in record["commands"]],
        "",
        f"Machine: {record['machine']}. Brian2 {', '.join(versions)}. One thread on each side. Each network was "
        "timed on both sides within the same few minutes, one after the other, so the ratios share the machine's "
        "load; the 1-minute load average before and after each network is in its line below.",
        "",
        "## The sample",
        "",
        f"Per network and mode: {', '.join(map(str, examples))} examples after an untimed warm-up, timed "
        f"{', '.join(map(str, rounds))} times from the same starting state (stdp-mnist in a child process per round, "
        "Brian2's standalone program built once and run once per round, its runtime restored to the state after "
        "the warm-up); each cell gives min / median / max ms per example over the rounds, and each ratio the ratio "
        "of medians with the range the rounds allow. Training: training images 2 onwards, STDP on, continuing the "
        "network's training; frozen: test images 0 onwards. stdp-mnist runs the protocol with its intensity boost; "
        "the standalone program cannot choose its next run from the last one's spikes and shows each example once "
        "at intensity 2, so it does a little less work than stdp-mnist wherever stdp-mnist boosts.",
        "",
        "Networks:",
        "",
    ]
    lines += [
        f"- N = {row['n']}: {network_name(row)}, `{row['source']}`; stdp-mnist's intensity boost "
        f"added {statistics.median(r['train_boosts'] for r in row['ours']):.0f} presentations to its "
        f"{row['examples']} training examples (median over the rounds); "
        f"load average {row['load_average_1min'][0]:.1f} before, {row['load_average_1min'][1]:.1f} after"
        for row in rows
    ]
    lines += ["", "## Training, ms per example", "", *timing_table(rows, "train"), ""]
    lines += ["## Frozen, ms per example", "", *timing_table(rows, "frozen"), ""]
    lines += [
        summary(rows),
        "",
        "## Spikes per image",
        "",
        "Excitatory spikes in the presentation of each image at intensity 2 (no boost), the network frozen in the "
        "state it was timed from and the images shown back to back, mean ± sd over the images, and a paired "
        "Wilcoxon signed-rank test across them (scipy, two-sided). Left: both simulators given the same input "
        "spike trains (stdp-mnist's encoder's, fed to Brian2 through a SpikeGeneratorGroup, Brian2 on its runtime "
        "device), so what differs is the integration: Brian2's exponential_euler against stdp-mnist's exact "
        "decay of the conductances with a forward-Euler step of v, Brian2's refractoriness (v held, not clamped) "
        "and the weight a delayed spike uses (Brian2's at arrival). Right: each simulator with its own Poisson "
        "stream (Brian2 standalone's frozen timing run, stdp-mnist's trains of the left), on the timed images.",
        "",
        *spike_table(rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    args.output.write_text(report(args.data))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
