"""The compiled simulation: one example (presentation + rest) of the Diehl & Cook network.

The simulation is numba-compiled and takes plain arrays and scalars, grouped in named
tuples: ``KernelParams`` (scalars), ``Synapses`` (the 784 x N tables) and
``State`` (what carries from step to step). ``STATE_TABLE`` declares every array of a
network once (name, dtype, shape, the values it may hold); ``State`` is made from it,
and the network module creates, saves, loads and checks networks by it. Units: mV,
ms, Hz; conductances are dimensionless (in units of the leak conductance). Besides
the standard library, this module imports only numpy and numba.

``simulate`` runs one call (a presentation and its rest) as named phases:
``enter_call`` (the call's scratch, and the lazy forms of theta, the post traces and
the last spikes), then per time step ``t`` (global step ``c``; the numpy reference in
tests/ keeps the same order, but raises theta in step 1, which nothing in between reads):

1. ``update_neurons``, one pass over the excitatory and one over the inhibitory
   population: the conductance that arrived at ``c - 1`` joins g_e; theta and the post
   traces decay (learning only, through their common factors); v by forward Euler
   from the previous step's conductances (implicit where Euler would overshoot: see
   ``membrane_step``; or clamped at v_reset while refractory); conductances decay;
   threshold test, reset;
2. ``emit_inputs`` and ``propagate_spikes``: input spikes of step ``t`` go out. One
   pass over each spiking input's row adds its weight (at emission) to the ring
   buffer of pending conductance at ``c + delay`` and, when learning, applies the
   synapse's depression at once: ``nu_pre`` times the x_post1 the synapse will see
   when the spike *arrives* at ``c + delay`` (the reference's arrival-timed rule),
   predicted as ``x_post1(c) * decay_post1^delay``. The prediction is exact unless the
   neuron fires before the arrival; when it does (step 3), its pending arrivals are
   corrected by ``nu_pre * jump * decay_post1^(arrival - c)``, where ``jump`` is what
   the spike adds to x_post1. Excitatory spikes drive their inhibitory partner, and
   inhibitory spikes every other excitatory neuron. Under direct inhibition
   (``p.direct_inhibition``) the inhibitory population is not simulated: each
   excitatory spike adds ``w_direct_inhibition`` to g_i of every other excitatory
   neuron here instead;
3. ``plasticity`` (learning only): x_pre decays and is set to 1 for inputs firing at
   ``t``; for each excitatory spike, theta += theta_plus, its column is potentiated by
   ``nu_post * x_pre(c - potentiation_delay) * x_post2`` (x_post2 before this spike),
   its pending depressions are corrected (above), and x_post1 = x_post2 = 1. Every
   updated weight is clipped to [0, w_max];

and last ``leave_call``: the last step's arrivals join g_e, the lazy forms are turned
back into plain values, and under ``p.exact_reset`` the state is reset to rest.

Against depression applied at arrival, this differs only in floating-point order, in
that a weight's clip to [0, w_max] sees the depression earlier, and in that a second
spike of the same input within the delay delivers the already depressed weight.
Arrivals after the end of a call (an exact reset instead of a rest) keep the
prediction, as a rest without excitatory spikes would give them.

Variants (loop-invariant fields of ``KernelParams``): emission timing (``not
p.depress_at_arrival``) depresses by x_post1 at emission; with ``p.trace_increment``
every trace is incremented by 1 at a spike (all-to-all pairing) instead of set to 1
(nearest-spike pairing). The learning variants each have their equations in one
function, which the phases reach through one dispatch each:

* the learning rule, ``p.rule``: ``weight_change`` (one synapse's change at its neuron's
  spike: the reference, pair, paper, instar and soft-bound rules), with
  ``rule_depresses`` (whether the rule also depresses at input spikes);
* the lateral inhibition, ``p.inhibition_distance``: ``lateral_inhibition`` (uniform,
  or growing with distance on a grid: ``inhibit_by_distance``);
* the threshold's homeostasis, ``p.theta_minus``: ``homeostasis`` (after each learning
  presentation);
* the learning-rate schedule per neuron, ``p.rate_decay_spikes``:
  ``learning_rate_factors`` (each neuron's factor of nu_pre and nu_post for a call, from
  its ``wins``, made by ``enter_call``; the phases use it as ``scratch.rates``, the
  depression through ``depression_traces``), with ``count_win`` at each learning spike;
* the weight normalisation, ``p.weight_l2``: ``normalise`` (before each learning
  presentation: to a sum, the reference, or to a Euclidean norm).

Each is 0 (or the reference rule) by default, which leaves the reference model's
arithmetic as it was: docs/variants.md says how to add one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numba import njit, prange

# Rows of the excitatory state array ``exc`` (shape EXC_ROWS x N).
V, GE, GI, POST1, POST2 = 0, 1, 2, 3, 4
EXC_ROWS = 5
# Rows of the inhibitory state array ``inh`` (shape INH_ROWS x N) are V, GE, GI as above.
INH_ROWS = 3
# Rows of ``since`` (and of a call's last-spike steps): the two populations.
EXCITATORY, INHIBITORY = 0, 1
# Steps since the last spike saturate here ("never fired").
NEVER = 1 << 30
# No state variable (mV, conductances, traces) comes near this in any run; beyond it
# the kernel's arithmetic would overflow.
MAX_STATE = 1e6
# The global step count may grow this far (int64 with room for any run's remaining steps).
MAX_CLOCK = 1 << 62
# A trace or conductance below this moves nothing: an input trace times any learning
# rate is far below half the smallest float32 weight step, and a conductance times
# (E - v) far below half a float64 step of v (mV). The kernel keeps such values as zero,
# which changes no result and spares the slow subnormal arithmetic they would decay
# into (a decay factor above 1/2 leaves the smallest subnormal where it is, forever).
NEGLIGIBLE = 1e-300
# The learning rules (KernelParams.rule; weight_change has their equations):
# potentiation times x_post2 with depression at input spikes (the reference's), the
# same without the x_post2 factor, the paper's weight-dependent rule without
# depression, the instar rule (weights move towards the input traces), and the
# reference rule with soft-bounded potentiation.
RULE_REFERENCE, RULE_PAIR, RULE_PAPER, RULE_INSTAR, RULE_SOFT_BOUND = 0, 1, 2, 3, 4
# Entries of a call's lazy factors (``CallScratch.scales``) and of its counters.
THETA_SCALE, POST1_SCALE, POST2_SCALE = 0, 1, 2
N_INH_ACTIVE, N_TRACED, LAST_EMISSION = 0, 1, 2

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


class Sizes(NamedTuple):
    """The sizes and limits a network's array shapes and value bounds are written in."""

    n: int  # excitatory neurons (and inhibitory ones: one partner each)
    inputs: int  # input channels (784 pixels)
    ring: int  # steps of the delay ring: delays are 0 .. ring - 1
    max_weight: float = math.inf  # the largest input weight a network may hold

    @property
    def max_delay(self) -> int:
        return self.ring - 1


