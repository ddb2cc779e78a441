"""Tests for training, checkpoints/resume, frozen evaluation and model files, on tiny
networks and synthetic digit-like images (no MNIST needed). Damaged checkpoints are in
integration/test_checkpoint_corruption.py, interrupted training in
integration/test_signals.py."""

import json

import numpy as np
import pytest
from helpers.runs import STATE, assert_networks_equal, blob_images, blob_labels, tiny_config

from stdp_mnist import evaluation, linear, network, readout, rundir, training
from stdp_mnist.config import Config, ConfigError, config_to_toml
from stdp_mnist.constants import VALIDATION_START
from stdp_mnist.data import DataError, Mnist, count_training_images, load_mnist, training_set
from stdp_mnist.network import CheckpointError, load_network, new_network, save_network
from stdp_mnist.records import READOUTS, Evaluation, MetricsLine
from stdp_mnist.rundir import (
    CONFIG_FILE,
    MODEL_FILE,
    TRAIN_METRICS_FILE,
    read_evaluation,
    read_jsonl,
    write_atomic,
)


def saved(run_dir, cfg) -> network.Network:
    """The network saved in a run directory."""
    return load_network(run_dir / MODEL_FILE, cfg)


# --- schedule helpers ---------------------------------------------------------


def test_total_examples():
    cfg = tiny_config(training={"passes": 3})
    assert training.total_examples(cfg, 30) == 90
    assert training.total_examples(cfg.replace(training={"max_examples": 40}), 30) == 40
    assert training.total_examples(cfg.replace(training={"max_examples": 500}), 30) == 90


def test_pass_order_unshuffled():
    cfg = tiny_config()
    for p in range(3):
        np.testing.assert_array_equal(training.pass_order(cfg, p, 17), np.arange(17))


def test_pass_order_shuffled_is_seeded_permutation_per_pass():
    cfg = tiny_config(training={"shuffle": True})
    orders = [training.pass_order(cfg, p, 50) for p in range(3)]
    for order in orders:
        assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(orders[0], np.arange(50))
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    for p in range(3):  # deterministic
        np.testing.assert_array_equal(training.pass_order(cfg, p, 50), orders[p])
    other = cfg.replace(run={"seed": 1})
    assert not np.array_equal(training.pass_order(other, 0, 50), orders[0])


# --- training run directory -------------------------------------------------------


def test_training_writes_model_and_metrics(tmp_path, images):
    cfg = tiny_config(training={"max_examples": 10})
    run = tmp_path / "run"
    reports = []
    net = training.train(cfg, run, images, progress=reports.append)
    assert (run / MODEL_FILE).is_file() and (run / TRAIN_METRICS_FILE).is_file()
    assert int(net.examples_seen[0]) == 10
    assert_networks_equal(net, saved(run, cfg))
    records = read_jsonl(run / TRAIN_METRICS_FILE)
    for rec in records:
        assert {
            "examples_seen",
            "wall_s",
            "spikes_per_example",
            "boosts",
            "mean_theta_mv",
            "running_accuracy",
        } <= set(rec)
        assert rec["running_accuracy"] is None  # no labels given
        json.dumps(rec)
    assert records[-1]["examples_seen"] == 10
    assert reports and reports[-1].examples_seen == 10 and reports[-1].total == 10
    assert reports[-1].metrics == MetricsLine.from_json(json.dumps(records[-1]))  # the latest metrics line
    # training changed the state
    fresh = new_network(cfg)
    assert not np.array_equal(net.weights, fresh.weights)
    assert (net.theta > cfg.excitatory.theta_init_mv - 1).all()
    np.testing.assert_allclose(net.weights.sum(axis=0), cfg.network.weight_sum, rtol=0.05)
    assert net.weights.min() >= 0


def _record_saves(monkeypatch) -> list[int]:
    """Examples seen at every model checkpoint the training loop writes."""
    saves = []
    original = rundir.save_network

    def recording_save(net, path, *args):
        saves.append(int(net.examples_seen[0]))
        return original(net, path, *args)

    monkeypatch.setattr(rundir, "save_network", recording_save)
    return saves


def test_checkpoint_every_k(tmp_path, images, monkeypatch):
    cfg = tiny_config(training={"max_examples": 14}, run={"checkpoint_every": 5, "metrics_every": 1000})
    run = tmp_path / "run"
    saves = _record_saves(monkeypatch)
    training.train(cfg, run, images)
    assert saves == [5, 10, 14]
    assert [r["examples_seen"] for r in read_jsonl(run / TRAIN_METRICS_FILE)] == [14]


