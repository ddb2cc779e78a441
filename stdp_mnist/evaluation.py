"""Frozen evaluation: assign neurons to classes from labelled training images, then
classify the test set with "all" and "proportion" voting, and with a supervised linear
readout (``linear``) trained on the same labelled images' spike counts.

Frozen runs are cut into blocks of ``evaluation.block_size`` examples; each block
starts at rest with a random stream derived from (seed, stage, block index) and the
blocks run in parallel on all cores, so results do not depend on the core count.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import numba
import numpy as np

from . import kernel, linear, readout
from .config import Config
from .data import Mnist
from .network import STREAM_ASSIGN, STREAM_TEST, Network, kernel_params, load_network, random_seed, steps
from .atomic import atomic_open
from .rundir import ASSIGNMENTS_FILE, EVAL_METRICS_FILE, LINEAR_FILE, MODEL_FILE, read_run_config, write_atomic

# progress(stage, examples_done, examples_total)
EvalProgress = Callable[[str, int, int], None]
# How often the waiting thread looks at a frozen kernel call: reports progress, hears signals.
POLL_SECONDS = 0.2


def call_heeding_signals(call: Callable[[], None], poll: Callable[[], None] = lambda: None) -> None:
    """Run a compiled frozen call (which releases the GIL) in a helper thread while this
    thread waits, calling ``poll`` every POLL_SECONDS; so a signal's Python handler (Ctrl-C)
    runs within a fraction of a second, however long the call. An exception from the
    handler leaves the helper to finish in the background (its results unused)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            errors.append(exc)

    helper = threading.Thread(target=target, name="frozen-kernel", daemon=True)
    helper.start()
    while helper.is_alive():
        helper.join(POLL_SECONDS)
        poll()
    if errors:
        raise errors[0]


