#!/usr/bin/env bash
# The package as a user installs it: build the wheel, install it into a fresh virtual
# environment outside the repository and, from another directory, list the shipped
# configs, run a tiny benchmark, and train and evaluate the quick one by name: the whole run (10,000 training,
# 10,000 labelled and 10,000 test images, a few minutes), which must score exactly what
# the README says it scores (results/runs/quick-seed0, the record the README quotes).
# What the wheel ships (configs included) is what is checked, not the clone.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
expected=$PWD/results/runs/quick-seed0/metrics.json
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
# a variant config finds its base among the installed configs
"$tmp/venv/bin/python" -c "
from stdp_mnist.config import load_config
cfg = load_config('homeostasis-400')
assert (cfg.network.n_excitatory, cfg.training.passes, cfg.excitatory.theta_target_spikes) == (400, 3, 16.0), cfg
"
"$tmp/venv/bin/stdp-mnist" bench --sizes 20 --scale 0.02 --output bench.md  # needs nothing of the repository
# the page of stdp-mnist serve ships as package data (served from the installed package)
"$tmp/venv/bin/python" -c "
import importlib.resources as r
page = r.files('stdp_mnist.serve') / 'static'
missing = [name for name in ('index.html', 'app.js', 'style.css') if not (page / name).is_file()]
assert not missing, f'wheel check: the serve page files are not in the wheel: {missing}'
"
"$tmp/venv/bin/stdp-mnist" train --config quick --run-dir r --evaluate
"$tmp/venv/bin/python" - "$expected" r/metrics.json <<'EOF'
import json, sys
expected, measured = (json.load(open(path)) for path in sys.argv[1:3])
keys = ("n_assign", "n_test", "accuracy_all", "accuracy_proportion", "accuracy_linear")
wrong = [f"{key} {measured.get(key)} (README: {expected[key]})" for key in keys if measured.get(key) != expected[key]]
if wrong:
    sys.exit("wheel check: the installed quick run does not score what the README says: " + ", ".join(wrong))
print("wheel check: the installed wheel's quick run scores "
      + ", ".join(f"{key} {measured[key]}" for key in keys[2:]) + ", as the README says")
EOF
