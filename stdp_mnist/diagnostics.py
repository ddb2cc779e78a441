"""The slow detail path: one image through the frozen network, recorded step by step.

The compiled kernel records nothing per time step; that is what keeps it fast. Here
one image is shown to the network by calling ``kernel.simulate`` once per time step
(``n_present=1, n_rest=0``, learning off) on a state at rest, feeding it one step of
the presentation's spike train at a time, and recording after every step the
excitatory membrane potentials, thresholds (``v_thresh + theta``), inhibitory
conductances and spikes. The
state starts and the random stream runs exactly as in ``kernel.frozen_responses``
for a block of one image with the same seed (boosts, rests and exact resets
included), so the recorded presentation is the one a frozen run with that seed
classifies. It costs one Python call per step: use it for a handful of images, never
in training or evaluation loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernel
from .config import Config
from .network import Network, kernel_params


@dataclass
class ExampleTrace:
    """Everything recorded of the last (classified) presentation of one image."""

    image: np.ndarray  # uint8 (784,)
    dt_ms: float
    intensity: float  # input intensity of the recorded presentation
    retries: int  # intensity boosts before it
    input_ptr: np.ndarray  # int64 (steps + 1,): CSR input spike train, inputs firing at
    input_idx: np.ndarray  # step s are input_idx[input_ptr[s]:input_ptr[s + 1]]
    spike_steps: np.ndarray  # int64: step of every excitatory spike ...
    spike_neurons: np.ndarray  # int64: ... and its neuron
    v: np.ndarray  # float32 (steps, N): excitatory membrane potential after each step, mV
    threshold: np.ndarray  # float32 (steps, N): firing threshold v_thresh + theta, mV
    g_i: np.ndarray  # float32 (steps, N): excitatory neurons' inhibitory conductance
    counts: np.ndarray  # int32 (N,): spikes of each neuron in the presentation

    @property
    def n_steps(self) -> int:
        return self.v.shape[0]

    @property
    def times_ms(self) -> np.ndarray:
        """Time at the end of each step, ms."""
        return (np.arange(self.n_steps) + 1) * self.dt_ms

    def input_spikes(self) -> tuple[np.ndarray, np.ndarray]:
        """(step, input index) of every input spike."""
        steps = np.repeat(np.arange(len(self.input_ptr) - 1), np.diff(self.input_ptr))
        return steps, self.input_idx.astype(np.int64)

    def winners(self, k: int = 3) -> np.ndarray:
        """The k neurons that fired most (ties: closest approach to threshold first)."""
        margin = (self.v - self.threshold).max(axis=0)
        order = np.lexsort((-margin, -self.counts))
        return order[: min(k, len(order))]


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    """The arrays of ``parts`` end to end as int64 (empty when there are none)."""
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def trace_example(cfg: Config, network: Network, image: np.ndarray, seed: int) -> ExampleTrace:
    """Show ``image`` (784 uint8) to the frozen network from rest with the random
    stream ``seed``, exactly as ``kernel.frozen_responses`` would for a block of one,
    and record its (last) presentation step by step. Weights and theta are not changed."""
    p = kernel_params(cfg, frozen=True)
    n = network.n_excitatory
    image = np.ascontiguousarray(image, dtype=np.uint8).reshape(-1)
    ring = int(network.delays.max()) + 1
    state = kernel.init_state(p, network.theta.copy(), 0, ring, 0.0)
    synapses = kernel.Synapses(network.weights, network.delays, network.delays)
    rng = np.array([seed], np.uint64)
    step_p = p._replace(n_present=1, n_rest=0, exact_reset=False)
    rest_p = p._replace(n_present=0)
    theta = network.theta
    step_ptr = np.zeros(2, np.int64)
    step_counts = np.zeros(n, np.int32)
    intensity, retries = p.intensity, 0
    while True:
        rates = image.astype(np.float64) * (p.rate_per_pixel_hz * intensity)
        ptr, idx = kernel.poisson_spike_train(rates, p.spike_prob_per_hz, p.n_present, rng)
        v = np.empty((p.n_present, n), np.float32)
        threshold = np.empty((p.n_present, n), np.float32)
        g_i = np.empty((p.n_present, n), np.float32)
        counts = np.zeros(n, np.int32)
        spike_steps, spike_neurons = [], []
        for t in range(p.n_present):
            step_idx = idx[ptr[t] : ptr[t + 1]]
            step_ptr[1] = len(step_idx)
            step_counts[:] = 0
            kernel.simulate(step_p, step_ptr, step_idx, False, synapses, state, step_counts)
            v[t] = state.exc[kernel.V]
            threshold[t] = p.v_thresh_e + theta
            g_i[t] = state.exc[kernel.GI]
            fired = np.flatnonzero(step_counts)
            if len(fired):
                counts[fired] += step_counts[fired]
                spike_steps.append(np.full(len(fired), t))
                spike_neurons.append(fired)
        # The rest after the presentation (or the exact reset), as the kernel does it.
        kernel.simulate(rest_p, step_ptr[:1], idx[:0], False, synapses, state, step_counts)
        if counts.sum() >= p.min_spikes or not p.boost or retries >= p.max_retries:
            break
        retries += 1
        intensity += p.intensity_step
    return ExampleTrace(
        image=image.copy(),
        dt_ms=cfg.simulation.dt_ms,
        intensity=intensity,
        retries=retries,
        input_ptr=ptr,
        input_idx=idx,
        spike_steps=_joined(spike_steps),
        spike_neurons=_joined(spike_neurons),
        v=v,
        threshold=threshold,
        g_i=g_i,
        counts=counts,
    )
