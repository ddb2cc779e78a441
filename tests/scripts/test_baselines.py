"""scripts/experiments/baselines.py: the selection protocol, the baseline features, and a
whole report on a tiny synthetic run (its trained layer's voting must equal its own
evaluation's, and a rerun must take everything from the cache)."""

import json

import numpy as np
import pytest
from helpers.runs import make_data_dir, tiny_run
from helpers.scripts import load_script

from stdp_mnist import linear
from stdp_mnist.config import Config
from stdp_mnist.data import DATASETS, MNIST_FILES, load_configured, md5_file
from stdp_mnist.readout import N_CLASSES
from stdp_mnist.rundir import read_evaluation

baselines = load_script("experiments/baselines")


class FakeReadout:
    """Predicts column 0 of the features plus a class offset."""

    def __init__(self, offset):
        self.offset, self.iterations = offset, 7

    def predict(self, x):
        return (x[:, 0].astype(np.int64) + self.offset) % N_CLASSES


def test_selection_takes_the_best_validation_score_and_refits_it_on_every_training_row(monkeypatch):
    labels = np.arange(30) % N_CLASSES
    train_x = labels[:, None].astype(np.float64)
    test_x = np.arange(12)[:, None] % N_CLASSES
    scores = {(t, c): 0.5 for t in baselines.TRANSFORMS for c in baselines.GRID_C}
    scores["sqrt", 0.1] = scores["log1p", 0.01] = 0.9  # a tie: the earlier transform wins
    seen, fits = [], []
    monkeypatch.setattr(
        baselines, "validation_scores", lambda x, y, n, log: seen.append((len(x), n)) or scores
    )
    monkeypatch.setattr(
        baselines.linear,
        "fit",
        lambda x, y, transform, c: fits.append((len(x), transform, c)) or FakeReadout(1),
    )
    row = baselines.select_and_test(
        train_x, labels, test_x, (test_x[:, 0] + 1) % N_CLASSES, 10, lambda _: None
    )
    assert seen == [(30, 10)] and fits == [(30, "sqrt", 0.1)]  # chosen on the split, refitted on all 30 rows
    assert (row["transform"], row["c"], row["validation"]) == ("sqrt", 0.1, 0.9)
    assert row["linear"] == 1.0 and row["iterations"] == 7
    assert row["best_per_transform"] == {"none": 0.5, "sqrt": 0.9, "log1p": 0.9}
    scores["counts", 0.0001] = 0.9
    assert baselines.select_and_test(train_x, labels, test_x, test_x[:, 0], 10, lambda _: None)["c"] == 0.0001


def test_validation_scores_are_those_of_separate_package_fits_on_the_split(monkeypatch):
    gen = np.random.default_rng(0)
    labels = gen.integers(0, 3, 160)
    counts = gen.poisson(1.0 + 3.0 * np.eye(3)[labels] @ gen.random((3, 12)))  # 12 features, class-dependent
    monkeypatch.setattr(baselines, "GRID_C", (1e-3, 1.0, 10.0))
    scores = baselines.validation_scores(counts, labels, 40, lambda _: None)
    assert sorted(scores) == sorted((t, c) for t in baselines.TRANSFORMS for c in baselines.GRID_C)
    for (transform, c), score in scores.items():
        separate = linear.fit(counts[:120], labels[:120], transform, c)
        assert score == pytest.approx(np.mean(separate.predict(counts[120:]) == labels[120:]), abs=1 / 40)
    assert max(scores.values()) > 0.6  # the features carry the class


def test_the_grid_reaches_well_below_the_package_default():
    assert min(baselines.GRID_C) == pytest.approx(1e-4) and max(baselines.GRID_C) == pytest.approx(100.0)
    assert set(baselines.TRANSFORMS) <= set(linear.TRANSFORMS)


def test_random_projection_is_a_seeded_rectified_gaussian_projection():
    pixels = np.random.default_rng(1).integers(0, 256, (5, 784)).astype(np.uint8)
    features = baselines.random_projection(pixels, 7, seed=3)
    weights = np.random.default_rng(3).standard_normal((784, 7)) / 28.0
    np.testing.assert_allclose(features, np.maximum(pixels / 255.0 @ weights, 0.0), rtol=1e-4, atol=1e-5)
    assert features.dtype == np.float32 and (features == 0).any() and (features > 0).any()
    np.testing.assert_array_equal(features, baselines.random_projection(pixels, 7, seed=3))
    assert not np.array_equal(features, baselines.random_projection(pixels, 7, seed=4))