def _resolve(size_or_name, sizes: Sizes):
    """A number as it is, a name as that field (or property) of ``sizes``."""
    return getattr(sizes, size_or_name) if isinstance(size_or_name, str) else size_or_name


@dataclass(frozen=True)
class ArraySpec:
    """One stored array: dtype, shape and the values it may hold. Shape entries and
    bounds are numbers or names of ``Sizes`` fields; a bound of None is no bound."""

    name: str
    dtype: type  # a numpy scalar type
    shape: tuple[int | str, ...]
    low: float | str | None
    high: float | str | None
    doc: str = ""
    in_state: bool = False  # one of the kernel's State arrays
    older_dtypes: tuple[
        type, ...
    ] = ()  # also accepted on loading (files of earlier versions), then converted
    since_format: int = 1  # the first checkpoint format that holds it; an older file's is all zeros

    def shape_for(self, sizes: Sizes) -> tuple[int, ...]:
        return tuple(_resolve(d, sizes) for d in self.shape)

    def layout_problem(self, shape: tuple[int, ...], dtype: np.dtype, sizes: Sizes) -> str | None:
        """What is wrong with an array of this shape and dtype here, or None."""
        expected = self.shape_for(sizes)
        if tuple(shape) != expected:
            return f"{self.name} has shape {tuple(shape)}, expected {expected}"
        if dtype != np.dtype(self.dtype) and dtype not in [np.dtype(t) for t in self.older_dtypes]:
            return f"{self.name} has type {dtype}, expected {np.dtype(self.dtype)}"
        return None

    def value_problem(self, value: np.ndarray, sizes: Sizes) -> str | None:
        """What is wrong with the values of an array of the right layout, or None."""
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return f"{self.name} holds non-finite values"
        low, high = _resolve(self.low, sizes), _resolve(self.high, sizes)
        if value.size and (
            (low is not None and value.min() < low) or (high is not None and value.max() > high)
        ):
            return f"{self.name} out of range [{low}, {high}]: {value.min()} .. {value.max()}"
        return None

    def problem(self, value: np.ndarray, sizes: Sizes) -> str | None:
        """What is wrong with an array (layout, then values), or None."""
        return self.layout_problem(value.shape, value.dtype, sizes) or self.value_problem(value, sizes)

    def stored(self, value: np.ndarray) -> np.ndarray:
        """The array in this spec's dtype (converting one of an older dtype)."""
        return value.astype(self.dtype, copy=False)


# Every array of a network, in the order of ``Network``'s fields and of ``State``.
STATE_TABLE = (
    ArraySpec(
        "weights", np.float32, ("inputs", "n"), 0.0, "max_weight", "input -> excitatory weights, plastic"
    ),
    ArraySpec("theta", np.float64, ("n",), 0.0, MAX_STATE, "adaptive threshold (mV)", in_state=True),
    ArraySpec(
        "delays", np.uint8, ("inputs", "n"), 0, "max_delay", "input -> excitatory conductance delay (steps)"
    ),
    ArraySpec(
        "exc",
        np.float64,
        (EXC_ROWS, "n"),
        -MAX_STATE,
        MAX_STATE,
        "excitatory rows V (mV), GE, GI, POST1, POST2 (x_post1, x_post2)",
        in_state=True,
    ),
    ArraySpec(
        "inh",
        np.float64,
        (INH_ROWS, "n"),
        -MAX_STATE,
        MAX_STATE,
        "inhibitory rows V (mV), GE, GI",
        in_state=True,
    ),
    ArraySpec(
        "since",
        np.int64,
        (2, "n"),
        0,
        NEVER,
        "steps since the last spike (saturating at NEVER), rows EXCITATORY, INHIBITORY",
        in_state=True,
    ),
    ArraySpec(
        "pending",
        np.float32,
        ("ring", "n"),
        -MAX_STATE,
        MAX_STATE,
        "ring of delayed conductance: what arrives at global step c is row c % ring",
        in_state=True,
        older_dtypes=(np.float64,),
    ),
    ArraySpec(
        "x_pre_hist",
        np.float64,
        ("ring", "inputs"),
        -MAX_STATE,
        MAX_STATE,
        "input traces of the last ring steps: step c's in row c % ring",
        in_state=True,
    ),
    ArraySpec("clock", np.int64, (1,), 0, MAX_CLOCK, "global step count, indexing the rings", in_state=True),
    ArraySpec("rng", np.uint64, (1,), None, None, "state of the training spike-train stream (splitmix64)"),
    ArraySpec("examples_seen", np.int64, (1,), 0, None, "training examples finished"),
    ArraySpec(
        "wins",
        np.int64,
        ("n",),
        0,
        None,
        "excitatory spikes of each neuron while learning, counted under the rate schedule "
        "(stdp.rate_decay_spikes > 0) only, 0 otherwise",
        in_state=True,
        since_format=2,
    ),
)
STATE_ARRAYS = {spec.name: spec for spec in STATE_TABLE}


