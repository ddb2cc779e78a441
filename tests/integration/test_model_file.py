"""One-file models (stdp_mnist.model_file, `stdp-mnist export`): a round trip gives the
run directory's predictions, and corrupt, truncated or mismatched files are one-line
errors through the CLI."""

import dataclasses
import io
import shutil

import numpy as np
import pytest
from helpers.cli import invoke, only_error_line, run_cli
from helpers.runs import make_data_dir, tiny_run

from stdp_mnist import model_file
from stdp_mnist.model_file import ModelFileError, export_model, open_model, read_model_file
from stdp_mnist.rundir import read_evaluation


@pytest.fixture(scope="module")
def exported(evaluated_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "model.stdp.npz"
    result = invoke("export", evaluated_run, path)
    assert result.exit_code == 0, result.output
    assert str(path) in result.stdout and "6 neurons" in result.stdout
    return path


def arrays_of(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def write_arrays(path, arrays: dict) -> None:
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def test_round_trip_keeps_everything_that_classifies(evaluated_run, exported):
    from_dir, from_file = open_model(evaluated_run), read_model_file(exported)
    assert from_file.is_file and not from_dir.is_file
    assert from_file.cfg == from_dir.cfg
    for name in ("weights", "theta", "delays", "examples_seen"):
        np.testing.assert_array_equal(getattr(from_file.network, name), getattr(from_dir.network, name))
    np.testing.assert_array_equal(from_file.assignments, from_dir.assignments)
    np.testing.assert_array_equal(from_file.class_rates, from_dir.class_rates)
    np.testing.assert_array_equal(from_file.linear.coef, from_dir.linear.coef)
    assert from_file.metrics == from_dir.metrics
    stored = arrays_of(exported)
    assert (
        str(stored["format"]) == model_file.FORMAT
        and int(stored["format_version"]) == model_file.FORMAT_VERSION
    )
    assert str(stored["project_version"]) == model_file.project_version()
    assert "[network]" in str(stored["config_toml"])


@pytest.mark.parametrize("readout", ["all", "proportion", "linear"])
def test_predict_from_the_file_equals_predict_from_the_run(evaluated_run, exported, digits, readout):
    from_dir = invoke("predict", evaluated_run, *digits, "--readout", readout)
    from_file = invoke("predict", exported, *digits, "--readout", readout)
    assert from_dir.exit_code == 0 and from_file.exit_code == 0, from_dir.output + from_file.output
    assert from_file.stdout == from_dir.stdout
    assert ("probabilities:" in from_file.stdout) == (readout == "linear")


def test_evaluate_and_info_accept_the_file(evaluated_run, exported):
    result = invoke("evaluate", exported)
    assert result.exit_code == 0, result.output
    metrics = read_evaluation(evaluated_run)
    assert (
        f"accuracy (all):        {metrics.accuracy_all:.4f}" in result.stdout
    )  # evaluation is deterministic
    assert f"accuracy (linear):     {metrics.accuracy_linear:.4f}" in result.stdout
    assert "supervised" in result.stdout and "nothing written" in result.stdout
    info = invoke("info", exported)
    assert info.exit_code == 0, info.output
    assert "6 excitatory neurons" in info.stdout and "linear readout, supervised" in info.stdout


def test_export_needs_an_evaluated_run(tmp_path):
    trained = tiny_run(tmp_path / "t", evaluated=False)
    only_error_line(invoke("export", trained, tmp_path / "m.npz"), "not evaluated", "stdp-mnist evaluate")
    assert not (tmp_path / "m.npz").exists()


def test_export_refuses_an_evaluation_older_than_the_model(evaluated_run, tmp_path):
    stale = tmp_path / "stale"
    shutil.copytree(evaluated_run, stale)
    metrics = read_evaluation(stale)
    (stale / "metrics.json").write_text(dataclasses.replace(metrics, examples_trained=3).to_json())
    only_error_line(invoke("export", stale, tmp_path / "m.npz"), "older than the model")


def damaged_files(exported, tmp_path):
    """(name, path, text the error must contain) of files that must not load."""
    good = arrays_of(exported)
    raw = exported.read_bytes()
    cases = []

    def add(name, needle, **changes):
        arrays = {k: v for k, v in {**good, **changes}.items() if v is not None}
        path = tmp_path / f"{name}.npz"
        write_arrays(path, arrays)
        cases.append((name, path, needle))

    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    cases.append(("truncated", truncated, "not a readable model file"))
    flipped = tmp_path / "flipped.npz"
    flipped.write_bytes(raw[:2000] + bytes(b ^ 0xFF for b in raw[2000:2100]) + raw[2100:])
    cases.append(("flipped bytes", flipped, "not a readable model file"))
    text = tmp_path / "notes.npz"
    text.write_text("not a model")
    cases.append(("text", text, "not a readable model file"))
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    plain = tmp_path / "plain.npy"
    plain.write_bytes(buffer.getvalue())
    cases.append(("npy", plain, "model file"))
    add("other format", "not a stdp-mnist model file", format=np.array("something-else"))
    add("future version", "format 2", format_version=np.array(2))
    add("no weights", "'weights'", weights=None)
    add("weights of another size", "weights", weights=np.zeros((784, 7), np.float32))
    add("weights as float64", "weights", weights=good["weights"].astype(np.float64))
    add("nan theta", "non-finite", theta=np.full_like(good["theta"], np.nan))
    add("negative weight", "out of range", weights=good["weights"] - 5)
    add("delay beyond the config", "delays", delays=np.full_like(good["delays"], 200))
    add("class 10", "assignments", assignments=np.full_like(good["assignments"], 10))
    add(
        "config of another size",
        "weights",
        config_toml=np.array(str(good["config_toml"]).replace("n_excitatory = 6", "n_excitatory = 5")),
    )
    add("broken config", "config", config_toml=np.array("[network\n"))
    add("unknown config key", "config", config_toml=np.array("[network]\ncolour = 1\n"))
    add("linear readout of another size", "linear readout coef", linear_coef=np.zeros((10, 5)))
    add("no linear readout", "linear readout", linear_intercept=None)
    add("metrics not JSON", "metrics", metrics_json=np.array("{"))
    return cases


def test_damaged_or_mismatched_files_are_one_line_errors(exported, tmp_path, digits):
    for name, path, needle in damaged_files(exported, tmp_path):
        with pytest.raises(ModelFileError, match=needle.replace("(", r"\(")):
            read_model_file(path)
        for command in (["info", path], ["evaluate", path], ["predict", path, digits[0]]):
            result = invoke(*command)
            try:
                only_error_line(result, str(path))
            except AssertionError as exc:
                raise AssertionError(f"{name}, {command[0]}: {exc}") from None


def test_export_onto_a_directory_is_refused(evaluated_run, tmp_path):
    result = invoke("export", evaluated_run, tmp_path)  # click's own usage error
    assert result.exit_code != 0 and "is a directory" in result.output and "Traceback" not in result.output
    with pytest.raises(ModelFileError, match="is a directory"):
        export_model(evaluated_run, tmp_path)


def test_predict_linear_on_a_run_evaluated_before_the_linear_readout(evaluated_run, tmp_path, digits):
    old = tmp_path / "old"
    shutil.copytree(evaluated_run, old)
    (old / "linear.npz").unlink()
    result = invoke("predict", old, digits[0])
    assert result.exit_code == 0 and "votes:" in result.stdout and "(all voting)" in result.stdout, (
        result.output
    )
    only_error_line(invoke("predict", old, digits[0], "--readout", "linear"), "no linear readout", "evaluate")
    only_error_line(invoke("export", old, tmp_path / "m.npz"), "linear.npz", "evaluate")


def test_export_model_function_returns_the_checked_model(evaluated_run, tmp_path):
    model = export_model(evaluated_run, tmp_path / "m.npz")
    assert model.is_file and model.network.n_excitatory == 6 and model.linear is not None


def test_truncated_file_in_a_real_process_is_one_line(exported, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(exported.read_bytes()[:1000])
    data_path = make_data_dir(tmp_path / "mnist")
    for command in ("info", "evaluate"):
        proc = run_cli(command, truncated, env_data=data_path)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("stdp-mnist: error:") and "truncated.npz" in lines[0]
