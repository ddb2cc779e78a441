"""mkdocs hook (mkdocs.yml ``hooks:``): the reports in the repository's results/ folder
become pages of the documentation site under reports/ (its markdown reports, and the
figures and sweep summaries beside them), read from results/ as they are, so the site's
Results page links them without a second copy in docs/. The run records
(results/runs/) stay out: they are data, not pages. (Not results/: that is the Results
page's own address, which results/README.md would take.)"""

from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
SITE_FOLDER = "reports"
SUFFIXES = (".md", ".png")


def report_files() -> list[Path]:
    """The files of results/ that the site shows, relative to results/."""
    return sorted(
        path.relative_to(RESULTS)
        for path in RESULTS.rglob("*")
        if path.is_file() and path.suffix in SUFFIXES and path.relative_to(RESULTS).parts[0] != "runs"
    )


def on_files(files, config):
    from mkdocs.structure.files import File  # here, so the tests read report_files without mkdocs

    for path in report_files():
        files.append(
            File.generated(config, f"{SITE_FOLDER}/{path.as_posix()}", abs_src_path=str(RESULTS / path))
        )
    return files
