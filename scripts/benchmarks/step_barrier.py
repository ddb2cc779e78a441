"""What one parallel region per time step costs: the synchronisation a two-core split
of one training run would pay at every one of an example's 1,000 steps.

    python scripts/benchmarks/step_barrier.py [--steps 7000] [--rounds 5]

Times a numba ``prange`` over the thread count entered once per step with a trivial
body (the pure cost of starting and joining the threads), and the same loop serial,
and prints the best and the median microseconds per step over the rounds. Compare with the per-step work of a 6,400-neuron
training example (about 40 microseconds on one core: 40 ms per example, 1,000 steps).
Run it on an otherwise idle machine, then beside a busy core, to see both cases.
"""

from __future__ import annotations

import argparse

import numba
import numpy as np
from numba import njit, prange

from stdp_mnist.bench import best_and_median_s


@njit(parallel=True, cache=True)
def parallel_steps(out, steps):
    for s in range(steps):
        for k in prange(out.shape[0]):
            out[k] += s


@njit(cache=True)
def serial_steps(out, steps):
    for s in range(steps):
        for k in range(out.shape[0]):
            out[k] += s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=7000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    out = np.zeros(numba.get_num_threads())
    parallel = [
        1e6 * s / args.steps for s in best_and_median_s(lambda: parallel_steps(out, args.steps), args.rounds)
    ]
    serial = [
        1e6 * s / args.steps for s in best_and_median_s(lambda: serial_steps(out, args.steps), args.rounds)
    ]
    print(
        f"threads {numba.get_num_threads()} ({numba.threading_layer()}): parallel region per step "
        f"best {parallel[0]:.2f} us, median {parallel[1]:.2f} us; serial loop per step best {serial[0]:.3f} us"
    )


if __name__ == "__main__":
    main()