def with_newer_arrays(arrays: dict[str, np.ndarray], file_format: int, sizes: Sizes) -> dict[str, np.ndarray]:
    """``arrays`` of a checkpoint of format ``file_format`` with every STATE_TABLE array of
    a later format added as zeros: what a network held there before the array existed
    (no wins counted)."""
    newer = {
        spec.name: np.zeros(spec.shape_for(sizes), spec.dtype)
        for spec in STATE_TABLE
        if spec.since_format > file_format
    }
    return {**arrays, **newer}


def table_problem(
    specs: Iterable[ArraySpec], arrays: dict[str, np.ndarray], sizes: Sizes | None
) -> str | None:
    """The first thing wrong with ``arrays`` by ``specs``: an array missing, of another
    shape or dtype, or with a value out of bounds; None when all are right. ``sizes``
    may be None where no spec names a size."""
    for spec in specs:
        if spec.name not in arrays:
            return f"no {spec.name!r} array (incomplete, or not a stdp-mnist file)"
        problem = spec.problem(arrays[spec.name], sizes)
        if problem:
            return problem
    return None


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
    theta_minus: float  # theta's fall after each learning presentation (homeostasis; 0 = none)
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
    inhibition_distance: float  # grid steps over which inhibition grows to its full weight (0: uniform)
    # plasticity
    nu_pre: float
    nu_post: float
    decay_pre: float
    decay_post1: float
    decay_post2: float
    rule: int  # RULE_REFERENCE, RULE_PAIR, RULE_PAPER, RULE_INSTAR or RULE_SOFT_BOUND (weight_change)
    x_tar: float
    mu: float
    trace_increment: bool  # traces += 1 at a spike (all-to-all) instead of = 1 (nearest spike)
    depress_at_arrival: bool  # depression by x_post1 at the spike's arrival (False: at its emission)
    w_max: float
    weight_sum: float  # normalisation target of each neuron's input weights
    rate_decay_spikes: float  # S: a neuron's learning rates times S / (S + its wins) (0: constant rates)
    weight_l2: float  # above 0: normalise each neuron's input weights to this L2 norm instead (normalise)


class Synapses(NamedTuple):
    """The input -> excitatory synapse tables, each 784 x N (input-major rows)."""

    weights: np.ndarray  # float32, plastic
    delays: np.ndarray  # uint8, conductance delay in steps (arrival-timed depression uses it too)
    potentiation_delays: np.ndarray  # uint8, steps back at which potentiation reads x_pre


class State(NamedTuple):
    """What the kernel carries from one step (and one example) to the next: the arrays of
    the STATE_TABLE rows marked in_state, in the table's order (a test holds them together)."""

    theta: np.ndarray
    exc: np.ndarray
    inh: np.ndarray
    since: np.ndarray
    pending: np.ndarray
    x_pre_hist: np.ndarray
    clock: np.ndarray
    wins: np.ndarray


class CallScratch(NamedTuple):
    """The working arrays of one ``simulate`` call, made by ``enter_call``.

    Per-neuron quantities that only decay are kept lazily during a call, so that a step
    writes as little memory as it can: theta, x_post1 and x_post2 as the stored values
    times a common factor (``scales``, decayed once per step instead of every neuron's
    value), and the steps since the last spike as the step of that spike. Two sets of
    neurons are unordered lists (``items[:count]``, the count in ``counters``, and
    ``listed[j]`` telling whether neuron j is in), each with a spare slot (add_to_list)."""

    last_spike: (
        np.ndarray
    )  # int64 (2, N): global step of each neuron's last spike, rows EXCITATORY, INHIBITORY
    scales: np.ndarray  # float64 (3,): the common factors, entries THETA_SCALE, POST1_SCALE, POST2_SCALE
    counters: np.ndarray  # int64 (3,): entries N_INH_ACTIVE, N_TRACED, LAST_EMISSION
    fired_flags: np.ndarray  # uint8 (N,): the excitatory neurons that fired this step
    fired_e: np.ndarray  # int64 (N,): the same as a list (the first n_fired_e entries)
    fired_i: np.ndarray  # int64 (N,): the inhibitory neurons that fired this step
    inh_active: (
        np.ndarray
    )  # int64 (N + 1,): list of the inhibitory neurons not at rest for good (update_inhibitory)
    inh_listed: np.ndarray  # bool (N,)
    traced: (
        np.ndarray
    )  # int64 (N + 1,): list of the excitatory neurons whose x_post1 can still depress (enter_call)
    traced_listed: np.ndarray  # bool (N,)
    ahead: np.ndarray  # float64 (ring,): depression per unit of x_post1 by steps to arrival
    ahead_now: np.ndarray  # float64 (ring,): ``ahead`` times this step's x_post1 factor
    rates: np.ndarray  # float64 (N,): each neuron's learning-rate factor for the call (learning_rate_factors)
    rated_post1: (
        np.ndarray
    )  # float64 (N, or 0 without a rate schedule): x_post1 times ``rates`` (emit_inputs)


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
def normalise_columns(weights, target, euclidean=False):
    """Rescale each excitatory neuron's input weights (a column) to sum to ``target``, or,
    when ``euclidean``, to that Euclidean norm; an all-zero column is left alone."""
    n_in, n = weights.shape
    factors = np.zeros(n, np.float64)  # sums (or sums of squares), then the scale factors
    for i in range(n_in):
        for j in range(n):
            w = np.float64(weights[i, j])
            factors[j] += w * w if euclidean else w
    for j in range(n):
        size = math.sqrt(factors[j]) if euclidean else factors[j]
        factors[j] = target / size if size > 0.0 else 1.0
    for i in range(n_in):
        for j in range(n):
            weights[i, j] = weights[i, j] * factors[j]


