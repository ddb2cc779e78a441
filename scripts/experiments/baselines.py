"""What does STDP add? Fair baselines beside the spiking layers, size by size.

    python scripts/experiments/baselines.py --sizes 100,400 \\
        --runs 100=runs/dc2015-100-seed0,400=runs/dc2015-400-seed0 \\
        --cache runs/baselines-cache --out results/baselines.md

For every size N it compares, on the same images, feature sets read out two ways:

- linear: a logistic regression (stdp_mnist.linear.fit: transform, per-feature
  standardisation, lbfgs) whose transform (none / sqrt / log1p) and C (GRID_C) are
  chosen on one validation split of the training images (fitted on all but the last
  --n-validate, scored on those), then refitted on all training images and scored
  once on the test images;
- voting: the paper's 'all' voting for the spiking layers (neurons assigned to classes
  from all training images' responses, as `stdp-mnist evaluate` does), nearest-centroid
  labels for k-means.

Feature sets: the raw pixels (one row, independent of N); a random projection of the
pixels to N features through a ReLU (no spiking layer); the untrained spiking layer (the
config's freshly initialised network, each neuron's input weights normalised to
network.weight_sum as before every training presentation, theta frozen at
theta_init_mv); the trained spiking layer of a finished run (--runs); and k-means with N
centroids on the pixels. Each trained layer is then compared with the other feature
sets of its size (and the raw pixels), readout by readout, by the exact McNemar test on
the test images. The spiking layers' responses are the frozen runs of
`stdp-mnist evaluate` (same streams: the trained layer's voting equals its evaluation's
accuracy_all), kept under --cache as the package's resumable response chunks, so an
interrupted or repeated run does not simulate them again; finished rows are kept there
too (delete the cache to recompute). Settings and data come from the trained run of
each size, or the defaults (the paper's values) where none is given.

``--dataset fashion-mnist`` (any data.name; ``--data-dir`` where its files are, default
its cache) measures another dataset; its runs must have been trained on it. ``--only
random-projection,k-means`` computes only those feature sets (of: pixels,
random-projection, untrained, trained, k-means), e.g. the cheap baselines of a dataset
before any spiking layer is trained on it:

    python scripts/experiments/baselines.py --dataset fashion-mnist --sizes 400 \
        --only random-projection,k-means --cache runs/baselines-fashion-mnist \
        --out runs/baselines-fashion-mnist/baselines.md

``--split validation`` scores k-means (``--only k-means``) on the validation split of
the training images instead, as the learning variants' search is scored: fitted and labelled on the first
``--train-images`` training images (default all 50,000 before the split), scored on
training images 50,000-59,999; no test image is scored. For the 100-neuron search
protocol (its first 10,000 training images):

    python scripts/experiments/baselines.py --split validation --train-images 10000 \
        --sizes 100 --only k-means --cache runs/baselines-validation \
        --out runs/baselines-validation/baselines.md
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import comparisons
import sklearn

from stdp_mnist import linear, readout
from stdp_mnist.cli import one_line_errors
from stdp_mnist.config import Config, ConfigError
from stdp_mnist.constants import VALIDATION_START
from stdp_mnist.data import DATASETS, Mnist, load_configured
from stdp_mnist.evaluation import ResponseStore, stage_responses
from stdp_mnist.network import STREAM_ASSIGN, STREAM_TEST, Network, load_network, untrained_network
from stdp_mnist.rundir import MODEL_FILE, read_evaluation, read_json_object, read_run_config, write_atomic

GRID_C = tuple(10.0**k for k in range(-4, 3))  # 1e-4 .. 1e2, one per decade
TRANSFORMS = ("counts", "sqrt", "log1p")  # "counts" is the identity: the features as they are
TRANSFORM_NAMES = {"counts": "none", "sqrt": "sqrt", "log1p": "log1p"}
ROWS_FILE = "rows.json"
ROW_VERSION = "v2"  # v2 rows keep their test predictions (for the paired tests); older rows are recomputed
TRAINED = "trained spiking layer"
# What the trained layer is tested against, per readout: (feature set, readout)
PAIRED_WITH = (
    ("raw pixels", "linear"),
    ("random projection + ReLU", "linear"),
    ("untrained spiking layer", "linear"),
    ("untrained spiking layer", "voting"),
    ("k-means", "voting"),
)
VERDICT_WORDS = {"first ahead": "trained ahead", "second ahead": "other ahead", "level": "level"}
# --only's names of the feature sets, by row name
FEATURE_SETS = {
    "pixels": "raw pixels",
    "random-projection": "random projection + ReLU",
    "untrained": "untrained spiking layer",
    "trained": TRAINED,
    "k-means": "k-means",
}
Log = Callable[[str], None]


def log_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def as_digits(predictions: np.ndarray) -> str:
    """Predicted classes (0-9) as a string of digits, one per image: compact in rows.json."""
    return (np.asarray(predictions, dtype=np.uint8) + ord("0")).tobytes().decode("ascii")


def from_digits(digits: str) -> np.ndarray:
    return np.frombuffer(digits.encode("ascii"), dtype=np.uint8) - ord("0")


def validation_scores(
    train_x: np.ndarray, train_y: np.ndarray, n_validate: int, log: Log = log_stderr
) -> dict[tuple[str, float], float]:
    """Validation accuracy of every (transform, C): the readout of stdp_mnist.linear.fit
    (transform, per-feature standardisation, lbfgs logistic regression) fitted on all
    training rows but the last ``n_validate`` and scored on those. The features are
    standardised once per transform, and each C starts from the previous, smaller C's
    solution (warm start): the same optima as separate fits, to lbfgs's tolerance, in
    far fewer iterations. (Where the penalty's gradient, |w| / (C * rows), falls below
    that tolerance, around C = 10 for 50,000 rows, the previous solution already counts
    as converged: those fits take 0 iterations and score as the C before them.)"""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    fit_rows, check_rows = slice(0, len(train_x) - n_validate), slice(len(train_x) - n_validate, None)
    scores = {}
    for transform in TRANSFORMS:
        mean, scale = linear.feature_moments(train_x[fit_rows], transform)
        fit_features = linear.standardised(train_x[fit_rows], transform, mean, scale)
        check_features = linear.standardised(train_x[check_rows], transform, mean, scale)
        model = LogisticRegression(max_iter=linear.MAX_ITER, warm_start=True)
        for c in sorted(GRID_C):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # the iterations are logged
                model.set_params(C=c).fit(fit_features, train_y[fit_rows])
            scores[transform, c] = readout.accuracy(train_y[check_rows], model.predict(check_features))
            log(
                f"  {TRANSFORM_NAMES[transform]}, C {c:g}: validation {scores[transform, c]:.4f} "
                f"({int(np.max(model.n_iter_))} iterations)"
            )
    return scores


def select_and_test(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    n_validate: int,
    log: Log = log_stderr,
) -> dict:
    """Choose the transform and C with the best validation score (ties: the earlier
    transform, then the smaller C), refit that choice with stdp_mnist.linear.fit on
    every training row and score it on the test rows, once."""
    t0 = time.perf_counter()
    scores = validation_scores(train_x, train_y, n_validate, log)
    transform, c = max(sorted(scores, key=lambda key: (TRANSFORMS.index(key[0]), key[1])), key=scores.get)
    final = linear.fit(train_x, train_y, transform, c)
    predicted = final.predict(test_x)
    return {
        "linear": readout.accuracy(test_y, predicted),
        "linear_predictions": as_digits(predicted),
        "transform": transform,
        "c": c,
        "validation": scores[transform, c],
        "iterations": final.iterations,
        "best_per_transform": {
            TRANSFORM_NAMES[t]: max(v for (u, _), v in scores.items() if u == t) for t in TRANSFORMS
        },
        "fit_s": time.perf_counter() - t0,
    }


def random_projection(pixels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """ReLU(pixels / 255 @ W) as float32 (K x n), W (784 x n) Gaussian with mean 0 and
    variance 1/784, drawn from ``seed``: random features with no spiking layer."""
    weights = np.random.default_rng(seed).standard_normal((pixels.shape[1], n)) / np.sqrt(pixels.shape[1])
    return np.maximum(pixels.astype(np.float32) / 255.0 @ weights.astype(np.float32), 0.0)


def kmeans_voting(
    train_pixels: np.ndarray,
    train_labels: np.ndarray,
    test_pixels: np.ndarray,
    test_labels: np.ndarray,
    n: int,
    seed: int,
) -> dict:
    """k-means (scikit-learn, k-means++ start, one init) with ``n`` centroids on the
    training pixels; each centroid takes its training images' majority label, and a
    test image the label of its nearest centroid."""
    from sklearn.cluster import KMeans

    t0 = time.perf_counter()
    model = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(train_pixels.astype(np.float32) / 255.0)
    votes = np.zeros((n, readout.N_CLASSES), np.int64)
    np.add.at(votes, (model.labels_, train_labels.astype(np.int64)), 1)
    centroid_labels = votes.argmax(axis=1)
    predicted = centroid_labels[model.predict(test_pixels.astype(np.float32) / 255.0)]
    return {
        "voting": readout.accuracy(test_labels, predicted),
        "voting_predictions": as_digits(predicted),
        "fit_s": time.perf_counter() - t0,
    }


def network_key(cfg: Config, network: Network) -> str:
    """sha256 of what a layer's frozen responses depend on: its weights, theta and
    delays, the data, the seed and the model's and frozen runs' settings (not the
    training schedule nor the readouts', so that a trained run's config and the
    defaults name the same untrained layer)."""
    settings = cfg.to_dict()
    del settings["training"]
    settings["run"] = {"seed": cfg.run.seed}
    settings["evaluation"] = {"block_size": cfg.evaluation.block_size, "boost": cfg.evaluation.boost}
    digest = hashlib.sha256()
    for array in (network.weights, network.theta, network.delays):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def layer_responses(
    cfg: Config, network: Network, data: Mnist, store_dir: Path, log: Log = log_stderr
) -> tuple[np.ndarray, np.ndarray]:
    """Frozen spike counts of every training and test image (the assignment and test
    streams of `stdp-mnist evaluate`), kept in and taken from ``store_dir``."""
    store = ResponseStore(store_dir, network_key(cfg, network), log)
    reported = {}

    def notify(stage: str, done: int, total: int) -> None:
        if done == total or time.monotonic() - reported.get(stage, 0.0) > 60:
            reported[stage] = time.monotonic()
            log(f"  {stage}: {done:,}/{total:,} images")

    train_counts, _ = stage_responses(cfg, network, data.train_images, STREAM_ASSIGN, "assign", notify, store)
    test_counts, _ = stage_responses(cfg, network, data.test_images, STREAM_TEST, "test", notify, store)
    return train_counts, test_counts


def spiking_row(
    name: str,
    cfg: Config,
    network: Network,
    data: Mnist,
    store_dir: Path,
    n_validate: int,
    log: Log = log_stderr,
) -> dict:
    """A spiking layer's row: 'all' voting (assigned from every training image), the
    selected linear readout, test spikes per example and distinct winners."""
    t0 = time.perf_counter()
    train_counts, test_counts = layer_responses(cfg, network, data, store_dir, log)
    features_s = time.perf_counter() - t0
    sums = readout.class_spike_sums(train_counts, data.train_labels)
    rates = readout.class_rates(sums, np.bincount(data.train_labels, minlength=readout.N_CLASSES))
    assignments = readout.assign_classes(rates)
    voted = readout.predict_all(test_counts, assignments)
    voting = readout.accuracy(data.test_labels, voted)
    log(f"{name}: 'all' voting {voting:.4f}; choosing the linear readout")
    row = select_and_test(train_counts, data.train_labels, test_counts, data.test_labels, n_validate, log)
    return {
        **row,
        "voting": voting,
        "voting_predictions": as_digits(voted),
        "features_s": features_s,
        "spikes_per_example": float(test_counts.sum(dtype=np.int64)) / len(test_counts),
        "winners": comparisons.distinct_winners(test_counts),
    }


class RowCache:
    """Finished rows kept in ``directory``/rows.json by a key naming everything they
    depend on, so that a rerun (another size added) refits nothing already done."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / ROWS_FILE
        self.rows = read_json_object(self.path)

    def get(self, key: str, compute: Callable[[], dict]) -> dict:
        if key not in self.rows:
            row = {**compute(), "computed_with": process_settings()}  # what its timings were measured under
            self.rows[key] = json.loads(json.dumps(row))  # as it will read back
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(self.rows, indent=1, sort_keys=True) + "\n")
        return self.rows[key]


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--sizes {text!r}: expected whole numbers separated by commas") from None
    if not sizes or min(sizes) < 1:
        raise ConfigError(f"--sizes {text!r}: expected one or more positive sizes")
    return sizes