def test_kmeans_voting_labels_centroids_by_majority():
    gen = np.random.default_rng(0)
    centres = gen.integers(0, 256, (3, 784))
    cluster = np.repeat([0, 1, 2], 20)
    train = np.clip(centres[cluster] + gen.normal(0, 3, (60, 784)), 0, 255).astype(np.uint8)
    train_labels = np.array([2, 5, 7])[cluster]
    train_labels[0] = 9  # one stray label does not outvote 19
    test = np.clip(centres[[2, 0, 1]] + gen.normal(0, 3, (3, 784)), 0, 255).astype(np.uint8)
    result = baselines.kmeans_voting(train, train_labels, test, np.array([7, 2, 5]), n=3, seed=0)
    assert result["voting"] == 1.0
    assert (
        baselines.kmeans_voting(train, train_labels, test, np.array([7, 2, 9]), n=3, seed=0)["voting"]
        == 2 / 3
    )


@pytest.mark.parametrize(
    "text, message", [("100=", "SIZE=RUN_DIR"), ("a=runs/x", "SIZE=RUN_DIR"), ("runs/x", "SIZE=RUN_DIR")]
)
def test_bad_runs_are_one_line_errors(text, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        baselines.main(["--sizes", "100", "--runs", text])
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_run_of_another_size_and_a_missing_run_are_one_line_errors(tmp_path, capsys):
    run = tiny_run(tmp_path, evaluated=False)
    for argv, message in (
        (["--sizes", "5", "--runs", f"5={run}"], "has 6 neurons, not 5"),
        (["--sizes", "6", "--runs", f"6={tmp_path / 'none'}"], "no such run directory"),
        (["--sizes", "6", "--runs", f"7={run}"], "not in --sizes"),
        (["--sizes", "6,x"], "whole numbers"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            baselines.main([*argv, "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out.md")])
        assert exit_info.value.code != 0
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out.md").exists()


def test_predictions_survive_rows_json_as_digits():
    predictions = np.array([0, 9, 3, 3, 7], dtype=np.int64)
    assert baselines.as_digits(predictions) == "09337"
    assert np.array_equal(
        baselines.from_digits(json.loads(json.dumps(baselines.as_digits(predictions)))), predictions
    )


def test_paired_tests_compare_the_trained_layer_with_each_baseline_of_its_size_on_the_same_images():
    labels = np.arange(8)
    right_first = lambda k: baselines.as_digits(np.where(labels < k, labels, (labels + 1) % N_CLASSES))  # noqa: E731
    rows = [
        {"name": "raw pixels", "n": None, "linear": 2 / 8, "linear_predictions": right_first(2)},
        {"name": "random projection + ReLU", "n": 6, "linear": 1.0, "linear_predictions": right_first(8)},
        {
            "name": "untrained spiking layer",
            "n": 6,
            "linear": 0.5,
            "linear_predictions": right_first(4),
            "voting": 0.0,
            "voting_predictions": right_first(0),
        },
        {
            "name": baselines.TRAINED,
            "n": 6,
            "linear": 1.0,
            "linear_predictions": right_first(8),
            "voting": 1.0,
            "voting_predictions": right_first(8),
        },
        {"name": "k-means", "n": 400, "voting": 1.0, "voting_predictions": right_first(8)},
    ]  # another size
    cells = [line.strip("| ").split(" | ") for line in baselines.paired_tests(rows, labels)]
    against = [(c[1], c[2]) for c in cells]
    assert against == [
        ("linear", "raw pixels"),
        ("linear", "random projection + ReLU"),
        ("linear", "untrained spiking layer"),
        ("voting", "untrained spiking layer"),
    ]
    # (only trained right, only other right, p to the two digits shown, verdict), by hand: p = 2 * 0.5**discordant
    assert [(c[6], c[7], float(c[8]), c[9]) for c in cells] == [
        ("6", "0", pytest.approx(2 * 0.5**6, rel=0.05), "trained ahead"),
        ("0", "0", 1.0, "level"),
        ("4", "0", pytest.approx(2 * 0.5**4, rel=0.05), "level"),
        ("8", "0", pytest.approx(2 * 0.5**8, rel=0.05), "trained ahead"),
    ]
    assert cells[0][5] == "+75.00"


def test_report_on_a_tiny_run_matches_its_evaluation_and_reruns_from_the_cache(tmp_path, monkeypatch):
    run = tiny_run(tmp_path, evaluated=True)
    monkeypatch.setattr(baselines, "GRID_C", (0.01, 1.0))  # a short grid keeps the test quick
    argv = [
        "--sizes",
        "6",
        "--runs",
        f"6={run}",
        "--cache",
        str(tmp_path / "cache"),
        "--out",
        str(tmp_path / "out.md"),
        "--n-validate",
        "10",
    ]
    baselines.main(argv)
    page = (tmp_path / "out.md").read_text()
    assert "python scripts/experiments/baselines.py --sizes 6" in page
    rows = [line for line in page.splitlines() if line.startswith("| ") and "---" not in line]
    names = [line.split(" | ")[0][2:] for line in rows[1:6]]
    assert names == [
        "raw pixels",
        "random projection + ReLU",
        "untrained spiking layer",
        "trained spiking layer",
        "k-means",
    ]
    evaluated = read_evaluation(run).accuracy_all
    trained = rows[4].split(" | ")
    assert trained[2] == f"{evaluated:.4f}"  # 'all' voting: the run's own evaluation, bit for bit
    assert f"accuracy_all is {evaluated:.4f} (identical)" in page
    assert int(trained[6]) >= 1 and float(trained[5]) > 0  # distinct winners, spikes per example
    paired = [line for line in rows if line.startswith("| 6 | ")]
    assert [line.split(" | ")[2] for line in paired] == [name for name, _ in baselines.PAIRED_WITH]

    def no_simulation(*args, **kwargs):
        raise AssertionError("a rerun simulated again")

    monkeypatch.setattr(baselines, "stage_responses", no_simulation)
    monkeypatch.setattr(baselines, "select_and_test", no_simulation)
    (tmp_path / "out.md").unlink()
    baselines.main(argv)
    assert (tmp_path / "out.md").read_text().split("\n", 3)[3] == page.split("\n", 3)[3]
    assert "Rows taken from the cache" not in page  # every row was timed under the header's settings

    computed_with = baselines.process_settings()
    monkeypatch.setattr(
        baselines, "process_settings", lambda: "niceness 19, 7 numba thread(s), 7 BLAS thread(s)"
    )
    baselines.main(argv)
    assert (
        f"Rows taken from the cache were computed, and timed, in earlier invocations: {computed_with}: raw "
        "pixels 784, random projection + ReLU 6, untrained spiking layer 6, trained spiking layer 6, k-means 6."
    ) in (tmp_path / "out.md").read_text()


def test_only_some_feature_sets_of_another_dataset(tmp_path, monkeypatch):
    """--dataset fashion-mnist --only random-projection,k-means: those rows alone, on that
    dataset's (checksum-verified) files, cached under keys that name it."""
    data_dir = make_data_dir(tmp_path / "fashion")
    for name in MNIST_FILES.values():
        monkeypatch.setitem(DATASETS["fashion-mnist"].md5, name, md5_file(data_dir / name))
    monkeypatch.setattr(baselines, "GRID_C", (0.01,))
    argv = ["--dataset", "fashion-mnist", "--data-dir", str(data_dir), "--sizes", "6", "--n-validate", "10"]
    argv += ["--only", "random-projection,k-means", "--cache", str(tmp_path / "cache")]
    baselines.main([*argv, "--out", str(tmp_path / "out.md")])
    page = (tmp_path / "out.md").read_text()
    assert page.startswith("# Baselines: what does STDP add? (Fashion-MNIST)\n")
    rows = [
        line.split(" | ")[0][2:] for line in page.splitlines() if line.startswith("| ") and "| 6 |" in line
    ]
    assert rows[:2] == ["random projection + ReLU", "k-means"]
    keys = json.loads((tmp_path / "cache" / baselines.ROWS_FILE).read_text())
    assert sorted(key.split("|")[0] for key in keys) == ["k-means", "random projection + ReLU"]
    assert all(key.endswith("|fashion-mnist") for key in keys)


def test_a_run_of_another_dataset_or_an_unknown_feature_set_is_one_line_error(tmp_path, capsys):
    run = tiny_run(tmp_path, evaluated=False)
    for argv, message in (
        (["--sizes", "6", "--runs", f"6={run}", "--dataset", "fashion-mnist"], "trained on mnist"),
        (["--sizes", "6", "--only", "kmeans"], "--only 'kmeans': expected some of pixels"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            baselines.main([*argv, "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out.md")])
        assert exit_info.value.code != 0
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err


def test_kmeans_on_the_validation_split_fits_on_the_first_images_and_scores_the_held_out_ones(
    tmp_path, monkeypatch
):
    """--split validation --train-images 20 (the split at image 30 here): k-means fitted and
    labelled on training images 0-19, scored on 30-39; the page and the cache say so."""
    data_dir = make_data_dir(tmp_path / "mnist")
    for name in MNIST_FILES.values():
        monkeypatch.setitem(DATASETS["mnist"].md5, name, md5_file(data_dir / name))
    monkeypatch.setattr(baselines, "VALIDATION_START", 30)
    calls = []
    real = baselines.kmeans_voting
    monkeypatch.setattr(baselines, "kmeans_voting", lambda *args: calls.append(args) or real(*args))
    argv = ["--split", "validation", "--train-images", "20", "--sizes", "6", "--only", "k-means"]
    argv += ["--data-dir", str(data_dir), "--cache", str(tmp_path / "cache")]
    baselines.main([*argv, "--out", str(tmp_path / "out.md")])
    full = load_configured(Config().replace(data={"dir": str(data_dir)}))
    (fit_images, fit_labels, scored_images, scored_labels, n, _seed) = calls[0]
    np.testing.assert_array_equal(fit_images, full.train_images[:20])
    np.testing.assert_array_equal(fit_labels, full.train_labels[:20])
    np.testing.assert_array_equal(scored_images, full.train_images[30:])
    np.testing.assert_array_equal(scored_labels, full.train_labels[30:])
    assert n == 6
    page = (tmp_path / "out.md").read_text()
    assert (
        "Every accuracy is on the 10 validation images, training images 30-39, which neither fitting" in page
    )
    assert "linear readout's transform" not in page and "Best accuracy of each transform" not in page
    keys = json.loads((tmp_path / "cache" / baselines.ROWS_FILE).read_text())
    assert list(keys) == [
        f"k-means|6|seed0|v2|10000|{baselines.GRID_C}|{baselines.TRANSFORMS}|20|10|validation"
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--split", "validation", "--only", "random-projection"],
            "--split validation: scores only --only k-means",
        ),
        (["--split", "validation"], "--split validation: scores only --only k-means"),
        (["--train-images", "10", "--only", "k-means"], "--train-images: only with --split validation"),
    ],
)
def test_the_validation_split_refuses_what_it_cannot_score_in_one_line(extra, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        baselines.main(
            ["--sizes", "6", *extra, "--cache", str(tmp_path / "c"), "--out", str(tmp_path / "o.md")]
        )
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_the_validation_split_needs_its_training_images_before_the_split(tmp_path, monkeypatch, capsys):
    data_dir = make_data_dir(tmp_path / "mnist")
    for name in MNIST_FILES.values():
        monkeypatch.setitem(DATASETS["mnist"].md5, name, md5_file(data_dir / name))
    monkeypatch.setattr(baselines, "VALIDATION_START", 30)
    argv = ["--split", "validation", "--train-images", "31", "--sizes", "6", "--only", "k-means"]
    with pytest.raises(SystemExit) as exit_info:
        baselines.main(
            [
                *argv,
                "--data-dir",
                str(data_dir),
                "--cache",
                str(tmp_path / "c"),
                "--out",
                str(tmp_path / "o.md"),
            ]
        )
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip()
    assert "--train-images 31: the validation split fits on 1 to 30 training images" in err, err