@njit(cache=True, error_model="numpy")
def normalise(p, weights):
    """The weight normalisation before every learning presentation: each column to sum
    ``p.weight_sum`` (the reference), or to Euclidean norm ``p.weight_l2`` when that is
    above 0 (then a neuron's drive, the dot product of input and weights, ranks images
    by their angle to the weights, as cosine nearest-prototype matching does)."""
    if p.weight_l2 > 0.0:
        normalise_columns(weights, p.weight_l2, True)
    else:
        normalise_columns(weights, p.weight_sum, False)


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


@njit(cache=True, error_model="numpy", inline="always")
def update_excitatory(p, exc, last_spike, theta, theta_scale, c, fired, arrived, with_arrivals):
    """Step 1 for the excitatory population in one branch-free pass, ``c`` the step's
    global count and ``last_spike`` each neuron's last spike step. When ``with_arrivals``,
    the pending conductance of the previous step (``arrived``, zeroed here) first joins
    g_e. v integrates (clamped at v_reset while the steps since the last spike are <
    clamp_steps_e); conductances decay; a neuron fires when those steps are >=
    block_steps_e and v > v_thresh_e + theta (the threshold is ``theta * theta_scale``:
    see CallScratch); then v = v_reset and ``fired[j] = 1``. Only v, g_e, g_i and the
    one-byte ``fired`` are written, so the pass moves little memory. Returns the number
    that fired."""
    v, g_e, g_i = exc[V], exc[GE], exc[GI]
    n_fired = 0
    for j in range(v.shape[0]):
        s = min(c - last_spike[j], NEVER)
        ge, gi = g_e[j], g_i[j]
        if with_arrivals:
            ge += arrived[j]
            arrived[j] = 0.0
        v_new = membrane_step(
            v[j], ge * p.drive_ge_e, gi * p.drive_gi_e, p.dt_tau_e, p.v_rest_e, p.e_exc_e, p.e_inh_e
        )
        v_new = p.v_reset_e if s < p.clamp_steps_e else v_new
        ge, gi = ge * p.decay_ge_e, gi * p.decay_gi_e
        g_e[j] = ge if ge >= NEGLIGIBLE else 0.0
        g_i[j] = gi if gi >= NEGLIGIBLE else 0.0
        fire = (s >= p.block_steps_e) & (v_new > p.v_thresh_e + theta[j] * theta_scale)
        v[j] = p.v_reset_e if fire else v_new
        fired[j] = fire
        n_fired += fire
    return n_fired


@njit(cache=True, error_model="numpy", inline="always")
def update_inhibitory(p, inh, last_spike, c, active, n_active, is_active, fired):
    """Step 1 for the inhibitory population (fixed threshold; v clamped at v_reset and no
    spike for refractory_steps_i after a spike), for the ``n_active`` neurons listed in
    ``active`` only. A neuron leaves the list once a step leaves it exactly as it was
    (no conductance, v at its floating-point fixed point, not refractory): every later
    step would too, until its excitatory partner fires and puts it back. Sets the last
    spike step of the neurons that fire and lists them in ``fired``; returns (number
    fired, new n_active)."""
    v, g_e, g_i = inh[V], inh[GE], inh[GI]
    n_fired = 0
    q = 0
    while q < n_active:
        j = active[q]
        s = min(c - last_spike[j], NEVER)
        ge, gi, vj = g_e[j], g_i[j], v[j]
        refractory = s < p.refractory_steps_i
        v_new = membrane_step(
            vj, ge * p.drive_ge_i, gi * p.drive_gi_i, p.dt_tau_i, p.v_rest_i, p.e_exc_i, p.e_inh_i
        )
        v_new = p.v_reset_i if refractory else v_new
        ge_next, gi_next = ge * p.decay_ge_i, gi * p.decay_gi_i
        g_e[j] = ge_next if ge_next >= NEGLIGIBLE else 0.0
        g_i[j] = gi_next if gi_next >= NEGLIGIBLE else 0.0
        if (not refractory) and v_new > p.v_thresh_i:
            v[j] = p.v_reset_i
            last_spike[j] = c
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


@njit(cache=True, error_model="numpy", inline="always")
def collect_fired(flags, fired):
    """Write the indices of the neurons whose flag is set into ``fired``."""
    q = 0
    for j in range(flags.shape[0]):
        if flags[j]:
            fired[q] = j
            q += 1


@njit(cache=True, error_model="numpy", inline="always")
def add_to_list(j, items, listed, n_items):
    """Append neuron j to the ``n_items`` listed in ``items`` unless ``listed[j]`` says it
    is there already; returns the new count. Without a branch: ``items`` has a spare
    slot, so j can be written after the list whether or not it is counted."""
    items[n_items] = j
    n_items += not listed[j]
    listed[j] = True
    return n_items


@njit(cache=True, error_model="numpy", inline="always")
def inhibit_all_but(g_i, weight, fired, n_fired):
    """Lateral inhibition: each of the ``n_fired`` neurons in ``fired`` adds ``weight``
    to g_i of every excitatory neuron but its own partner (the same index)."""
    if n_fired > 0:
        for j in range(g_i.shape[0]):
            g_i[j] += weight * n_fired
        for q in range(n_fired):
            g_i[fired[q]] -= weight


@njit(cache=True, error_model="numpy", inline="always")
def inhibit_by_distance(g_i, weight, fired, n_fired, distance):
    """Lateral inhibition growing with distance: each of the ``n_fired`` neurons k in
    ``fired`` adds ``weight * min(1, sqrt(d / distance))`` to g_i of every excitatory
    neuron j, d the distance of j and k on the square grid the neurons fill row by row
    (ceil(sqrt(N)) wide); 0 for k itself."""
    n = g_i.shape[0]
    width = int(math.ceil(math.sqrt(n)))
    for q in range(n_fired):
        k_row, k_col = divmod(fired[q], width)
        for j in range(n):
            row, col = divmod(j, width)
            d = math.sqrt((row - k_row) ** 2 + (col - k_col) ** 2)
            g_i[j] += weight * min(1.0, math.sqrt(d / distance))


