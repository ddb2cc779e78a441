"""The model's mechanisms, measured by running the compiled kernel on constructed inputs.

Nothing here integrates an equation: every number comes from ``kernel.simulate`` or
``kernel.poisson_spike_train`` with the kernel parameters of a config, on a small
network (or input) built to isolate one mechanism. Like stdp_mnist.diagnostics this
is the slow path (one kernel call per time step where a trace is recorded): for
figures and the documentation, never for training or evaluation.

- ``neuron_trace``: one excitatory neuron under a constructed input spike train, its
  v, g_e, g_i and theta recorded after every step, and the membrane it would have had
  without the threshold (the same step run on a copy of the state with the threshold
  out of reach), which shows where v crossed the threshold before the reset;
- ``stdp_window``: the weight change of one synapse against the interval between one
  input spike and one output spike, one kernel run per interval, and the rule's
  formula for it;
- ``encoding``: the kernel's Poisson spike trains of one image, and each pixel's
  measured rate against its value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import kernel
from .config import Config
from .network import kernel_params

# The constructed neuron: inputs driving the watched neuron 0 at the highest pixel rate,
# and driver inputs that make a rival neuron 1 fire at given times, whose inhibitory
# partner (or, under direct inhibition, its own spikes) then inhibits neuron 0.
TRACE_INPUTS = 20
TRACE_WEIGHT = 0.3
TRACE_MS = 350.0  # the reference's presentation, whatever the config's
RIVAL_TIMES_MS = (90.0, 200.0, 280.0)
# Driver inputs at w_max firing together: enough to make their neuron fire in one step.
N_DRIVERS = 100
# STDP pairings: the output spike at this step, the input spike up to this far either side.
STDP_POST_STEP = 400
STDP_W0 = 0.5


def _copy_state(state: kernel.State) -> kernel.State:
    return kernel.State(*(array.copy() for array in state))


def _step_train(ptr: np.ndarray, idx: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """Step t of a CSR spike train as a one-step train."""
    step_idx = idx[ptr[t] : ptr[t + 1]]
    return np.array([0, len(step_idx)], np.int64), step_idx


@dataclass
class NeuronTrace:
    """One excitatory neuron recorded after every step of a constructed presentation."""

    dt_ms: float
    times_ms: np.ndarray  # (steps,) end of each step
    v: np.ndarray  # (steps,) mV, as the kernel left it (after any reset)
    free_v: np.ndarray  # (steps,) mV, the same step without a threshold (no reset)
    g_e: np.ndarray  # (steps,) excitatory conductance (units of the leak conductance)
    g_i: np.ndarray  # (steps,) inhibitory conductance
    theta: np.ndarray  # (steps,) adaptive threshold after the step, mV
    threshold: np.ndarray  # (steps,) v_thresh + theta in force during the step, mV
    spike_steps: np.ndarray  # steps at which the neuron fired (the kernel's count)
    input_steps: np.ndarray  # steps of the input spikes reaching the neuron ...
    input_ids: np.ndarray  # ... and their inputs
    rival_steps: np.ndarray  # steps at which the rival neuron fired
    v_reset: float
    refractory_ms: float

    @property
    def crossings(self) -> np.ndarray:
        """Steps where the free membrane went above the threshold."""
        return np.flatnonzero(self.free_v > self.threshold)


def neuron_trace(cfg: Config, seed: int = 1) -> NeuronTrace:
    """Run neuron 0 of a two-neuron network (``cfg``'s parameters, learning on, theta
    from theta_init_mv, v from rest) through TRACE_MS of input: TRACE_INPUTS inputs at the
    highest pixel rate (pixel 255 at the starting intensity, spike train drawn by the
    kernel with ``seed``) with weight TRACE_WEIGHT, and a rival neuron made to fire at
    RIVAL_TIMES_MS, whose spikes inhibit neuron 0 as the config's inhibition does."""
    p = kernel_params(cfg)
    n_steps = round(TRACE_MS / cfg.simulation.dt_ms)
    rate_hz = 255 * p.rate_per_pixel_hz * p.intensity
    n_inputs = TRACE_INPUTS + N_DRIVERS
    rates = np.zeros(n_inputs)
    rates[:TRACE_INPUTS] = rate_hz
    ptr, idx = kernel.poisson_spike_train(rates, p.spike_prob_per_hz, n_steps, np.array([seed], np.uint64))
    # the drivers of the rival fire the step before each rival spike
    rival_drive = {round(t_ms / cfg.simulation.dt_ms) - 2 for t_ms in RIVAL_TIMES_MS}
    drivers = np.arange(TRACE_INPUTS, n_inputs, dtype=np.int32)
    weights = np.zeros((n_inputs, 2), np.float32)
    weights[:TRACE_INPUTS, 0] = TRACE_WEIGHT
    weights[TRACE_INPUTS:, 1] = cfg.network.w_max
    delays = np.zeros(weights.shape, np.uint8)
    synapses = kernel.Synapses(weights, delays, delays)
    theta = np.full(2, cfg.excitatory.theta_init_mv)
    state = kernel.init_state(p, theta, n_inputs, 1, 0.0)
    step_p = p._replace(n_present=1, n_rest=0, exact_reset=False)
    free_p = step_p._replace(v_thresh_e=math.inf)
    frozen_synapses = kernel.Synapses(weights.copy(), delays, delays)
    record = {name: np.empty(n_steps) for name in ("v", "free_v", "g_e", "g_i", "theta", "threshold")}
    spikes, rival, counts = [], [], np.zeros(2, np.int64)
    for t in range(n_steps):
        step_ptr, step_idx = _step_train(ptr, idx, t)
        if t in rival_drive:
            step_idx = np.concatenate([step_idx, drivers])
            step_ptr[1] = len(step_idx)
        record["threshold"][t] = p.v_thresh_e + state.theta[0]
        free = _copy_state(state)
        kernel.simulate(free_p, step_ptr, step_idx, False, frozen_synapses, free, counts)
        record["free_v"][t] = free.exc[kernel.V, 0]
        counts[:] = 0
        kernel.simulate(step_p, step_ptr, step_idx, True, synapses, state, counts)
        if counts[0]:
            spikes.append(t)
        if counts[1]:
            rival.append(t)
        counts[:] = 0
        record["v"][t] = state.exc[kernel.V, 0]
        record["g_e"][t] = state.exc[kernel.GE, 0]
        record["g_i"][t] = state.exc[kernel.GI, 0]
        record["theta"][t] = state.theta[0]
    in_steps = np.repeat(np.arange(n_steps), np.diff(ptr))
    to_neuron = idx < TRACE_INPUTS
    return NeuronTrace(
        dt_ms=cfg.simulation.dt_ms,
        times_ms=(np.arange(n_steps) + 1) * cfg.simulation.dt_ms,
        spike_steps=np.array(spikes, np.int64),
        input_steps=in_steps[to_neuron],
        input_ids=idx[to_neuron].astype(np.int64),
        rival_steps=np.array(rival, np.int64),
        v_reset=p.v_reset_e,
        refractory_ms=cfg.excitatory.refractory_ms,
        **record,
    )


