"""Tests for the stdp-mnist command line: one-line errors and a tiny end-to-end run on
synthetic IDX files (no MNIST, no network)."""

import json

import numpy as np
import pytest
from helpers.cli import error_line, invoke, only_error_line, run_cli
from helpers.runs import TINY_TOML, make_data_dir

from stdp_mnist.config import load_config
from stdp_mnist.data import MNIST_FILES
from stdp_mnist.rundir import read_evaluation

# --- one-line errors ---------------------------------------------------------------


def test_malformed_config_file(tmp_path, data_dir):
    bad = tmp_path / "bad.toml"
    bad.write_text("[network\nn_excitatory = 4\n")
    result = invoke("train", "--config", bad, "--run-dir", tmp_path / "run")
    only_error_line(result, "bad.toml", "TOML")
    assert not (tmp_path / "run").exists()


def test_missing_config_file(tmp_path, data_dir):
    only_error_line(
        invoke("train", "--config", tmp_path / "nope.toml", "--run-dir", tmp_path / "run"), "nope.toml"
    )


def test_unknown_key_in_config(tmp_path, data_dir):
    path = tmp_path / "c.toml"
    path.write_text("[network]\nn_exc = 4\n")
    only_error_line(invoke("train", "--config", path, "--run-dir", tmp_path / "run"), "network.n_exc")


def test_out_of_range_value_in_config(tmp_path, data_dir):
    path = tmp_path / "c.toml"
    path.write_text("[stdp]\nnu_pre = 1.5\n")
    only_error_line(invoke("train", "--config", path, "--run-dir", tmp_path / "run"), "stdp.nu_pre")


def test_set_without_equals(tmp_path, data_dir, config_file):
    only_error_line(
        invoke(
            "train", "--config", config_file, "--run-dir", tmp_path / "run", "--set", "network.n_excitatory"
        ),
        "network.n_excitatory",
        "section.key=value",
    )


def test_set_unknown_key(tmp_path, data_dir, config_file):
    only_error_line(
        invoke("train", "--config", config_file, "--run-dir", tmp_path / "run", "--set", "network.neurons=4"),
        "network.neurons",
    )


def test_set_bad_value(tmp_path, data_dir, config_file):
    only_error_line(
        invoke(
            "train",
            "--config",
            config_file,
            "--run-dir",
            tmp_path / "run",
            "--set",
            "network.n_excitatory=many",
        ),
        "network.n_excitatory",
    )


def test_evaluate_nonexistent_run_dir(tmp_path, data_dir):
    only_error_line(invoke("evaluate", tmp_path / "nothing"), "nothing")


def test_evaluate_dir_that_is_not_a_run(tmp_path, data_dir):
    (tmp_path / "stuff").mkdir()
    only_error_line(invoke("evaluate", tmp_path / "stuff"), "stuff", "config.toml")


def test_evaluate_dir_without_model(tmp_path, data_dir, no_md5, config_file):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(TINY_TOML + f'\n[data]\ndir = "{data_dir}"\n')
    only_error_line(invoke("evaluate", run), "model.npz")


def test_resume_nonexistent_dir(tmp_path, data_dir):
    only_error_line(invoke("train", "--resume", tmp_path / "nothing"), "nothing")


def test_resume_with_config_is_refused(tmp_path, data_dir, config_file):
    only_error_line(invoke("train", "--resume", tmp_path / "x", "--config", config_file), "--resume")


@pytest.mark.parametrize("name", ["train_images", "test_labels"])
def test_truncated_idx_file(tmp_path, data_dir, no_md5, config_file, name):
    path = data_dir / MNIST_FILES[name]
    path.write_bytes(path.read_bytes()[:-7])
    result = invoke(
        "train", "--config", config_file, "--run-dir", tmp_path / "run", "--set", f"data.dir={data_dir}"
    )
    error_line(result, MNIST_FILES[name], "truncated")  # after the lines saying what train is doing