def parse_runs(text: str) -> dict[int, Path]:
    """``100=runs/a,400=runs/b`` as {100: Path("runs/a"), 400: Path("runs/b")}."""
    runs = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        size, _, path = part.partition("=")
        if not size.strip().isdigit() or not path.strip():
            raise ConfigError(f"--runs {part!r}: expected SIZE=RUN_DIR")
        runs[int(size)] = Path(path.strip())
    return runs


def parse_only(text: str) -> set[str]:
    """``random-projection,k-means`` as the row names of those feature sets."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in FEATURE_SETS]
    if unknown or not names:
        raise ConfigError(f"--only {text!r}: expected some of {', '.join(FEATURE_SETS)}, comma-separated")
    return {FEATURE_SETS[name] for name in names}


def run_config(size: int, run_dir: Path | None, dataset: str = "mnist", data_dir: str = "") -> Config:
    """The trained run's config (checked to have ``size`` neurons and to have been trained
    on ``dataset``), or the defaults at that size, reading ``dataset`` from ``data_dir``."""
    if run_dir is None:
        return Config().replace(network={"n_excitatory": size}, data={"name": dataset, "dir": data_dir})
    cfg = read_run_config(run_dir)
    if cfg.network.n_excitatory != size:
        raise ConfigError(f"--runs: {run_dir} has {cfg.network.n_excitatory} neurons, not {size}")
    if cfg.data.name != dataset:
        raise ConfigError(f"--runs: {run_dir} was trained on {cfg.data.name}, not --dataset {dataset}")
    return cfg


# The feature set that --split validation scores: the cheap baseline the variants are measured against
VALIDATION_SETS = ("k-means",)


def validation_data(data: Mnist, train_images: int | None) -> Mnist:
    """The validation protocol as a training and a scored set: the first
    ``train_images`` (default all VALIDATION_START) training images, and the training
    images from VALIDATION_START on in place of the test images."""
    n_train = VALIDATION_START if train_images is None else train_images
    if not 0 < n_train <= VALIDATION_START or len(data.train_images) <= VALIDATION_START:
        raise ConfigError(
            f"--train-images {n_train}: the validation split fits on 1 to {VALIDATION_START:,} training images "
            f"and scores those from {VALIDATION_START:,} on ({len(data.train_images):,} here)"
        )
    return data.validation_split(n_train, VALIDATION_START)


def measure(
    sizes: list[int],
    runs: dict[int, Path],
    cache: Path,
    n_validate: int,
    seed: int,
    log: Log = log_stderr,
    dataset: str = "mnist",
    data_dir: str = "",
    only: set[str] | None = None,
    split: str = "test",
    train_images: int | None = None,
) -> tuple[list[dict], Mnist]:
    """Every row of the table, in order: raw pixels, then per size the random
    projection, the untrained and trained layers and k-means (those named in ``only``
    when given); scored on the test images, or under ``split`` "validation" on the
    validation split (validation_data)."""
    configs = {n: run_config(n, runs.get(n), dataset, data_dir) for n in sizes}
    data_settings = {json.dumps(cfg.to_dict()["data"], sort_keys=True) for cfg in configs.values()}
    if len(data_settings) > 1:
        raise ConfigError("--runs: the runs read different data ([data] of their config.toml)")
    data = load_configured(next(iter(configs.values())))
    if split == "validation":
        data = validation_data(data, train_images)
    wanted = set(FEATURE_SETS.values()) if only is None else only
    linear_readouts = wanted != {"k-means"}  # every other row fits a linear readout on a split
    if linear_readouts and not 0 < n_validate < len(data.train_images):
        raise ConfigError(f"--n-validate {n_validate}: must be between 1 and {len(data.train_images) - 1}")
    train_pixels, test_pixels = data.train_images, data.test_images
    rows_cache = RowCache(cache)
    protocol = [ROW_VERSION, n_validate, GRID_C, TRANSFORMS, len(train_pixels), len(test_pixels)]
    protocol += [] if dataset == "mnist" else [dataset]  # MNIST's cached rows keep their keys
    protocol += [] if split == "test" else ["validation"]

    def row(name: str, n: int | None, features: str, compute: Callable[[], dict]) -> list[dict]:
        if name not in wanted:
            return []
        log(f"{name}, N = {n or 784} ...")
        return [
            {
                "name": name,
                "n": n,
                **rows_cache.get(comparisons.baseline_key(name, n, features, *protocol), compute),
            }
        ]

    rows = [
        *row(
            "raw pixels",
            None,
            "pixels",
            lambda: select_and_test(
                train_pixels, data.train_labels, test_pixels, data.test_labels, n_validate, log
            ),
        )
    ]

    def projection(n: int) -> dict:
        t0 = time.perf_counter()
        train_x, test_x = (
            random_projection(train_pixels, n, seed),
            random_projection(test_pixels, n, seed),
        )
        features_s = time.perf_counter() - t0
        return {
            **select_and_test(train_x, data.train_labels, test_x, data.test_labels, n_validate, log),
            "features_s": features_s,
        }

    for n in sizes:
        cfg = configs[n]
        rows += row("random projection + ReLU", n, f"gauss-seed{seed}", partial(projection, n))
        fresh = untrained_network(cfg)
        rows += row(
            "untrained spiking layer",
            n,
            network_key(cfg, fresh),
            partial(spiking_row, "untrained", cfg, fresh, data, cache / f"untrained-{n}", n_validate, log),
        )
        if n in runs:
            trained = load_network(runs[n] / MODEL_FILE, cfg)
            trained_rows = row(
                TRAINED,
                n,
                network_key(cfg, trained),
                partial(spiking_row, "trained", cfg, trained, data, cache / f"trained-{n}", n_validate, log),
            )
            rows += [
                {**trained_row, "run": str(runs[n]), "run_metrics": evaluated_accuracy(runs[n])}
                for trained_row in trained_rows
            ]
        rows += row(
            "k-means",
            n,
            f"seed{seed}",
            partial(kmeans_voting, train_pixels, data.train_labels, test_pixels, data.test_labels, n, seed),
        )
    return rows, data


def evaluated_accuracy(run_dir: Path) -> tuple[float, int] | None:
    """The run's own evaluation's accuracy_all and its number of labelled images (None
    when it has no readable evaluation)."""
    evaluation = read_evaluation(run_dir)
    return None if evaluation is None else (float(evaluation.accuracy_all), int(evaluation.n_assign))


def blas_threads() -> int:
    """The BLAS library's thread count (what OPENBLAS_NUM_THREADS or OMP_NUM_THREADS set)."""
    from threadpoolctl import threadpool_info

    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def process_settings() -> str:
    """What this process's timings depend on: its niceness and thread counts."""
    return (
        f"niceness {os.getpriority(os.PRIO_PROCESS, 0)}, {numba.get_num_threads()} numba thread(s), "
        f"{blas_threads()} BLAS thread(s)"
    )


