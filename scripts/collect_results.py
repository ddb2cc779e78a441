"""Print a markdown table of every evaluated run under a directory (default: runs/).

One row per run: config size, passes, examples trained, seed, accuracies (the
voting ones and the supervised linear readout's; "-" for a run evaluated before the
linear readout existed), training and evaluation wall time, beside the paper's
figure. Usage:
    python scripts/collect_results.py [RUNS_DIR]
"""

import json
import sys
from pathlib import Path

from stdp_mnist.config import load_config
from stdp_mnist.readout import PAPER_ACCURACY
from stdp_mnist.rundir import CONFIG_FILE, EVAL_METRICS_FILE, TRAIN_METRICS_FILE, read_jsonl



def rows(runs_dir: Path):
    for run in sorted(runs_dir.iterdir()):
        metrics_path = run / EVAL_METRICS_FILE
        if not metrics_path.is_file():
            continue
        cfg = load_config(run / CONFIG_FILE)
        metrics = json.loads(metrics_path.read_text())
        history = read_jsonl(run / TRAIN_METRICS_FILE)
        train_s = history[-1]["wall_s"] if history else float("nan")
        eval_s = metrics["assign_wall_s"] + metrics.get("linear_fit_wall_s", 0.0) + metrics["test_wall_s"]
        linear = f"{metrics['accuracy_linear']:.4f}" if "accuracy_linear" in metrics else "-"
        n = cfg.network.n_excitatory
        paper = f"{PAPER_ACCURACY[n]:.3f}" if n in PAPER_ACCURACY and metrics["n_assign"] == 60000 else "-"
        yield (f"| {run.name} | {n} | {cfg.training.passes} | {metrics['examples_trained']} | {cfg.run.seed} "
               f"| {metrics['accuracy_all']:.4f} | {metrics['accuracy_proportion']:.4f} | {linear} | {paper} "
               f"| {metrics['n_assign']} | {train_s / 60:.1f} | {eval_s / 60:.1f} |")


def main() -> None:
    runs_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "runs")
    print("| run | neurons | passes | examples trained | seed | accuracy_all | accuracy_proportion "
          "| accuracy_linear (supervised) | paper | labelled for assignment | train min | eval min |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows(runs_dir):
        print(row)


if __name__ == "__main__":
    main()
