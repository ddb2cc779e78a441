"""The documentation stays true to the code: the generated reference pages are what
scripts/docgen.py writes now, and the model's parameter tables (docs/MODEL.md) give
every model-defining config key with its default."""

import re

import pytest
from helpers import REPO_ROOT
from helpers.scripts import load_script

from stdp_mnist.config import Config

ROOT = REPO_ROOT
docgen = load_script("docgen")

# A row of a MODEL.md table: | quantity | `section.key` | value | source |
PARAMETER_ROW = re.compile(r"^\| [^|]+ \| `(\w+)\.(\w+)` \| ([^|]+) \|", re.MULTILINE)


@pytest.mark.parametrize("page", sorted(docgen.pages()), ids=lambda page: page.name)
def test_generated_reference_page_is_current(page):
    assert page.is_file() and page.read_text() == docgen.pages()[page], (
        f"{page.relative_to(ROOT)} is out of date: run python scripts/docgen.py"
    )


def test_command_reference_covers_every_command():
    text = docgen.commands_page()
    for name in docgen.cli_main.commands:
        assert f"## stdp-mnist {name}\n" in text


def documented_defaults() -> dict[str, str]:
    """{"section.key": value cell} of every row of MODEL.md's parameter tables."""
    text = (ROOT / "docs" / "MODEL.md").read_text()
    return {f"{section}.{key}": cell.strip() for section, key, cell in PARAMETER_ROW.findall(text)}


def test_model_doc_gives_every_model_setting():
    missing = sorted(set(Config().model_values()) - set(documented_defaults()))
    assert not missing, f"docs/MODEL.md's parameter tables lack {missing}"


def test_model_doc_values_are_the_config_defaults():
    defaults = Config().to_dict()
    for key, cell in documented_defaults().items():
        section, name = key.split(".")
        default = defaults[section][name]
        if isinstance(default, bool):
            assert cell == f"`{str(default).lower()}`", key
        elif isinstance(default, str):
            assert cell == f"`{default}`", key
        else:
            assert float(cell.split()[0]) == default, (
                f"{key}: docs/MODEL.md says {cell}, the config {default}"
            )


def test_results_page_links_every_report_the_site_shows():
    # the reports in results/ become site pages under reports/ (scripts/docs_results_hook.py);
    # the Results page links each markdown one, so none is left unreachable
    hook = load_script("docs_results_hook")
    page = (ROOT / "docs" / "results.md").read_text()
    reports = [path for path in hook.report_files() if path.suffix == ".md"]
    assert {"README.md", "paired-tests.md", "baselines.md"} <= {path.as_posix() for path in reports}
    assert not any(path.parts[0] == "runs" for path in hook.report_files())
    unlinked = [path for path in reports if f"]({hook.SITE_FOLDER}/{path.as_posix()})" not in page]
    assert not unlinked, f"docs/results.md links none of {unlinked}"


def test_test_paths_named_in_docs_config_and_scripts_exist():
    # tests moved into folders once (unit/, integration/, ...); a page naming the old path misleads
    named = re.compile(r"tests/[\w/.-]+\.py")
    sources = [
        ROOT / "pyproject.toml",
        ROOT / "README.md",
        *ROOT.glob("docs/**/*.md"),
        *ROOT.glob("scripts/**/*.py"),
    ]
    missing = [
        f"{source.relative_to(ROOT)}: {path}"
        for source in sources
        for path in named.findall(source.read_text())
        if not (ROOT / path).is_file()
    ]
    assert not missing, missing
