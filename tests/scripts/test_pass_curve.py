"""scripts/experiments/pass_curve.py: per-pass figures from a run's log, by
hand-checkable cases."""

import numpy as np
import pytest
from helpers.scripts import load_script

from stdp_mnist.records import Evaluation, MetricsLine


def entry(seen, wall_s, spikes, theta=10.0):
    return MetricsLine(examples_seen=seen, wall_s=wall_s, spikes_per_example=spikes, mean_theta_mv=theta)


def test_pass_rows_weight_spikes_by_examples_and_take_the_median_speed():
    script = load_script("experiments/pass_curve")
    history = [
        entry(50, 5.0, 10.0),
        entry(100, 10.0, 20.0, theta=11.0),  # pass 1: 0.1 s each
        entry(125, 1012.5, 30.0),
        entry(150, 1015.0, 30.0),
        entry(175, 1017.5, 30.0),
        entry(200, 1020.0, 30.0, theta=12.0),
    ]  # pass 2: one entry paused for 1000 s
    rows = script.pass_rows(history, per_pass=100)
    assert [row["pass"] for row in rows] == [1, 2]
    assert rows[0]["spikes_per_example"] == pytest.approx(15.0)
    assert rows[0]["wall_s"] == pytest.approx(10.0) and rows[0]["mean_theta_mv"] == 11.0
    assert rows[1]["examples"] == 100 and rows[1]["wall_s"] == pytest.approx(1010.0)
    assert rows[1]["median_s_per_example"] == pytest.approx(0.1)  # the pause does not count
    # 15 passes of 100: 1,300 examples left at 0.1 s each
    assert script.remaining_s(history, rows, 100, 15) == pytest.approx(130.0)


def test_remaining_time_before_the_first_pass_ends_uses_the_pass_in_progress():
    script = load_script("experiments/pass_curve")
    history = [entry(10, 1.0, 5.0), entry(20, 3.0, 5.0), entry(30, 5.0, 5.0)]
    assert script.pass_rows(history, per_pass=100) == []
    assert script.remaining_s(history, [], 100, 2) == pytest.approx(170 * 0.2)
    assert script.remaining_s([], [], 100, 2) is None
    assert script.remaining_s(history[:1], [], 100, 2) is None


def evaluation_json(accuracy_all: float, accuracy_linear: float | None, examples_trained: int) -> str:
    """An evaluation's metrics.json ('proportion' at 0.8; 10 images each)."""
    return Evaluation(
        accuracy_all=accuracy_all,
        accuracy_proportion=0.8,
        accuracy_linear=accuracy_linear,
        n_test=10,
        n_assign=10,
        examples_trained=examples_trained,
    ).to_json()


def test_pass_accuracies_read_the_evaluated_copy_of_that_pass(tmp_path):
    script = load_script("experiments/pass_curve")
    run = tmp_path / "big"
    (tmp_path / "big-pass2").mkdir(parents=True)
    (tmp_path / "big-pass2" / "metrics.json").write_text(evaluation_json(0.9, None, 20))
    assert script.pass_accuracies(run, 2, per_pass=10) == {"all": 0.9, "proportion": 0.8}
    assert script.pass_accuracies(run, 1, per_pass=10) == {}  # not copied or not evaluated


def test_the_last_pass_reads_the_run_itself_only_where_it_was_evaluated_there(tmp_path):
    script = load_script("experiments/pass_curve")
    run = tmp_path / "big"
    run.mkdir()
    (run / "metrics.json").write_text(evaluation_json(0.95, 0.96, 30))
    assert script.pass_accuracies(run, 3, per_pass=10) == {"all": 0.95, "proportion": 0.8, "linear": 0.96}
    assert script.pass_accuracies(run, 2, per_pass=10) == {}  # the run was evaluated after pass 3, not 2