def test_metrics_every_m(tmp_path, images, monkeypatch):
    """Metrics lines every metrics_every examples (and at the end), checkpoints every
    checkpoint_every: the two schedules are independent, chunks end on both."""
    cfg = tiny_config(training={"max_examples": 14}, run={"checkpoint_every": 5, "metrics_every": 3})
    run = tmp_path / "run"
    saves = _record_saves(monkeypatch)
    training.train(cfg, run, images)
    assert saves == [5, 10, 14]
    records = read_jsonl(run / TRAIN_METRICS_FILE)
    assert [r["examples_seen"] for r in records] == [3, 6, 9, 12, 14]
    walls = [r["wall_s"] for r in records]
    assert walls == sorted(walls)


def test_full_passes_when_no_max(tmp_path, images):
    cfg = tiny_config(training={"passes": 2}, run={"checkpoint_every": 25, "metrics_every": 25})
    run = tmp_path / "run"
    net = training.train(cfg, run, images[:12])
    assert int(net.examples_seen[0]) == 24
    assert [r["examples_seen"] for r in read_jsonl(run / TRAIN_METRICS_FILE)] == [24]


def test_resume_is_bit_identical(tmp_path, images):
    """K examples, stop, resume to 2K == 2K uninterrupted; crosses a pass boundary (30
    images) with per-pass shuffling so the order stream is exercised too."""
    k = 20
    full = tiny_config(
        training={"passes": 2, "max_examples": 2 * k, "shuffle": True},
        run={"checkpoint_every": 6, "metrics_every": 6},
    )
    half = full.replace(training={"max_examples": k})
    a, b = tmp_path / "A", tmp_path / "B"
    net_a = training.train(full, a, images)
    training.train(half, b, images)
    assert int(saved(b, half).examples_seen[0]) == k
    write_atomic(b / CONFIG_FILE, config_to_toml(full))
    net_b = training.train(full, b, images, resume=True)
    assert int(net_b.examples_seen[0]) == 2 * k
    assert_networks_equal(net_a, net_b)
    assert_networks_equal(saved(a, full), saved(b, full))
    seen_a = [r["examples_seen"] for r in read_jsonl(a / TRAIN_METRICS_FILE)]
    seen_b = [r["examples_seen"] for r in read_jsonl(b / TRAIN_METRICS_FILE)]
    assert seen_a == [6, 12, 18, 24, 30, 36, 40]
    assert seen_b == [6, 12, 18, 20, 24, 30, 36, 40]


def _windows_by_hand(counts: np.ndarray, labels: np.ndarray, size: int) -> list:
    """The running accuracy of each window, computed from the per-example counts with
    readout: each window classified with the assignment made from the previous one."""
    accuracies, assignment = [], None
    for first in range(0, len(counts), size):
        c, y = counts[first : first + size], labels[first : first + size]
        accuracies.append(
            None if assignment is None else float(np.mean(readout.predict_all(c, assignment) == y))
        )
        rates = readout.class_rates(readout.class_spike_sums(c, y), np.bincount(y, minlength=10))
        assignment = readout.assign_classes(rates)
    return accuracies


def test_running_accuracy_uses_previous_window_assignment(tmp_path, images, monkeypatch):
    labels = blob_labels(len(images))
    cfg = tiny_config(training={"max_examples": 20, "shuffle": True}, run={"metrics_every": 5})
    seen = []  # (image rows, counts) of every kernel call
    original = training.kernel.train_examples

    def recording_kernel(p, batch, rng, *rest):
        original(p, batch, rng, *rest)
        counts = rest[-2]
        seen.append((batch.copy(), counts.copy()))

    monkeypatch.setattr(training.kernel, "train_examples", recording_kernel)
    reports = []
    training.train(cfg, tmp_path / "run", images, progress=reports.append, labels=labels)
    order = training.pass_order(cfg, 0, len(images))[:20]
    batches = np.concatenate([b for b, _ in seen])
    np.testing.assert_array_equal(batches, images[order])  # the labels below belong to these images
    counts = np.concatenate([c for _, c in seen])
    assert counts.shape == (20, 5) and counts.sum() > 0
    expected = _windows_by_hand(counts, labels[order], 5)
    records = read_jsonl(tmp_path / "run" / TRAIN_METRICS_FILE)
    assert [r["examples_seen"] for r in records] == [5, 10, 15, 20]
    assert records[0]["running_accuracy"] is None
    for record, value in zip(records, expected, strict=True):
        if value is None:
            assert record["running_accuracy"] is None
        else:
            assert record["running_accuracy"] == pytest.approx(value, abs=1e-6)
    assert all(0.0 <= r["running_accuracy"] <= 1.0 for r in records[1:])
    for rec in records:
        assert rec["spikes_per_example"] == pytest.approx(
            counts[rec["examples_seen"] - 5 : rec["examples_seen"]].sum() / 5
        )
    assert reports[-1].running_accuracy == records[-1]["running_accuracy"]
    assert reports[0].metrics is None  # nothing recorded before the first window ends


