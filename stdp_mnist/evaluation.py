"""Frozen evaluation: assign neurons to classes from labelled training images, then
classify the test set with "all" and "proportion" voting, and with a supervised linear
readout (``linear``) trained on the same labelled images' spike counts.

Frozen runs are cut into blocks of ``evaluation.block_size`` examples; each block
starts at rest with a random stream derived from (seed, stage, block index) and the
blocks run in parallel on all cores, so results do not depend on the core count.
Because blocks are independent, the responses finished so far are kept on disk as
they come (``ResponseStore``), and an interrupted evaluation continues from them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numba
import numpy as np

from . import kernel, linear, readout
from .atomic import atomic_open
from .config import Config
from .data import DataError, Mnist
from .network import (
    STREAM_ASSIGN,
    STREAM_TEST,
    CheckpointError,
    Network,
    count_self_firing,
    kernel_params,
    random_seed,
    self_firing_theta_mv,
    steps,
)
from .progress import LOGGER, LoggedStages
from .records import Evaluation
from .rundir import (
    CONFIG_FILE,
    EVAL_PARTIAL_DIR,
    MODEL_FILE,
    NPZ_ERRORS,
    Run,
    naming_write_errors,
    read_npz,
    write_atomic,
)

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
        except BaseException as exc:
            errors.append(exc)

    helper = threading.Thread(target=target, name="frozen-kernel", daemon=True)
    helper.start()
    while helper.is_alive():
        helper.join(POLL_SECONDS)
        poll()
    if errors:
        raise errors[0]


def frozen_counts(
    cfg: Config,
    network: Network,
    images: np.ndarray,
    stream: int,
    blocks_per_call: int | None = None,
    progress: Callable[[int], None] | None = None,
    start: int = 0,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield (first example index, spike counts K x N, retries K) of frozen runs over
    ``images`` from example ``start`` (a multiple of the block size, or the end) on, a few blocks
    per kernel call (one per core by default); ``progress(k)`` hears every
    POLL_SECONDS how many of ``images`` are done."""
    params = kernel_params(cfg, frozen=True)
    size = cfg.evaluation.block_size
    if start % size and start != len(images):
        raise ValueError(f"frozen runs start at a block boundary, not at example {start}")
    per_call = (blocks_per_call or numba.get_num_threads()) * size
    for first in range(start, len(images), per_call):
        chunk = np.ascontiguousarray(images[first : first + per_call])
        first_block = first // size
        n_blocks = (len(chunk) + size - 1) // size
        seeds = np.array(
            [random_seed(cfg.run.seed, stream, first_block + b) for b in range(n_blocks)], np.uint64
        )
        counts = np.zeros((len(chunk), network.n_excitatory), np.int32)
        retries = np.full(len(chunk), -1, np.int64)  # an example's entry is set when it is done

        def poll(first: int = first, retries: np.ndarray = retries) -> None:
            if progress is not None:
                progress(first + int((retries >= 0).sum()))

        call_heeding_signals(
            partial(
                kernel.frozen_responses,
                params,
                chunk,
                size,
                seeds,
                network.weights,
                network.theta,
                network.delays,
                counts,
                retries,
            ),
            poll,
        )
        yield first, counts, retries


def count_dtype(cfg: Config) -> type:
    """The smallest integer type that holds a neuron's spikes in one presentation (at
    most one per time step): uint16 for any usual presentation time."""
    return (
        np.uint16
        if steps(cfg.simulation.present_ms, cfg.simulation.dt_ms) <= np.iinfo(np.uint16).max
        else np.int32
    )


