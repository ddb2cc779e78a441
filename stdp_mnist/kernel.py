"""The compiled simulation: one example (presentation + rest) of the Diehl & Cook network.

Everything here is numba-compiled and takes plain arrays and scalars (packed in the
``KernelParams`` named tuple). Units: mV, ms, Hz; conductances are dimensionless
(in units of the leak conductance). This module imports only numpy and numba.

Order of work within one time step ``t`` (the same in the numpy reference in tests/):

1. neurons: excitatory then inhibitory; v by forward Euler from the previous step's
   conductances (implicit where Euler would overshoot: see update_neurons; or clamped
   at v_reset while refractory), then conductances, theta
   and the post traces decay; threshold test, reset, theta += theta_plus;
2. input spikes of step ``t`` are drawn; each adds its weight (at emission) to the
   ring buffer of pending conductance at ``t + delay``; the slot of ``t`` is added
   to the excitatory g_e; excitatory spikes drive their inhibitory partner, and
   inhibitory spikes every other excitatory neuron. Under direct inhibition
   (``p.direct_inhibition``) the inhibitory population is not simulated: each
   excitatory spike adds ``w_direct_inhibition`` to g_i of every other excitatory
   neuron here instead;
3. STDP (learning only), presynaptic half first: x_pre decays and is set to 1 for
   inputs firing at ``t``; every synapse whose input spike *arrives* at ``t``
   (``t_emission + stdp_delay``) is depressed by ``nu_pre * x_post1``; then for each
   excitatory spike, its column is potentiated by ``nu_post * x_pre(t - stdp_delay) *
   x_post2`` (x_post2 before this spike) and x_post1 = x_post2 = 1. Every updated
   weight is clipped to [0, w_max].

   Variants (loop-invariant flags of ``KernelParams``): the pair rule drops the
   x_post2 factor; the paper rule (``p.paper_rule``) has no depression at all and
   potentiates by ``nu_post * (x_pre(t - stdp_delay) - x_tar) * max(w_max - w, 0)^mu``
   (which is negative, i.e. depression, where x_pre < x_tar); with
   ``p.trace_increment`` every trace is incremented by 1 at a spike (all-to-all
   pairing) instead of set to 1 (nearest-spike pairing).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

# Rows of the excitatory state array ``exc`` (shape 5 x N).
V, GE, GI, POST1, POST2 = 0, 1, 2, 3, 4
# Rows of the inhibitory state array ``inh`` (shape 3 x N) are V, GE, GI as above.
# Steps since the last spike saturate here ("never fired").
NEVER = 1 << 30

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


class KernelParams(NamedTuple):
    """Every scalar the kernel needs, already converted to per-step quantities."""

    n_present: int  # steps with input
    n_rest: int  # steps of rest after each presentation (0 when the rest is an exact reset)
    exact_reset: bool  # reset state to rest after each presentation instead of simulating it
    spike_prob_per_hz: float  # per-step spike probability per Hz of rate (dt_ms / 1000)
    rate_per_pixel_hz: float  # Hz per pixel value per unit intensity
    intensity: float  # starting intensity of an example
    intensity_step: float
    min_spikes: int
    max_retries: int
    boost: bool  # retry examples that drew fewer than min_spikes
    # excitatory neurons
    dt_tau_e: float  # dt / tau_membrane
    v_rest_e: float
    v_reset_e: float
    v_thresh_e: float  # v_thresh - theta_offset: fires when v > v_thresh_e + theta
    e_exc_e: float
    e_inh_e: float
    drive_ge_e: float  # g_e's factor in the v equation: 1, or its mean over the step (exact-mean)
    drive_gi_e: float
    decay_ge_e: float  # per-step factor of g_e
    decay_gi_e: float
    clamp_steps_e: int  # v held at v_reset while steps since spike < this
    block_steps_e: int  # no spike while steps since spike < this
    decay_theta: float  # per-step factor of theta while learning
    theta_plus: float
    rest_theta_decay: float  # theta factor applied for the rest under exact reset
    # inhibitory neurons
    dt_tau_i: float
    v_rest_i: float
    v_reset_i: float
    v_thresh_i: float
    e_exc_i: float
    e_inh_i: float
    drive_ge_i: float
    drive_gi_i: float
    decay_ge_i: float
    decay_gi_i: float
    refractory_steps_i: int
    w_exc_to_inh: float
    w_inh_to_exc: float
    direct_inhibition: bool  # no inhibitory population: exc spikes inhibit the other exc directly
    w_direct_inhibition: float  # g_i increment of every other excitatory neuron per excitatory spike
    # plasticity
    nu_pre: float
    nu_post: float
    decay_pre: float
    decay_post1: float
    decay_post2: float
    potentiation_uses_post2: bool  # reference rule (True) or plain pair rule (False)
    paper_rule: bool  # the paper's rule: no depression, dw = nu_post (x_pre - x_tar)(w_max - w)^mu
    x_tar: float
    mu: float
    trace_increment: bool  # traces += 1 at a spike (all-to-all) instead of = 1 (nearest spike)
    w_max: float
    weight_sum: float  # normalisation target of each neuron's input weights


@njit(cache=True, error_model="numpy")
def next_uniform(rng):
    """Uniform double in (0, 1] from a splitmix64 stream whose state is ``rng[0]``."""
    rng[0] += _GOLDEN
    z = rng[0]
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return ((z >> _S11) + np.uint64(1)) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy")
def _spike_steps(prob, n_steps, rng, steps_out):
    """Steps at which a Bernoulli(prob)-per-step source fires, by geometric skipping.

    Gaps between successes of per-step Bernoulli trials are geometric, so drawing the
    gaps costs one random number per spike instead of one per step. Writes into
    ``steps_out`` when it is large enough and returns the number of spikes.
    """
    if prob <= 0.0:
        return 0
    if prob >= 1.0:
        for s in range(min(n_steps, steps_out.shape[0])):
            steps_out[s] = s
        return n_steps
    log_q = np.log1p(-prob)
    n = 0
    s = -1
    while True:
        s += 1 + int(np.floor(np.log(next_uniform(rng)) / log_q))
        if s >= n_steps:
            return n
        if n < steps_out.shape[0]:
            steps_out[n] = s
        n += 1


@njit(cache=True, error_model="numpy")
def poisson_spike_train(rates_hz, spike_prob_per_hz, n_steps, rng):
    """Input spike train of one presentation as CSR: inputs firing at step s are
    ``idx[ptr[s]:ptr[s + 1]]`` (ascending). Per-step spike probability is rate * dt."""
    n_inputs = rates_hz.shape[0]
    per_input = np.zeros(n_inputs, np.int64)
    scratch = np.empty(0, np.int64)
    start_state = rng[0]
    for i in range(n_inputs):
        per_input[i] = _spike_steps(rates_hz[i] * spike_prob_per_hz, n_steps, rng, scratch)
    # Second pass replays the same stream to place the spikes.
    rng[0] = start_state
    ptr = np.zeros(n_steps + 1, np.int64)
    steps = np.empty(max(1, per_input.max()), np.int64)
    for i in range(n_inputs):
        n = _spike_steps(rates_hz[i] * spike_prob_per_hz, n_steps, rng, steps)
        for q in range(n):
            ptr[steps[q] + 1] += 1
    for s in range(n_steps):
        ptr[s + 1] += ptr[s]
    fill = ptr[:-1].copy()
    idx = np.empty(ptr[n_steps], np.int32)
    rng[0] = start_state
    for i in range(n_inputs):
        n = _spike_steps(rates_hz[i] * spike_prob_per_hz, n_steps, rng, steps)
        for q in range(n):
            idx[fill[steps[q]]] = i
            fill[steps[q]] += 1
    return ptr, idx


@njit(cache=True, error_model="numpy")
def normalise_columns(weights, target_sum):
    """Rescale each excitatory neuron's input weights (a column) to sum to target_sum."""
    n_in, n = weights.shape
    sums = np.zeros(n, np.float64)
    for i in range(n_in):
        for j in range(n):
            sums[j] += weights[i, j]
    for j in range(n):
        sums[j] = target_sum / sums[j] if sums[j] > 0.0 else 1.0
    for i in range(n_in):
        for j in range(n):
            weights[i, j] = weights[i, j] * sums[j]


