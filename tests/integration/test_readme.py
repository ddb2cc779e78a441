"""The README stays true and short: its commands exist, its links lead to files, and
its results table sits between the markers the results collector fills."""

import re

from click.testing import CliRunner
from helpers import REPO_ROOT

from stdp_mnist.cli import main

README = (REPO_ROOT / "README.md").read_text()
TABLE_HEADER = (
    "| config | neurons | passes | seeds | accuracy_all | accuracy_proportion | accuracy_linear "
    "| paper | train wall h |"
)


def test_readme_commands_exist():
    commands = (
        "download",
        "train",
        "evaluate",
        "plot",
        "predict",
        "serve",
        "info",
        "export",
        "bench",
        "sweep",
    )
    for command in commands:
        assert f"stdp-mnist {command}" in README
        assert CliRunner().invoke(main, [command, "--help"]).exit_code == 0
    assert "configs/quick.toml" in README and (REPO_ROOT / "configs" / "quick.toml").is_file()


def test_readme_links_lead_to_files():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    assert targets
    for target in targets:
        assert (REPO_ROOT / target).exists(), target


def test_readme_fits_a_screen_with_set_up_and_results_first():
    lines = README.splitlines()
    assert len(lines) <= 200
    first = "\n".join(lines[:60])
    assert ".venv/bin/stdp-mnist train --config configs/quick.toml --run-dir runs/quick --evaluate" in first
    start, end = first.index("<!-- results-table:start -->"), first.index("<!-- results-table:end -->")
    assert first[start:end].splitlines()[1] == TABLE_HEADER
