#!/usr/bin/env bash
# The package as a user installs it: build the wheel, install it into a fresh virtual
# environment outside the repository and, from another directory, list the shipped
# configs and train and evaluate the quick one by name (shortened to 300 images), so
# that what the wheel ships (configs included) is what is checked, not the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf build  # setuptools' build directory may hold files of an older tree
"$PY" -m pip wheel --quiet --no-deps -w "$tmp/wheel" .
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet "$tmp"/wheel/stdp_mnist-*.whl
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"
"$tmp/venv/bin/stdp-mnist" configs
"$tmp/venv/bin/python" -c "import stdp_mnist.sweep, stdp_mnist.report"  # the modules the commands import late
"$tmp/venv/bin/stdp-mnist" train --config quick --run-dir r --set training.max_examples=300 \
    --set evaluation.n_assign=300 --set evaluation.n_test=300 --evaluate
test -f r/metrics.json
echo "wheel check: the installed wheel trained and evaluated its shipped quick config"