def test_labels_do_not_change_training(tmp_path, images):
    cfg = tiny_config(training={"max_examples": 8})
    a = training.train(cfg, tmp_path / "a", images)
    b = training.train(cfg, tmp_path / "b", images, labels=blob_labels(len(images)))
    assert_networks_equal(a, b)


def test_labels_must_match_images(tmp_path, images):
    with pytest.raises(ValueError, match="labels"):
        training.train(tiny_config(), tmp_path / "run", images, labels=blob_labels(len(images) - 1))


def test_resume_drops_metrics_lines_after_the_checkpoint(tmp_path, images, monkeypatch):
    """A crash between checkpoints leaves metrics lines for examples that a resume
    trains again: they are dropped (and a torn line), so no line appears twice."""
    cfg = tiny_config(training={"max_examples": 12}, run={"checkpoint_every": 5, "metrics_every": 2})
    reference = training.train(cfg, tmp_path / "A", images)
    ref_seen = [r["examples_seen"] for r in read_jsonl(tmp_path / "A" / TRAIN_METRICS_FILE)]
    assert ref_seen == [2, 4, 6, 8, 10, 12]

    original = rundir.save_network

    def crashing_save(net, path, *args):
        if int(net.examples_seen[0]) == 10:
            raise RuntimeError("power cut")
        return original(net, path, *args)

    monkeypatch.setattr(rundir, "save_network", crashing_save)
    run = tmp_path / "B"
    with pytest.raises(RuntimeError):
        training.train(cfg, run, images)
    with open(run / TRAIN_METRICS_FILE, "a") as fh:
        fh.write('{"examples_seen": 1')  # torn line
    assert int(saved(run, cfg).examples_seen[0]) == 5
    assert [r["examples_seen"] for r in read_jsonl(run / TRAIN_METRICS_FILE)] == [2, 4, 6, 8, 10]
    monkeypatch.setattr(rundir, "save_network", original)
    resumed = training.train(cfg, run, images, resume=True)
    assert_networks_equal(reference, resumed)
    lines = (run / TRAIN_METRICS_FILE).read_text().splitlines()
    assert [json.loads(line)["examples_seen"] for line in lines] == [2, 4, 6, 8, 10, 12]


def test_resume_finished_run_is_a_no_op(tmp_path, images):
    cfg = tiny_config(training={"max_examples": 6})
    run = tmp_path / "run"
    first = training.train(cfg, run, images)
    lines = (run / TRAIN_METRICS_FILE).read_text()
    again = training.train(cfg, run, images, resume=True)
    assert_networks_equal(first, again)
    assert (run / TRAIN_METRICS_FILE).read_text() == lines


def test_resume_without_model_is_checkpoint_error(tmp_path, images):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="model"):
        training.train(tiny_config(), tmp_path / "empty", images, resume=True)


@pytest.mark.parametrize(
    "poison, message",
    [
        (np.nan, "weights holds non-finite values; last checkpoint kept"),
        (-1.0, r"weights out of range \[0.0, 78.0\]: -1.0 \.\. .*; last checkpoint kept"),
    ],
)
def test_bad_weights_stop_training_and_keep_the_last_good_checkpoint(
    bar_config, monkeypatch, tmp_path, poison, message
):
    cfg = bar_config.cfg
    images = load_mnist(cfg.data.dir, fetch=False).train_images
    real = training.kernel.train_examples
    calls = {"examples": 0}

    def corrupting(params, batch, rng, synapses, *rest):
        real(params, batch, rng, synapses, *rest)
        weights = synapses.weights
        calls["examples"] += len(batch)
        if calls["examples"] > 100:  # after the first checkpoints, poison the weights
            weights[0, 0] = poison

    monkeypatch.setattr(training.kernel, "train_examples", corrupting)
    with pytest.raises(training.NumericalError, match=message):
        training.train(cfg, tmp_path / "run", images)
    good = load_network(tmp_path / "run" / "model.npz", cfg)
    assert np.isfinite(good.weights).all()
    assert 0 < int(good.examples_seen[0]) <= 120


