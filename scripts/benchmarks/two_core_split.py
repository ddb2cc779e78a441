"""Would two cores speed up one training run? A prototype of the split, timed.

    python scripts/benchmarks/two_core_split.py [--neurons 6400] [--rounds 7]

The two parts of a training example that scale with N, the per-step neuron pass and
the delayed conductance scatter (`kernel.emit`, 2.3 input spikes per step for 700
steps, then 300 rest steps), run for 1,000 steps on one core, and split between two
threads that each own half of the neurons (their columns of the weights, their slice
of the delay ring), with one parallel region per time step. Both give bit-identical
results (checked). Prints best and median ms per example of each, and the speed-up.
The rest of a real example (inhibition, plasticity, normalisation, Poisson input) is
left out, so the speed-up shown is an upper bound for a full split.
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
from numba import njit, prange

from stdp_mnist.bench import best_and_median_s
from stdp_mnist.kernel import emit

RING, STEPS, PRESENT_STEPS, SPIKES_PER_STEP = 20, 1000, 700, 2.3


@njit(cache=True, inline="always")
def neuron_and_scatter(weights, delays, pending, ptr, idx, v, t, lo, hi):
    """One step for neurons lo..hi: take up the step's arrivals, then deliver its input spikes."""
    slot = t % pending.shape[0]
    no_f8 = np.zeros(1)
    no_i8 = np.zeros(1, np.int64)
    for j in range(lo, hi):
        g = np.float64(pending[slot, j])
        v[j] = (v[j] + 0.005 * (-65.0 + g)) / (1.0 + 0.005 * (1.0 + g))
        pending[slot, j] = 0.0
    for q in range(ptr[t], ptr[t + 1]):
        i = idx[q]
        emit(weights[i, lo:hi], delays[i, lo:hi], pending[:, lo:hi], slot, False, no_f8, no_f8, 1.0, no_i8, 0)


@njit(cache=True)
def one_core(weights, delays, pending, ptr, idx, v):
    for t in range(ptr.shape[0] - 1):
        neuron_and_scatter(weights, delays, pending, ptr, idx, v, t, 0, v.shape[0])


@njit(cache=True, parallel=True)
def two_cores(weights, delays, pending, ptr, idx, v):
    half = v.shape[0] // 2
    for t in range(ptr.shape[0] - 1):
        for h in prange(2):
            neuron_and_scatter(weights, delays, pending, ptr, idx, v, t, h * half, (h + 1) * half)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=6400)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    n = args.neurons - args.neurons % 2
    rng = np.random.default_rng(0)
    weights = rng.random((784, n), dtype=np.float32) * np.float32(0.01)
    delays = rng.integers(0, RING, (784, n)).astype(np.uint8)
    per_step = rng.poisson(SPIKES_PER_STEP, STEPS)
    per_step[PRESENT_STEPS:] = 0
    ptr = np.concatenate([[0], np.cumsum(per_step)])
    idx = rng.integers(0, 784, ptr[-1])
    results, finals = {}, {}
    for name, kernel in (("one core", one_core), ("two cores", two_cores)):
        pending, v = np.zeros((RING, n), np.float32), np.full(n, -65.0)
        kernel(weights, delays, pending, ptr, idx, v)
        finals[name] = v.copy()
        results[name] = [
            1e3 * s
            for s in best_and_median_s(partial(kernel, weights, delays, pending, ptr, idx, v), args.rounds)
        ]
    assert np.array_equal(finals["one core"], finals["two cores"]), "the split changed the results"
    for name, (best, median) in results.items():
        print(f"N={n} {name}: best {best:.2f} ms, median {median:.2f} ms per example")
    print(
        f"speed-up (one core / two cores): best {results['one core'][0] / results['two cores'][0]:.2f}x, "
        f"median {results['one core'][1] / results['two cores'][1]:.2f}x"
    )


if __name__ == "__main__":
    main()
