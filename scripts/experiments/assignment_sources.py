"""How the labelled images used to assign neurons to classes move the test accuracy.

Issue 4 asks how many labelled examples the assignment uses. For each evaluated run
directory this runs the frozen network over the assignment images and the test
images (with the random streams of ``stdp-mnist evaluate``, so the first row
reproduces the run's metrics.json, which is checked) and scores the 10,000 test
images with neurons assigned from:

  train-60000  all 60,000 training images: this project's protocol (docs/MODEL.md, Protocol);
  train-10000  the first 10,000 training images;
  test-10000   the test images themselves. The reference's published evaluation
               script (Diehl&Cook_MNIST_evaluation.py) loads the same
               resultPopVecs10000 file, written by the test-mode run over the test
               set, both to assign and to test. That puts the test labels into the
               readout; it is shown only to measure how much it is worth, never as
               a result.

Usage: python scripts/experiments/assignment_sources.py RUN_DIR [RUN_DIR ...]
Prints a markdown table, one row per run and source.
"""

import sys
from pathlib import Path

import numpy as np

from stdp_mnist import readout
from stdp_mnist.data import load_configured
from stdp_mnist.evaluation import frozen_counts
from stdp_mnist.network import STREAM_ASSIGN, STREAM_TEST, load_network
from stdp_mnist.rundir import EVAL_METRICS_FILE, MODEL_FILE, read_evaluation, read_run_config


def all_counts(cfg, network, images: np.ndarray, stream: int) -> np.ndarray:
    """Frozen spike counts (K x N) of every image, as the evaluation computes them."""
    counts = np.zeros((len(images), network.n_excitatory), np.int32)
    for first, chunk, _ in frozen_counts(cfg, network, images, stream):
        counts[first : first + len(chunk)] = chunk
    return counts


def score(assign_counts, assign_labels, test_counts, test_labels) -> tuple[float, float]:
    """('all', 'proportion') test accuracy with neurons assigned from the given responses."""
    sums = readout.class_spike_sums(assign_counts, assign_labels)
    rates = readout.class_rates(sums, np.bincount(assign_labels, minlength=readout.N_CLASSES))
    assignments = readout.assign_classes(rates)
    return (
        readout.accuracy(test_labels, readout.predict_all(test_counts, assignments)),
        readout.accuracy(test_labels, readout.predict_proportion(test_counts, assignments, rates)),
    )


def run_rows(run_dir: Path):
    """Table rows (source, all, proportion) of one run; checks train-60000 against metrics.json."""
    cfg = read_run_config(run_dir)
    network = load_network(run_dir / MODEL_FILE, cfg)
    data = load_configured(cfg)
    n_assign, n_test = cfg.evaluation.n_assign, cfg.evaluation.n_test
    train_labels, test_labels = data.train_labels[:n_assign], data.test_labels[:n_test]
    train_counts = all_counts(cfg, network, data.train_images[:n_assign], STREAM_ASSIGN)
    test_counts = all_counts(cfg, network, data.test_images[:n_test], STREAM_TEST)
    evaluation = read_evaluation(run_dir)
    if evaluation is None:
        raise SystemExit(f"{run_dir / EVAL_METRICS_FILE}: no readable evaluation; evaluate the run first")
    reported = evaluation.accuracy_all
    sources = [
        (f"train-{len(train_labels)}", train_counts, train_labels),
        (f"train-{len(train_labels[:10000])}", train_counts[:10000], train_labels[:10000]),
        (f"test-{len(test_labels)} (test labels leak)", test_counts, test_labels),
    ]
    for i, (name, counts, labels) in enumerate(sources):
        acc_all, acc_prop = score(counts, labels, test_counts, test_labels)
        if i == 0 and acc_all != reported:
            raise SystemExit(
                f"{run_dir}: recomputed accuracy {acc_all} differs from metrics.json's {reported}"
            )
        yield name, acc_all, acc_prop


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__.split("\n\n")[-1].strip())
    print("| run | assigned from | accuracy_all | accuracy_proportion |")
    print("| --- | --- | --- | --- |")
    for arg in sys.argv[1:]:
        run_dir = Path(arg)
        for name, acc_all, acc_prop in run_rows(run_dir):
            print(f"| {run_dir.name} | {name} | {acc_all:.4f} | {acc_prop:.4f} |", flush=True)


if __name__ == "__main__":
    main()