def paired_tests(rows: list[dict], test_labels: np.ndarray) -> list[str]:
    """Markdown rows: each trained layer against the other feature sets of its size (and
    the raw pixels), readout by readout, by the exact McNemar test on the same test images."""
    lines = []
    for trained in (row for row in rows if row["name"] == TRAINED):
        for name, readout_name in PAIRED_WITH:
            other = next(
                (row for row in rows if row["name"] == name and row["n"] in (trained["n"], None)), None
            )
            if other is None or f"{readout_name}_predictions" not in other:
                continue
            right = [
                from_digits(row[f"{readout_name}_predictions"]) == test_labels for row in (trained, other)
            ]
            only_trained, only_other, p = comparisons.mcnemar(*right)
            first, second = trained[readout_name], other[readout_name]
            verdict = VERDICT_WORDS[comparisons.paired_verdict(first, second, p)]
            lines.append(
                f"| {trained['n']} | {readout_name} | {name} | {first:.4f} | {second:.4f} "
                f"| {100 * (first - second):+.2f} | {only_trained:,} | {only_other:,} | {comparisons.format_p(p)} | {verdict} |"
            )
    return lines


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(
    rows: list[dict],
    data: Mnist,
    command: str,
    n_validate: int,
    seed: int,
    dataset: str = "mnist",
    split: str = "test",
) -> str:
    """The markdown page: how it was made, the protocol, the table and its notes."""
    n_train, n_test = len(data.train_images), len(data.test_images)
    scored = "test images" if split == "test" else "validation images"
    final = (
        "which serve only for the final number"
        if split == "test"
        else f"training images {VALIDATION_START:,}-{VALIDATION_START + n_test - 1:,}, which neither fitting nor "
        "labelling sees"
    )
    has_linear = any("transform" in row for row in rows)
    linear_text = (
        "The linear readout's transform and C are chosen per row on one validation split: fitted on training "
        f"images 0-{n_train - n_validate - 1:,}, scored on {n_train - n_validate:,}-{n_train - 1:,}; transforms "
        f"none / sqrt / log1p, each followed by per-feature standardisation; C = "
        f"{', '.join(f'{c:g}' for c in GRID_C)}. The choice is then refitted on all {n_train:,} training "
        "images. "
        if has_linear
        else ""
    )
    lines = [
        "# Baselines: what does STDP add?" + ("" if dataset == "mnist" else f" ({DATASETS[dataset].title})"),
        "",
        f"Made by `{command}` ({process_settings()}, scikit-learn {sklearn.__version__}) on "
        f"{datetime.date.today().isoformat()}.",
        "",
        f"Every accuracy is on the {n_test:,} {scored}, {final}. {linear_text}Voting: the paper's 'all' voting for the spiking layers (neurons assigned to classes from "
        f"all {n_train:,} training images' responses); for k-means, each centroid takes its training images' "
        "majority label and a test image its nearest centroid's. Spikes per example and distinct winners "
        f"(neurons that are the most active one for at least one image) are over the {n_test:,} {scored}.",
        "",
        f"| feature set | N | voting accuracy ({n_test:,} {scored}) | linear accuracy ({n_test:,} {scored}) "
        f"| chosen transform, C (accuracy on the {n_validate:,} validation images) | spikes/example ({n_test:,} "
        f"{scored}) | distinct winners ({n_test:,} {scored}) | features s | fit s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        chosen = (
            f"{TRANSFORM_NAMES[row['transform']]}, {row['c']:g} ({row['validation']:.4f})"
            if "transform" in row
            else "-"
        )
        lines.append(
            f"| {row['name']} | {row['n'] or 784} | {fmt(row.get('voting'))} | {fmt(row.get('linear'))} | {chosen} "
            f"| {fmt(row.get('spikes_per_example'), 2)} | {row.get('winners', '-')} "
            f"| {fmt(row.get('features_s'), 0)} | {fmt(row.get('fit_s'), 0)} |"
        )
    lines += (
        [
            "",
            f"Best accuracy of each transform over C on the {n_validate:,} validation images, to show how much "
            "the choice matters:",
            "",
            "| feature set | N | none | sqrt | log1p |",
            "| --- | --- | --- | --- | --- |",
        ]
        if has_linear
        else []
    )
    for row in rows:
        if "best_per_transform" in row:
            best = row["best_per_transform"]
            lines.append(
                f"| {row['name']} | {row['n'] or 784} | "
                + " | ".join(f"{best[TRANSFORM_NAMES[t]]:.4f}" for t in TRANSFORMS)
                + " |"
            )
    tests = paired_tests(rows, data.test_labels)
    if tests:
        lines += [
            "",
            f"The trained layer against the other feature sets of its size, on the same {n_test:,} test "
            "images, by the exact McNemar test (a two-sided binomial test of the images only one of the two "
            f"gets right against 1/2); 'level' unless p < {comparisons.SIGNIFICANCE}:",
            "",
            "| N | readout | trained layer against | trained | other | difference (points) | only trained "
            "right | only other right | exact McNemar p | verdict |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *tests,
        ]
    se = np.sqrt(0.9 * 0.1 / n_test)
    lines += [
        "",
        "Notes:",
        "",
        f"- Sample: {n_test:,} {scored} for every accuracy; the binomial standard error of one accuracy near "
        f"0.9 is {se:.4f}. All rows are scored on the same images, so a difference between two rows is known "
        "better than two independent errors suggest: the paired tests above compare the trained layer with the "
        "others.",
        f"- Random projection: W (784 x N) with independent Gaussian entries of mean 0 and variance 1/784 (numpy "
        f"default_rng seed {seed}), features max(0, pixels / 255 @ W). k-means: scikit-learn KMeans, k-means++ "
        f"start, one initialisation, random_state {seed}, on pixels / 255.",
        "- Untrained spiking layer: the config's freshly initialised network (for a size with a trained run, "
        "that run's own starting weights and delays), each neuron's input weights normalised to "
        "network.weight_sum as training does before every presentation, theta frozen at its initial value.",
        "- Large C: where the penalty's gradient, |w| / (C x training images), falls below lbfgs's tolerance "
        "(scikit-learn's default, 1e-4), a larger C changes nothing the solver can resolve; each C of the grid "
        "starts from the previous one's solution, so such C score as the C before them (the logs show 0 "
        "iterations) and the tie goes to the smaller C.",
        "- features s: seconds to compute the features in the process that computed the row (frozen runs of the "
        "spiking layers, on the numba threads above; about 0 where their responses were already in the cache from "
        "an earlier run); fit s: the linear selection and final fit, or the k-means fit. Both on a shared machine.",
    ]
    settings = {}
    for row in rows:
        settings.setdefault(row.get("computed_with", "not recorded (rows cached before it was)"), []).append(
            f"{row['name']} {row['n'] or 784}"
        )
    if len(settings) > 1 or next(iter(settings)) != process_settings():
        lines.append(
            "- Rows taken from the cache were computed, and timed, in earlier invocations: "
            + "; ".join(f"{where}: {', '.join(names)}" for where, names in settings.items())
            + "."
        )
    for row in rows:
        if row.get("run"):
            lines.append(
                f"- Trained layer of N = {row['n']}: `{row['run']}`; {evaluation_match(row, n_train)}."
            )
    untrained_only = sorted(
        {row["n"] for row in rows if row["n"]} - {row["n"] for row in rows if row.get("run")}
    )
    if untrained_only:
        lines.append(
            f"- No trained run was given (--runs) for N = {', '.join(map(str, untrained_only))}: no trained "
            "row there."
        )
    return "\n".join(lines) + "\n"