# --- determinism ------------------------------------------------------------------


def test_same_seed_same_network(tmp_path, images):
    cfg = tiny_config(training={"max_examples": 8})
    a = training.train(cfg, tmp_path / "a", images)
    b = training.train(cfg, tmp_path / "b", images)
    assert_networks_equal(a, b)


def test_different_seed_different_network(tmp_path, images):
    cfg = tiny_config(training={"max_examples": 8})
    a = training.train(cfg, tmp_path / "a", images)
    b = training.train(cfg.replace(run={"seed": 1}), tmp_path / "b", images)
    assert not np.array_equal(a.weights, b.weights)
    assert not np.array_equal(a.delays, b.delays)
    assert a.rng[0] != b.rng[0]


def test_shuffle_changes_training_deterministically(tmp_path, images):
    plain = tiny_config(training={"max_examples": 8})
    shuffled = plain.replace(training={"shuffle": True})
    a = training.train(plain, tmp_path / "a", images)
    b = training.train(shuffled, tmp_path / "b", images)
    c = training.train(shuffled, tmp_path / "c", images)
    assert not np.array_equal(a.weights, b.weights)
    assert_networks_equal(b, c)


def test_shuffled_training_uses_pass_order(tmp_path, images):
    """Training with shuffle == training unshuffled on the images in pass_order's order."""
    shuffled = tiny_config(training={"max_examples": 10, "shuffle": True})
    order = training.pass_order(shuffled, 0, len(images))
    a = training.train(shuffled, tmp_path / "a", images)
    b = training.train(shuffled.replace(training={"shuffle": False}), tmp_path / "b", images[order])
    assert_networks_equal(a, b)


# --- new network / delays ---------------------------------------------------------


def test_new_network_matches_spec():
    cfg = tiny_config(network={"max_delay_ms": 10.0})
    net = new_network(cfg)
    assert net.weights.shape == (784, 5) and net.weights.dtype == np.float32
    assert net.weights.min() >= 0.003 - 1e-6 and net.weights.max() <= 0.303 + 1e-6
    np.testing.assert_array_equal(net.theta, 20.0)
    assert net.delays.min() == 0 and net.delays.max() == 19  # whole 0.5 ms steps in [0, 10) ms
    np.testing.assert_array_equal(net.exc[0], -105.0)  # v_rest - 40 mV
    np.testing.assert_array_equal(net.inh[0], -100.0)
    assert int(net.examples_seen[0]) == 0


def test_no_delays():
    net = new_network(tiny_config(network={"max_delay_ms": 0.0}))
    assert net.delays.max() == 0 and net.pending.shape[0] == 1


def test_delays_longer_than_256_steps_are_refused():
    """Delays are stored as uint8 steps; longer ones are a config error, not a silent wrap."""
    with pytest.raises(ConfigError, match="network.max_delay_ms"):
        tiny_config(network={"max_delay_ms": 150.0}, simulation={"present_ms": 350.0, "rest_ms": 150.0})
    cfg = tiny_config(network={"max_delay_ms": 128.0}, simulation={"present_ms": 350.0, "rest_ms": 150.0})
    assert network.delay_steps(cfg) == 256
    assert int(new_network(cfg).delays.max()) == 255


# --- model files --------------------------------------------------------------------


def test_save_load_round_trip(tmp_path, images):
    cfg = tiny_config(training={"max_examples": 3})
    net = training.train(cfg, tmp_path / "run", images)
    path = tmp_path / "copy.npz"
    save_network(net, path, cfg.model_hash())
    assert_networks_equal(net, load_network(path, cfg))
    assert not list(tmp_path.glob("*.tmp"))


def test_load_missing_model(tmp_path):
    with pytest.raises(CheckpointError, match="no model file"):
        load_network(tmp_path / MODEL_FILE, tiny_config())


# --- frozen evaluation ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_mnist(images):
    return Mnist(
        train_images=images,
        train_labels=blob_labels(len(images)),
        test_images=blob_images(14, seed=5),
        test_labels=blob_labels(14, seed=6),
    )


