"""An interrupted evaluation keeps its finished frozen responses (evaluate-partial/)
and the next one continues from them to exactly the metrics of an uninterrupted one;
kept responses of another model or settings, or damaged ones, are never used."""

import json
import shutil

import numpy as np
import pytest
from helpers.cli import invoke

from stdp_mnist import evaluation
from stdp_mnist.config import load_config
from stdp_mnist.data import load_mnist
from stdp_mnist.evaluation import ResponseStore
from stdp_mnist.rundir import CONFIG_FILE, EVAL_METRICS_FILE, EVAL_PARTIAL_DIR, MODEL_FILE

WALL_KEYS = ("assign_wall_s", "linear_fit_wall_s", "test_wall_s")


def results(run):
    metrics = json.loads((run / EVAL_METRICS_FILE).read_text())
    return {k: v for k, v in metrics.items() if k not in WALL_KEYS}


def data_of(run):
    return load_mnist(load_config(run / CONFIG_FILE).data.dir, fetch=False)


def interrupt_at(stage_to_stop, after):
    """A progress callback that interrupts once ``stage_to_stop`` reports ``after`` images done."""

    def progress(stage, done, total):
        if stage == stage_to_stop and done >= after:
            raise KeyboardInterrupt

    return progress


@pytest.fixture
def one_block_per_call(monkeypatch):
    """Kernel calls of one block (10 images) each, whatever the core count."""
    monkeypatch.setattr(evaluation.numba, "get_num_threads", lambda: 1)


@pytest.mark.parametrize("stage", ["assign", "test"])
def test_interrupted_evaluation_continues_to_the_same_metrics(
    trained_run, tmp_path, stage, one_block_per_call
):
    whole, halted = (shutil.copytree(trained_run, tmp_path / name) for name in ("whole", "halted"))
    data = data_of(trained_run)
    evaluation.evaluate(whole, data)
    with pytest.raises(KeyboardInterrupt):
        evaluation.evaluate(halted, data, progress=interrupt_at(stage, 20))
    partial = halted / EVAL_PARTIAL_DIR
    assert sorted(p.name for p in partial.glob(f"{stage}-*.npz"))  # finished chunks were kept
    assert not (halted / EVAL_METRICS_FILE).exists()
    done_first = []
    lines = []
    evaluation.evaluate(
        halted, data, progress=lambda s, done, total: s == stage and done_first.append(done), log=lines.append
    )
    assert results(halted) == results(whole)
    assert any(f"{stage}: " in line and "kept from an interrupted evaluation" in line for line in lines)
    assert done_first[0] >= 10  # continued after the kept chunks, not from 0
    assert not partial.exists()  # removed once the evaluation is written


def test_a_stage_kept_whole_with_a_partial_last_block_is_not_recomputed(
    trained_run, tmp_path, one_block_per_call
):
    """25 labelled images in blocks of 10: all of "assign" kept (its last chunk 5 images)
    when "test" is interrupted; the next run takes the whole stage from the store."""
    cfg = load_config(trained_run / CONFIG_FILE).replace(evaluation={"n_assign": 25})
    whole, halted = (shutil.copytree(trained_run, tmp_path / name) for name in ("whole", "halted"))
    data = data_of(trained_run)
    evaluation.evaluate(whole, data, cfg=cfg)
    with pytest.raises(KeyboardInterrupt):
        evaluation.evaluate(halted, data, cfg=cfg, progress=interrupt_at("test", 10))
    assign_done = []
    evaluation.evaluate(
        halted, data, cfg=cfg, progress=lambda s, done, total: s == "assign" and assign_done.append(done)
    )
    assert assign_done == [25]  # the whole stage came from the store
    assert results(halted) == results(whole)


