"""`stdp-mnist predict` on a tiny synthetic evaluated run (no MNIST needed): hand-drawn
digits are classified deterministically, each on its own, by either readout; bad
files among good ones are one line each; self-firing neurons are warned of."""

import shutil

from helpers.cli import invoke, only_error_line, parse_predictions
from helpers.runs import tiny_run

from stdp_mnist.network import load_network, save_network
from stdp_mnist.rundir import MODEL_FILE, read_evaluation, read_run_config


def test_predict_command_on_tiny_run(evaluated_run, digits, tmp_path):
    result = invoke("predict", evaluated_run, *digits)
    assert result.exit_code == 0, result.output
    predictions = parse_predictions(result.stdout)
    assert set(predictions) == {"one.png", "zero.png"} and all(0 <= c <= 9 for c in predictions.values())
    assert result.stdout.count("probabilities:") == 2 and "spikes:" in result.stdout  # linear by default
    assert result.stdout.count("(linear readout: supervised)") == 2
    assert result.stdout.count("% probability") == 2  # a confidence cue
    for line in result.stdout.splitlines():
        if line.startswith("  probabilities:"):
            probabilities = [float(item.split(":")[1]) for item in line.split()[1:]]
            assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 0.01
    voting = invoke("predict", evaluated_run, *digits, "--readout", "all")
    assert voting.stdout.count("votes:") == 2 and voting.stdout.count("(all voting)") == 2
    assert voting.stdout.count("% of the vote") == 2
    again = invoke("predict", evaluated_run, *digits)
    assert again.stdout == result.stdout  # deterministic
    alone = invoke("predict", evaluated_run, digits[1])
    assert parse_predictions(alone.stdout)["zero.png"] == predictions["zero.png"]  # independent of the others
    shown = invoke("predict", evaluated_run, digits[0], "--show", "--out", tmp_path / "show")
    assert shown.exit_code == 0, shown.output
    figure = tmp_path / "show" / "predict_one.png"
    assert figure.read_bytes()[:4] == b"\x89PNG" and str(figure) in shown.stdout


def test_predict_command_errors(evaluated_run, digits, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    only_error_line(invoke("predict", evaluated_run, bad), "notes.png", "not an image")
    # a bad file among good ones: each good one is still classified, each bad one gets its
    # own line, and the command fails at the end
    missing = tmp_path / "missing.png"
    mixed = invoke("predict", evaluated_run, bad, digits[0], missing, digits[1])
    assert mixed.exit_code == 1 and "Traceback" not in mixed.output
    assert set(parse_predictions(mixed.stdout)) == {"one.png", "zero.png"}
    errors = mixed.stderr.strip().splitlines()
    assert len(errors) == 3 and "notes.png" in errors[0] and "missing.png" in errors[1]
    assert errors[2] == "stdp-mnist: error: 2 of 4 images could not be read (see above)"
    only_error_line(
        invoke("predict", tmp_path / "nothing", digits[0]), "nothing", "no such run directory or model file"
    )
    unevaluated = tiny_run(tmp_path / "u", evaluated=False)
    only_error_line(invoke("predict", unevaluated, digits[0]), "assignments.npz", "evaluate")
    result = invoke("predict", evaluated_run)
    assert result.exit_code != 0  # at least one image is required


def test_self_firing_neurons_are_warned_of_and_counted(evaluated_run, digits, tmp_path):
    # two neurons' theta below 7 mV (v_rest - v_thresh + theta_offset): they fire with no
    # input, which a frozen run cannot stop; evaluate and predict say so, and still work
    quiet = invoke("predict", evaluated_run, digits[0])
    assert quiet.exit_code == 0 and "fire with no input" not in quiet.stderr
    run = tmp_path / "low-theta"
    shutil.copytree(evaluated_run, run)
    cfg = read_run_config(run)
    net = load_network(run / MODEL_FILE, cfg)
    net.theta[[1, 4]] = [6.9, 0.0]
    net.theta[[0, 2, 3, 5]] = [7.0, 8.99, 9.0, 12.0]  # 7 to 9 mV: 2 just above the line
    save_network(net, run / MODEL_FILE, cfg.model_hash(), cfg.model_values())
    for command in (("evaluate", run), ("predict", run, digits[0])):
        result = invoke(*command)
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if "fire with no input" in line]
        assert len(warnings) == 1 and warnings[0].startswith("stdp-mnist: warning: 2 of 6 neurons"), (
            result.stderr
        )
        assert "below 7 mV and fire with no input (2 more are within 2 mV above that)" in warnings[0]
    assert read_evaluation(run).self_firing_neurons == 2
    assert read_evaluation(evaluated_run).self_firing_neurons == 0
