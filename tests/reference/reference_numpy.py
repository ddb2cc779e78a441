"""A plain numpy reference of ``stdp_mnist.kernel.simulate`` (no numba), for tests.

Written from docs/MODEL.md and the step order stated in the kernel's module docstring,
for clarity rather than speed: one Python iteration per time step, numpy across neurons.
It takes and updates exactly the same arrays as the kernel:

    simulate(p, ptr, idx, learn, synapses, state, counts) -> total

Deliberate differences in *method* (not in result) from the kernel, so that the two
are not the same code twice:

* every trace, theta and step count is updated every step (the kernel keeps them
  lazily, as values times a common factor and as the step of the last spike);
* the inhibitory population is integrated whole every step (the kernel skips neurons
  at their fixed point);
* the depression predicted at emission is computed for the whole row with a power
  table ``nu_pre * decay_post1^delay``; the correction at an excitatory spike is found
  from a matrix of which inputs fired in the last ring steps;
* the inhibitory -> excitatory drive is "number of inhibitory spikes from neurons
  other than j" times the weight; STDP updates are whole-matrix / whole-column numpy.

Weights are float32, and so is the pending-conductance ring; every weight update is
computed in float64 from the float32 value and stored back as float32 (as the kernel
does).

Order of work within step ``t`` (global step ``c = clock[0]``):

1. the pending conductance of step c - 1 joins g_e. Excitatory neurons: steps since
   last spike ``s = since + 1``; v = v_reset while ``s < clamp_steps_e`` else forward
   Euler from the conductances left by the previous step (backward Euler where forward
   Euler would overshoot, see ``membrane``); g_e, g_i decay; when learning, theta,
   x_post1, x_post2 decay; spike if ``s >= block_steps_e`` and ``v > v_thresh_e +
   theta``: v = v_reset, s = 0, theta += theta_plus (learning). Inhibitory neurons
   likewise (clamp and block both ``refractory_steps_i``, no theta).
2. input spikes of t (presentation only) add their current weight to the conductance
   pending at ``c + delay`` and (learning, not the paper rule) are depressed by
   ``nu_pre * x_post1 * decay_post1^delay`` (decay factor 1 under emission timing);
   excitatory spike k adds w_exc_to_inh to inhibitory k's g_e; inhibitory spike k adds
   w_inh_to_exc to every excitatory j != k's g_i. Presentation spikes are counted.
3. STDP (learning): x_pre(t) = x_pre(t-1) * decay_pre, set to 1 for inputs firing at
   t; for each excitatory spike j: w[:, j] += nu_post * x_pre(t - stdp_delay) * x_post2
   (x_post2 before the spike; 1 for the pair rule); under arrival timing every spike of
   this presentation emitted at or before t that reaches j after t is depressed by a
   further ``nu_pre * jump * decay_post1^(arrival - t)``, ``jump`` what the spike adds
   to x_post1; then x_post1 = x_post2 = 1. Clip [0, w_max].

After the steps, the pending conductance of the last step joins g_e.

Variants (fields of the kernel params):

* ``direct_inhibition``: step 1b is skipped (the inhibitory state stays as it is) and
  in step 2, instead of the excitatory -> inhibitory -> excitatory path, excitatory
  spike k adds w_direct_inhibition to every excitatory j != k's g_i;
* ``inhibition_distance > 0``: each spike of neuron k (inhibitory or, under direct
  inhibition, excitatory) inhibits excitatory j by its weight times
  min(1, sqrt(d_jk / inhibition_distance)), d_jk their distance on the square grid;
* ``rule == RULE_PAPER``: no depression; for each excitatory spike j,
  w[:, j] += nu_post * (x_pre(t - stdp_delay) - x_tar) * max(w_max - w[:, j], 0)^mu;
* ``rule == RULE_INSTAR``: no depression; for each excitatory spike j,
  w[:, j] += nu_post * (x_pre(t - stdp_delay) - w[:, j]);
* ``rule == RULE_SOFT_BOUND``: the reference rule with the potentiation times
  max(w_max - w[:, j], 0);
* ``trace_increment``: x_pre, x_post1 and x_post2 grow by 1 at a spike instead of
  being set to 1;
* ``rate_decay_spikes = S > 0`` (a learning-rate schedule per neuron): nu_pre and
  nu_post of neuron j (its column's depressions, corrections included, and its
  potentiation) are multiplied by ``S / (S + wins_j)``, wins_j as it stood when the
  call began; each excitatory spike while learning adds 1 to wins_j.

Before each learning presentation (``normalise``), each column of the weights is
rescaled to sum weight_sum, or, when weight_l2 > 0, to Euclidean norm weight_l2.

After the steps, when learning, theta = max(theta - theta_minus, 0) (homeostasis
towards a target rate; theta_minus is 0 in the reference model). Then, under ``exact_reset``: v = v_rest, conductances, traces, pending input
and x_pre history = 0, "never fired", theta *= rest_theta_decay when learning.
"""

from __future__ import annotations

import numpy as np

