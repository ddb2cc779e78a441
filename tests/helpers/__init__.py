"""Code the tests share (not tests themselves): driving the command line, synthetic
data and tiny runs, image files, the kernel's hand-built test harness, and loading the
scripts as modules. tests/conftest.py puts its folder on sys.path, so a test imports
these as ``from helpers.cli import invoke``."""

from pathlib import Path

# The repository's root (configs/, scripts/, README.md).
REPO_ROOT = Path(__file__).resolve().parents[2]
