#!/usr/bin/env bash
# The slow tests (marked @pytest.mark.slow, left out of the default run): a full quick
# experiment on real MNIST through the CLI, checked against the accuracy bar.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m pytest -m slow -v