@dataclass
class StdpWindow:
    """Weight change of one synapse against the pre-post interval, measured and by formula."""

    intervals_ms: np.ndarray  # t_post - t_pre
    measured: np.ndarray  # weight change, as the kernel stored it (float32 weight)
    formula: np.ndarray  # the rule's weight change (float64)
    w0: float
    rule: str
    formula_text: str


def stdp_formula(cfg: Config, intervals_ms: np.ndarray, w0: float = STDP_W0) -> tuple[np.ndarray, str]:
    """The config's rule for one input spike and one output spike ``intervals_ms``
    apart (t_post - t_pre), the output neuron's slow trace x_post2 at 1 just before its
    spike; and the formula as text."""
    stdp = cfg.stdp
    dt = np.asarray(intervals_ms, dtype=np.float64)
    x_pre = np.where(dt >= 0, np.exp(-np.clip(dt, 0, None) / stdp.tau_pre_ms), 0.0)
    if stdp.rule == "paper":
        w_max = cfg.network.w_max
        change = stdp.nu_post * (x_pre - stdp.x_tar) * max(w_max - w0, 0.0) ** stdp.mu
        return change, "Δw = ν_post (x_pre − x_tar)(w_max − w)^μ,  x_pre = e^(−Δt/τ_pre) (0 for Δt < 0)"
    depression = -stdp.nu_pre * np.exp(np.clip(dt, None, 0) / stdp.tau_post1_ms)
    change = np.where(dt >= 0, stdp.nu_post * x_pre, depression)
    factor = " x_post2" if stdp.rule == "reference" else ""
    return change, (
        f"Δw = ν_post e^(−Δt/τ_pre){factor} for Δt ≥ 0;  Δw = −ν_pre e^(Δt/τ_post1) for Δt < 0"
        + ("  (x_post2 = 1)" if factor else "")
    )