def evaluation_match(row: dict, n_train: int) -> str:
    """Whether the trained layer's voting here equals its run's own evaluation."""
    if row["run_metrics"] is None:
        return "the run has no evaluation to compare with"
    accuracy, n_assign = row["run_metrics"]
    if n_assign != n_train:
        return f"its evaluation assigned neurons from {n_assign:,} images, not {n_train:,}: not comparable"
    verdict = "identical" if abs(accuracy - row["voting"]) < 5e-5 else "DIFFERENT"
    return f"its own evaluation's accuracy_all is {accuracy:.4f} ({verdict})"


@one_line_errors
def run(args: argparse.Namespace, command: str) -> None:
    sizes, runs = parse_sizes(args.sizes), parse_runs(args.runs)
    unused = sorted(set(runs) - set(sizes))
    if unused:
        raise ConfigError(f"--runs names sizes not in --sizes: {', '.join(map(str, unused))}")
    only = parse_only(args.only) if args.only else None
    validation_sets = {FEATURE_SETS[name] for name in VALIDATION_SETS}
    if args.split == "validation" and (runs or only is None or not only <= validation_sets):
        raise ConfigError(f"--split validation: scores only --only {','.join(VALIDATION_SETS)} (no --runs)")
    if args.train_images is not None and args.split != "validation":
        raise ConfigError("--train-images: only with --split validation")
    rows, data = measure(
        sizes,
        runs,
        args.cache,
        args.n_validate,
        args.seed,
        dataset=args.dataset,
        data_dir=args.data_dir,
        only=only,
        split=args.split,
        train_images=args.train_images,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out, report(rows, data, command, args.n_validate, args.seed, args.dataset, args.split))
    log_stderr(f"written: {args.out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,400", help="layer sizes N, comma-separated (default 100,400)")
    parser.add_argument(
        "--runs",
        default="",
        metavar="N=RUN_DIR,...",
        help="the finished run that supplies the trained layer of each size",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("runs/baselines-cache"),
        help="where frozen responses and finished rows are kept (default runs/baselines-cache)",
    )
    parser.add_argument("--out", type=Path, default=Path("results/baselines.md"), help="the markdown report")
    parser.add_argument(
        "--n-validate",
        type=int,
        default=10_000,
        help="the last this many training images form the validation split (default 10000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random projection and k-means")
    parser.add_argument(
        "--dataset", default="mnist", choices=tuple(DATASETS), help="the dataset (data.name; default mnist)"
    )
    parser.add_argument(
        "--data-dir", default="", help="where the dataset's files are (default: its cache, as data.dir)"
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="SET,...",
        help=f"compute only these feature sets (of {', '.join(FEATURE_SETS)}; default all)",
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=("test", "validation"),
        help="score on the test images (default) or on training images 50,000-59,999 (--only "
        f"{','.join(VALIDATION_SETS)})",
    )
    parser.add_argument(
        "--train-images",
        type=int,
        default=None,
        help=f"under --split validation, fit on the first this many training images (default {VALIDATION_START})",
    )
    args = parser.parse_args(argv)
    words = sys.argv[1:] if argv is None else argv
    run(args, shlex.join(["python", "scripts/experiments/baselines.py", *words]))


if __name__ == "__main__":
    main()
