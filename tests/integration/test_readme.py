"""The README stays true: its config reference is the code's, its commands exist."""

from click.testing import CliRunner

from helpers import REPO_ROOT
from stdp_mnist.cli import main
from stdp_mnist.config import config_reference

README = (REPO_ROOT / "README.md").read_text()


def test_readme_config_reference_matches_the_code():
    assert config_reference() in README


def test_readme_commands_exist():
    for command in ("download", "train", "evaluate", "plot", "predict", "info"):
        assert f"stdp-mnist {command}" in README
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0
    assert "configs/quick.toml" in README and (REPO_ROOT / "configs" / "quick.toml").is_file()