@njit(cache=True, error_model="numpy")
def update_neurons(dt_tau, g_e, g_i, v, since, theta, v_rest, v_reset, v_thresh, e_exc, e_inh,
                   drive_ge, drive_gi, decay_ge, decay_gi, clamp_steps, block_steps):
    """One step of a population, in one branch-free loop (selects, not jumps, no calls)
    so that it vectorises. Returns the number of neurons that fired.

    v follows tau dv/dt = (v_rest - v) + g_e (E_exc - v) + g_i (E_inh - v) (mV) by
    forward Euler (the reference's method), except where its step would overshoot the
    potential the conductances pull towards, dt/tau (1 + g_e + g_i) > 1: there by a
    backward (implicit) Euler step, which cannot. Forward Euler diverges in that
    regime, which a large layer reaches when tens of inhibitory neurons fire in the
    same step (17 each: 24 of them make g_i > 400). The conductances enter the v
    equation times ``drive_ge`` and ``drive_gi`` (1, or their step means: see
    KernelParams). v is clamped at v_reset while the
    steps since the last spike < clamp_steps; conductances decay; a neuron fires when
    the steps since its last spike >= block_steps and v > v_thresh + theta (then
    v = v_reset, since = 0)."""
    n_fired = 0
    for j in range(v.shape[0]):
        s = min(since[j] + 1, NEVER)
        vj, ge, gi = v[j], g_e[j] * drive_ge, g_i[j] * drive_gi
        rate = dt_tau * (1.0 + ge + gi)
        forward = vj + dt_tau * ((v_rest - vj) + ge * (e_exc - vj) + gi * (e_inh - vj))
        backward = (vj + dt_tau * (v_rest + ge * e_exc + gi * e_inh)) / (1.0 + rate)
        v_new = forward if rate <= 1.0 else backward
        v_new = v_reset if s < clamp_steps else v_new
        g_e[j] *= decay_ge
        g_i[j] *= decay_gi
        fire = (s >= block_steps) & (v_new > v_thresh + theta[j])
        v[j] = v_reset if fire else v_new
        since[j] = 0 if fire else s
        n_fired += fire
    return n_fired