def stdp_window(cfg: Config, max_interval_ms: float = 60.0) -> StdpWindow:
    """For every whole step from -max_interval_ms to +max_interval_ms: a one-neuron
    network (``cfg``'s parameters, delays 0, weight STDP_W0) sees input 0 fire once, and
    is made to fire once at STDP_POST_STEP by N_DRIVERS driver inputs firing the step before;
    the change of input 0's weight is measured. The post traces start at 0 (x_post2 at
    the value that decays to 1 at the output spike), so each pairing shows one side of
    the rule alone."""
    p = kernel_params(cfg)
    dt_ms = cfg.simulation.dt_ms
    reach = int(round(max_interval_ms / dt_ms))
    post = max(STDP_POST_STEP, reach + 2)
    n_steps = post + reach + 2
    q = p._replace(n_present=n_steps, n_rest=0, exact_reset=False)
    # x_post2 decays by decay_post2 at every learning step up to and including the output spike's
    post2_start = math.exp((post + 1) * dt_ms / cfg.stdp.tau_post2_ms)
    delays = np.zeros((1 + N_DRIVERS, 1), np.uint8)
    lags = np.arange(-reach, reach + 1)
    measured = np.empty(len(lags))
    for k, lag in enumerate(lags):
        pre = post - lag
        weights = np.full((1 + N_DRIVERS, 1), cfg.network.w_max, np.float32)
        weights[0, 0] = STDP_W0
        state = kernel.init_state(q, np.full(1, cfg.excitatory.theta_init_mv), 1 + N_DRIVERS, 1, 0.0)
        state.exc[kernel.POST2, 0] = post2_start
        spikes = sorted([(pre, 0)] + [(post - 1, i) for i in range(1, 1 + N_DRIVERS)])
        ptr = np.searchsorted([step for step, _ in spikes], np.arange(n_steps + 1), side="left")
        idx = np.array([i for _, i in spikes], np.int32)
        counts = np.zeros(1, np.int64)
        kernel.simulate(q, ptr, idx, True, kernel.Synapses(weights, delays, delays), state, counts)
        if counts[0] != 1:
            raise RuntimeError(f"the STDP pairing at lag {lag} steps fired {counts[0]} times, not once")
        measured[k] = float(weights[0, 0]) - float(np.float32(STDP_W0))
    intervals = lags * dt_ms
    formula, text = stdp_formula(cfg, intervals)
    return StdpWindow(intervals, measured, formula, STDP_W0, cfg.stdp.rule, text)


@dataclass
class Encoding:
    """The kernel's Poisson spike trains of one image."""

    image: np.ndarray  # uint8 (784,)
    dt_ms: float
    present_ms: float
    intensity: float
    rate_per_pixel_hz: float
    raster_steps: np.ndarray  # the first presentation's input spikes: steps ...
    raster_inputs: np.ndarray  # ... and pixel indices
    repeats: int
    counts: np.ndarray  # (784,) spikes of each pixel over all presentations

    @property
    def measured_hz(self) -> np.ndarray:
        return self.counts / (self.repeats * self.present_ms / 1000.0)

    @property
    def expected_hz(self) -> np.ndarray:
        """intensity x pixel x rate_per_pixel_hz (pixel / 8 x intensity by default)."""
        return self.image.astype(np.float64) * self.rate_per_pixel_hz * self.intensity


def encoding(cfg: Config, image: np.ndarray, repeats: int = 200, seed: int = 1) -> Encoding:
    """Draw ``repeats`` presentations of ``image`` (784 uint8) at the config's starting
    intensity with the kernel's spike-train generator, from the random stream ``seed``."""
    p = kernel_params(cfg)
    image = np.ascontiguousarray(image, dtype=np.uint8).reshape(-1)
    rates = image.astype(np.float64) * (p.rate_per_pixel_hz * p.intensity)
    rng = np.array([seed], np.uint64)
    counts = np.zeros(image.size, np.int64)
    first = None
    for _ in range(repeats):
        ptr, idx = kernel.poisson_spike_train(rates, p.spike_prob_per_hz, p.n_present, rng)
        counts += np.bincount(idx, minlength=image.size)
        if first is None:
            first = (np.repeat(np.arange(p.n_present), np.diff(ptr)), idx.astype(np.int64))
    return Encoding(
        image=image.copy(),
        dt_ms=cfg.simulation.dt_ms,
        present_ms=p.n_present * cfg.simulation.dt_ms,
        intensity=p.intensity,
        rate_per_pixel_hz=p.rate_per_pixel_hz,
        raster_steps=first[0],
        raster_inputs=first[1],
        repeats=repeats,
        counts=counts,
    )