def test_synthetic_data_refused_by_md5_check(tmp_path, data_dir, config_file):
    """Without the test hook, the CLI verifies MNIST's MD5s: synthetic files are refused
    with one line naming the file (and nothing is downloaded or deleted)."""
    before = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    result = invoke(
        "train", "--config", config_file, "--run-dir", tmp_path / "run", "--set", f"data.dir={data_dir}"
    )
    error_line(result, MNIST_FILES["train_images"], "MD5")
    assert {p.name: p.read_bytes() for p in data_dir.iterdir()} == before


def test_train_into_non_empty_run_dir(tmp_path, data_dir, no_md5, config_file):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine\n")
    result = invoke("train", "--config", config_file, "--run-dir", run, "--set", f"data.dir={data_dir}")
    line = error_line(result, str(run))
    assert "--resume" in line and "--overwrite" in line
    assert (run / "notes.txt").read_text() == "mine\n"
    assert not (run / "model.npz").exists()


# --- real process: stderr is one line, no traceback ------------------------------------


def test_subprocess_invalid_toml_one_line(tmp_path):
    data_path = make_data_dir(tmp_path / "mnist")
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml\n")
    proc = run_cli("train", "--config", bad, "--run-dir", tmp_path / "run", env_data=data_path)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stdp-mnist: error:") and "bad.toml" in lines[0]
    assert proc.stdout == ""


def test_subprocess_truncated_idx_one_line(tmp_path):
    data_path = make_data_dir(tmp_path / "mnist")
    path = data_path / MNIST_FILES["train_images"]
    path.write_bytes(path.read_bytes()[:100])
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY_TOML)
    proc = run_cli(
        "train",
        "--config",
        cfg,
        "--run-dir",
        tmp_path / "run",
        "--set",
        f"data.dir={data_path}",
        env_data=data_path,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("stdp-mnist: error:")]
    assert errors == lines[-1:], (
        proc.stderr
    )  # one error line, the last, after the lines saying what train does
    assert MNIST_FILES["train_images"] in lines[-1]


# --- end to end ---------------------------------------------------------------------