@njit(cache=True, error_model="numpy", inline="always")
def lateral_inhibition(p, g_i, weight, fired, n_fired):
    """The inhibition scheme: each of the ``n_fired`` neurons in ``fired`` inhibits the
    other excitatory neurons with ``weight``, alike (the reference, inhibit_all_but) or
    growing with their distance on a grid when ``p.inhibition_distance`` > 0
    (inhibit_by_distance)."""
    if p.inhibition_distance > 0.0:
        inhibit_by_distance(g_i, weight, fired, n_fired, p.inhibition_distance)
    else:
        inhibit_all_but(g_i, weight, fired, n_fired)


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


@njit(cache=True, error_model="numpy", inline="always")
def emit(w_row, delay_row, pending, slot, depress, post1, ahead, w_max, traced, n_traced):
    """One input spike: every synapse of the input's row adds its weight to the pending
    conductance of its arrival step and, when ``depress``, is depressed by
    ``ahead[delay] * x_post1`` (the arrival-time depression predicted at emission).

    Only the ``n_traced`` neurons listed in ``traced`` can have an x_post1 whose
    depression changes a float32 weight (see enter_call); the others are skipped, which
    is exact as long as no weight of the row exceeds w_max (a depression of zero would
    still clip it), so a row with such a weight is depressed whole."""
    ring = pending.shape[0]
    row_max = 0.0
    for j in range(w_row.shape[0]):
        w = w_row[j]
        r = slot + delay_row[j]  # (slot + delay) mod ring without an integer division
        r = r - ring if r >= ring else r
        pending[r, j] += w
        row_max = max(row_max, w)
    whole_row = row_max > w_max
    n_depressed = (w_row.shape[0] if whole_row else n_traced) if depress else 0
    for q in range(n_depressed):
        j = q if whole_row else traced[q]
        w_row[j] = min(max(np.float64(w_row[j]) - ahead[delay_row[j]] * post1[j], 0.0), w_max)


@njit(cache=True, error_model="numpy", inline="always")
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


@njit(cache=True, error_model="numpy", inline="always")
def weight_change(p, nu_post, x_pre, w, post2):
    """The learning rule, one synapse: its weight change at its neuron's spike, from the
    input trace ``x_pre`` (read one potentiation delay back), the weight ``w``, the
    neuron's x_post2 before the spike and its rate ``nu_post`` (p.nu_post times its
    ``learning_rate_factors`` entry). By ``p.rule``: the reference rule
    ``nu_post x_pre x_post2``, the pair rule ``nu_post x_pre``, the paper rule
    ``nu_post (x_pre - x_tar) max(w_max - w, 0)^mu``, or the instar rule
    ``nu_post (x_pre - w)`` (the weight moves towards the input trace: online k-means),
    or the soft-bound rule ``nu_post x_pre x_post2 max(w_max - w, 0)`` (the reference's
    potentiation shrinking as the weight nears w_max). Whether a rule also depresses on
    input spikes is ``rule_depresses``."""
    if p.rule == RULE_PAPER:
        return nu_post * (x_pre - p.x_tar) * max(p.w_max - w, 0.0) ** p.mu
    if p.rule == RULE_INSTAR:
        return nu_post * (x_pre - w)
    if p.rule == RULE_SOFT_BOUND:
        return nu_post * post2 * x_pre * max(p.w_max - w, 0.0)
    return nu_post * (post2 if p.rule == RULE_REFERENCE else 1.0) * x_pre


@njit(cache=True, error_model="numpy", inline="always")
def rule_depresses(p):
    """Whether ``p.rule`` depresses each synapse on its input's spikes (by nu_pre x_post1):
    the reference, pair and soft-bound rules do; the paper and instar rules learn only
    at the neuron's spikes."""
    return p.rule == RULE_REFERENCE or p.rule == RULE_PAIR or p.rule == RULE_SOFT_BOUND


@njit(cache=True, error_model="numpy", inline="always")
def learning_rate_factors(p, wins):
    """The learning-rate schedule: the factor of each neuron's learning rates (nu_pre in
    the depression of its column, nu_post at its spikes) for one call, ``S / (S + n_j)``
    with S = ``p.rate_decay_spikes`` and n_j the neuron's wins before the call. Under the
    instar rule with nu_post S = 1, once n_j >> S each column moves by 1 / n_j of its
    distance to the input: the running mean of the inputs it won, MacQueen's online
    k-means. 1 for every neuron when S is 0 (constant rates, the reference)."""
    factors = np.ones(wins.shape[0])
    if p.rate_decay_spikes > 0.0:
        for j in range(wins.shape[0]):
            factors[j] = p.rate_decay_spikes / (p.rate_decay_spikes + wins[j])
    return factors


@njit(cache=True, error_model="numpy", inline="always")
def count_win(p, wins, j):
    """Neuron j fired while learning: one more win, counted under a rate schedule only."""
    if p.rate_decay_spikes > 0.0:
        wins[j] += 1


@njit(cache=True, error_model="numpy", inline="always")
def depression_traces(p, depress, post1, scratch):
    """The x_post1 values the input spikes of a step depress by: ``post1`` itself, or,
    under a rate schedule, times each neuron's ``learning_rate_factors`` entry (one pass
    over the neurons per step with input spikes, so the per-synapse loop stays as it is)."""
    if not (depress and p.rate_decay_spikes > 0.0):
        return post1
    rated, rates = scratch.rated_post1, scratch.rates
    for j in range(rated.shape[0]):
        rated[j] = post1[j] * rates[j]
    return rated