def test_evaluate_network_metrics(tiny_trained, tiny_mnist):
    cfg, _, net, _ = tiny_trained
    before = {name: getattr(net, name).copy() for name in STATE}
    progress = []
    metrics, arrays, _ = evaluation.evaluate_network(cfg, net, tiny_mnist, lambda *a: progress.append(a))
    for name in STATE:  # weights, theta and state frozen
        np.testing.assert_array_equal(getattr(net, name), before[name], err_msg=name)
    assert metrics.n_test == 14 and metrics.n_assign == 30
    assert metrics.n_excitatory == 5 and metrics.examples_trained == 12
    for name in READOUTS:
        assert 0.0 <= metrics.accuracy(name) <= 1.0
        m = np.array(metrics.confusion(name))
        assert m.shape == (10, 10) and m.sum() == 14
        np.testing.assert_array_equal(m.sum(axis=1), np.bincount(tiny_mnist.test_labels, minlength=10))
    assert metrics.accuracy_all == pytest.approx(np.trace(np.array(metrics.confusion_all)) / 14)
    assert sum(metrics.neurons_per_class) + metrics.unassigned_neurons == 5
    assert Evaluation.from_json(metrics.to_json()) == metrics
    assert arrays["assignments"].shape == (5,) and arrays["class_rates"].shape == (5, 10)
    assert arrays["predictions_all"].shape == (14,) and arrays["predictions_linear"].shape == (14,)
    assert metrics.accuracy_linear == pytest.approx(np.trace(np.array(metrics.confusion_linear)) / 14)
    assert ("assign", 30, 30) in progress and ("test", 14, 14) in progress


def test_evaluate_network_caps_at_data_size(tiny_trained, tiny_mnist):
    cfg, _, net, _ = tiny_trained
    metrics, _, _ = evaluation.evaluate_network(
        cfg.replace(evaluation={"n_assign": 60000, "n_test": 10000}), net, tiny_mnist
    )
    assert metrics.n_assign == 30 and metrics.n_test == 14


def test_validation_split_scores_the_training_images_from_50000_on(tiny_trained, tiny_mnist):
    # the tiny set's test images placed at training images 50,000 on: the validation
    # split scores exactly what the test split scored (same images, same streams)
    cfg, _, net, _ = tiny_trained
    train_images = np.zeros((VALIDATION_START + 14, 784), np.uint8)
    train_labels = np.zeros(VALIDATION_START + 14, np.uint8)
    train_images[:30], train_labels[:30] = tiny_mnist.train_images, tiny_mnist.train_labels
    train_images[VALIDATION_START:] = tiny_mnist.test_images
    train_labels[VALIDATION_START:] = tiny_mnist.test_labels
    nothing_to_test = np.zeros((0, 784), np.uint8)
    held_out = Mnist(train_images, train_labels, nothing_to_test, np.zeros(0, np.uint8))
    validated, _, _ = evaluation.evaluate_network(
        cfg.replace(evaluation={"split": "validation"}), net, held_out
    )
    tested, _, _ = evaluation.evaluate_network(cfg, net, tiny_mnist)
    assert (validated.split, tested.split) == ("validation", "test")
    for key in ("accuracy_all", "accuracy_linear", "confusion_all", "n_test", "n_assign"):
        assert getattr(validated, key) == getattr(tested, key), key
    with pytest.raises(DataError, match="only 30 training images"):
        evaluation.evaluate_network(cfg.replace(evaluation={"split": "validation"}), net, tiny_mnist)


def test_validation_runs_train_only_on_the_images_before_the_split(tmp_path):
    # the images from VALIDATION_START on (marked 255 here) are left out of every pass
    images = np.zeros((VALIDATION_START + 14, 784), np.uint8)
    images[VALIDATION_START:] = 255
    labels = np.zeros(len(images), np.uint8)
    data = Mnist(images, labels, np.zeros((0, 784), np.uint8), np.zeros(0, np.uint8))
    held_out = Config().replace(evaluation={"split": "validation"})
    trained_images, trained_labels = training_set(held_out, data)
    assert len(trained_images) == len(trained_labels) == VALIDATION_START and not trained_images.any()
    assert training_set(Config(), data)[0] is images
    # the schedule's length (info, collect_results) counts the same images, from the header alone
    header = bytes([0, 0, 8, 3]) + b"".join(n.to_bytes(4, "big") for n in (60000, 28, 28))
    (tmp_path / "train-images-idx3-ubyte").write_bytes(header)
    on_disk = {"dir": str(tmp_path), "verify": False}
    assert count_training_images(Config().replace(data=on_disk)) == 60000
    assert count_training_images(held_out.replace(data=on_disk)) == VALIDATION_START