def frozen_counts(cfg: Config, network: Network, images: np.ndarray, stream: int,
                  blocks_per_call: int | None = None,
                  progress: Callable[[int], None] | None = None) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield (first example index, spike counts K x N, retries K) of frozen runs over
    ``images``, a few blocks per kernel call (one per core by default); ``progress(k)``
    hears every POLL_SECONDS how many of ``images`` are done."""
    params = kernel_params(cfg, frozen=True)
    size = cfg.evaluation.block_size
    per_call = (blocks_per_call or numba.get_num_threads()) * size
    for first in range(0, len(images), per_call):
        chunk = np.ascontiguousarray(images[first:first + per_call])
        first_block = first // size
        n_blocks = (len(chunk) + size - 1) // size
        seeds = np.array([random_seed(cfg.run.seed, stream, first_block + b) for b in range(n_blocks)],
                         np.uint64)
        counts = np.zeros((len(chunk), network.n_excitatory), np.int32)
        retries = np.full(len(chunk), -1, np.int64)  # an example's entry is set when it is done

        def poll() -> None:
            if progress is not None:
                progress(first + int((retries >= 0).sum()))

        call_heeding_signals(lambda: kernel.frozen_responses(params, chunk, size, seeds, network.weights,
                                                             network.theta, network.delays, counts, retries),
                             poll)
        yield first, counts, retries


def count_dtype(cfg: Config) -> type:
    """The smallest integer type that holds a neuron's spikes in one presentation (at
    most one per time step): uint16 for any usual presentation time."""
    return np.uint16 if steps(cfg.simulation.present_ms, cfg.simulation.dt_ms) <= np.iinfo(np.uint16).max else np.int32


def evaluate_network(cfg: Config, network: Network, data: Mnist,
                     progress: EvalProgress | None = None) -> tuple[dict, dict[str, np.ndarray], linear.LinearReadout]:
    """Assign and test a trained network; returns (metrics, assignment arrays, the
    linear readout fitted on the labelled images' counts)."""
    ev = cfg.evaluation
    n_assign = min(ev.n_assign, len(data.train_images))
    n_test = min(ev.n_test, len(data.test_images))
    notify = progress or (lambda *_: None)

    t0 = time.perf_counter()
    sums = np.zeros((network.n_excitatory, readout.N_CLASSES))
    assign_spikes = assign_boosts = 0
    labels = data.train_labels[:n_assign]
    train_counts = np.empty((n_assign, network.n_excitatory), count_dtype(cfg))
    for first, counts, retries in frozen_counts(cfg, network, data.train_images[:n_assign], STREAM_ASSIGN,
                                                progress=lambda done: notify("assign", done, n_assign)):
        sums += readout.class_spike_sums(counts, labels[first:first + len(counts)])
        train_counts[first:first + len(counts)] = counts
        assign_spikes += int(counts.sum())
        assign_boosts += int(retries.sum())
        notify("assign", first + len(counts), n_assign)
    class_sizes = np.bincount(labels, minlength=readout.N_CLASSES)
    rates = readout.class_rates(sums, class_sizes)
    assignments = readout.assign_classes(rates)
    assign_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    notify("linear", 0, 1)
    linear_readout = linear.fit(train_counts, labels, ev.linear_transform, ev.linear_c)
    del train_counts
    notify("linear", 1, 1)
    linear_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    pred_all = np.empty(n_test, np.int64)
    pred_prop = np.empty(n_test, np.int64)
    pred_linear = np.empty(n_test, np.int64)
    test_spikes = test_boosts = 0
    for first, counts, retries in frozen_counts(cfg, network, data.test_images[:n_test], STREAM_TEST,
                                                progress=lambda done: notify("test", done, n_test)):
        pred_all[first:first + len(counts)] = readout.predict_all(counts, assignments)
        pred_prop[first:first + len(counts)] = readout.predict_proportion(counts, assignments, rates)
        pred_linear[first:first + len(counts)] = linear_readout.predict(counts)
        test_spikes += int(counts.sum())
        test_boosts += int(retries.sum())
        notify("test", first + len(counts), n_test)
    test_s = time.perf_counter() - t0

    truth = data.test_labels[:n_test]
    metrics = {
        "accuracy_all": readout.accuracy(truth, pred_all),
        "accuracy_proportion": readout.accuracy(truth, pred_prop),
        "accuracy_linear": readout.accuracy(truth, pred_linear),
        "n_test": n_test,
        "n_assign": n_assign,
        "n_excitatory": network.n_excitatory,
        "examples_trained": int(network.examples_seen[0]),
        "seed": cfg.run.seed,
        "confusion_all": readout.confusion_matrix(truth, pred_all).tolist(),
        "confusion_proportion": readout.confusion_matrix(truth, pred_prop).tolist(),
        "confusion_linear": readout.confusion_matrix(truth, pred_linear).tolist(),
        "linear_transform": linear_readout.transform,
        "linear_c": linear_readout.c,
        "linear_iterations": linear_readout.iterations,
        "linear_max_iterations": linear.MAX_ITER,
        "neurons_per_class": np.bincount(assignments[assignments >= 0], minlength=readout.N_CLASSES).tolist(),
        "unassigned_neurons": int((assignments == readout.UNASSIGNED).sum()),
        "assign_spikes_per_example": assign_spikes / max(1, n_assign),
        "test_spikes_per_example": test_spikes / max(1, n_test),
        "assign_boosts": assign_boosts,
        "test_boosts": test_boosts,
        "assign_wall_s": round(assign_s, 3),
        "linear_fit_wall_s": round(linear_s, 3),
        "test_wall_s": round(test_s, 3),
        "threads": numba.get_num_threads(),
    }
    arrays = {"assignments": assignments, "class_rates": rates, "predictions_all": pred_all,
              "predictions_proportion": pred_prop, "predictions_linear": pred_linear}
    return metrics, arrays, linear_readout


def evaluate(run_dir: str | Path, data: Mnist, progress: EvalProgress | None = None,
             cfg: Config | None = None) -> dict:
    """Evaluate a trained run directory (with its own config unless ``cfg`` is given,
    e.g. with other evaluation settings); writes metrics.json, assignments.npz and the
    linear readout (linear.npz) there."""
    run_dir = Path(run_dir)
    cfg = cfg or read_run_config(run_dir)
    network = load_network(run_dir / MODEL_FILE, cfg)
    metrics, arrays, linear_readout = evaluate_network(cfg, network, data, progress)
    write_atomic(run_dir / EVAL_METRICS_FILE, json.dumps(metrics, indent=2) + "\n")
    with atomic_open(run_dir / ASSIGNMENTS_FILE) as fh:
        np.savez(fh, **arrays)
    linear.save(linear_readout, run_dir / LINEAR_FILE)
    return metrics
