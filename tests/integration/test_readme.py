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


def test_the_readme_api_snippet_logs_its_progress_and_a_rerun_speaks_api(tmp_path, monkeypatch, caplog):
    """The README's Python snippet, run as it is (on synthetic data and the tiny config,
    handed to it through the names it imports), shows its progress, prints the
    accuracy, and run a second time ends in an error that names the API's arguments."""
    import logging
    import tomllib

    import pytest
    from helpers.runs import TINY_TOML, make_data_dir

    import stdp_mnist
    from stdp_mnist.config import config_from_dict
    from stdp_mnist.data import load_mnist

    snippet = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    assert "logging.basicConfig(level=logging.INFO)" in snippet
    data = load_mnist(make_data_dir(tmp_path / "mnist"), fetch=False)
    monkeypatch.setattr(stdp_mnist, "load_config", lambda name: config_from_dict(tomllib.loads(TINY_TOML)))
    monkeypatch.setattr(stdp_mnist, "load_mnist", lambda: data)
    configured = []

    def basic_config(level):  # pytest's own handler is already on the root logger: set the level only
        configured.append(level)
        logging.getLogger().setLevel(level)

    monkeypatch.setattr(logging, "basicConfig", basic_config)
    monkeypatch.chdir(tmp_path)
    root_level = logging.getLogger().level
    try:
        printed = []
        exec(snippet, {"print": printed.append})
        assert configured == [logging.INFO]
        messages = [r.getMessage() for r in caplog.records if r.name == "stdp_mnist"]
        assert any(m.startswith("train: 20/20 examples") for m in messages), messages
        assert any(m.startswith("test: 20/20 images") for m in messages), messages
        assert len(printed) == 1 and 0.0 <= printed[0] <= 1.0
        with pytest.raises(stdp_mnist.RunExistsError, match=r"resume=True\) continues it, overwrite=True"):
            exec(snippet, {"print": printed.append})
    finally:
        logging.getLogger().setLevel(root_level)
