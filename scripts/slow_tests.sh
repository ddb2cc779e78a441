#!/usr/bin/env bash
# The slow tests (marked @pytest.mark.slow, left out of the default run), in whatever
# folder of tests/ they are: mostly tests/end_to_end/, a full quick experiment on real
# MNIST through the CLI that must reproduce the README's quick-seed0 numbers exactly,
# and hand-drawn digits read by a small network trained on MNIST.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pytest -m slow -v