V, GE, GI, POST1, POST2 = 0, 1, 2, 3, 4
NEVER = 1 << 30
RULE_REFERENCE, RULE_PAIR, RULE_PAPER, RULE_INSTAR, RULE_SOFT_BOUND = 0, 1, 2, 3, 4  # KernelParams.rule


def normalise(p, weights):
    """Rescale every column of the float32 weights, in place, to sum ``p.weight_sum`` or,
    when ``p.weight_l2`` > 0, to that Euclidean norm (an all-zero column stays zero)."""
    w = weights.astype(np.float64)
    size = np.sqrt((w * w).sum(axis=0)) if p.weight_l2 > 0 else w.sum(axis=0)
    target = p.weight_l2 if p.weight_l2 > 0 else p.weight_sum
    factor = np.divide(target, size, out=np.ones_like(size), where=size > 0)
    weights[:] = (weights * factor).astype(np.float32)


def _spikes_matrix(ptr, idx, n_present, n_in):
    """Boolean (n_present, n_in): input i fired at presentation step s."""
    spiked = np.zeros((n_present, n_in), dtype=bool)
    for s in range(n_present):
        spiked[s, idx[ptr[s] : ptr[s + 1]]] = True
    return spiked


def membrane(v, dt_tau, v_rest, g_e, e_exc, g_i, e_inh):
    """Forward Euler; where its step would overshoot the conductances' steady state
    (dt/tau (1 + g_e + g_i) > 1), backward Euler."""
    explicit = v + dt_tau * ((v_rest - v) + g_e * (e_exc - v) + g_i * (e_inh - v))
    rate = dt_tau * (1.0 + g_e + g_i)
    implicit = (v + dt_tau * (v_rest + g_e * e_exc + g_i * e_inh)) / (1.0 + rate)
    return np.where(rate <= 1.0, explicit, implicit)


