#!/usr/bin/env bash
# Rerun the accuracy table from nothing: train and evaluate every config and seed
# below into runs/<name>-seed<seed>/, record each finished run in results/runs/ and
# regenerate the table (results/table.md and the README blocks) from the records.
# Usage: bash scripts/reproduce.sh [NAME ...]   (names: quick dc2015-100 dc2015-400
# dc2015-1600 dc2015-400-brian1 dc2015-1600-brian1 dc2015-400-brian1-euler
# dc2015-400-brian1-unclamped dc2015-400-brian1-lookup dc2015-1600-brian1-unclamped;
# default: all ten). The -brian1 configs are the reference's Brian 1 numerics taken
# literally (docs/FIDELITY.md): seeds 0-2 at 400 neurons, seed 0 at 1,600; the
# -brian1-PART configs run one of those numerics alone (seeds 0-2 at 400 neurons, 0-1
# at 1,600). Trained by
#   bash scripts/reproduce.sh dc2015-400-brian1 dc2015-1600-brian1
#   bash scripts/reproduce.sh dc2015-400-brian1-euler dc2015-400-brian1-unclamped \
#     dc2015-400-brian1-lookup dc2015-1600-brian1-unclamped
# (the defaults' training took 0.2-0.4 h per seed at 400 neurons and 1.2-1.8 h at
# 1,600, wall clock, results/runs/); their rows join the table beside the defaults.
# A finished run is skipped, an interrupted one resumed, so the script can be stopped
# and restarted at will. Each run gets a
# code_revision file with a line per start or resume: the commit of this checkout that
# trained (and evaluated) it from there on, with "+local changes" when the tree differed
# from it. The 6,400-neuron network is
# one long run of its own (runs/dc2015-6400; see results/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
STDP=${STDP_MNIST:-.venv/bin/stdp-mnist}
PY=${PYTHON:-.venv/bin/python}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(quick dc2015-100 dc2015-400 dc2015-1600 dc2015-400-brian1 dc2015-1600-brian1
  dc2015-400-brian1-euler dc2015-400-brian1-unclamped dc2015-400-brian1-lookup dc2015-1600-brian1-unclamped)
seeds_for() { case "$1" in dc2015-100) echo "0 1 2 3 4 5 6 7 8 9";; dc2015-1600-brian1) echo 0;; dc2015-1600-brian1-unclamped) echo "0 1";; *) echo "0 1 2";; esac; }
revision() { echo "$(git rev-parse HEAD)$(git diff --quiet HEAD -- stdp_mnist || echo ' +local changes')"; }
for name in "${names[@]}"; do
  for seed in $(seeds_for "$name"); do
    run="runs/$name-seed$seed"
    if [ -f "$run/metrics.json" ]; then echo "done: $run"; continue; fi
    if [ -f "$run/model.npz" ]; then
      revision >> "$run/code_revision"
      "$STDP" train --resume "$run" --evaluate
    else
      mkdir -p "$run"
      revision > "$run/code_revision"
      "$STDP" train --config "configs/$name.toml" --run-dir "$run" --set run.seed="$seed" --overwrite --evaluate
    fi
  done
done
"$PY" scripts/collect_results.py --record runs --write
