"""How fast can one input spike's synapses be delivered? The kernel's delayed scatter
against two floors, per synapse event (ns), at several layer sizes.

    python scripts/benchmarks/scatter_floor.py [--sizes 400,1600,6400] [--spikes 2300] [--rounds 5]

Each case delivers ``--spikes`` random input spikes (about one training example's
worth) of a random float32 weight matrix (784 x N) on one core:
- kernel: `stdp_mnist.kernel.emit` without depression: each synapse adds its weight to
  the pending-conductance row of its arrival (a 20-row float32 ring, random delays);
- one row: the same loop with every delay 0, so every spike adds to one row (what the
  scatter would cost if the ring were free);
- numpy add: `pending_row += w_row`, a vectorised contiguous add, the memory floor of
  reading a weight row.
Prints the best of ``--rounds`` per case. Stop other work on the machine first.
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
from numba import njit

from stdp_mnist.bench import best_and_median_s
from stdp_mnist.kernel import emit

RING = 20  # 10 ms of delays at dt = 0.5 ms


@njit(cache=True)
def deliver(weights, delays, pending, spikes):
    """The kernel's emission scatter for each spike in turn (no depression)."""
    empty_f8 = np.zeros(1)
    empty_i8 = np.zeros(1, np.int64)
    for q in range(spikes.shape[0]):
        i = spikes[q]
        emit(
            weights[i], delays[i], pending, q % pending.shape[0], False, empty_f8, empty_f8, 1.0, empty_i8, 0
        )


def numpy_add(weights, pending, spikes):
    row = pending[0]
    for i in spikes:
        row += weights[i]


def ns_per_event(run, events, rounds):
    """Best time of ``rounds`` calls of ``run`` per synapse event (ns)."""
    return best_and_median_s(run, rounds)[0] * 1e9 / events


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="400,1600,6400")
    parser.add_argument("--spikes", type=int, default=2300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    print("| N | kernel ns/event | one row ns/event | numpy add ns/event | kernel ms per example |")
    print("| --- | --- | --- | --- | --- |")
    for n in (int(s) for s in args.sizes.split(",")):
        weights = rng.random((784, n), dtype=np.float32)
        delays = rng.integers(0, RING, (784, n)).astype(np.uint8)
        no_delays = np.zeros_like(delays)
        spikes = rng.integers(0, 784, args.spikes)
        pending = np.zeros((RING, n), np.float32)
        events = args.spikes * n
        kernel = ns_per_event(partial(deliver, weights, delays, pending, spikes), events, args.rounds)
        one_row = ns_per_event(partial(deliver, weights, no_delays, pending, spikes), events, args.rounds)
        floor = ns_per_event(partial(numpy_add, weights, pending, spikes), events, args.rounds)
        print(f"| {n} | {kernel:.2f} | {one_row:.2f} | {floor:.2f} | {kernel * events / 1e6:.1f} |")


if __name__ == "__main__":
    main()
