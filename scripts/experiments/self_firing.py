"""Do self-firing neurons explain a frozen evaluation's collapse? A paired experiment.

    python scripts/experiments/self_firing.py RUN_DIR --out DIR [--report results/self-firing.md] \\
        [--margins 0,0.5] [--set evaluation.n_assign=2000 evaluation.n_test=2000]

A neuron whose theta is below the self-firing line (v_rest - v_thresh + theta_offset:
7 mV with the paper's values) has its threshold under its resting and reset potential,
so it fires with no input at all; with theta frozen nothing stops it, and its inhibitory
partner silences the rest of the layer. To test whether such neurons are what spoils a
network's evaluation, this script evaluates copies of RUN_DIR (never written) in DIR,
each a run directory (config.toml, model.npz) that `stdp-mnist evaluate` accepts:

- original: the model as it is;
- lifted: every theta below the line raised to exactly the line (threshold at rest);
- silenced: those neurons' theta raised to SILENCE_MARGIN_MV above the highest potential
  a membrane can reach (the largest of the excitatory reversal, rest and reset
  potentials), so they never fire and leave the competition (all else unchanged).

--margins adds a lifted and a silenced copy for each further margin m (mV), treating
the neurons below line + m instead: a neuron just above the line has its threshold
just above rest, and the slightest input makes it fire.

Each is evaluated with the package's frozen evaluation (same streams, so every copy
sees the same spike trains and test images), with the run's evaluation settings and
any --set evaluation.*/data.* overrides (e.g. fewer images for a quick paired check).
Its frozen responses are kept in DIR/NAME/responses (an interrupted run continues,
a repeated one reuses the finished evaluation). The report gives the neurons below the
line, and per copy the three readouts' accuracies, test spikes per example, distinct
winners, and exact McNemar p-values against the original on the same test images.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from comparisons import distinct_winners, format_p, mcnemar

from stdp_mnist.atomic import atomic_open
from stdp_mnist.cli import one_line_errors
from stdp_mnist.config import Config, ConfigError, apply_overrides, config_from_dict, config_to_toml
from stdp_mnist.data import Mnist, load_configured
from stdp_mnist.evaluation import ResponseStore, count_dtype, evaluate_network
from stdp_mnist.network import count_self_firing, load_network, save_network, self_firing_theta_mv
from stdp_mnist.records import Evaluation
from stdp_mnist.rundir import (
    ASSIGNMENTS_FILE,
    CONFIG_FILE,
    EVAL_METRICS_FILE,
    MODEL_FILE,
    RunDirError,
    read_evaluation,
    read_json_object,
    read_npz,
    read_run_config,
    run_dir_lock,
    write_atomic,
)

SILENCE_MARGIN_MV = 100.0
TREATMENTS = ("lifted", "silenced")
NEAR_LINE_MV = (0.25, 0.5, 1.0, 2.0)  # margins above the line whose neuron counts the report gives
READOUTS = ("all", "proportion", "linear")
RESPONSES_DIR = "responses"
Log = Callable[[str], None]


def log_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def silenced_theta_mv(cfg: Config) -> float:
    """A theta whose threshold lies SILENCE_MARGIN_MV above the highest potential a
    membrane reaches (it moves between the reversal, rest and reset potentials)."""
    exc = cfg.excitatory
    ceiling = max(exc.e_exc_mv, exc.v_rest_mv, exc.v_reset_mv)
    return ceiling - (exc.v_thresh_mv - exc.theta_offset_mv) + SILENCE_MARGIN_MV


def variant_theta(cfg: Config, theta: np.ndarray, variant: str, margin_mv: float = 0.0) -> np.ndarray:
    """The theta (mV) of a copy: as it is ("original"), or with every value below the
    line + ``margin_mv`` lifted to that value ("lifted") or silenced ("silenced")."""
    limit = self_firing_theta_mv(cfg) + margin_mv
    if variant == "original":
        return theta.copy()
    if variant == "lifted":
        return np.maximum(theta, limit)
    if variant == "silenced":
        return np.where(theta < limit, silenced_theta_mv(cfg), theta)
    raise ValueError(f"unknown variant {variant!r}")


def copies(margins: list[float]) -> list[tuple[str, str, float]]:
    """(directory name, variant, margin in mV) of every copy: the original, then a
    lifted and a silenced one per margin (named without the margin when it is 0)."""
    return [("original", "original", 0.0)] + [
        (variant if margin == 0 else f"{variant}-margin{margin:g}mV", variant, margin)
        for margin in margins
        for variant in TREATMENTS
    ]


def parse_margins(text: str) -> list[float]:
    try:
        margins = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--margins {text!r}: expected numbers (mV) separated by commas") from None
    if (
        not margins
        or min(margins) < 0
        or len(set(margins)) < len(margins)
        or not all(map(np.isfinite, margins))
    ):
        raise ConfigError(f"--margins {text!r}: expected distinct margins of 0 mV or more")
    return margins


def evaluation_config(run_dir: Path, overrides: list[str]) -> Config:
    """The run's config with evaluation.*/data.* overrides (as `stdp-mnist evaluate --set`)."""
    cfg = read_run_config(run_dir)
    for text in overrides:
        if not text.startswith(("evaluation.", "data.")):
            raise ConfigError(f"--set {text!r}: only evaluation.* and data.* keys may change")
    return config_from_dict(apply_overrides(cfg.to_dict(), overrides)) if overrides else cfg