@njit(cache=True, error_model="numpy")
def collect_fired(since, fired):
    """Write the indices of the neurons that fired this step (since == 0) into ``fired``."""
    q = 0
    for j in range(since.shape[0]):
        if since[j] == 0:
            fired[q] = j
            q += 1


@njit(cache=True, error_model="numpy")
def inhibit_all_but(g_i, weight, fired, n_fired):
    """Lateral inhibition: each of the ``n_fired`` neurons in ``fired`` adds ``weight``
    to g_i of every excitatory neuron but its own partner (the same index)."""
    if n_fired > 0:
        for j in range(g_i.shape[0]):
            g_i[j] += weight * n_fired
        for q in range(n_fired):
            g_i[fired[q]] -= weight


@njit(cache=True, error_model="numpy")
def reset_to_rest(p, exc, inh, since, pending, x_pre_hist):
    """Exact reset: v = v_rest, conductances, traces and pending input zero (theta kept)."""
    exc[V, :] = p.v_rest_e
    exc[GE:, :] = 0.0
    inh[V, :] = p.v_rest_i
    inh[GE:, :] = 0.0
    since[:, :] = NEVER
    pending[:, :] = 0.0
    x_pre_hist[:, :] = 0.0


@njit(cache=True, error_model="numpy")
def simulate(p, ptr, idx, learn, weights, theta, delays, stdp_delays, stdp_order, stdp_start,
             exc, inh, since, pending, x_pre_hist, clock, counts):
    """Run one presentation (``p.n_present`` steps of the spike train ``ptr, idx``) and
    the rest after it (``p.n_rest`` steps), updating the state in place.

    ``learn`` turns on STDP and theta adaptation. Depression is timed by the tables
    ``stdp_order[i]`` (input i's excitatory targets sorted by depression delay; those
    with delay d are ``stdp_order[i, stdp_start[i, d]:stdp_start[i, d + 1]]``) and
    potentiation by ``stdp_delays`` (see network.Network.stdp_delays). ``clock[0]`` is the
    global step count indexing the ring buffers ``pending`` and ``x_pre_hist``.
    Adds the excitatory spikes of the presentation to ``counts``; returns their sum.
    """
    n_in, n = weights.shape
    ring = pending.shape[0]
    fired_e = np.empty(n, np.int64)
    fired_i = np.empty(n, np.int64)
    depression = np.empty(n, np.float64)  # nu_pre * x_post1 of the current step
    v_e, ge_e, gi_e, post1, post2 = exc[V], exc[GE], exc[GI], exc[POST1], exc[POST2]
    v_i, ge_i, gi_i = inh[V], inh[GE], inh[GI]
    since_e, since_i = since[0], since[1]
    no_theta = np.zeros(n)  # inhibitory neurons have a fixed threshold
    total = 0
    for t in range(p.n_present + p.n_rest):
        c = clock[0]
        slot = c % ring
        # 1. neurons; the few that fired are collected afterwards
        if learn:
            for j in range(n):
                theta[j] *= p.decay_theta
                post1[j] *= p.decay_post1
                post2[j] *= p.decay_post2
        n_fired_e = update_neurons(p.dt_tau_e, ge_e, gi_e, v_e, since_e, theta, p.v_rest_e,
                                   p.v_reset_e, p.v_thresh_e, p.e_exc_e, p.e_inh_e, p.drive_ge_e,
                                   p.drive_gi_e, p.decay_ge_e, p.decay_gi_e, p.clamp_steps_e,
                                   p.block_steps_e)
        n_fired_i = 0
        if not p.direct_inhibition:
            n_fired_i = update_neurons(p.dt_tau_i, ge_i, gi_i, v_i, since_i, no_theta, p.v_rest_i,
                                       p.v_reset_i, p.v_thresh_i, p.e_exc_i, p.e_inh_i, p.drive_ge_i,
                                       p.drive_gi_i, p.decay_ge_i, p.decay_gi_i, p.refractory_steps_i,
                                       p.refractory_steps_i)
        if n_fired_e > 0:
            collect_fired(since_e, fired_e)
            if learn:
                for q in range(n_fired_e):
                    theta[fired_e[q]] += p.theta_plus
        if n_fired_i > 0:
            collect_fired(since_i, fired_i)
        # 2. spike propagation
        if t < p.n_present:
            for q in range(ptr[t], ptr[t + 1]):
                i = idx[q]
                for j in range(n):
                    # (slot + delay) mod ring without an integer division
                    r = slot + delays[i, j]
                    r = r - ring if r >= ring else r
                    pending[r, j] += weights[i, j]
        for j in range(n):
            exc[GE, j] += pending[slot, j]
            pending[slot, j] = 0.0
        if p.direct_inhibition:
            inhibit_all_but(gi_e, p.w_direct_inhibition, fired_e, n_fired_e)
        else:
            for q in range(n_fired_e):
                inh[GE, fired_e[q]] += p.w_exc_to_inh
        inhibit_all_but(gi_e, p.w_inh_to_exc, fired_i, n_fired_i)
        if t < p.n_present:
            for q in range(n_fired_e):
                counts[fired_e[q]] += 1
            total += n_fired_e
        # 3. plasticity
        if learn:
            prev = (c - 1) % ring
            for i in range(n_in):
                x_pre_hist[slot, i] = x_pre_hist[prev, i] * p.decay_pre
            if t < p.n_present:
                if p.trace_increment:
                    for q in range(ptr[t], ptr[t + 1]):
                        x_pre_hist[slot, idx[q]] += 1.0
                else:
                    for q in range(ptr[t], ptr[t + 1]):
                        x_pre_hist[slot, idx[q]] = 1.0
            for j in range(n):
                depression[j] = p.nu_pre * post1[j]
            for d in range(0 if p.paper_rule else ring):  # the paper rule has no depression
                s_emit = t - d
                if s_emit < 0 or s_emit >= p.n_present:
                    continue
                for q in range(ptr[s_emit], ptr[s_emit + 1]):
                    i = idx[q]
                    for k in range(stdp_start[i, d], stdp_start[i, d + 1]):
                        j = stdp_order[i, k]
                        weights[i, j] = min(max(weights[i, j] - depression[j], 0.0), p.w_max)
            for q in range(n_fired_e):
                j = fired_e[q]
                if p.paper_rule:
                    for i in range(n_in):
                        r = slot - stdp_delays[i, j]  # (c - delay) mod ring
                        r = r + ring if r < 0 else r
                        w = np.float64(weights[i, j])
                        dw = p.nu_post * (x_pre_hist[r, i] - p.x_tar) * max(p.w_max - w, 0.0) ** p.mu
                        weights[i, j] = min(max(w + dw, 0.0), p.w_max)
                else:
                    scale = p.nu_post * (post2[j] if p.potentiation_uses_post2 else 1.0)
                    for i in range(n_in):
                        r = slot - stdp_delays[i, j]  # (c - delay) mod ring
                        r = r + ring if r < 0 else r
                        weights[i, j] = min(max(weights[i, j] + scale * x_pre_hist[r, i], 0.0), p.w_max)
                if p.trace_increment:
                    post1[j] += 1.0
                    post2[j] += 1.0
                else:
                    post1[j] = 1.0
                    post2[j] = 1.0
        clock[0] = c + 1
    if p.exact_reset:
        reset_to_rest(p, exc, inh, since, pending, x_pre_hist)
        if learn:
            for j in range(n):
                theta[j] *= p.rest_theta_decay
    return total