def simulate(p, ptr, idx, learn, synapses, state, counts):
    weights = synapses.weights
    theta, exc, inh, since, pending, x_pre_hist, clock, wins = state
    n_in, n = weights.shape
    ring = pending.shape[0]
    cols = np.arange(n)
    rows = np.arange(n_in)
    syn_delay = np.asarray(synapses.delays, dtype=np.int64)
    stdp_delay = np.asarray(synapses.potentiation_delays, dtype=np.int64)
    decay_per_delay = np.ones(ring)
    if p.depress_at_arrival:
        for d in range(1, ring):
            decay_per_delay[d] = decay_per_delay[d - 1] * p.decay_post1
    spiked = _spikes_matrix(ptr, idx, p.n_present, n_in)
    rate = p.rate_decay_spikes / (p.rate_decay_spikes + wins) if p.rate_decay_spikes > 0.0 else np.ones(n)
    nu_pre, nu_post = p.nu_pre * rate, p.nu_post * rate  # per neuron, for this call
    depress = learn and p.rule in (
        RULE_REFERENCE,
        RULE_PAIR,
        RULE_SOFT_BOUND,
    )  # the others: at post spikes only
    total = 0

    for t in range(p.n_present + p.n_rest):
        c = int(clock[0])
        slot = c % ring
        inputs_now = np.asarray(idx[ptr[t] : ptr[t + 1]]) if t < p.n_present else np.empty(0, np.int64)

        # ---- 1. excitatory neurons --------------------------------------------------
        exc[GE] += pending[(c - 1) % ring]
        pending[(c - 1) % ring] = 0.0
        v = exc[V].copy()
        s_e = np.minimum(since[0] + 1, NEVER)
        integrated = membrane(
            v, p.dt_tau_e, p.v_rest_e, exc[GE] * p.drive_ge_e, p.e_exc_e, exc[GI] * p.drive_gi_e, p.e_inh_e
        )
        v = np.where(s_e < p.clamp_steps_e, p.v_reset_e, integrated)
        exc[GE] *= p.decay_ge_e
        exc[GI] *= p.decay_gi_e
        if learn:
            theta *= p.decay_theta
            exc[POST1] *= p.decay_post1
            exc[POST2] *= p.decay_post2
        fire_e = (s_e >= p.block_steps_e) & (v > p.v_thresh_e + theta)
        v[fire_e] = p.v_reset_e
        s_e[fire_e] = 0
        if learn:
            theta[fire_e] += p.theta_plus
        exc[V] = v
        since[0] = s_e

        # ---- 1b. inhibitory neurons -------------------------------------------------
        fire_i = np.zeros(n, dtype=bool)
        if not p.direct_inhibition:
            fire_i = _inhibitory_step(p, inh, since)

        # ---- 2. synaptic transmission, depression predicted for the arrival ----------
        for i in inputs_now:  # weight at emission, arriving after the synapse's delay
            w = weights[i].astype(np.float64)
            pending[(c + syn_delay[i]) % ring, cols] += weights[i]
            if depress:
                depressed = w - nu_pre * decay_per_delay[syn_delay[i]] * exc[POST1]
                weights[i] = np.minimum(np.maximum(depressed, 0.0), p.w_max).astype(np.float32)
        if p.direct_inhibition:
            exc[GI] += p.w_direct_inhibition * _inhibition_received(p, fire_e)
        else:
            inh[GE, fire_e] += p.w_exc_to_inh
        exc[GI] += p.w_inh_to_exc * _inhibition_received(p, fire_i)
        if t < p.n_present:
            counts[fire_e] += 1
            total += int(fire_e.sum())

        # ---- 3. STDP ----------------------------------------------------------------
        if learn:
            x_pre_hist[slot] = x_pre_hist[(c - 1) % ring] * p.decay_pre
            if p.trace_increment:
                x_pre_hist[slot, inputs_now] += 1.0
            else:
                x_pre_hist[slot, inputs_now] = 1.0
            # inputs fired in the last ring steps of this presentation: emitted[e, i] at t - e
            recent = np.zeros((ring, n_in), dtype=bool)
            for e in range(ring):
                if 0 <= t - e < p.n_present:
                    recent[e] = spiked[t - e]
            for j in np.nonzero(fire_e)[0]:
                x_pre = x_pre_hist[(c - stdp_delay[:, j]) % ring, rows]
                w = weights[:, j].astype(np.float64)
                if p.rule == RULE_PAPER:
                    col = w + nu_post[j] * (x_pre - p.x_tar) * np.maximum(p.w_max - w, 0.0) ** p.mu
                elif p.rule == RULE_INSTAR:
                    col = w + nu_post[j] * (x_pre - w)
                elif p.rule == RULE_SOFT_BOUND:
                    col = w + (nu_post[j] * exc[POST2, j]) * x_pre * np.maximum(p.w_max - w, 0.0)
                else:
                    post2 = exc[POST2, j] if p.rule == RULE_REFERENCE else 1.0
                    col = w + (nu_post[j] * post2) * x_pre
                weights[:, j] = np.minimum(np.maximum(col, 0.0), p.w_max).astype(np.float32)
                jump = 1.0 if p.trace_increment else 1.0 - exc[POST1, j]
                if depress and p.depress_at_arrival:
                    for e in range(ring):  # spikes emitted e steps ago, arriving after t
                        ahead = syn_delay[:, j] - e
                        late = recent[e] & (ahead > 0)
                        w = weights[late, j].astype(np.float64)
                        w -= nu_pre[j] * jump * decay_per_delay[ahead[late]]
                        weights[late, j] = np.minimum(np.maximum(w, 0.0), p.w_max).astype(np.float32)
                if p.trace_increment:
                    exc[POST1, j] += 1.0
                    exc[POST2, j] += 1.0
                else:
                    exc[POST1, j] = 1.0
                    exc[POST2, j] = 1.0
                if p.rate_decay_spikes > 0.0:
                    wins[j] += 1

        clock[0] = c + 1

    if p.n_present + p.n_rest > 0:
        last = (int(clock[0]) - 1) % ring
        exc[GE] += pending[last]
        pending[last] = 0.0
    if learn:  # homeostasis: every theta falls by theta_minus once per presentation
        theta[:] = np.maximum(theta - p.theta_minus, 0.0)
    if p.exact_reset:
        exc[V] = p.v_rest_e
        exc[GE:] = 0.0
        inh[V] = p.v_rest_i
        inh[GE:] = 0.0
        since[:] = NEVER
        pending[:] = 0.0
        x_pre_hist[:] = 0.0
        if learn:
            theta *= p.rest_theta_decay
    return total


def _inhibition_received(p, fired):
    """Per excitatory neuron j, the sum over the neurons k that fired of k's inhibition
    of j in units of the weight: 1 for k != j (uniform), or under inhibition_distance
    min(1, sqrt(d_jk / distance)) on the grid (ceil(sqrt(N)) wide, filled row by row)."""
    n = fired.shape[0]
    if p.inhibition_distance <= 0.0:
        return fired.sum() - fired.astype(np.int64)  # spikes from k != j
    width = int(np.ceil(np.sqrt(n)))
    rows, cols = np.divmod(np.arange(n), width)
    d = np.hypot(rows[:, None] - rows[None, :], cols[:, None] - cols[None, :])  # d[j, k]
    factor = np.minimum(1.0, np.sqrt(d / p.inhibition_distance))
    return factor[:, fired].sum(axis=1)


def _inhibitory_step(p, inh, since):
    """Step 1b for the inhibitory population; returns who fired."""
    u = inh[V].copy()
    s_i = np.minimum(since[1] + 1, NEVER)
    integrated = membrane(
        u, p.dt_tau_i, p.v_rest_i, inh[GE] * p.drive_ge_i, p.e_exc_i, inh[GI] * p.drive_gi_i, p.e_inh_i
    )
    refractory = s_i < p.refractory_steps_i
    u = np.where(refractory, p.v_reset_i, integrated)
    inh[GE] *= p.decay_ge_i
    inh[GI] *= p.decay_gi_i
    fire_i = ~refractory & (u > p.v_thresh_i)
    u[fire_i] = p.v_reset_i
    s_i[fire_i] = 0
    inh[V] = u
    since[1] = s_i
    return fire_i