@njit(cache=True, error_model="numpy", inline="always")
def potentiate(p, weights, potentiation_delays, x_pre_hist, slot, j, post2, rate):
    """Neuron j's spike changes its input column by the rule (``weight_change``) at
    nu_post times ``rate`` (its learning-rate factor), x_pre read one potentiation delay
    back, each weight clipped to [0, w_max]."""
    ring = x_pre_hist.shape[0]
    nu_post = p.nu_post * rate
    for i in range(weights.shape[0]):
        r = slot - potentiation_delays[i, j]  # (c - delay) mod ring
        r = r + ring if r < 0 else r
        w = np.float64(weights[i, j])
        weights[i, j] = min(max(w + weight_change(p, nu_post, x_pre_hist[r, i], w, post2), 0.0), p.w_max)


@njit(cache=True, error_model="numpy", inline="always")
def update_input_traces(p, ptr, idx, t, x_pre_hist, slot, prev_slot):
    """x_pre of step t: row ``slot`` becomes row ``prev_slot`` decayed, with the inputs
    firing at step t (none after the presentation) set to 1 (or raised by 1 under
    trace_increment)."""
    x_now, x_prev = x_pre_hist[slot], x_pre_hist[prev_slot]
    for i in range(x_now.shape[0]):
        x = x_prev[i] * p.decay_pre
        x_now[i] = x if x >= NEGLIGIBLE else 0.0
    for q in range(ptr[min(t, p.n_present)], ptr[min(t + 1, p.n_present)]):
        x_now[idx[q]] = x_now[idx[q]] + 1.0 if p.trace_increment else 1.0


@njit(cache=True, error_model="numpy")
def reset_to_rest(p, learn, state):
    """Exact reset: v = v_rest, conductances, traces and pending input zero, "never
    fired"; theta decays by the rest's factor when learning (and is otherwise kept)."""
    state.exc[V, :] = p.v_rest_e
    state.exc[GE:, :] = 0.0
    state.inh[V, :] = p.v_rest_i
    state.inh[GE:, :] = 0.0
    state.since[:, :] = NEVER
    state.pending[:, :] = 0.0
    state.x_pre_hist[:, :] = 0.0
    if learn:
        for j in range(state.theta.shape[0]):
            state.theta[j] *= p.rest_theta_decay


# The phases of simulate. Those of every step, and all they call, are compiled into
# simulate (inline="always"). numba counts references to each array a compiled function
# receives or takes out of a tuple, with atomic operations, and LLVM removes that
# counting again only where no call, and no reference released on one branch alone,
# lies between. Phases left as calls put it into every step for some 25 arrays: 600 ns
# a step instead of 80 at 10 neurons, 1,700 instead of 950 at 400 (frozen, no input).
# Hence also the helpers' shapes: each uses every array it takes on all of its paths
# (add_to_list and emit without a branch around an array, propagate_spikes' n_direct).


@njit(cache=True, error_model="numpy")
def enter_call(p, learn, state):
    """Enter a call: returns its CallScratch, with the lazy forms of the state in place.

    Each neuron's last spike as a global step (``state.since`` is left as it is), the
    common factors at 1, every inhibitory neuron listed as active (none under direct
    inhibition), and, when the call depresses, the neurons whose x_post1 can still
    change a weight listed as traced."""
    n = state.theta.shape[0]
    ring = state.pending.shape[0]
    c0 = state.clock[0]
    last_spike = np.empty((2, n), np.int64)
    for j in range(n):
        last_spike[EXCITATORY, j] = c0 - state.since[EXCITATORY, j] - 1
        last_spike[INHIBITORY, j] = c0 - state.since[INHIBITORY, j] - 1
    # pending may hold input emitted in the previous call's last steps
    counters = np.array([0 if p.direct_inhibition else n, 0, c0 - 1])
    traced, traced_listed = np.empty(n + 1, np.int64), np.zeros(n, np.bool_)
    if learn and rule_depresses(p):
        # Below negligible_post1, nu_pre * x_post1 is under half the smallest float32
        # step, so subtracting it leaves every float32 weight as it is. Traces only
        # decay, so the list made now holds for the call, with the neurons that fire
        # during it added as they fire.
        negligible_post1 = 5e-46 / p.nu_pre if p.nu_pre > 0.0 else np.inf
        for j in range(n):
            if state.exc[POST1, j] >= negligible_post1:
                counters[N_TRACED] = add_to_list(j, traced, traced_listed, counters[N_TRACED])
    return CallScratch(
        last_spike,
        np.ones(3),
        counters,
        np.zeros(n, np.uint8),
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.arange(n + 1),
        np.ones(n, np.bool_),
        traced,
        traced_listed,
        depression_per_step_ahead(p, ring),
        np.empty(ring),
        learning_rate_factors(p, state.wins),
        np.empty(n if p.rate_decay_spikes > 0.0 else 0),
    )


@njit(cache=True, error_model="numpy", inline="always")
def decay_scales(p, scales):
    """Decay theta, x_post1 and x_post2 by one learning step, through their common factors."""
    scales[THETA_SCALE] *= p.decay_theta
    scales[POST1_SCALE] *= p.decay_post1
    scales[POST2_SCALE] *= p.decay_post2


