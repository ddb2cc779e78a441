"""The configs ship with the package (stdp_mnist.shipped): found by name from any
directory, listed by `stdp-mnist configs`, and all of configs/ declared as package
data, so that a wheel carries them (the wheel itself is built and run by .ci/run)."""

import fnmatch
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import REPO_ROOT

from stdp_mnist import cli, load_config
from stdp_mnist.config import ConfigError, config_path
from stdp_mnist.shipped import description, find_config, shipped_configs, shipped_dir
from stdp_mnist.sweep import load_sweep

ROOT = REPO_ROOT
CONFIGS = ROOT / "configs"
TRAINING_NAMES = [
    "dc2015-100",
    "dc2015-1600-brian1-unclamped",  # sorted by file name: "-" before "."
    "dc2015-1600-brian1",
    "dc2015-1600",
    "dc2015-400-brian1-euler",
    "dc2015-400-brian1-lookup",
    "dc2015-400-brian1-unclamped",
    "dc2015-400-brian1",
    "dc2015-400",
    "dc2015-6400",
    "homeostasis-1600",
    "homeostasis-400",
    "instar-100",
    "instar-400",
    "instar-rate-400",
    "quick",
    "search-100",
    "soft-bound-400",
    "weight-l2-1600",
    "weight-l2-400",
]


def invoke(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args])


def test_the_shipped_configs_are_the_repository_configs_one_copy():
    assert shipped_dir().resolve() == CONFIGS.resolve()
    on_disk = {p.relative_to(CONFIGS).with_suffix("").as_posix() for p in CONFIGS.rglob("*.toml")}
    assert set(shipped_configs()) == on_disk
    assert list(shipped_configs(sweeps=False)) == TRAINING_NAMES
    assert "sweeps/seeds-100" in shipped_configs(sweeps=True)


def test_pyproject_lists_every_package():
    """The packages are listed by name (a mapped one cannot be found by setuptools'
    find): a new subpackage must be added to the list, or a wheel goes without it."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / "stdp_mnist").rglob("__init__.py")
    }
    assert sorted(packages) == sorted(found | {"stdp_mnist.configs"})


def test_pyproject_ships_every_config_file():
    """Every file under configs/ matches the package data of stdp_mnist.configs, the
    package that pyproject.toml maps onto configs/ (what goes into a wheel)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert tool["package-dir"]["stdp_mnist.configs"] == "configs"
    assert "stdp_mnist.configs" in tool["packages"]
    patterns = tool["package-data"]["stdp_mnist.configs"]
    for path in CONFIGS.rglob("*"):
        if path.is_file() and path.suffix != ".pyc" and path.name != "__init__.py":
            relative = path.relative_to(CONFIGS).as_posix()
            assert any(
                fnmatch.fnmatch(relative, pattern) and relative.count("/") == pattern.count("/")
                for pattern in patterns
            ), f"{relative} would be left out of the wheel"


@pytest.mark.parametrize("typed", ["quick", "quick.toml", "configs/quick.toml", "./configs/quick.toml"])
def test_a_shipped_config_is_found_by_name_from_anywhere(typed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config_path(typed) == CONFIGS / "quick.toml"
    assert load_config(typed).training.max_examples == 10000


def test_a_file_of_that_name_comes_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "quick.toml").write_text("[network]\nn_excitatory = 7\n")
    assert load_config("quick.toml").network.n_excitatory == 7  # the user's file
    assert load_config("quick").network.n_excitatory == 100  # no file "quick": the shipped one


def test_shipped_sweeps_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for typed in ("seeds-100", "sweeps/seeds-100", "configs/sweeps/seeds-100.toml"):
        sweep = load_sweep(typed)
        assert sweep.path == CONFIGS / "sweeps" / "seeds-100.toml"
        assert sweep.base == (CONFIGS / "dc2015-100.toml").resolve()
        assert sweep.out == Path("runs/sweeps/seeds-100")  # under the working directory
    assert find_config("seeds-100") is None  # a sweep is not a training config


def test_a_config_not_found_lists_the_shipped_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="quik: config file not found") as error:
        load_config("quik")
    assert all(name in str(error.value) for name in TRAINING_NAMES)
    result = invoke("train", "--config", "quik", "--run-dir", tmp_path / "run")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.stderr
    assert "stdp-mnist: error: quik: config file not found" in result.stderr and "dc2015-400" in result.stderr
    result = invoke("sweep", "seeds-1000")
    assert result.exit_code == 1 and "sweeps/seeds-100" in result.stderr


def test_configs_command_lists_every_shipped_config_with_its_description():
    result = invoke("configs")
    assert result.exit_code == 0, result.output
    columns = set()
    for name, path in {**shipped_configs(), **shipped_configs(sweeps=True)}.items():
        line = next(line for line in result.stdout.splitlines() if line.split()[:1] == [name])
        assert description(path) and description(path) in line
        columns.add(line.index(description(path)))
    assert len(columns) == 1, "the descriptions start in one column, after the longest name"
    shown = invoke("configs", "quick")
    assert shown.exit_code == 0 and shown.stdout == (CONFIGS / "quick.toml").read_text()
    assert invoke("configs", "seeds-100").stdout == (CONFIGS / "sweeps" / "seeds-100.toml").read_text()
    missing = invoke("configs", "nope")
    assert missing.exit_code == 1 and "shipped:" in missing.stderr


def test_train_names_the_shipped_file_it_uses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STDP_MNIST_DATA", str(tmp_path / "no-data"))  # fails at the data, after the config
    result = invoke("train", "--config", "quick", "--set", "data.verify=false")
    assert f"config: quick is the shipped {CONFIGS / 'quick.toml'}" in result.stderr
    assert (
        "training 100 neurons in runs/quick" in result.stderr
    )  # the run directory is named after the config
    assert result.exit_code == 1 and "file not found" in result.stderr.splitlines()[-1]
