"""scripts/experiments/assignment_sources.py on a tiny trained run: its train row
reproduces the evaluation, and every source scores the same test responses."""

import numpy as np
from helpers.cli import invoke
from helpers.scripts import load_script

from stdp_mnist.rundir import read_evaluation


def test_score_assigns_by_the_given_labels():
    script = load_script("experiments/assignment_sources")
    # neuron 0 answers class 3, neuron 1 class 5; the test examples are one of each
    assign_counts = np.array([[4, 0], [0, 2], [3, 1]], np.int32)
    test_counts = np.array([[5, 0], [0, 5]], np.int32)
    assert script.score(assign_counts, np.array([3, 5, 3]), test_counts, np.array([3, 5])) == (1.0, 1.0)
    # labelled the other way round, every test example is wrong
    assert script.score(assign_counts, np.array([5, 3, 5]), test_counts, np.array([3, 5])) == (0.0, 0.0)


def test_rows_of_a_trained_run(tmp_path, data_dir, no_md5, config_file):
    run = tmp_path / "run"
    result = invoke("train", "--config", config_file, "--run-dir", run, "--evaluate")
    assert result.exit_code == 0, result.output
    rows = list(load_script("experiments/assignment_sources").run_rows(run))
    names = [name for name, _, _ in rows]
    assert names == ["train-40", "train-40", "test-20 (test labels leak)"]
    assert rows[0][1] == read_evaluation(run).accuracy_all
    assert all(0.0 <= acc <= 1.0 for _, acc_all, acc_prop in rows for acc in (acc_all, acc_prop))
