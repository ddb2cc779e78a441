"""Results do not depend on the machine: `stdp-mnist evaluate` gives the same metrics on
one core and on two (the frozen blocks and their random streams are fixed by the
config, not by the number of threads). Determinism of training and of the library's
evaluation is in unit/test_training.py."""

import os

from helpers.cli import run_cli

from stdp_mnist.rundir import read_evaluation


def test_evaluation_is_identical_on_one_core_and_two(bar_config, bar_reference):
    run = bar_config.root / "reference"  # where bar_reference was trained
    results = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = run_cli("evaluate", run, env=env)
        assert out.returncode == 0, out.stderr
        metrics = read_evaluation(run)
        assert metrics.threads == int(threads)
        results.append(
            {k: v for k, v in metrics.to_dict().items() if not k.endswith("wall_s") and k != "threads"}
        )
    assert results[0] == results[1]