def test_pass_self_firing_counts_theta_below_the_line_in_the_copy(tmp_path):
    from stdp_mnist.config import Config

    script = load_script("experiments/pass_curve")
    run = tmp_path / "big"
    (tmp_path / "big-pass1").mkdir(parents=True)
    np.savez(tmp_path / "big-pass1" / "model.npz", theta=np.array([5.0, 6.99, 7.0, 20.0]))
    assert script.pass_self_firing(run, 1, Config()) == 2  # below 7 mV, not at it
    (tmp_path / "big-pass2").mkdir()
    (tmp_path / "big-pass2" / "model.npz").write_bytes(b"PK\x03\x04 damaged")
    assert script.pass_self_firing(run, 2, Config()) is None
    assert script.pass_self_firing(run, 3, Config()) is None  # no copy


def test_the_table_says_when_training_is_complete(tmp_path, monkeypatch):
    from stdp_mnist.config import Config

    script = load_script("experiments/pass_curve")
    cfg = Config()  # one pass
    history = [entry(25, 2.5, 20.0), entry(50, 5.0, 20.0), entry(75, 7.5, 20.0), entry(100, 10.0, 20.0)]
    rows = script.pass_rows(history, per_pass=100)
    monkeypatch.setattr(script, "curve", lambda run_dir: (cfg, 100, history, rows, [{}]))
    assert script.table(tmp_path / "big").endswith(f"all {100 * cfg.training.passes:,} examples trained")
    monkeypatch.setattr(script, "curve", lambda run_dir: (cfg, 100, history[:3], [], []))
    assert script.table(tmp_path / "big").endswith(
        "75 of 100 examples trained; the rest needs about 0.0 h at the last pass's median speed"
    )


def test_markdown_file_is_headed_by_the_command_that_made_it(tmp_path, monkeypatch):
    script = load_script("experiments/pass_curve")
    monkeypatch.setattr(script, "report", lambda run_dir: "| pass |\n\nall 10 examples trained")
    out = tmp_path / "curve.md"
    script.main([str(tmp_path / "big"), "--markdown", str(out)])
    text = out.read_text()
    assert text.startswith("# Per-pass curve of big\n")
    assert f"`python scripts/experiments/pass_curve.py {tmp_path / 'big'} --markdown {out}`" in text
    assert text.endswith("| pass |\n\nall 10 examples trained\n")


def write_evaluation(directory, examples_trained, all_, proportion, linear):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metrics.json").write_text(evaluation_json(0.5, None, examples_trained))
    np.savez(
        directory / "assignments.npz",
        predictions_all=np.array(all_),
        predictions_proportion=np.array(proportion),
        predictions_linear=np.array(linear),
    )


def test_evaluated_passes_are_tested_against_the_last_by_hand_counted_mcnemar(tmp_path):
    script = load_script("experiments/pass_curve")
    run = tmp_path / "big"
    labels = np.array([0, 1, 2, 3, 4, 5])
    # pass 1, 'all': right on images 0-4; the run after pass 3: right on 0-1 only -> b = 3, c = 0
    write_evaluation(tmp_path / "big-pass1", 10, [0, 1, 2, 3, 4, 0], [0] * 6, [0, 1, 2, 3, 4, 5])
    write_evaluation(run, 30, [0, 1, 0, 0, 0, 0], [0] * 6, [0, 1, 2, 3, 4, 5])
    evaluated = {k: script.evaluated_at(run, k, per_pass=10) for k in (1, 2, 3)}
    assert evaluated == {1: tmp_path / "big-pass1", 2: None, 3: run}
    text = script.paired_with_last(run, {1: evaluated[1], 3: evaluated[3]}, test_labels=labels)
    assert "Each evaluated pass against pass 3, on the same 6 test images" in text
    # 3 of 3 discordant images on one side: p = 2 * 0.5**3 = 0.25
    assert "| 1 vs 3 | all | 0.8333 | 0.3333 | 3 | 0 | 0.25 | level |" in text
    assert "| 1 vs 3 | linear | 1.0000 | 1.0000 | 0 | 0 | 1 | level |" in text
    assert script.paired_with_last(run, {1: evaluated[1]}, test_labels=labels) == ""