@njit(cache=True, error_model="numpy", inline="always")
def update_neurons(p, c, arrival_slot, state, scratch):
    """Step 1: both populations advance to global step ``c``; returns their spike counts.

    ``arrival_slot`` is the pending row of step c - 1. The excitatory spikes are listed
    in ``scratch.fired_e`` and the inhibitory ones in ``scratch.fired_i``, and each
    neuron that fired has c as its last spike."""
    counters, last_e = scratch.counters, scratch.last_spike[EXCITATORY]
    with_arrivals = c - 1 - counters[LAST_EMISSION] < state.pending.shape[0]
    n_fired_e = update_excitatory(
        p,
        state.exc,
        last_e,
        state.theta,
        scratch.scales[THETA_SCALE],
        c,
        scratch.fired_flags,
        state.pending[arrival_slot],
        with_arrivals,
    )
    n_fired_i, counters[N_INH_ACTIVE] = update_inhibitory(
        p,
        state.inh,
        scratch.last_spike[INHIBITORY],
        c,
        scratch.inh_active,
        counters[N_INH_ACTIVE],
        scratch.inh_listed,
        scratch.fired_i,
    )
    if n_fired_e > 0:
        collect_fired(scratch.fired_flags, scratch.fired_e)
        for q in range(n_fired_e):
            last_e[scratch.fired_e[q]] = c
    return n_fired_e, n_fired_i


@njit(cache=True, error_model="numpy", inline="always")
def emit_inputs(p, ptr, idx, t, c, slot, depress, syn, state, scratch):
    """Step 2 for the inputs: those firing at step t send their weights into the ring.

    ``c`` is the global step and ``slot`` its ring row; when ``depress``, each synapse
    is depressed at once by what its arrival would bring (see emit)."""
    scratch.counters[LAST_EMISSION] = c
    ahead, ahead_now, post1_scale = scratch.ahead, scratch.ahead_now, scratch.scales[POST1_SCALE]
    for k in range(ahead_now.shape[0]):
        ahead_now[k] = ahead[k] * post1_scale
    weights, delays, pending = syn.weights, syn.delays, state.pending
    post1 = depression_traces(p, depress, state.exc[POST1], scratch)
    traced, n_traced = scratch.traced, scratch.counters[N_TRACED]
    for q in range(ptr[t], ptr[t + 1]):
        i = idx[q]
        emit(weights[i], delays[i], pending, slot, depress, post1, ahead_now, p.w_max, traced, n_traced)


@njit(cache=True, error_model="numpy", inline="always")
def excite_partners(p, g_e_inh, fired, n_fired, inh_active, inh_listed, counters):
    """Excitatory spikes excite their inhibitory partners, which become active again.

    Each of the ``n_fired`` neurons in ``fired`` adds w_exc_to_inh to its partner's g_e."""
    n_active = counters[N_INH_ACTIVE]
    for q in range(n_fired):
        j = fired[q]
        g_e_inh[j] += p.w_exc_to_inh
        n_active = add_to_list(j, inh_active, inh_listed, n_active)
    counters[N_INH_ACTIVE] = n_active


@njit(cache=True, error_model="numpy", inline="always")
def propagate_spikes(p, state, scratch, n_fired_e, n_fired_i):
    """Step 2 for the neurons: this step's spikes reach their targets' conductances.

    Excitatory spikes go to their inhibitory partners (under direct inhibition, to
    every other excitatory neuron), inhibitory spikes to every other excitatory neuron."""
    g_i = state.exc[GI]
    n_direct = n_fired_e if p.direct_inhibition else 0  # excitatory spikes that inhibit directly
    lateral_inhibition(p, g_i, p.w_direct_inhibition, scratch.fired_e, n_direct)
    excite_partners(
        p,
        state.inh[GE],
        scratch.fired_e,
        n_fired_e - n_direct,
        scratch.inh_active,
        scratch.inh_listed,
        scratch.counters,
    )
    lateral_inhibition(p, g_i, p.w_inh_to_exc, scratch.fired_i, n_fired_i)


@njit(cache=True, error_model="numpy", inline="always")
def count_spikes(counts, fired, n_fired):
    """Count the ``n_fired`` neurons listed in ``fired`` in ``counts``; returns n_fired."""
    for q in range(n_fired):
        counts[fired[q]] += 1
    return n_fired


@njit(cache=True, error_model="numpy", inline="always")
def fold_post_scales(exc, scales):
    """Keep 1 / factor of the post traces finite: fold both factors in once one is tiny.

    Once either is below 1e-100, both are multiplied into the traces and set to 1."""
    if scales[POST1_SCALE] < 1e-100 or scales[POST2_SCALE] < 1e-100:
        for j in range(exc.shape[1]):
            exc[POST1, j] *= scales[POST1_SCALE]
            exc[POST2, j] *= scales[POST2_SCALE]
        scales[POST1_SCALE] = scales[POST2_SCALE] = 1.0


@njit(cache=True, error_model="numpy", inline="always")
def plasticity(p, ptr, idx, t, slot, prev_slot, correct, syn, state, scratch, n_fired_e):
    """Step 3 (learning): the traces of step t, and what each excitatory spike learns.

    The input traces of step t; each excitatory spike raises theta by theta_plus,
    potentiates its column, corrects its pending depressions (when ``correct``) and
    sets its post traces; then fold_post_scales."""
    weights, x_pre_hist, theta, exc = syn.weights, state.x_pre_hist, state.theta, state.exc
    scales, counters, fired_e = scratch.scales, scratch.counters, scratch.fired_e
    update_input_traces(p, ptr, idx, t, x_pre_hist, slot, prev_slot)
    n_correctable = p.n_present if correct else 0  # presentation steps whose spikes may need a correction
    for q in range(n_fired_e):
        j = fired_e[q]
        theta[j] += p.theta_plus / scales[THETA_SCALE]
        rate = scratch.rates[j]
        potentiate(
            p,
            weights,
            syn.potentiation_delays,
            x_pre_hist,
            slot,
            j,
            exc[POST2, j] * scales[POST2_SCALE],
            rate,
        )
        post1 = exc[POST1, j] + 1.0 / scales[POST1_SCALE] if p.trace_increment else 1.0 / scales[POST1_SCALE]
        correct_pending_depression(
            weights,
            syn.delays,
            ptr,
            idx,
            n_correctable,
            t,
            state.pending.shape[0],
            j,
            (post1 - exc[POST1, j]) * scales[POST1_SCALE] * rate,
            scratch.ahead,
            p.w_max,
        )
        exc[POST1, j] = post1
        exc[POST2, j] = (
            exc[POST2, j] + 1.0 / scales[POST2_SCALE] if p.trace_increment else 1.0 / scales[POST2_SCALE]
        )
        counters[N_TRACED] = add_to_list(j, scratch.traced, scratch.traced_listed, counters[N_TRACED])
        count_win(p, state.wins, j)
    fold_post_scales(exc, scales)


