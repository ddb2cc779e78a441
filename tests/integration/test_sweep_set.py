"""Sweeps for a quick trial: --set on every point (its runs in a directory of their
own), out resolved like base (from the sweep file), --out, base by a shipped name,
the linear readout in the summaries, and a summary.png whose title fits and whose
categorical values are not joined by lines. Tiny networks on synthetic data."""

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import REPO_ROOT
from helpers.runs import TINY_SWEEP_BASE as TINY
from helpers.runs import make_data_dir

from stdp_mnist import cli
from stdp_mnist.config import ConfigError, config_from_dict
from stdp_mnist.rundir import read_run_config
from stdp_mnist.sweep import load_sweep, run_point, run_specs, run_sweep
from stdp_mnist.sweep.plot import summary_figure
from stdp_mnist.sweep.summary import ACCURACY_LINEAR
from stdp_mnist.sweep.sweep_file import Run, Sweep

ROOT = REPO_ROOT


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny base config in tmp/configs, and tmp/work as the working directory."""
    monkeypatch.setenv("STDP_MNIST_DATA", str(tmp_path / "no-cache"))
    data = make_data_dir(tmp_path / "data", n_train=20, n_test=10)
    (tmp_path / "configs" / "sweeps").mkdir(parents=True)
    (tmp_path / "configs" / "tiny.toml").write_text(TINY.format(data=data))
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


def sweep_file(root: Path, text: str, name: str = "s.toml") -> Path:
    path = root / "configs" / "sweeps" / name
    path.write_text('base = "../tiny.toml"\n' + text)
    return path


def test_set_applies_to_every_point_and_gets_its_own_directory(tiny):
    path = sweep_file(tiny, 'seeds = [0, 1]\n[grid]\n"network.w_max" = [1.0, 0.5]\n')
    plain = load_sweep(path)
    trial = load_sweep(path, ["training.max_examples=4", "evaluation.n_test=5"])
    assert [run.name for run in trial.runs] == [run.name for run in plain.runs]  # no new names to type
    assert plain.out == Path("runs/sweeps/s")
    assert trial.out == Path("runs/sweeps/s_training.max_examples=4_evaluation.n_test=5")
    for spec in run_specs(trial):
        cfg = config_from_dict(spec["config"])
        assert cfg.training.max_examples == 4 and cfg.evaluation.n_test == 5
    assert {config_from_dict(s["config"]).network.w_max for s in run_specs(trial)} == {1.0, 0.5}


@pytest.mark.parametrize(
    "override, message",
    [
        ("network.w_max=0.3", "swept by the sweep file"),
        ("run.seed=4", "seeds list"),
        ("network.n_exc=3", "did you mean network.n_excitatory"),
        ("nonsense", "section.key=value"),
    ],
)
def test_bad_set_is_one_line(tiny, override, message):
    path = sweep_file(tiny, '[grid]\n"network.w_max" = [1.0, 0.5]\n')
    with pytest.raises(ConfigError, match=message):
        load_sweep(path, [override])
    result = CliRunner().invoke(cli.main, ["sweep", str(path), "--set", override])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output


def test_out_is_relative_to_the_sweep_file_like_base(tiny):
    path = sweep_file(tiny, 'out = "../../runs/mine"\n')
    sweep = load_sweep(path)
    assert sweep.out.resolve() == (tiny / "runs" / "mine").resolve()
    assert sweep.base == (tiny / "configs" / "tiny.toml").resolve()
    assert load_sweep(path, out="elsewhere").out == Path("elsewhere")  # --out: from the working directory


def test_base_may_name_a_shipped_config(tiny):
    path = tiny / "configs" / "sweeps" / "shipped-base.toml"
    path.write_text('base = "quick"\n')
    assert load_sweep(path).base == (ROOT / "configs" / "quick.toml").resolve()
    path.write_text('base = "quik"\n')
    with pytest.raises(ConfigError, match="not found.*shipped: .*quick"):
        load_sweep(path)


def test_a_quick_trial_through_the_cli_with_the_linear_readout_in_every_summary(tiny):
    path = sweep_file(tiny, '[grid]\n"stdp.traces" = ["set", "increment"]\n')
    result = CliRunner().invoke(
        cli.main, ["sweep", str(path), "--workers", "1", "--set", "training.max_examples=4"]
    )
    assert result.exit_code == 0, result.output
    out = Path("runs/sweeps/s_training.max_examples=4")
    assert f"in {out}" in result.stderr and "linear readout" in result.stderr
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert [r["stdp.traces"] for r in rows] == ["set", "increment"]
    assert all(0 <= float(r[ACCURACY_LINEAR]) <= 1 and r["examples_trained"] == "4" for r in rows)
    md = (out / "summary.md").read_text()
    assert (
        "accuracy_linear" in md
        and "accuracy_linear mean" in md
        and "every point: `training.max_examples=4`" in md
    )
    assert read_run_config(out / "stdp.traces=set_seed=0").training.max_examples == 4


def test_a_run_directory_of_other_settings_is_an_error_not_a_skip(tiny):
    path = sweep_file(tiny, "")
    sweep = load_sweep(path)
    rows, _ = run_sweep(sweep, "inline")
    assert [r["status"] for r in rows] == ["done"]
    trial = load_sweep(
        path, ["training.max_examples=4"], out=str(sweep.out)
    )  # the same directory, on purpose
    row = run_point(run_specs(trial)[0])
    assert row["status"] == "error" and "training.max_examples=8, not 4" in row["error"]


def fake_rows(values: list, key: str = "network.inhibition", seeds=(0, 1)) -> list[dict]:
    return [
        {
            "name": f"{v}-{s}",
            "point": f"{key}={v}",
            "overrides": {key: v},
            "seed": s,
            "status": "done",
            "accuracy_all": 0.7 + 0.01 * i + 0.001 * s,
            "accuracy_proportion": 0.7,
            "accuracy_linear": 0.8 + 0.01 * i,
            "error": "",
        }
        for i, v in enumerate(values)
        for s in seeds
    ]


def fake_sweep(values: list, key: str = "network.inhibition", seeds=(0, 1)) -> Sweep:
    runs = tuple(Run(((key, v),), s, f"{v}-{s}") for v in values for s in seeds)
    return Sweep(
        Path("configs/sweeps/a-rather-long-sweep-file-name-100.toml"),
        Path("configs/quick.toml"),
        {},
        tuple(seeds),
        Path("out"),
        runs,
    )


def _data_line_styles(fig) -> list[str]:
    """The line style of every series' mean line (the errorbars' data lines)."""
    return sorted(container.lines[0].get_linestyle() for container in fig.axes[0].containers)


def test_categorical_values_are_separate_points_and_numbers_a_line():
    fig = summary_figure(fake_sweep(["population", "direct"]), fake_rows(["population", "direct"]))
    assert _data_line_styles(fig) == ["None", "None"]  # 'all' voting and linear readout: points, not joined
    fig = summary_figure(fake_sweep([1.0, 0.5], "network.w_max"), fake_rows([1.0, 0.5], "network.w_max"))
    assert _data_line_styles(fig) == ["-", "--"]  # 'all' voting solid, the linear readout dashed


def test_summary_title_fits_the_figure_with_one_swept_key():
    fig = summary_figure(fake_sweep(["population", "direct"]), fake_rows(["population", "direct"]))
    fig.canvas.draw()
    title = fig._suptitle.get_window_extent()
    frame = fig.bbox
    assert frame.x0 <= title.x0 and title.x1 <= frame.x1 and title.y1 <= frame.y1
    assert "linear readout" in fig._suptitle.get_text()