class ResponseStore:
    """The frozen responses (spike counts and retries) of one evaluation, kept on disk
    one kernel call's chunk at a time, so that an interrupted evaluation continues
    where it stopped instead of starting again (an hour at 6,400 neurons).

    ``key`` names what the responses depend on (the model file's bytes and every
    setting but the linear readout's); a directory holding another key's responses is
    emptied. Chunk files are read as untrusted: the first one that is unreadable or
    inconsistent is deleted with everything after it, and recomputed."""

    KEY_FILE = "key.txt"

    def __init__(self, directory: Path, key: str, log: Callable[[str], None] = lambda _: None):
        self.directory = Path(directory)
        self.log = log
        key_path = self.directory / self.KEY_FILE
        try:
            stored = key_path.read_text().strip() if key_path.is_file() else None
        except (OSError, UnicodeDecodeError):
            stored = ""
        if stored is not None and stored != key:
            log(f"{self.directory}: responses of another model or settings; discarded")
        if stored != key:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomic(key_path, key + "\n")

    @staticmethod
    def key_for(model: Path | hashlib._Hash, cfg: Config) -> str:
        """sha256 of the model file's bytes (the file, or the sha256 of its bytes, e.g.
        Run.model_digest) and of the settings the responses depend on."""
        settings = cfg.to_dict()
        settings["evaluation"] = {
            k: v for k, v in settings["evaluation"].items() if not k.startswith("linear_")
        }
        digest = hashlib.sha256(Path(model).read_bytes()) if isinstance(model, Path) else model.copy()
        digest.update(json.dumps(settings, sort_keys=True).encode())
        return digest.hexdigest()

    def _chunk(self, stage: str, first: int) -> Path:
        return self.directory / f"{stage}-{first:07d}.npz"

    def load(self, stage: str, counts: np.ndarray, retries: np.ndarray, block_size: int) -> int:
        """Fill the first rows of ``counts`` and ``retries`` from the kept chunks of
        ``stage``; returns how many examples they cover (a multiple of the block size,
        or all of them)."""
        total, width = counts.shape
        done = 0
        used = set()
        while done < total and self._chunk(stage, done).is_file():
            try:
                arrays = read_npz(self._chunk(stage, done))
                chunk_counts, chunk_retries = arrays["counts"], arrays["retries"]
                size = len(chunk_counts)
                whole = 0 < size <= total - done and (size % block_size == 0 or done + size == total)
                if not (
                    whole
                    and chunk_counts.shape == (size, width)
                    and chunk_counts.dtype == counts.dtype
                    and chunk_retries.shape == (size,)
                    and chunk_retries.dtype == np.int64
                    and (chunk_retries >= 0).all()
                ):
                    raise ValueError("not a chunk of this evaluation")
            except (*NPZ_ERRORS, KeyError) as exc:
                self.log(f"{self._chunk(stage, done)}: unreadable ({exc}); recomputing from there")
                break
            counts[done : done + size] = chunk_counts
            retries[done : done + size] = chunk_retries
            used.add(self._chunk(stage, done).name)
            done += size
        for stale in self.directory.glob(f"{stage}-*.npz"):  # whatever the prefix did not use
            if stale.name not in used:
                stale.unlink(missing_ok=True)
        if done:
            self.log(f"{stage}: {done:,} of {total:,} images' responses kept from an interrupted evaluation")
        return done

    def save(self, stage: str, first: int, counts: np.ndarray, retries: np.ndarray) -> None:
        """Keep one chunk of responses; a failure (a full disk) is a WriteError naming the
        chunk, with the chunks before it kept."""
        path = self._chunk(stage, first)
        kept = f"the responses finished before it are kept in {self.directory}"
        then = f"free some space, then evaluate {self.directory.parent} again (it continues from them)"
        with naming_write_errors(path, kept, then), atomic_open(path) as fh:
            np.savez(fh, counts=counts, retries=retries)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def stage_responses(
    cfg: Config,
    network: Network,
    images: np.ndarray,
    stream: int,
    stage: str,
    notify: EvalProgress,
    store: ResponseStore | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts (examples x N, count_dtype) and retries of the frozen runs over
    ``images``: the kept ones from ``store``, the rest computed (and kept as they come)."""
    counts = np.empty((len(images), network.n_excitatory), count_dtype(cfg))
    retries = np.empty(len(images), np.int64)
    done = store.load(stage, counts, retries, cfg.evaluation.block_size) if store else 0
    notify(stage, done, len(images))  # the stage starts (its first kernel call may compile first)
    for first, chunk_counts, chunk_retries in frozen_counts(
        cfg, network, images, stream, start=done, progress=lambda k: notify(stage, k, len(images))
    ):
        end = first + len(chunk_counts)
        counts[first:end] = chunk_counts
        retries[first:end] = chunk_retries
        if store:
            store.save(stage, first, counts[first:end], chunk_retries)
        notify(stage, end, len(images))
    return counts, retries


# Neurons this close above the self-firing line (mV) are named in the warning too: in
# the 6,400-neuron network after pass 1, silencing those within 2 mV as well as those
# below the line raised 'all' voting from 0.70 to 0.84 (results/self-firing.md).
NEAR_SELF_FIRING_MV = 2.0


def self_firing_warning(cfg: Config, theta: np.ndarray) -> str | None:
    """A one-line warning when some neurons' theta is so low that they fire with no input
    (network.count_self_firing), with how many more lie just above that line: with theta
    frozen, one of them that escapes inhibition fires at its maximum rate for good, and
    the frozen responses then say little of what the network learnt. None when no
    neuron is below the line."""
    n_low = count_self_firing(cfg, theta)
    if not n_low:
        return None
    n_near = count_self_firing(cfg, theta, NEAR_SELF_FIRING_MV) - n_low
    return (
        f"stdp-mnist: warning: {n_low} of {theta.size} neurons have theta below "
        f"{self_firing_theta_mv(cfg):g} mV and fire with no input ({n_near} more are within "
        f"{NEAR_SELF_FIRING_MV:g} mV above that); with theta frozen, one that escapes "
        "inhibition fires at its maximum rate for good and silences the others, so frozen responses "
        "may say little of what the network learnt (more training raises their theta)"
    )


def evaluation_split(cfg: Config, data: Mnist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images to label the neurons from, images scored, their labels) by
    ``evaluation.split``: the training and the test images, or under "validation" the
    training images before VALIDATION_START and those from it on (the assignment's
    labels are always the training labels' first rows)."""
    if cfg.evaluation.split == "test":
        return data.train_images, data.test_images, data.test_labels
    try:
        held_out = data.validation_split()
    except DataError as exc:
        raise DataError(f"evaluation.split = validation: {exc}") from None
    return held_out.train_images, held_out.test_images, held_out.test_labels


def evaluate_network(
    cfg: Config,
    network: Network,
    data: Mnist,
    progress: EvalProgress | None = None,
    store: ResponseStore | None = None,
    log: Callable[[str], None] = LOGGER.warning,
) -> tuple[Evaluation, dict[str, np.ndarray], linear.LinearReadout]:
    """Assign and test a trained network; returns (metrics, assignment arrays, the
    linear readout fitted on the labelled images' counts). With a ``store``, frozen
    responses are kept there as they come and taken from there when already kept.
    ``progress`` hears each stage's start and progress ("assign", "linear", "test");
    without it they go to the "stdp_mnist" logger (stdp_mnist.progress). ``log`` hears
    a warning when self-firing neurons make the frozen runs unreliable."""
    warning = self_firing_warning(cfg, network.theta)
    if warning:
        log(warning)
    ev = cfg.evaluation
    assign_images, scored_images, scored_labels = evaluation_split(cfg, data)
    n_assign = min(ev.n_assign, len(assign_images))
    n_test = min(ev.n_test, len(scored_images))
    notify = progress or LoggedStages({"assign": "image", "test": "image"})

    t0 = time.perf_counter()
    labels = data.train_labels[:n_assign]
    train_counts, retries = stage_responses(
        cfg, network, assign_images[:n_assign], STREAM_ASSIGN, "assign", notify, store
    )
    sums = np.zeros((network.n_excitatory, readout.N_CLASSES))
    assign_spikes = 0
    for first in range(0, n_assign, ev.block_size):  # in slices: no examples x N temporaries
        part = slice(first, first + ev.block_size)
        sums += readout.class_spike_sums(train_counts[part], labels[part])
        assign_spikes += int(train_counts[part].sum(dtype=np.int64))
    assign_boosts = int(retries.sum())
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
    test_counts, retries = stage_responses(
        cfg, network, scored_images[:n_test], STREAM_TEST, "test", notify, store
    )
    pred_all = np.empty(n_test, np.int64)
    pred_prop = np.empty(n_test, np.int64)
    pred_linear = np.empty(n_test, np.int64)
    test_spikes = 0
    for first in range(0, n_test, ev.block_size):
        part = slice(first, first + ev.block_size)
        counts = test_counts[part]
        pred_all[part] = readout.predict_all(counts, assignments)
        pred_prop[part] = readout.predict_proportion(counts, assignments, rates)
        pred_linear[part] = linear_readout.predict(counts)
        test_spikes += int(counts.sum(dtype=np.int64))
    test_boosts = int(retries.sum())
    test_s = time.perf_counter() - t0

    truth = scored_labels[:n_test]
    metrics = Evaluation(
        split=ev.split,
        accuracy_all=readout.accuracy(truth, pred_all),
        accuracy_proportion=readout.accuracy(truth, pred_prop),
        accuracy_linear=readout.accuracy(truth, pred_linear),
        n_test=n_test,
        n_assign=n_assign,
        n_excitatory=network.n_excitatory,
        examples_trained=int(network.examples_seen[0]),
        seed=cfg.run.seed,
        dataset=cfg.data.name,
        confusion_all=readout.confusion_matrix(truth, pred_all).tolist(),
        confusion_proportion=readout.confusion_matrix(truth, pred_prop).tolist(),
        confusion_linear=readout.confusion_matrix(truth, pred_linear).tolist(),
        linear_transform=linear_readout.transform,
        linear_c=linear_readout.c,
        linear_iterations=linear_readout.iterations,
        linear_max_iterations=linear.MAX_ITER,
        neurons_per_class=np.bincount(assignments[assignments >= 0], minlength=readout.N_CLASSES).tolist(),
        unassigned_neurons=int((assignments == readout.UNASSIGNED).sum()),
        self_firing_neurons=count_self_firing(cfg, network.theta),
        assign_spikes_per_example=assign_spikes / max(1, n_assign),
        test_spikes_per_example=test_spikes / max(1, n_test),
        assign_boosts=assign_boosts,
        test_boosts=test_boosts,
        assign_wall_s=round(assign_s, 3),
        linear_fit_wall_s=round(linear_s, 3),
        test_wall_s=round(test_s, 3),
        threads=numba.get_num_threads(),
    )
    arrays = {
        "assignments": assignments,
        "class_rates": rates,
        "predictions_all": pred_all,
        "predictions_proportion": pred_prop,
        "predictions_linear": pred_linear,
    }
    return metrics, arrays, linear_readout


def evaluate(
    run_dir: str | Path | Run,
    data: Mnist,
    progress: EvalProgress | None = None,
    cfg: Config | None = None,
    log: Callable[[str], None] = LOGGER.warning,
) -> Evaluation:
    """Evaluate a trained run (a run directory's path, or a Run, whose network in memory
    is used as it is) with its own config unless ``cfg`` is given (e.g. with other
    evaluation settings); writes metrics.json, assignments.npz and the linear readout
    (linear.npz) there, and returns the results. ``progress`` and ``log`` as in
    ``evaluate_network`` (the "stdp_mnist" logger without them). The frozen responses
    are kept in ``evaluate-partial/`` as they come, so an interrupted evaluation
    continues from them; the directory is removed once the evaluation is written."""
    run = Run.of(run_dir)
    cfg = cfg or run.cfg
    if cfg.model_hash() != run.cfg.model_hash() or cfg.model_values() != run.cfg.model_values():
        raise CheckpointError(
            f"{run.path(MODEL_FILE)}: the config given describes another model than the run's "
            f"{CONFIG_FILE}; an evaluation may change evaluation.* and data.* values only"
        )
    network = run.network
    store = ResponseStore(run.path(EVAL_PARTIAL_DIR), ResponseStore.key_for(run.model_digest(), cfg), log)
    metrics, arrays, linear_readout = evaluate_network(cfg, network, data, progress, store, log)
    run.save_evaluation(metrics, arrays, linear_readout)
    store.remove()
    return metrics