@njit(cache=True, error_model="numpy")
def present_example(p, image, learn, rng, weights, theta, delays, stdp_delays, stdp_order,
                    stdp_start, exc, inh, since, pending, x_pre_hist, clock, counts):
    """Show one image until the layer fires at least ``p.min_spikes`` (raising the
    intensity each retry, when ``p.boost``), each presentation followed by its rest.
    Learning normalises the weights before every presentation. ``counts`` ends with the
    last presentation's spikes. Returns the number of retries (intensity boosts)."""
    intensity = p.intensity
    retries = 0
    while True:
        if learn:
            normalise_columns(weights, p.weight_sum)
        rates = image.astype(np.float64) * (p.rate_per_pixel_hz * intensity)
        ptr, idx = poisson_spike_train(rates, p.spike_prob_per_hz, p.n_present, rng)
        counts[:] = 0
        fired = simulate(p, ptr, idx, learn, weights, theta, delays, stdp_delays, stdp_order,
                         stdp_start, exc, inh, since, pending, x_pre_hist, clock, counts)
        if fired >= p.min_spikes or not p.boost or retries >= p.max_retries:
            return retries
        retries += 1
        intensity += p.intensity_step


@njit(cache=True, error_model="numpy")
def train_examples(p, images, rng, weights, theta, delays, stdp_delays, stdp_order, stdp_start,
                   exc, inh, since, pending, x_pre_hist, clock, counts, retries):
    """Train on ``images`` (K x 784, uint8) in order; fills ``counts`` (K x N) with each
    example's excitatory spikes and ``retries`` (K) with its intensity boosts."""
    for k in range(images.shape[0]):
        retries[k] = present_example(p, images[k], True, rng, weights, theta, delays, stdp_delays,
                                     stdp_order, stdp_start, exc, inh, since, pending, x_pre_hist,
                                     clock, counts[k])