def test_end_to_end_train_resume_evaluate(tmp_path, data_dir, no_md5, config_file):
    run = tmp_path / "run"
    result = invoke(
        "train", "--config", config_file, "--run-dir", run, "--set", f"data.dir={data_dir}", "--evaluate"
    )
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for name in (
        "config.toml",
        "model.npz",
        "metrics.jsonl",
        "metrics.json",
        "assignments.npz",
        "linear.npz",
    ):
        assert (run / name).is_file(), name
    assert "accuracy (all):" in result.stdout
    linear_line = next(line for line in result.stdout.splitlines() if line.startswith("accuracy (linear):"))
    assert "supervised" in linear_line  # on its own line, marked as not the paper's readout
    # the run's config is the resolved one
    resolved = load_config(config_file, [f"data.dir={data_dir}"])
    assert load_config(run / "config.toml") == resolved
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["examples_seen"] for x in lines] == [8, 16, 20]
    # the CLI gives training the labels: a running accuracy from the second window on
    assert lines[0]["running_accuracy"] is None
    assert all(0.0 <= x["running_accuracy"] <= 1.0 for x in lines[1:])
    # train and evaluate drew the figures by themselves
    figures = run / "figures"
    for name in (
        "receptive_fields",
        "theta",
        "learning_curve",
        "assignments",
        "confusion_all",
        "confusion_proportion",
        "example_test0",
    ):
        assert (figures / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert "warning" not in result.stderr
    metrics = read_evaluation(run)
    assert metrics.accuracy_linear is not None and metrics.confusion_linear is not None
    assert metrics.n_test == 20 and metrics.n_assign == 40
    assert metrics.examples_trained == 20 and metrics.n_excitatory == 4
    assert 0.0 <= metrics.accuracy_all <= 1.0 and 0.0 <= metrics.accuracy_proportion <= 1.0
    confusion = np.array(metrics.confusion_all)
    assert confusion.shape == (10, 10) and confusion.sum() == 20
    model = (run / "model.npz").read_bytes()

    # resuming a finished run: it says so, exit 0, model and figures untouched
    drawn = (figures / "theta.png").stat().st_mtime_ns
    result = invoke("train", "--resume", run)
    assert result.exit_code == 0, result.output
    assert "finished (20 examples trained); nothing to train" in result.stderr
    assert "figures" not in result.stderr and (figures / "theta.png").stat().st_mtime_ns == drawn
    assert (run / "model.npz").read_bytes() == model
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3

    # evaluating again with fewer test images
    result = invoke("evaluate", run, "--set", "evaluation.n_test=10")
    assert result.exit_code == 0, result.output
    again = read_evaluation(run)
    assert again.n_test == 10 and np.array(again.confusion_all).sum() == 10
    assert again.n_assign == 40

    # the same evaluation twice gives the same numbers (deterministic, any core count)
    invoke("evaluate", run, "--set", "evaluation.n_test=10")
    third = read_evaluation(run)
    assert {k: v for k, v in third.to_dict().items() if not k.endswith("wall_s")} == {
        k: v for k, v in again.to_dict().items() if not k.endswith("wall_s")
    }

    # the linear readout's settings can be changed at evaluation, and are validated
    result = invoke(
        "evaluate", run, "--set", "evaluation.linear_transform=log1p", "--set", "evaluation.linear_c=0.5"
    )
    assert result.exit_code == 0, result.output
    again = read_evaluation(run)
    assert (again.linear_transform, again.linear_c) == ("log1p", 0.5)
    only_error_line(invoke("evaluate", run, "--set", "evaluation.linear_transform=cube"), "linear_transform")
    only_error_line(invoke("evaluate", run, "--set", "evaluation.linear_c=0"), "linear_c")

    # a model setting cannot be changed at evaluation
    result = invoke("evaluate", run, "--set", "network.n_excitatory=3")
    only_error_line(result, "network.n_excitatory")
    # nor can the run's config be broken into a bad one
    only_error_line(invoke("evaluate", run, "--set", "evaluation.n_test=0"), "evaluation.n_test")
    only_error_line(invoke("evaluate", run, "--set", "evaluation.n_tests=5"), "evaluation.n_tests")

    # a second fresh train into the same dir is refused, --overwrite starts again
    result = invoke("train", "--config", config_file, "--run-dir", run, "--set", f"data.dir={data_dir}")
    error_line(result, "--overwrite")
    assert (run / "model.npz").read_bytes() == model
    result = invoke(
        "train", "--config", config_file, "--run-dir", run, "--set", f"data.dir={data_dir}", "--overwrite"
    )
    assert result.exit_code == 0, result.output
    assert (
        not (run / "metrics.json").exists() and not (run / "linear.npz").exists()
    )  # the old evaluation is gone
    assert not (run / "figures" / "confusion_all.png").exists()  # and its figures
    assert (run / "figures" / "receptive_fields.png").is_file()  # the new run's own
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3
    assert (run / "model.npz").read_bytes() != b""


def test_cli_trains_on_custom_idx_data(tmp_path, data_dir, config_file):
    result = invoke(
        "train",
        "--config",
        config_file,
        "--run-dir",
        tmp_path / "run",
        "--set",
        f"data.dir={data_dir}",
        "--set",
        "data.verify=false",
    )
    assert result.exit_code == 0, result.stderr


def test_version_and_help():
    assert invoke("--help").exit_code == 0
    result = invoke("--version")
    assert result.exit_code == 0 and "0." in result.output
    for command in ("train", "evaluate", "download", "plot", "predict", "info"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output


def test_figure_failure_is_a_warning_not_a_lost_run(tmp_path, data_dir, no_md5, config_file, monkeypatch):
    """Plotting runs after the model is saved and can never fail the command."""
    from stdp_mnist import plots

    def broken(*args, **kwargs):
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(plots, "plot_theta", broken)
    run = tmp_path / "run"
    result = invoke(
        "train",
        "--config",
        config_file,
        "--run-dir",
        run,
        "--set",
        f"data.dir={data_dir}",
        "--set",
        "training.max_examples=4",
    )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "theta" in warnings[0] and "no fonts today" in warnings[0]
    assert "Traceback" not in result.stderr
    assert (run / "model.npz").is_file()
    assert (run / "figures" / "receptive_fields.png").is_file() and not (
        run / "figures" / "theta.png"
    ).exists()
