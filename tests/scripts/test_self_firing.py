"""scripts/experiments/self_firing.py: the theta of each copy, the paired test, and the
whole experiment on a tiny network with thetas forced below the self-firing line."""

import shutil

import numpy as np
import pytest
from helpers.runs import tiny_run
from helpers.scripts import load_script

from stdp_mnist import evaluation
from stdp_mnist.config import Config
from stdp_mnist.network import load_network, save_network, self_firing_theta_mv
from stdp_mnist.rundir import CONFIG_FILE, MODEL_FILE, read_evaluation, read_npz, read_run_config

self_firing = load_script("experiments/self_firing")

FORCED = [1, 4]  # the neurons pushed below the line
COPIES = ("original", "lifted", "silenced")


def test_copies_lift_or_silence_exactly_the_neurons_below_the_line():
    cfg = Config()
    assert self_firing_theta_mv(cfg) == 7.0
    theta = np.array([0.5, 6.999, 7.0, 30.0])
    np.testing.assert_array_equal(self_firing.variant_theta(cfg, theta, "original"), theta)
    np.testing.assert_array_equal(self_firing.variant_theta(cfg, theta, "lifted"), [7.0, 7.0, 7.0, 30.0])
    # threshold -72 mV + theta lies 100 mV above the highest potential (E_exc = 0 mV)
    assert self_firing.silenced_theta_mv(cfg) == 172.0
    np.testing.assert_array_equal(
        self_firing.variant_theta(cfg, theta, "silenced"), [172.0, 172.0, 7.0, 30.0]
    )
    # with a margin of 1 mV the neurons below 8 mV are treated
    np.testing.assert_array_equal(self_firing.variant_theta(cfg, theta, "lifted", 1.0), [8.0, 8.0, 8.0, 30.0])
    np.testing.assert_array_equal(
        self_firing.variant_theta(cfg, theta, "silenced", 1.0), [172.0, 172.0, 172.0, 30.0]
    )


def test_copies_are_the_original_then_both_treatments_per_margin():
    assert self_firing.copies([0.0, 0.5]) == [
        ("original", "original", 0.0),
        ("lifted", "lifted", 0.0),
        ("silenced", "silenced", 0.0),
        ("lifted-margin0.5mV", "lifted", 0.5),
        ("silenced-margin0.5mV", "silenced", 0.5),
    ]
    assert self_firing.parse_margins("0, 1.5") == [0.0, 1.5]
    for bad in ("", "x", "-1", "1,1", "nan"):
        with pytest.raises(self_firing.ConfigError):
            self_firing.parse_margins(bad)


@pytest.fixture(scope="module")
def forced_run(tmp_path_factory):
    """A tiny trained run (6 neurons) whose neurons FORCED have theta 0 mV, below the 7 mV line."""
    run = tiny_run(tmp_path_factory.mktemp("self-firing"), evaluated=False)
    cfg = read_run_config(run)
    network = load_network(run / MODEL_FILE, cfg)
    network.theta[FORCED] = 0.0
    save_network(network, run / MODEL_FILE, cfg.model_hash(), cfg.model_values())
    return run