def test_evaluation_is_deterministic(tiny_trained, tiny_mnist):
    cfg, _, net, _ = tiny_trained
    m1, a1, r1 = evaluation.evaluate_network(cfg, net, tiny_mnist)
    m2, a2, r2 = evaluation.evaluate_network(cfg, net, tiny_mnist)
    d1, d2 = m1.to_dict(), m2.to_dict()
    for key in d1:
        if not key.endswith("wall_s"):
            assert d1[key] == d2[key], key
    for key in a1:
        np.testing.assert_array_equal(a1[key], a2[key])
    np.testing.assert_array_equal(r1.coef, r2.coef)  # the linear readout's fit too


def _all_counts(cfg, net, imgs, per_call):
    parts = list(evaluation.frozen_counts(cfg, net, imgs, network.STREAM_TEST, blocks_per_call=per_call))
    firsts = [first for first, _, _ in parts]
    assert firsts == sorted(firsts) and firsts[0] == 0
    return (np.concatenate([c for _, c, _ in parts]), np.concatenate([r for _, _, r in parts]))


def test_frozen_counts_independent_of_grouping(tiny_trained, images):
    cfg, _, net, _ = tiny_trained  # block_size 4, 30 images: 8 blocks, the last one partial
    c1, r1 = _all_counts(cfg, net, images, 1)
    c3, r3 = _all_counts(cfg, net, images, 3)
    cn, rn = _all_counts(cfg, net, images, None)
    c99, r99 = _all_counts(cfg, net, images, 99)
    assert c1.shape == (30, 5) and c1.sum() > 0
    for c, r in ((c3, r3), (cn, rn), (c99, r99)):
        np.testing.assert_array_equal(c1, c)
        np.testing.assert_array_equal(r1, r)


def test_frozen_counts_block_is_independent_of_preceding_blocks(tiny_trained, images):
    """Each block starts from rest with its own stream: block 2 alone == block 2 in a run."""
    cfg, _, net, _ = tiny_trained
    full, _ = _all_counts(cfg, net, images[:12], 3)
    # blocks 0-1 replaced by other images: block 2's counts unchanged
    other = images[:12].copy()
    other[:8] = images[20:28]
    changed, _ = _all_counts(cfg, net, other, 3)
    np.testing.assert_array_equal(full[8:12], changed[8:12])


def test_frozen_counts_streams_differ(tiny_trained, images):
    cfg, _, net, _ = tiny_trained
    a = np.concatenate([c for _, c, _ in evaluation.frozen_counts(cfg, net, images, network.STREAM_ASSIGN)])
    b = np.concatenate([c for _, c, _ in evaluation.frozen_counts(cfg, net, images, network.STREAM_TEST)])
    assert not np.array_equal(a, b)


def test_evaluate_run_dir_writes_files(tmp_path, tiny_trained, tiny_mnist):
    cfg, run, net, _ = tiny_trained
    metrics = evaluation.evaluate(run, tiny_mnist, cfg=cfg)
    on_disk = read_evaluation(run)
    assert on_disk == metrics
    with np.load(run / "assignments.npz") as arrays:
        assert set(arrays.files) >= {
            "assignments",
            "class_rates",
            "predictions_all",
            "predictions_proportion",
        }
        assert arrays["predictions_all"].shape == (14,)
        np.testing.assert_array_equal(
            readout.confusion_matrix(tiny_mnist.test_labels, arrays["predictions_all"]),
            np.array(metrics.confusion_all),
        )
        np.testing.assert_array_equal(
            readout.confusion_matrix(tiny_mnist.test_labels, arrays["predictions_linear"]),
            np.array(metrics.confusion_linear),
        )
        predictions_linear = arrays["predictions_linear"]
    fitted = linear.load(run / "linear.npz", 5)  # the fitted readout is kept, and reproduces the predictions
    test_counts = np.concatenate(
        [c for _, c, _ in evaluation.frozen_counts(cfg, net, tiny_mnist.test_images, network.STREAM_TEST)]
    )
    np.testing.assert_array_equal(fitted.predict(test_counts), predictions_linear)


def test_evaluate_with_wrong_config_is_refused(tiny_trained, tiny_mnist):
    cfg, run, _, _ = tiny_trained
    with pytest.raises(CheckpointError):
        evaluation.evaluate(run, tiny_mnist, cfg=cfg.replace(network={"n_excitatory": 3}))
