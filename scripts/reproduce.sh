#!/usr/bin/env bash
# Rerun the accuracy table from nothing: train and evaluate every config and seed
# below into runs/<name>-seed<seed>/, then collect the table into results/table.md.
# Usage: bash scripts/reproduce.sh [NAME ...]   (names: quick dc2015-100 dc2015-400
# dc2015-1600 dc2015-6400; default: all but dc2015-6400). A finished run is skipped,
# an interrupted one resumed, so the script can be stopped and restarted at will; a
# run evaluated before the linear readout existed is evaluated again (the voting
# accuracies come out the same: evaluation is deterministic).
set -euo pipefail
cd "$(dirname "$0")/.."
STDP=${STDP_MNIST:-.venv/bin/stdp-mnist}
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(quick dc2015-100 dc2015-400 dc2015-1600)
seeds_for() { case "$1" in quick|dc2015-100) echo "0 1 2";; *) echo "0";; esac; }
for name in "${names[@]}"; do
  for seed in $(seeds_for "$name"); do
    run="runs/$name-seed$seed"
    if grep -q '"accuracy_linear"' "$run/metrics.json" 2>/dev/null; then echo "done: $run"; continue; fi
    if [ -f "$run/metrics.json" ]; then "$STDP" evaluate "$run"; continue; fi
    if [ -f "$run/model.npz" ]; then
      "$STDP" train --resume "$run" --evaluate
    else
      "$STDP" train --config "configs/$name.toml" --run-dir "$run" --set run.seed="$seed" --overwrite --evaluate
    fi
  done
done
"${PYTHON:-.venv/bin/python}" scripts/collect_results.py runs > results/table.md
cat results/table.md
