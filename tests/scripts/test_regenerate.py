"""Every number in results/ regenerates: `python scripts/collect_results.py --all`
rewrites each generated file whose inputs are committed exactly as it is committed, and
each generated report whose inputs are not committed says so in its first line."""

from helpers import REPO_ROOT
from helpers.scripts import load_script

collect = load_script("collect_results")
RESULTS = REPO_ROOT / "results"
# Written by hand, each number with its source: not generated.
HAND_WRITTEN = {"README.md", "history.md"}


def test_regenerate_all_rewrites_every_generated_file_as_committed():
    files = collect.regenerated_files()
    assert {path.relative_to(REPO_ROOT).as_posix() for path in files} >= {
        "results/table.md",
        "results/paired-tests.md",
        "README.md",
        "results/README.md",
    }
    for path, text in files.items():
        assert path.read_text() == text, f"{path}: rerun python scripts/collect_results.py --all"


def test_regenerate_leaves_no_report_unaccounted_for():
    """A report in results/ is rewritten by --all, names its missing inputs in its first
    line, or is written by hand."""
    regenerated = {path.resolve() for path in collect.regenerated_files()}
    for report in sorted(RESULTS.rglob("*.md")):
        name = report.relative_to(RESULTS).as_posix()
        if report.resolve() in regenerated or name in HAND_WRITTEN:
            continue
        assert name in collect.NOT_REGENERATED, f"{name}: neither regenerated nor marked as not regenerable"
        assert report.read_text().splitlines()[0] == collect.not_regenerated_line(name)