def test_responses_of_another_model_are_discarded(trained_run, tmp_path, one_block_per_call):
    run = shutil.copytree(trained_run, tmp_path / "run")
    data = data_of(run)
    with pytest.raises(KeyboardInterrupt):
        evaluation.evaluate(run, data, progress=interrupt_at("test", 20))
    whole = shutil.copytree(trained_run, tmp_path / "whole")
    evaluation.evaluate(whole, data)
    # the model changes (as if trained_run on): the kept responses belong to the old one
    with np.load(run / MODEL_FILE) as old:
        arrays = dict(old)
    arrays["theta"] = arrays["theta"] + np.float64(0.5)
    np.savez(run / MODEL_FILE, **arrays)
    changed = shutil.copytree(run, tmp_path / "changed", ignore=shutil.ignore_patterns(EVAL_PARTIAL_DIR))
    lines = []
    evaluation.evaluate(run, data, log=lines.append)
    evaluation.evaluate(changed, data)
    assert results(run) == results(changed)
    assert any("another model or settings; discarded" in line for line in lines)


def test_a_damaged_chunk_is_recomputed_with_everything_after_it(tmp_path):
    store = ResponseStore(tmp_path / "partial", "key")
    counts = np.arange(30 * 4, dtype=np.uint16).reshape(30, 4)
    retries = np.zeros(30, np.int64)
    for first in (0, 10, 20):
        store.save("assign", first, counts[first : first + 10], retries[first : first + 10])
    (tmp_path / "partial" / "assign-0000010.npz").write_bytes(b"not an npz")
    lines = []
    store = ResponseStore(tmp_path / "partial", "key", lines.append)
    got, got_retries = np.zeros_like(counts), np.full(30, -1, np.int64)
    assert store.load("assign", got, got_retries, block_size=10) == 10
    np.testing.assert_array_equal(got[:10], counts[:10])
    assert any("assign-0000010.npz: unreadable" in line for line in lines)
    assert sorted(p.name for p in (tmp_path / "partial").glob("assign-*")) == ["assign-0000000.npz"]


def test_a_compressed_chunk_with_a_broken_stream_is_recomputed(tmp_path):
    """A deflated npz whose data is damaged fails inside zlib, not zipfile: still one
    log line and a recomputation, never a traceback."""
    store = ResponseStore(tmp_path / "partial", "key")
    path = tmp_path / "partial" / "test-0000000.npz"
    np.savez_compressed(path, counts=np.ones((10, 4), np.uint16), retries=np.zeros(10, np.int64))
    damaged = bytearray(path.read_bytes())
    damaged[60:68] = b"\xff" * 8  # inside the first member's deflate stream
    path.write_bytes(bytes(damaged))
    lines = []
    store = ResponseStore(tmp_path / "partial", "key", lines.append)
    assert store.load("test", np.zeros((30, 4), np.uint16), np.zeros(30, np.int64), block_size=10) == 0
    assert any("test-0000000.npz: unreadable" in line for line in lines)
    assert not path.exists()


@pytest.mark.parametrize(
    "bad",
    [
        lambda c, r: (c[:, :3], r),  # another layer size
        lambda c, r: (c.astype(np.int32), r),  # another dtype
        lambda c, r: (c, r - 1),  # a retry count below zero
        lambda c, r: (c[:7], r[:7]),  # not whole blocks, and not the end
    ],
)
def test_inconsistent_chunks_are_not_used(tmp_path, bad):
    store = ResponseStore(tmp_path / "partial", "key")
    counts, retries = np.ones((10, 4), np.uint16), np.zeros(10, np.int64)
    store.save("test", 0, *bad(counts, retries))
    assert store.load("test", np.zeros((30, 4), np.uint16), np.zeros(30, np.int64), block_size=10) == 0


def test_the_cli_says_what_is_kept_and_continues(trained_run, tmp_path, monkeypatch, one_block_per_call):
    run = shutil.copytree(trained_run, tmp_path / "run")
    real = evaluation.frozen_counts

    def stop_after_one_chunk(*args, **kwargs):
        for k, chunk in enumerate(real(*args, **kwargs)):
            if k == 1:
                raise KeyboardInterrupt
            yield chunk

    monkeypatch.setattr(evaluation, "frozen_counts", stop_after_one_chunk)
    halted = invoke("evaluate", run)
    assert halted.exit_code == 130
    assert "interrupted; the finished responses are kept in" in halted.output
    monkeypatch.setattr(evaluation, "frozen_counts", real)
    resumed = invoke("evaluate", run)
    assert resumed.exit_code == 0, resumed.output
    assert "assign: 10 of 40 images' responses kept from an interrupted evaluation" in resumed.output
    assert not (run / EVAL_PARTIAL_DIR).exists()