def prepare_copy(run_dir: Path, copy_dir: Path, cfg: Config, variant: str, margin_mv: float) -> None:
    """Write copy_dir as a run directory of the variant. A model already made from the
    same source model (its source.json says so) is kept as it is, so that its kept
    responses, which are keyed by the model file's bytes, stay valid."""
    source = {
        "run_dir": str(run_dir.resolve()),
        "model_sha256": file_sha256(run_dir / MODEL_FILE),
        "variant": variant,
        "margin_mv": margin_mv,
    }
    stamp = copy_dir / "source.json"
    write_atomic(copy_dir / CONFIG_FILE, config_to_toml(cfg))
    if read_json_object(stamp) == source and (copy_dir / MODEL_FILE).is_file():
        return
    if variant == "original":
        shutil.copyfile(run_dir / MODEL_FILE, copy_dir / MODEL_FILE)
    else:
        network = load_network(run_dir / MODEL_FILE, cfg)
        network.theta = variant_theta(cfg, network.theta, variant, margin_mv)
        save_network(network, copy_dir / MODEL_FILE, cfg.model_hash(), cfg.model_values())
    write_atomic(stamp, json.dumps(source, indent=1) + "\n")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def evaluate_copy(copy_dir: Path, cfg: Config, data: Mnist, log: Log = log_stderr) -> tuple[Evaluation, dict]:
    """The copy's metrics (the package's, plus response_summary's) and prediction
    arrays. Its evaluation is reused when its metrics.json was written for the same
    model, settings and readout; the responses are kept in copy_dir/responses."""
    network = load_network(copy_dir / MODEL_FILE, cfg)
    key = ResponseStore.key_for(copy_dir / MODEL_FILE, cfg)
    store = ResponseStore(copy_dir / RESPONSES_DIR, key, log)
    metrics_path = copy_dir / EVAL_METRICS_FILE
    settings = {
        "responses_key": key,
        "linear_c": cfg.evaluation.linear_c,
        "linear_transform": cfg.evaluation.linear_transform,
    }
    metrics = read_evaluation(copy_dir)
    if (
        metrics is not None
        and all(metrics.to_dict().get(name) == value for name, value in settings.items())
        and (copy_dir / ASSIGNMENTS_FILE).is_file()
    ):
        arrays = read_npz(copy_dir / ASSIGNMENTS_FILE)
    else:
        reported = set()

        def progress(stage: str, done: int, total: int) -> None:
            if (stage, done) not in reported and (done == total or done % 1000 == 0):
                reported.add((stage, done))
                log(f"  {copy_dir.name} {stage}: {done:,}/{total:,}")

        metrics, arrays, _ = evaluate_network(cfg, network, data, progress, store, log)
        metrics.extra.update(settings)
        with atomic_open(copy_dir / ASSIGNMENTS_FILE) as fh:
            np.savez(fh, **arrays)
        write_atomic(metrics_path, metrics.to_json())
    test_counts = np.empty((metrics.n_test, network.n_excitatory), count_dtype(cfg))
    kept = ResponseStore(copy_dir / RESPONSES_DIR, key)  # the same responses, read without a log line
    if kept.load("test", test_counts, np.empty(len(test_counts), np.int64), cfg.evaluation.block_size) < len(
        test_counts
    ):
        raise RunDirError(
            f"{copy_dir / RESPONSES_DIR}: the test responses are incomplete; delete {copy_dir} and run again"
        )
    extra = {**metrics.extra, **response_summary(test_counts, network.theta)}
    return dataclasses.replace(metrics, extra=extra), arrays