@njit(cache=True, error_model="numpy", inline="always")
def homeostasis(p, theta):
    """Theta after a learning presentation, besides its rise of theta_plus at each spike:
    every neuron's falls by ``p.theta_minus`` (floored at 0 mV). A neuron's theta then
    moves by theta_plus (spikes - theta_minus / theta_plus) per presentation and settles
    where it fires that many spikes, its share of the layer's target; nothing when
    theta_minus is 0 (the reference)."""
    if p.theta_minus > 0.0:
        for j in range(theta.shape[0]):
            theta[j] = max(theta[j] - p.theta_minus, 0.0)


@njit(cache=True, error_model="numpy")
def leave_call(p, learn, state, scratch, n_steps):
    """Leave a call of ``n_steps`` steps: the state in its plain form again, clock advanced.

    The last step's arrivals join g_e (no conductance is left in its slot between
    calls); ``state.since`` gets the steps since each last spike (saturating at NEVER);
    theta and the post traces are multiplied by their factors (and theta takes its
    ``homeostasis`` step); and under
    ``p.exact_reset`` the state is reset to rest."""
    exc, pending, since = state.exc, state.pending, state.since
    n, ring = state.theta.shape[0], pending.shape[0]
    c_end = state.clock[0] + n_steps
    state.clock[0] = c_end
    if n_steps > 0 and c_end - 1 - scratch.counters[LAST_EMISSION] < ring:
        last = (c_end - 1) % ring
        for j in range(n):
            exc[GE, j] += pending[last, j]
            pending[last, j] = 0.0
    for j in range(n):
        since[EXCITATORY, j] = min(c_end - 1 - scratch.last_spike[EXCITATORY, j], NEVER)
        since[INHIBITORY, j] = min(c_end - 1 - scratch.last_spike[INHIBITORY, j], NEVER)
    if learn:
        scales = scratch.scales
        for j in range(n):
            state.theta[j] *= scales[THETA_SCALE]
            exc[POST1, j] *= scales[POST1_SCALE]
            exc[POST2, j] *= scales[POST2_SCALE]
        homeostasis(p, state.theta)
    if p.exact_reset:
        reset_to_rest(p, learn, state)


@njit(cache=True, error_model="numpy")
def simulate(p, ptr, idx, learn, syn, state, counts):
    """Run one presentation and its rest, phase by phase; returns the presentation's spikes.

    ``p.n_present`` steps of the spike train ``ptr, idx``, then ``p.n_rest`` steps,
    updating ``syn.weights`` and ``state`` in place as the module docstring describes.
    ``learn`` turns on STDP and theta adaptation. The excitatory spikes of the
    presentation are added to ``counts``."""
    scratch = enter_call(p, learn, state)
    depress = learn and rule_depresses(p)
    correct = depress and p.depress_at_arrival
    ring = state.pending.shape[0]
    c0 = state.clock[0]
    n_steps = p.n_present + p.n_rest
    fired_e, scales = scratch.fired_e, scratch.scales
    total = 0
    for t in range(n_steps):
        c = c0 + t
        slot = c % ring
        arrival_slot = slot - 1 if slot > 0 else ring - 1
        if learn:
            decay_scales(p, scales)
        n_fired_e, n_fired_i = update_neurons(p, c, arrival_slot, state, scratch)
        if t < p.n_present and ptr[t + 1] > ptr[t]:
            emit_inputs(p, ptr, idx, t, c, slot, depress, syn, state, scratch)
        propagate_spikes(p, state, scratch, n_fired_e, n_fired_i)
        if t < p.n_present:
            total += count_spikes(counts, fired_e, n_fired_e)
        if learn:
            plasticity(p, ptr, idx, t, slot, arrival_slot, correct, syn, state, scratch, n_fired_e)
    leave_call(p, learn, state, scratch, n_steps)
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
            normalise(p, syn.weights)
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


# The dtypes of the State arrays, from STATE_TABLE (numba reads them as constants).
_EXC_DTYPE, _INH_DTYPE, _SINCE_DTYPE, _PENDING_DTYPE, _X_PRE_DTYPE, _CLOCK_DTYPE, _WINS_DTYPE = (
    STATE_ARRAYS[name].dtype for name in ("exc", "inh", "since", "pending", "x_pre_hist", "clock", "wins")
)


@njit(cache=True, error_model="numpy")
def init_state(p, theta, n_inputs, ring, v_offset):
    """A State at rest around ``theta`` (kept, not copied), with every membrane potential
    at v_rest + v_offset (mV), in the shapes and dtypes of STATE_TABLE."""
    n = theta.shape[0]
    exc = np.zeros((EXC_ROWS, n), _EXC_DTYPE)
    inh = np.zeros((INH_ROWS, n), _INH_DTYPE)
    exc[V, :] = p.v_rest_e + v_offset
    inh[V, :] = p.v_rest_i + v_offset
    since = np.full((2, n), NEVER, _SINCE_DTYPE)
    pending = np.zeros((ring, n), _PENDING_DTYPE)
    x_pre_hist = np.zeros((ring, n_inputs), _X_PRE_DTYPE)
    clock = np.zeros(1, _CLOCK_DTYPE)
    return State(theta, exc, inh, since, pending, x_pre_hist, clock, np.zeros(n, _WINS_DTYPE))


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
