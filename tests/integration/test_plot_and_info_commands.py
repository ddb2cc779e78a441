"""`stdp-mnist plot` and `stdp-mnist info` on tiny synthetic runs, one evaluated and one
only trained (no MNIST needed): which figures each draws and what info reports."""

import json
import os
import shutil

import numpy as np
from helpers.cli import error_line, invoke, only_error_line
from helpers.images import assert_png

from stdp_mnist import plots
from stdp_mnist.model_file import open_model
from stdp_mnist.rundir import read_evaluation, read_records, run_dir_lock

ALL_FIGURES = (
    "receptive_fields",
    "theta",
    "learning_curve",
    "assignments",
    "confusion_all",
    "confusion_proportion",
    "example_test0",
)


def test_plot_command_draws_every_figure(evaluated_run, tmp_path, drawn):
    out = tmp_path / "figs"
    result = invoke("plot", evaluated_run, "--out", out)
    assert result.exit_code == 0, result.output
    for name in ALL_FIGURES:
        assert_png(out / f"{name}.png")
        assert str(out / f"{name}.png") in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{name}.png" for name in ALL_FIGURES)
    # what the figures show is the run's own data
    figures = {fig._suptitle.get_text().split(" (")[0].split(":")[0]: fig for fig in drawn}
    weights = open_model(evaluated_run).network.weights
    (mosaic,) = figures["Receptive fields"].axes[0].get_images()
    np.testing.assert_array_equal(mosaic.get_array().filled(np.nan), plots.receptive_field_mosaic(weights))
    with np.load(evaluated_run / "assignments.npz") as npz:
        assignments = npz["assignments"]
    bars = figures["Neuron assignments"].axes[1]
    assert [b.get_height() for b in bars.patches] == np.bincount(
        assignments[assignments >= 0], minlength=10
    ).tolist()
    metrics = read_evaluation(evaluated_run)
    confusions = [fig for title, fig in figures.items() if title.startswith("Confusion")]
    shown = sorted(fig.axes[0].get_images()[0].get_array().tolist() for fig in confusions)
    assert shown == sorted([metrics.confusion_all, metrics.confusion_proportion])
    records = read_records(evaluated_run)
    theta = figures["Learning curve"].axes[2]
    assert theta.get_lines()[0].get_ydata().tolist() == [r.mean_theta_mv for r in records]


def test_plot_command_default_dir_and_choice(evaluated_run):
    result = invoke(
        "plot", evaluated_run, "--what", "theta", "--what", "confusion", "--what", "example", "--example", "3"
    )
    assert result.exit_code == 0, result.output
    figures = evaluated_run / "figures"
    for name in ("theta", "confusion_all", "confusion_proportion", "example_test3"):
        assert_png(figures / f"{name}.png")
    assert not (figures / "receptive_fields.png").exists()


def test_plot_command_on_unevaluated_run(trained_run, tmp_path):
    out = tmp_path / "figs"
    result = invoke("plot", trained_run, "--out", out)  # all: what the run has the files for
    assert result.exit_code == 0, result.output
    for name in ("receptive_fields", "theta", "learning_curve", "example_test0"):
        assert_png(out / f"{name}.png")
    assert not (out / "assignments.png").exists() and not (out / "confusion_all.png").exists()
    assert "skipped assignments" in result.stderr and "evaluate" in result.stderr
    only_error_line(invoke("plot", trained_run, "--what", "confusion", "--out", out), "evaluate")


def test_plot_command_errors(tmp_path, evaluated_run):
    only_error_line(invoke("plot", tmp_path / "nothing"), "nothing")
    result = invoke("plot", evaluated_run, "--what", "scatter")
    assert result.exit_code != 0 and "scatter" in result.output
    error_line(
        invoke("plot", evaluated_run, "--what", "example", "--example", "99999", "--out", tmp_path / "f"),
        "99999",
    )


def test_info_command(evaluated_run, trained_run):
    result = invoke("info", evaluated_run)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 excitatory neurons" in out and "12 / 12 examples" in out and "finished" in out
    assert "network.n_excitatory=6" in out
    last = json.loads((evaluated_run / "metrics.jsonl").read_text().splitlines()[-1])
    assert f"running accuracy {last['running_accuracy']:.3f}" in out
    metrics = read_evaluation(evaluated_run)
    assert f"accuracy {metrics.accuracy_all:.4f}" in out
    for name in ("config.toml", "model.npz", "metrics.jsonl", "metrics.json", "assignments.npz"):
        assert name in out
    result = invoke("info", trained_run)
    assert result.exit_code == 0 and "evaluation: none yet" in result.stdout


def test_info_tells_a_stopped_run_from_one_training_now(trained_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    config = run / "config.toml"
    config.write_text(config.read_text().replace("max_examples = 12", "max_examples = 20"))
    stopped = invoke("info", run).stdout
    assert "12 / 20 examples (60.0%), stopped; continue with: stdp-mnist train --resume" in stopped
    with run_dir_lock(run, "train"):
        training_now = invoke("info", run).stdout
    assert (
        f"12 / 20 examples (60.0%) at the last checkpoint; training now, by pid {os.getpid()}" in training_now
    )


def test_info_command_errors(tmp_path):
    only_error_line(invoke("info", tmp_path / "nothing"), "nothing")
    (tmp_path / "empty").mkdir()
    only_error_line(invoke("info", tmp_path / "empty"), "config.toml")


def test_plot_mechanisms_draws_them_and_skips_prototypes_without_snapshots(evaluated_run, tmp_path):
    out = tmp_path / "mech"
    result = invoke("plot", evaluated_run, "--what", "mechanisms", "--out", out)
    assert result.exit_code == 0, result.output
    for name in (
        "mechanism_neuron",
        "mechanism_stdp_window",
        "mechanism_encoding_test0",
        "mechanism_inhibition_test0",
    ):
        assert_png(out / f"{name}.png")
    assert "skipped prototypes" in result.stderr and "run.snapshot_every" in result.stderr
    failed = invoke("plot", evaluated_run, "--what", "prototypes", "--out", out)
    error_line(failed, "snapshot")


def test_plot_prototypes_from_a_run_that_kept_snapshots(tmp_path):
    from helpers.runs import blob_images, tiny_config
    from PIL import Image

    from stdp_mnist import training

    run = tmp_path / "run"
    training.train(tiny_config(training={"max_examples": 8}, run={"snapshot_every": 2}), run, blob_images(8))
    result = invoke("plot", run, "--what", "prototypes")
    assert result.exit_code == 0, result.output
    assert_png(run / "figures" / "prototypes.png")
    with Image.open(run / "figures" / "prototypes.gif") as gif:
        assert gif.n_frames == 5  # examples 0, 2, 4, 6, 8