def response_summary(test_counts: np.ndarray, theta: np.ndarray) -> dict:
    """Distinct winners of the test images, and the busiest neuron (most test spikes):
    its share of all test spikes and its theta (mV)."""
    totals = test_counts.sum(axis=0, dtype=np.int64)
    busiest = int(totals.argmax())
    return {
        "distinct_winners": distinct_winners(test_counts),
        "busiest_neuron": busiest,
        "busiest_share": float(totals[busiest]) / max(1, int(totals.sum())),
        "busiest_theta_mv": float(theta[busiest]),
    }


def report(
    run_dir: Path,
    cfg: Config,
    theta: np.ndarray,
    margins: list[float],
    results: dict[str, tuple[dict, dict]],
    truth: np.ndarray,
    command: str,
) -> str:
    """The markdown page: the neurons below and near the line, and per copy the
    readouts, spikes, winners and paired tests against the original."""
    line = self_firing_theta_mv(cfg)
    below = theta[theta < line]
    exc = cfg.excitatory
    original = results["original"][1]
    n_test, n_assign = len(truth), results["original"][0].n_assign
    near = sorted({0.0, *NEAR_LINE_MV, *margins})
    lines = [
        "# Self-firing neurons and the frozen evaluation",
        "",
        f"Made by `{command}`.",
        "",
        f"Network: `{run_dir}`, {theta.size:,} excitatory neurons, {results['original'][0].examples_trained:,} "
        f"training examples seen. Self-firing line: theta < v_rest - v_thresh + theta_offset = {exc.v_rest_mv:g} "
        f"- ({exc.v_thresh_mv:g}) + {exc.theta_offset_mv:g} = {line:g} mV (below it the threshold is under the "
        f"resting potential, {exc.v_rest_mv:g} mV, and the neuron fires with no input).",
        "",
        f"**{below.size:,} of {theta.size:,} neurons are below the line**"
        + (
            f" (their theta: min {below.min():.3f} mV, median {np.median(below):.3f} mV, max {below.max():.3f} mV)."
            if below.size
            else "."
        ),
        "Neurons below the line + m: "
        + ", ".join(f"m = {m:g} mV: {np.count_nonzero(theta < line + m):,}" for m in near)
        + ".",
        "",
        f"Copies, evaluated with the package's frozen evaluation ({n_assign:,} labelled training images for the "
        f"assignments and the linear readout, {n_test:,} test images; every copy sees the same spike trains):",
        "",
        "- original: the model as it is;",
        f"- lifted (margin m, 0 unless named): theta below {line:g} mV + m raised to exactly {line:g} mV + m;",
        f"- silenced (margin m): those neurons' theta set to {silenced_theta_mv(cfg):g} mV, a threshold "
        f"{SILENCE_MARGIN_MV:g} mV above the highest potential a membrane reaches (the largest of the excitatory "
        "reversal, rest and reset potentials), so they never fire and leave the competition.",
        "",
        f"| copy | neurons changed | neurons below the line | accuracy_all | accuracy_proportion | accuracy_linear "
        f"| test spikes per example | distinct winners (of {n_test:,} test images) | busiest neuron's share of test "
        "spikes (its theta) | unassigned neurons |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, variant, margin in copies(margins):
        metrics = results[name][0]
        changed = 0 if variant == "original" else np.count_nonzero(theta < line + margin)
        lines.append(
            f"| {name} | {changed:,} | {metrics.self_firing_neurons:,} | {metrics.accuracy_all:.4f} "
            f"| {metrics.accuracy_proportion:.4f} | {metrics.accuracy_linear:.4f} "
            f"| {metrics.test_spikes_per_example:.2f} | {metrics.extra['distinct_winners']:,} "
            f"| {metrics.extra['busiest_share']:.3f} ({metrics.extra['busiest_theta_mv']:.3f} mV) "
            f"| {metrics.unassigned_neurons:,} |"
        )
    lines += [
        "",
        f"Exact McNemar tests against the original on the same {n_test:,} test images (two-sided binomial "
        "test of the discordant images against 1/2; 'original only' = images only the original classifies "
        "right):",
        "",
        "| copy | readout | original only | copy only | p-value |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, _, _ in copies(margins)[1:]:
        for readout_name in READOUTS:
            key = f"predictions_{readout_name}"
            only_original, only_copy, p = mcnemar(original[key] == truth, results[name][1][key] == truth)
            lines.append(
                f"| {name} | {readout_name} | {only_original:,} | {only_copy:,} | {format_p(p, 3)} |"
            )
    return "\n".join(lines) + "\n"


@one_line_errors
def run(args: argparse.Namespace, command: str) -> None:
    if args.out.resolve() == args.run_dir.resolve() or args.run_dir.resolve() in args.out.resolve().parents:
        raise ConfigError(f"--out {args.out}: must lie outside the run directory, which is never written")
    margins = parse_margins(args.margins)
    cfg = evaluation_config(args.run_dir, args.overrides)
    theta = load_network(args.run_dir / MODEL_FILE, cfg).theta
    log_stderr(
        f"{count_self_firing(cfg, theta):,} of {theta.size:,} neurons below the self-firing line "
        f"({self_firing_theta_mv(cfg):g} mV)"
    )
    data = load_configured(cfg)
    results = {}
    for name, variant, margin in copies(margins):
        copy_dir = args.out / name
        with run_dir_lock(copy_dir, "evaluate", create=True):
            prepare_copy(args.run_dir, copy_dir, cfg, variant, margin)
            log_stderr(f"{name}: evaluating {copy_dir}")
            results[name] = evaluate_copy(copy_dir, cfg, data)
    truth = data.test_labels[: results["original"][0].n_test]
    page = report(args.run_dir, cfg, theta, margins, results, truth, command)
    path = args.report or args.out / "self-firing.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, page)
    log_stderr(f"written: {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run_dir", type=Path, help="the run directory to test (read only)")
    parser.add_argument(
        "--out", type=Path, required=True, help="where the three copies are made and evaluated"
    )
    parser.add_argument(
        "--report", type=Path, default=None, help="the markdown report (default OUT/self-firing.md)"
    )
    parser.add_argument(
        "--margins",
        default="0",
        metavar="MV,...",
        help="treat the neurons below line + each margin (mV; default 0: below the line)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="evaluation.* or data.* overrides, e.g. evaluation.n_assign=2000 evaluation.n_test=2000",
    )
    args = parser.parse_args(argv)
    words = sys.argv[1:] if argv is None else argv
    run(args, shlex.join(["python", "scripts/experiments/self_firing.py", *words]))


if __name__ == "__main__":
    main()
