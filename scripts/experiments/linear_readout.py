"""Measurements for the supervised linear readout (stdp_mnist.linear).

  validate RUN_DIR [RUN_DIR ...]
      Chooses the readout's feature transform and regularisation without the test
      set: the run's frozen network responds to all 60,000 training images (the
      assignment stream of `stdp-mnist evaluate`); the readout is fitted on the first
      50,000 and scored on the last 10,000, for every transform and C of the grid.
  baselines [--sizes 100,400]
      The floors the learned features must beat, on the full test set:
      (1) the same regression (the config's default transform and C) on the 784 raw
      pixel values of the 60,000 training images (and, to compare with `validate`,
      fitted on images 0-49,999 and scored on 50,000-59,999); (2) layers of each size whose
      weights were never trained (`untrained_network`, each neuron's input weights
      normalised as before every training presentation),
      evaluated as `stdp-mnist evaluate` does (60,000 labelled, 10,000 test images).

Prints markdown tables.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from stdp_mnist import linear, readout
from stdp_mnist.config import Config
from stdp_mnist.data import load_configured
from stdp_mnist.evaluation import count_dtype, evaluate_network, frozen_counts
from stdp_mnist.network import STREAM_ASSIGN, load_network, untrained_network
from stdp_mnist.rundir import MODEL_FILE, read_run_config

GRID_C = (0.01, 0.1, 1.0, 10.0)
N_VALIDATE = 10_000


def validate(run_dir: Path) -> None:
    cfg = read_run_config(run_dir)
    network = load_network(run_dir / MODEL_FILE, cfg)
    data = load_configured(cfg)
    images, labels = data.train_images, data.train_labels
    counts = np.empty((len(images), network.n_excitatory), count_dtype(cfg))
    for first, chunk, _ in frozen_counts(cfg, network, images, STREAM_ASSIGN):
        counts[first : first + len(chunk)] = chunk
    fit_rows, check_rows = slice(0, len(images) - N_VALIDATE), slice(len(images) - N_VALIDATE, None)
    print(
        f"\n{run_dir}: {network.n_excitatory} neurons, {int(network.examples_seen[0])} examples trained; "
        f"fitted on training images 0-{fit_rows.stop - 1}, validated on {fit_rows.stop}-{len(images) - 1}\n"
    )
    print("| transform | C | validation accuracy | lbfgs iterations | fit s |")
    print("| --- | --- | --- | --- | --- |")
    best = (0.0, "", 0.0)
    for transform in linear.TRANSFORMS:
        for c in GRID_C:
            t0 = time.perf_counter()
            fitted = linear.fit(counts[fit_rows], labels[fit_rows], transform, c)
            fit_s = time.perf_counter() - t0
            accuracy = readout.accuracy(labels[check_rows], fitted.predict(counts[check_rows]))
            best = max(best, (accuracy, transform, c))
            print(f"| {transform} | {c:g} | {accuracy:.4f} | {fitted.iterations} | {fit_s:.1f} |", flush=True)
    print(f"\nbest: transform {best[1]}, C {best[2]:g}: {best[0]:.4f}")


def baselines(sizes: list[int]) -> None:
    cfg = Config()
    data = load_configured(cfg)
    ev = cfg.evaluation
    pixels = data.train_images.reshape(len(data.train_images), -1)
    t0 = time.perf_counter()
    fitted = linear.fit(pixels, data.train_labels, ev.linear_transform, ev.linear_c)
    accuracy = readout.accuracy(
        data.test_labels, fitted.predict(data.test_images.reshape(len(data.test_images), -1))
    )
    print("| features | accuracy_all | accuracy_proportion | accuracy_linear | wall s |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| raw pixels (784; transform {ev.linear_transform}, C {ev.linear_c:g}, {fitted.iterations} iterations) "
        f"| - | - | {accuracy:.4f} | {time.perf_counter() - t0:.0f} |",
        flush=True,
    )
    fit_rows, check_rows = slice(0, len(pixels) - N_VALIDATE), slice(len(pixels) - N_VALIDATE, None)
    t0 = time.perf_counter()
    split = linear.fit(pixels[fit_rows], data.train_labels[fit_rows], ev.linear_transform, ev.linear_c)
    accuracy = readout.accuracy(data.train_labels[check_rows], split.predict(pixels[check_rows]))
    print(
        f"| raw pixels, validation split of `validate` (training images {check_rows.start}-{len(pixels) - 1}) "
        f"| - | - | {accuracy:.4f} | {time.perf_counter() - t0:.0f} |",
        flush=True,
    )
    for n in sizes:
        size_cfg = cfg.replace(network={"n_excitatory": n})
        network = untrained_network(size_cfg)
        t0 = time.perf_counter()
        metrics, _, _ = evaluate_network(size_cfg, network, data)
        print(
            f"| {n} untrained neurons (random weights, normalised; seed 0) | {metrics.accuracy_all:.4f} | "
            f"{metrics.accuracy_proportion:.4f} | {metrics.accuracy_linear:.4f} | "
            f"{time.perf_counter() - t0:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("validate", help="choose transform and C on a validation split")
    check.add_argument("run_dirs", nargs="+", type=Path)
    floor = commands.add_parser("baselines", help="raw pixels and untrained layers")
    floor.add_argument("--sizes", default="100,400", help="untrained layer sizes, comma-separated")
    args = parser.parse_args()
    if args.command == "validate":
        for run_dir in args.run_dirs:
            validate(run_dir)
    else:
        baselines([int(s) for s in args.sizes.split(",") if s.strip()])


if __name__ == "__main__":
    main()
