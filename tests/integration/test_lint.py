"""The code passes the project's linter and formatter (ruff, configured in pyproject.toml),
as CI (.ci/run) checks; this runs the same two commands so a failure shows up in the tests."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO_ROOT

# ruff is in the dev extra, installed beside this Python.
RUFF = Path(sys.executable).with_name("ruff")


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff_passes(command):
    result = subprocess.run([RUFF, *command], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
