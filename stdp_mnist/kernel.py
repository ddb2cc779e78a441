"""The compiled simulation: one example (presentation + rest) of the Diehl & Cook network.

Everything here is numba-compiled and takes plain arrays and scalars, grouped in three
named tuples: ``KernelParams`` (scalars), ``Synapses`` (the 784 x N tables) and
``State`` (what carries from step to step). Units: mV, ms, Hz; conductances are
dimensionless (in units of the leak conductance). This module imports only numpy and
numba.

Order of work within one time step ``t`` (the same in the numpy reference in tests/):

1. neurons, in one pass over the excitatory and one over the inhibitory population:
   the conductance that arrived at ``t - 1`` joins g_e; theta and the post traces
   decay (learning only); v by forward Euler from the previous step's conductances
   (implicit where Euler would overshoot: see ``membrane_step``; or clamped at v_reset
   while refractory); conductances decay; threshold test, reset, theta += theta_plus;
2. input spikes of step ``t`` are drawn. One pass over each spiking input's row adds
   its weight (at emission) to the ring buffer of pending conductance at ``t + delay``
   and, when learning, applies the synapse's depression at once: ``nu_pre`` times the
   x_post1 the synapse will see when the spike *arrives* at ``t + delay`` (the
   reference's arrival-timed rule), predicted as ``x_post1(t) * decay_post1^delay``.
   The prediction is exact unless the neuron fires before the arrival; when it does
   (step 3), its pending arrivals are corrected by ``nu_pre * jump * decay_post1^(arrival
   - t)``, where ``jump`` is what the spike adds to x_post1. Excitatory spikes drive
   their inhibitory partner, and inhibitory spikes every other excitatory neuron. Under
   direct inhibition (``p.direct_inhibition``) the inhibitory population is not
   simulated: each excitatory spike adds ``w_direct_inhibition`` to g_i of every other
   excitatory neuron here instead;
3. STDP (learning only): x_pre decays and is set to 1 for inputs firing at ``t``; for
   each excitatory spike, its column is potentiated by ``nu_post * x_pre(t -
   potentiation_delay) * x_post2`` (x_post2 before this spike), its pending
   depressions are corrected (above), and x_post1 = x_post2 = 1. Every updated weight
   is clipped to [0, w_max].

Against depression applied at arrival, this differs only in floating-point order, in
that a weight's clip to [0, w_max] sees the depression earlier, and in that a second
spike of the same input within the delay delivers the already depressed weight.
Arrivals after the end of a call (an exact reset instead of a rest) keep the
prediction, as a rest without excitatory spikes would give them.

Variants (loop-invariant flags of ``KernelParams``): emission timing
(``not p.depress_at_arrival``) depresses by x_post1 at emission; the pair rule drops
the x_post2 factor; the paper rule (``p.paper_rule``) has no depression at all and
potentiates by ``nu_post * (x_pre(t - delay) - x_tar) * max(w_max - w, 0)^mu`` (which
is negative, i.e. depression, where x_pre < x_tar); with ``p.trace_increment`` every
trace is incremented by 1 at a spike (all-to-all pairing) instead of set to 1
(nearest-spike pairing).
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
# A trace or conductance below this moves nothing: an input trace times any learning
# rate is far below half the smallest float32 weight step, and a conductance times
# (E - v) far below half a float64 step of v (mV). The kernel keeps such values as zero,
# which changes no result and spares the slow subnormal arithmetic they would decay
# into (a decay factor above 1/2 leaves the smallest subnormal where it is, forever).
NEGLIGIBLE = 1e-300

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
    depress_at_arrival: bool  # depression by x_post1 at the spike's arrival (False: at its emission)
    w_max: float
    weight_sum: float  # normalisation target of each neuron's input weights


class Synapses(NamedTuple):
    """The input -> excitatory synapse tables, each 784 x N (input-major rows)."""

    weights: np.ndarray  # float32, plastic
    delays: np.ndarray  # uint8, conductance delay in steps (arrival-timed depression uses it too)
    potentiation_delays: np.ndarray  # uint8, steps back at which potentiation reads x_pre


class State(NamedTuple):
    """What the kernel carries from one step (and one example) to the next."""

    theta: np.ndarray  # float64 (N,), adaptive threshold, mV
    exc: np.ndarray  # float64 (5, N): v (mV), g_e, g_i, x_post1, x_post2
    inh: np.ndarray  # float64 (3, N): v (mV), g_e, g_i
    since: np.ndarray  # int64 (2, N): steps since the last spike, excitatory and inhibitory
    pending: np.ndarray  # float32 (ring, N): conductance arriving at step c is row c % ring
    x_pre_hist: np.ndarray  # float64 (ring, 784): input traces of the last ring steps
    clock: np.ndarray  # int64 (1,): global step count indexing the rings


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




@njit(cache=True, error_model="numpy", inline="always")
def membrane_step(v, g_e, g_i, dt_tau, v_rest, e_exc, e_inh):
    """v (mV) after one step of tau dv/dt = (v_rest - v) + g_e (E_exc - v) + g_i (E_inh - v)
    by forward Euler (the reference's method), except where that step would overshoot
    the potential the conductances pull towards, dt/tau (1 + g_e + g_i) > 1: there by a
    backward (implicit) Euler step, which cannot. Forward Euler diverges in that regime,
    which a large layer reaches when tens of inhibitory neurons fire in the same step
    (17 each: 24 of them make g_i > 400). Written as selects, so loops over it vectorise."""
    rate = dt_tau * (1.0 + g_e + g_i)
    forward = v + dt_tau * ((v_rest - v) + g_e * (e_exc - v) + g_i * (e_inh - v))
    backward = (v + dt_tau * (v_rest + g_e * e_exc + g_i * e_inh)) / (1.0 + rate)
    return forward if rate <= 1.0 else backward


@njit(cache=True, error_model="numpy")
def update_excitatory(p, exc, last, theta, theta_scale, c, fired, arrived, with_arrivals):
    """Step 1 for the excitatory population in one branch-free pass, ``c`` the step's
    global count. When ``with_arrivals``, the pending conductance of the previous step
    (``arrived``, zeroed here) first joins g_e. v integrates (clamped at v_reset while the steps since the last spike,
    ``c - last``, are < clamp_steps_e); conductances decay; a neuron fires when those
    steps are >= block_steps_e and v > v_thresh_e + theta (the threshold is ``theta *
    theta_scale``: see simulate); then v = v_reset and ``fired[j] = 1``. Only v, g_e, g_i
    and the one-byte ``fired`` are written, so the pass moves little memory. Returns the
    number that fired."""
    v, g_e, g_i = exc[V], exc[GE], exc[GI]
    n_fired = 0
    for j in range(v.shape[0]):
        s = min(c - last[j], NEVER)
        ge, gi = g_e[j], g_i[j]
        if with_arrivals:
            ge += arrived[j]
            arrived[j] = 0.0
        v_new = membrane_step(v[j], ge * p.drive_ge_e, gi * p.drive_gi_e, p.dt_tau_e, p.v_rest_e,
                              p.e_exc_e, p.e_inh_e)
        v_new = p.v_reset_e if s < p.clamp_steps_e else v_new
        ge, gi = ge * p.decay_ge_e, gi * p.decay_gi_e
        g_e[j] = ge if ge >= NEGLIGIBLE else 0.0
        g_i[j] = gi if gi >= NEGLIGIBLE else 0.0
        fire = (s >= p.block_steps_e) & (v_new > p.v_thresh_e + theta[j] * theta_scale)
        v[j] = p.v_reset_e if fire else v_new
        fired[j] = fire
        n_fired += fire
    return n_fired


@njit(cache=True, error_model="numpy")
def update_inhibitory(p, inh, last, c, active, n_active, is_active, fired):
    """Step 1 for the inhibitory population (fixed threshold; v clamped at v_reset and no
    spike for refractory_steps_i after a spike), for the ``n_active`` neurons listed in
    ``active`` only. A neuron leaves the list once a step leaves it exactly as it was
    (no conductance, v at its floating-point fixed point, not refractory): every later
    step would too, until its excitatory partner fires and puts it back. Writes the
    neurons that fired to ``fired``; returns (number fired, new n_active)."""
    v, g_e, g_i = inh[V], inh[GE], inh[GI]
    n_fired = 0
    q = 0
    while q < n_active:
        j = active[q]
        s = min(c - last[j], NEVER)
        ge, gi, vj = g_e[j], g_i[j], v[j]
        refractory = s < p.refractory_steps_i
        v_new = membrane_step(vj, ge * p.drive_ge_i, gi * p.drive_gi_i, p.dt_tau_i, p.v_rest_i,
                              p.e_exc_i, p.e_inh_i)
        v_new = p.v_reset_i if refractory else v_new
        ge_next, gi_next = ge * p.decay_ge_i, gi * p.decay_gi_i
        g_e[j] = ge_next if ge_next >= NEGLIGIBLE else 0.0
        g_i[j] = gi_next if gi_next >= NEGLIGIBLE else 0.0
        if (not refractory) and v_new > p.v_thresh_i:
            v[j] = p.v_reset_i
            last[j] = c
            fired[n_fired] = j
            n_fired += 1
        else:
            v[j] = v_new
            if ge == 0.0 and gi == 0.0 and v_new == vj and not refractory:
                n_active -= 1  # at rest for good: swap the last listed neuron in
                active[q] = active[n_active]
                is_active[j] = False
                continue
        q += 1
    return n_fired, n_active


@njit(cache=True, error_model="numpy")
def collect_fired(flags, fired):
    """Write the indices of the neurons whose flag is set into ``fired``."""
    q = 0
    for j in range(flags.shape[0]):
        if flags[j]:
            fired[q] = j
            q += 1


@njit(cache=True, error_model="numpy")
def add_to_list(j, items, listed, n_items):
    """Append neuron j to the ``n_items`` listed in ``items`` unless ``listed[j]`` says it
    is there already; returns the new count."""
    if not listed[j]:
        listed[j] = True
        items[n_items] = j
        n_items += 1
    return n_items


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
def depression_per_step_ahead(p, ring):
    """``nu_pre * decay_post1^k`` for k = 0 .. ring - 1: a synapse's depression per unit of
    today's x_post1 when its spike arrives k steps from now and the neuron stays silent
    meanwhile (built by repeated products, as the trace itself decays). Under emission
    timing every entry is ``nu_pre``: the depression reads x_post1 at emission."""
    factors = np.empty(ring, np.float64)
    decayed = 1.0
    for k in range(ring):
        factors[k] = p.nu_pre * decayed
        if p.depress_at_arrival:
            decayed *= p.decay_post1
    return factors


@njit(cache=True, error_model="numpy")
def emit(w_row, delay_row, pending, slot, depress, post1, ahead, w_max, traced, n_traced):
    """One input spike: every synapse of the input's row adds its weight to the pending
    conductance of its arrival step and, when ``depress``, is depressed by
    ``ahead[delay] * x_post1`` (the arrival-time depression predicted at emission).

    Only the ``n_traced`` neurons listed in ``traced`` can have an x_post1 whose
    depression changes a float32 weight (see simulate); the others are skipped, which
    is exact as long as no weight of the row exceeds w_max (a depression of zero would
    still clip it), so a row with such a weight is depressed whole."""
    ring = pending.shape[0]
    if not depress:
        for j in range(w_row.shape[0]):
            r = slot + delay_row[j]  # (slot + delay) mod ring without an integer division
            r = r - ring if r >= ring else r
            pending[r, j] += w_row[j]
        return
    row_max = 0.0
    for j in range(w_row.shape[0]):
        w = w_row[j]
        r = slot + delay_row[j]
        r = r - ring if r >= ring else r
        pending[r, j] += w
        row_max = max(row_max, w)
    if row_max > w_max:
        for j in range(w_row.shape[0]):
            w_row[j] = min(max(np.float64(w_row[j]) - ahead[delay_row[j]] * post1[j], 0.0), w_max)
    else:
        for q in range(n_traced):
            j = traced[q]
            w_row[j] = min(max(np.float64(w_row[j]) - ahead[delay_row[j]] * post1[j], 0.0), w_max)


@njit(cache=True, error_model="numpy")
def correct_pending_depression(weights, delays, ptr, idx, n_present, t, ring, j, jump, ahead, w_max):
    """Neuron ``j`` fires at step ``t``, raising x_post1 by ``jump``: every input spike of
    this presentation emitted at or before ``t`` that reaches j after ``t`` was depressed
    at emission with the trace predicted without this spike; add what the spike adds
    to the trace at the arrival, ``jump * decay_post1^(arrival - t)``, times nu_pre."""
    for s_emit in range(max(0, t - ring + 1), min(t, n_present - 1) + 1):
        for q in range(ptr[s_emit], ptr[s_emit + 1]):
            i = idx[q]
            ahead_steps = s_emit + delays[i, j] - t
            if ahead_steps > 0:
                w = np.float64(weights[i, j])
                weights[i, j] = min(max(w - ahead[ahead_steps] * jump, 0.0), w_max)


@njit(cache=True, error_model="numpy")
def potentiate(p, weights, potentiation_delays, x_pre_hist, slot, j, post2):
    """Potentiation of neuron j's input column at its spike, x_pre read one potentiation
    delay back: the reference rule (times x_post2 before the spike, or 1 for the pair
    rule) or the paper rule's nu_post (x_pre - x_tar) max(w_max - w, 0)^mu."""
    ring = x_pre_hist.shape[0]
    scale = p.nu_post * (post2 if p.potentiation_uses_post2 else 1.0)
    for i in range(weights.shape[0]):
        r = slot - potentiation_delays[i, j]  # (c - delay) mod ring
        r = r + ring if r < 0 else r
        w = np.float64(weights[i, j])
        if p.paper_rule:
            dw = p.nu_post * (x_pre_hist[r, i] - p.x_tar) * max(p.w_max - w, 0.0) ** p.mu
        else:
            dw = scale * x_pre_hist[r, i]
        weights[i, j] = min(max(w + dw, 0.0), p.w_max)


@njit(cache=True, error_model="numpy")
def reset_to_rest(p, state):
    """Exact reset: v = v_rest, conductances, traces and pending input zero (theta kept)."""
    state.exc[V, :] = p.v_rest_e
    state.exc[GE:, :] = 0.0
    state.inh[V, :] = p.v_rest_i
    state.inh[GE:, :] = 0.0
    state.since[:, :] = NEVER
    state.pending[:, :] = 0.0
    state.x_pre_hist[:, :] = 0.0


@njit(cache=True, error_model="numpy")
def simulate(p, ptr, idx, learn, syn, state, counts):
    """Run one presentation (``p.n_present`` steps of the spike train ``ptr, idx``) and
    the rest after it (``p.n_rest`` steps), updating ``syn.weights`` and ``state`` in place.

    ``learn`` turns on STDP and theta adaptation. ``state.clock[0]`` is the global step
    count indexing the ring buffers. Adds the excitatory spikes of the presentation to
    ``counts``; returns their sum. Between calls no conductance is left in the slot of
    the last step: it has joined g_e.

    Within the call, per-neuron quantities that only decay are kept lazily so that a
    step writes as little memory as it can: theta, x_post1 and x_post2 as values times
    a common factor (``*_scale``, decayed once per step instead of every neuron), and
    the steps since the last spike as the step of that spike (``since`` holds
    ``c - since - 1`` during the call). Both are converted back before returning.
    """
    weights, delays = syn.weights, syn.delays
    theta, exc, inh, since, pending, x_pre_hist, clock = state
    n_in, n = weights.shape
    ring = pending.shape[0]
    n_steps = p.n_present + p.n_rest
    post1, post2 = exc[POST1], exc[POST2]
    last_e, last_i = since[0], since[1]
    c0 = clock[0]
    for j in range(n):  # steps since the last spike -> step of the last spike
        last_e[j] = c0 - last_e[j] - 1
        last_i[j] = c0 - last_i[j] - 1
    theta_scale = post1_scale = post2_scale = 1.0
    fired_flags = np.zeros(n, np.uint8)
    fired_e = np.empty(n, np.int64)
    fired_i = np.empty(n, np.int64)
    inh_active = np.arange(n)  # every inhibitory neuron until it shows it is at rest
    inh_is_active = np.ones(n, np.bool_)
    n_inh_active = 0 if p.direct_inhibition else n
    ahead = depression_per_step_ahead(p, ring)
    ahead_now = np.empty(ring, np.float64)
    depress = learn and not p.paper_rule  # the paper rule has no depression
    correct = depress and p.depress_at_arrival
    # Neurons whose x_post1 can still depress: below negligible_post1, nu_pre * x_post1
    # is under half the smallest float32 step, so subtracting it leaves every float32
    # weight as it is. Traces only decay, so the list made now holds for the call, with
    # the neurons that fire during it added as they fire.
    negligible_post1 = 5e-46 / p.nu_pre if p.nu_pre > 0.0 else np.inf
    traced = np.empty(n, np.int64)
    is_traced = np.zeros(n, np.bool_)
    n_traced = 0
    if depress:
        for j in range(n):
            if post1[j] >= negligible_post1:
                n_traced = add_to_list(j, traced, is_traced, n_traced)
    last_emission = c0 - 1  # pending may hold input of the previous call's last steps
    total = 0
    for t in range(n_steps):
        c = c0 + t
        slot = c % ring
        prev = slot - 1 if slot > 0 else ring - 1
        # 1. neurons (the previous step's arrivals join g_e), one pass each
        if learn:
            theta_scale *= p.decay_theta
            post1_scale *= p.decay_post1
            post2_scale *= p.decay_post2
        n_fired_e = update_excitatory(p, exc, last_e, theta, theta_scale, c, fired_flags, pending[prev],
                                      c - 1 - last_emission < ring)
        n_fired_i, n_inh_active = update_inhibitory(p, inh, last_i, c, inh_active, n_inh_active,
                                                    inh_is_active, fired_i)
        if n_fired_e > 0:
            collect_fired(fired_flags, fired_e)
            for q in range(n_fired_e):
                j = fired_e[q]
                last_e[j] = c
                if learn:
                    theta[j] += p.theta_plus / theta_scale
        # 2. spike propagation, with depression predicted at emission
        if t < p.n_present and ptr[t + 1] > ptr[t]:
            last_emission = c
            for k in range(ring):
                ahead_now[k] = ahead[k] * post1_scale
            for q in range(ptr[t], ptr[t + 1]):
                i = idx[q]
                emit(weights[i], delays[i], pending, slot, depress, post1, ahead_now, p.w_max,
                     traced, n_traced)
        if p.direct_inhibition:
            inhibit_all_but(exc[GI], p.w_direct_inhibition, fired_e, n_fired_e)
        else:
            for q in range(n_fired_e):
                j = fired_e[q]
                inh[GE, j] += p.w_exc_to_inh
                n_inh_active = add_to_list(j, inh_active, inh_is_active, n_inh_active)
        inhibit_all_but(exc[GI], p.w_inh_to_exc, fired_i, n_fired_i)
        if t < p.n_present:
            for q in range(n_fired_e):
                counts[fired_e[q]] += 1
            total += n_fired_e
        # 3. plasticity
        if learn:
            x_now, x_prev = x_pre_hist[slot], x_pre_hist[prev]
            for i in range(n_in):
                x = x_prev[i] * p.decay_pre
                x_now[i] = x if x >= NEGLIGIBLE else 0.0
            if t < p.n_present:
                for q in range(ptr[t], ptr[t + 1]):
                    x_now[idx[q]] = x_now[idx[q]] + 1.0 if p.trace_increment else 1.0
            for q in range(n_fired_e):
                j = fired_e[q]
                potentiate(p, weights, syn.potentiation_delays, x_pre_hist, slot, j,
                           post2[j] * post2_scale)
                new_post1 = post1[j] + 1.0 / post1_scale if p.trace_increment else 1.0 / post1_scale
                if correct:
                    correct_pending_depression(weights, delays, ptr, idx, p.n_present, t, ring, j,
                                               (new_post1 - post1[j]) * post1_scale, ahead, p.w_max)
                post1[j] = new_post1
                post2[j] = post2[j] + 1.0 / post2_scale if p.trace_increment else 1.0 / post2_scale
                n_traced = add_to_list(j, traced, is_traced, n_traced)
            if post1_scale < 1e-100 or post2_scale < 1e-100:  # keep 1 / scale finite on long rests
                for j in range(n):
                    post1[j] *= post1_scale
                    post2[j] *= post2_scale
                post1_scale = post2_scale = 1.0
    c_end = c0 + n_steps
    clock[0] = c_end
    if n_steps > 0 and c_end - 1 - last_emission < ring:  # the last step's arrivals join g_e
        last = (c_end - 1) % ring
        for j in range(n):
            exc[GE, j] += pending[last, j]
            pending[last, j] = 0.0
    for j in range(n):  # back to plain values and steps since the last spike
        last_e[j] = min(c_end - 1 - last_e[j], NEVER)
        last_i[j] = min(c_end - 1 - last_i[j], NEVER)
    if learn:
        for j in range(n):
            theta[j] *= theta_scale
            post1[j] *= post1_scale
            post2[j] *= post2_scale
    if p.exact_reset:
        reset_to_rest(p, state)
        if learn:
            for j in range(n):
                theta[j] *= p.rest_theta_decay
    return total


@njit(cache=True, error_model="numpy")
def present_example(p, image, learn, rng, syn, state, counts):
    """Show one image until the layer fires at least ``p.min_spikes`` (raising the
    intensity each retry, when ``p.boost``), each presentation followed by its rest.
    Learning normalises the weights before every presentation. ``counts`` ends with the
    last presentation's spikes. Returns the number of retries (intensity boosts)."""
    intensity = p.intensity
    retries = 0
    while True:
        if learn:
            normalise_columns(syn.weights, p.weight_sum)
        rates = image.astype(np.float64) * (p.rate_per_pixel_hz * intensity)
        ptr, idx = poisson_spike_train(rates, p.spike_prob_per_hz, p.n_present, rng)
        counts[:] = 0
        fired = simulate(p, ptr, idx, learn, syn, state, counts)
        if fired >= p.min_spikes or not p.boost or retries >= p.max_retries:
            return retries
        retries += 1
        intensity += p.intensity_step


@njit(cache=True, error_model="numpy")
def train_examples(p, images, rng, syn, state, counts, retries):
    """Train on ``images`` (K x 784, uint8) in order; fills ``counts`` (K x N) with each
    example's excitatory spikes and ``retries`` (K) with its intensity boosts."""
    for k in range(images.shape[0]):
        retries[k] = present_example(p, images[k], True, rng, syn, state, counts[k])


@njit(cache=True, error_model="numpy")
def init_state(p, theta, n_inputs, ring, v_offset):
    """A State at rest around ``theta`` (kept, not copied), with every membrane potential
    at v_rest + v_offset (mV)."""
    n = theta.shape[0]
    exc = np.zeros((5, n), np.float64)
    inh = np.zeros((3, n), np.float64)
    exc[V, :] = p.v_rest_e + v_offset
    inh[V, :] = p.v_rest_i + v_offset
    since = np.full((2, n), NEVER, np.int64)
    pending = np.zeros((ring, n), np.float32)
    x_pre_hist = np.zeros((ring, n_inputs), np.float64)
    clock = np.zeros(1, np.int64)
    return State(theta, exc, inh, since, pending, x_pre_hist, clock)


@njit(cache=True, parallel=True, error_model="numpy")
def frozen_responses(p, images, block_size, block_seeds, weights, theta, delays, counts, retries):
    """Frozen run (no plasticity, theta fixed) of ``images`` cut into blocks of
    ``block_size``; each block starts at rest with its own random stream
    ``block_seeds[b]``, so blocks run in parallel and results do not depend on the
    number of cores. Fills ``counts`` (K x N) and ``retries`` (K)."""
    n_examples = images.shape[0]
    ring = int(delays.max()) + 1
    n_blocks = (n_examples + block_size - 1) // block_size
    syn = Synapses(weights, delays, delays)
    for b in prange(n_blocks):
        state = init_state(p, theta.copy(), 0, ring, 0.0)  # a copy: no shared writes
        rng = np.array([block_seeds[b]], np.uint64)
        for k in range(b * block_size, min(n_examples, (b + 1) * block_size)):
            retries[k] = present_example(p, images[k], False, rng, syn, state, counts[k])