@njit(cache=True, error_model="numpy")
def init_state(p, n_inputs, n, ring, v_offset):
    """State arrays at rest with every membrane potential at v_rest + v_offset (mV)."""
    exc = np.zeros((5, n), np.float64)
    inh = np.zeros((3, n), np.float64)
    exc[V, :] = p.v_rest_e + v_offset
    inh[V, :] = p.v_rest_i + v_offset
    since = np.full((2, n), NEVER, np.int64)
    pending = np.zeros((ring, n), np.float64)
    x_pre_hist = np.zeros((ring, n_inputs), np.float64)
    clock = np.zeros(1, np.int64)
    return exc, inh, since, pending, x_pre_hist, clock


@njit(cache=True, parallel=True, error_model="numpy")
def frozen_responses(p, images, block_size, block_seeds, weights, theta, delays, counts, retries):
    """Frozen run (no plasticity, theta fixed) of ``images`` cut into blocks of
    ``block_size``; each block starts at rest with its own random stream
    ``block_seeds[b]``, so blocks run in parallel and results do not depend on the
    number of cores. Fills ``counts`` (K x N) and ``retries`` (K)."""
    n_examples, n_inputs = images.shape
    n = weights.shape[1]
    ring = int(delays.max()) + 1
    n_blocks = (n_examples + block_size - 1) // block_size
    no_order = np.zeros((1, 1), np.int64)
    for b in prange(n_blocks):
        exc, inh, since, pending, x_pre_hist, clock = init_state(p, 0, n, ring, 0.0)
        rng = np.array([block_seeds[b]], np.uint64)
        for k in range(b * block_size, min(n_examples, (b + 1) * block_size)):
            retries[k] = present_example(p, images[k], False, rng, weights, theta, delays,
                                         delays, no_order, no_order, exc, inh, since, pending,
                                         x_pre_hist, clock, counts[k])