def test_the_experiment_on_a_tiny_network_with_forced_self_firing_neurons(forced_run, tmp_path):
    source_model = (forced_run / MODEL_FILE).read_bytes()
    out, report = tmp_path / "copies", tmp_path / "self-firing.md"
    argv = [str(forced_run), "--out", str(out), "--report", str(report), "--set", "evaluation.n_test=15"]
    self_firing.main(argv)
    assert (forced_run / MODEL_FILE).read_bytes() == source_model  # the run itself is never written
    cfg = read_run_config(forced_run)
    theta = {name: load_network(out / name / MODEL_FILE, cfg).theta for name in COPIES}
    np.testing.assert_array_equal(theta["original"], load_network(forced_run / MODEL_FILE, cfg).theta)
    np.testing.assert_array_equal(theta["lifted"][FORCED], [7.0, 7.0])
    np.testing.assert_array_equal(theta["silenced"][FORCED], [172.0, 172.0])
    for name in ("lifted", "silenced"):  # only the forced neurons changed
        np.testing.assert_array_equal(np.delete(theta[name], FORCED), np.delete(theta["original"], FORCED))
    metrics = {name: read_evaluation(out / name) for name in COPIES}
    assert [metrics[name].self_firing_neurons for name in COPIES] == [2, 0, 0]
    assert all(m.n_test == 15 for m in metrics.values())  # the --set override reached every copy
    silenced_rates = read_npz(out / "silenced" / "assignments.npz")["class_rates"]
    assert (silenced_rates[FORCED] == 0).all()  # silenced neurons never fired in the assignment run
    assert metrics["original"].test_spikes_per_example > metrics["silenced"].test_spikes_per_example
    page = report.read_text()
    assert "**2 of 6 neurons are below the line**" in page
    assert "self_firing.py " + str(forced_run) in page
    assert page.count("| lifted | ") == 4 and page.count("| silenced | ") == 4  # results row + three tests
    for name, changed in zip(COPIES, (0, 2, 2), strict=True):
        assert (
            f"| {name} | {changed} | {metrics[name].self_firing_neurons} | {metrics[name].accuracy_all:.4f} |"
        ) in page
    busiest_share = float(page.split("| original | ")[1].split(" | ")[7].split()[0])
    assert busiest_share > 0.3  # a forced neuron fires with no input and takes a large share


def test_a_rerun_reuses_the_finished_evaluations(forced_run, tmp_path, monkeypatch):
    argv = [
        str(forced_run),
        "--out",
        str(tmp_path / "copies"),
        "--margins",
        "0,100",
        "--set",
        "evaluation.n_test=10",
    ]
    self_firing.main(argv)
    first = (tmp_path / "copies" / "self-firing.md").read_text()
    silent = first.split("| silenced-margin100mV | ")[1].split(" | ")
    assert silent[:2] == ["6", "0"] and silent[5:7] == [
        "0.00",
        "0",
    ]  # 100 mV silences all: no spike, no winner
    monkeypatch.setattr(self_firing, "evaluate_network", lambda *a, **k: pytest.fail("evaluated again"))
    self_firing.main(argv)
    assert (tmp_path / "copies" / "self-firing.md").read_text() == first


def test_a_damaged_metrics_file_is_evaluated_again_from_the_kept_responses(forced_run, tmp_path, monkeypatch):
    argv = [str(forced_run), "--out", str(tmp_path / "copies"), "--set", "evaluation.n_test=10"]
    self_firing.main(argv)
    first = (tmp_path / "copies" / "self-firing.md").read_text()
    (tmp_path / "copies" / "lifted" / "metrics.json").write_text("{ torn")
    evaluated, real = [], self_firing.evaluate_network
    monkeypatch.setattr(self_firing, "evaluate_network", lambda *a, **k: evaluated.append(1) or real(*a, **k))
    monkeypatch.setattr(evaluation.kernel, "frozen_responses", lambda *a, **k: pytest.fail("simulated again"))
    self_firing.main(argv)
    assert evaluated == [1] and (tmp_path / "copies" / "self-firing.md").read_text() == first


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--set", "network.n_excitatory=4"], "only evaluation.* and data.* keys"),
        (["--set", "evaluation.n_test=-1"], "evaluation.n_test"),
    ],
)
def test_bad_overrides_are_one_line_errors(forced_run, tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        self_firing.main([str(forced_run), "--out", str(tmp_path / "copies"), *extra])
    assert exit_info.value.code != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_a_missing_run_or_an_output_inside_the_run_is_a_one_line_error(forced_run, tmp_path, capsys):
    bad_model = tmp_path / "bad"
    shutil.copytree(forced_run, bad_model)
    (bad_model / MODEL_FILE).write_bytes(b"not a model")
    for argv, message in (
        ([str(tmp_path / "none"), "--out", str(tmp_path / "c")], "no such run directory"),
        ([str(forced_run), "--out", str(forced_run / "copies")], "outside the run directory"),
        ([str(bad_model), "--out", str(tmp_path / "c")], "not a readable model file"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            self_firing.main(argv)
        assert exit_info.value.code != 0
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not (forced_run / "copies").exists() and (forced_run / CONFIG_FILE).is_file()
