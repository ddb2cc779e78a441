"""Sweeps for a quick trial: --set on every point (its runs in a directory of their
own), out resolved like base (from the sweep file), --out, base by a shipped name,
the linear readout in the summaries, and a summary.png whose title fits and whose
categorical values are not joined by lines. Tiny networks on synthetic data."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import REPO_ROOT
from helpers.runs import summary_rows

from stdp_mnist import cli
from stdp_mnist.config import ConfigError, config_from_dict
from stdp_mnist.rundir import read_run_config
from stdp_mnist.sweep import load_sweep, run_point, run_specs, run_sweep
from stdp_mnist.sweep.plot import summary_figure
from stdp_mnist.sweep.summary import ACCURACY_LINEAR
from stdp_mnist.sweep.sweep_file import Run, Sweep

ROOT = REPO_ROOT


@pytest.fixture
def tiny(sweep_base, tmp_path, monkeypatch):
    """The tiny base config in tmp/configs (conftest's sweep_base), a tmp/configs/sweeps
    folder, and tmp/work as the working directory."""
    (tmp_path / "configs" / "sweeps").mkdir()
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


def test_a_bad_set_value_is_refused_before_any_run_starts(tiny):
    path = sweep_file(tiny, '[grid]\n"stdp.traces" = ["set", "increment"]\n')
    with pytest.raises(
        ConfigError, match=r"^--set training.max_examples=abc: training.max_examples: expected"
    ):
        load_sweep(path, ["evaluation.n_test=5", "training.max_examples=abc"])
    assert not Path("runs").exists()
    result = CliRunner().invoke(cli.main, ["sweep", "seeds-10"])
    assert result.exit_code == 1 and "(did you mean seeds-100?)" in result.stderr


def test_a_shipped_sweep_copied_with_configs_name_finds_its_base(tiny):
    # `stdp-mnist configs variants-100 > v.toml` in a folder with no ../quick.toml: the
    # base falls back to the shipped config of that name
    result = CliRunner().invoke(cli.main, ["configs", "variants-100"])
    assert result.exit_code == 0 and 'base = "../quick.toml"' in result.stdout
    Path("v.toml").write_text(result.stdout)
    assert load_sweep("v.toml").base == (ROOT / "configs" / "quick.toml").resolve()


def test_a_base_not_found_says_what_it_is_relative_to(tiny):
    path = sweep_file(tiny, "")
    path.write_text('base = "../nowhere.toml"\n')
    with pytest.raises(
        ConfigError, match=r"base is relative to the sweep file's folder \(.*sweeps\): \.\./nowhere"
    ):
        load_sweep(path)


def test_a_quick_trial_through_the_cli_with_the_linear_readout_in_every_summary(tiny):
    path = sweep_file(tiny, '[grid]\n"stdp.traces" = ["set", "increment"]\n')
    result = CliRunner().invoke(
        cli.main, ["sweep", str(path), "--workers", "1", "--set", "training.max_examples=4"]
    )
    assert result.exit_code == 0, result.output
    out = Path("runs/sweeps/s_training.max_examples=4")
    assert f"in {out}" in result.stderr and "linear readout" in result.stderr
    rows = summary_rows(out)
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


def fake_sweep(values: list, key: str = "network.inhibition", seeds=(0, 1), base_data=None) -> Sweep:
    runs = tuple(Run(((key, v),), s, f"{v}-{s}") for v in values for s in seeds)
    return Sweep(
        Path("configs/sweeps/a-rather-long-sweep-file-name-100.toml"),
        Path("configs/quick.toml"),
        base_data or {},
        tuple(seeds),
        Path("out"),
        runs,
    )


def _data_line_styles(fig) -> list[str]:
    """The line style of every series' mean line (the errorbars' data lines)."""
    return sorted(container.lines[0].get_linestyle() for container in fig.axes[0].containers)


def test_categorical_values_are_separate_points_and_numbers_a_line():
    fig = summary_figure(fake_sweep(["population", "direct"]), fake_rows(["population", "direct"]))
    assert _data_line_styles(fig) == ["None"] * 3  # the three readouts: points, not joined
    fig = summary_figure(fake_sweep([1.0, 0.5], "network.w_max"), fake_rows([1.0, 0.5], "network.w_max"))
    assert _data_line_styles(fig) == ["-", "--", ":"]  # 'all' solid, linear dashed, proportion dotted


def test_summary_title_fits_the_figure_with_one_swept_key():
    fig = summary_figure(fake_sweep(["population", "direct"]), fake_rows(["population", "direct"]))
    fig.canvas.draw()
    title = fig._suptitle.get_window_extent()
    frame = fig.bbox
    assert frame.x0 <= title.x0 and title.x1 <= frame.x1 and title.y1 <= frame.y1
    assert fig._suptitle.get_text().startswith("a-rather-long-sweep-file-name-100.toml: mean over 2 seeds")


def test_summary_shows_three_readouts_as_fractions_with_the_legend_outside_the_plot():
    rows = fake_rows([1.0, 0.5], "network.w_max")
    fig = summary_figure(fake_sweep([1.0, 0.5], "network.w_max"), rows)
    fig.canvas.draw()
    (ax,) = fig.axes
    assert ax.get_xlabel() == "network.w_max" and ax.get_ylabel() == "test accuracy"
    # the means over seeds 0 and 1 as the tables give them (fractions), at w_max 0.5 then 1.0
    means = {tuple(np.round(np.asarray(c.lines[0].get_ydata(), float), 4)) for c in ax.containers}
    assert means == {(0.7105, 0.7005), (0.7, 0.7), (0.81, 0.8)}  # all, proportion, linear
    low, high = ax.get_ylim()
    assert low > 0.6 and high < 0.9  # a fraction's axis, not percent
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "'all' voting",
        "'proportion' voting",
        "linear readout (supervised)",
    ]
    assert not legend.get_window_extent().overlaps(ax.get_window_extent())
    assert ax.get_legend() is None  # one series: nothing to name under the panel


def test_the_accuracy_axis_names_the_split_scored():
    values = ["population", "direct"]
    fig = summary_figure(fake_sweep(values), fake_rows(values))
    assert fig.axes[0].get_ylabel() == "test accuracy"
    held_out = fake_sweep(values, base_data={"evaluation": {"split": "validation"}})
    assert summary_figure(held_out, fake_rows(values)).axes[0].get_ylabel() == "validation accuracy"
