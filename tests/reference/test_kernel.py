"""Unit tests of the compiled kernel (stdp_mnist.kernel) on tiny hand-built cases.

Every expected value is computed in the test from the model's formulas (docs/MODEL.md) and the
step order in kernel.py's docstring, never by running the kernel a second way. Step order
within step t, as the tests rely on it:
  1. the conductance arriving at t - 1 joins g_e; when learning, theta, x_post1 and
     x_post2 decay; v_t = v_{t-1} + dt/tau * (...) with these conductances (or v_reset
     while clamped); g_e, g_i decay; threshold test, reset;
  2. input spikes of t add their weight to the ring buffer at t + delay (it joins g_e
     at the start of step t + delay + 1) and, when learning, are depressed at once by
     nu_pre * x_post1(t) * decay_post1^delay (x_post1 as predicted for the arrival);
     exc spike k -> inh k's g_e; inh spike k -> g_i of every exc j != k;
  3. learning: x_pre(t); each neuron that fired at t: theta += theta_plus, its column
     potentiated by nu_post * x_pre(t - d) * x_post2 (x_post2 before the spike), its
     depressions of spikes still on their way corrected for the spike's jump in
     x_post1; then x_post1 = x_post2 = 1.
No MNIST is needed: spike trains are built by hand (helpers/kernel_harness.py).
"""

import math

import numba
import numpy as np
import pytest
from helpers.kernel_harness import CFG, P0, Tiny, assert_weight, f32_steps, pair_run, params

from stdp_mnist import kernel, network
from stdp_mnist.config import Config
from stdp_mnist.kernel import GE, GI, NEVER, POST1, POST2, V

# --------------------------------------------------------------------------- membrane


@pytest.mark.parametrize("v_offset", [-40.0, 5.0])
def test_excitatory_relaxes_to_rest_by_forward_euler(v_offset):
    p = params()
    net = Tiny(p, v_offset=v_offset)
    v0 = P0.v_rest_e + v_offset
    rec = net.steps(p, 60)
    for k, (exc, _, counts, _) in enumerate(rec, start=1):
        # no conductance: v_k = v_rest + (v0 - v_rest) (1 - dt/tau)^k, dt/tau = 0.5/100
        expected = P0.v_rest_e + (v0 - P0.v_rest_e) * (1 - 0.5 / 100) ** k
        assert exc[V, 0] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert counts[0] == 0
    # the same in one call of 60 rest steps
    net2 = Tiny(p, v_offset=v_offset)
    net2.run(p, 0, n_rest=60)
    assert net2.exc[V, 0] == pytest.approx(rec[-1][0][V, 0], rel=1e-14)


@pytest.mark.parametrize("v_offset", [-40.0, 5.0])
def test_inhibitory_relaxes_to_rest_by_forward_euler(v_offset):
    p = params()
    net = Tiny(p, v_offset=v_offset)
    v0 = P0.v_rest_i + v_offset
    rec = net.steps(p, 40)
    for k, (_, inh, _, since) in enumerate(rec, start=1):
        expected = P0.v_rest_i + (v0 - P0.v_rest_i) * (1 - 0.5 / 10) ** k  # dt/tau_i = 0.05
        assert inh[V, 0] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert since[1, 0] == NEVER


def first_spike_by_hand(
    v0, g, theta, tau=100.0, dt=0.5, v_rest=-65.0, e_exc=0.0, v_thresh=-52.0, offset=20.0, max_steps=10_000
):
    """Step of the first spike under constant g_e: v_t = v_{t-1} + dt/tau ((v_rest - v)
    + g (E_exc - v)), spike at the first t with v_t > v_thresh + theta - offset."""
    v = v0
    for t in range(max_steps):
        v = v + dt / tau * ((v_rest - v) + g * (e_exc - v))
        if v > v_thresh + theta - offset:
            return t
    return None


@pytest.mark.parametrize("theta", [19.0, 20.0, 21.5])
def test_first_spike_step_under_constant_conductance(theta):
    g = 0.5
    # Closed form: v_k = v* + (v0 - v*) (1 - a(1+g))^k, v* = (v_rest + g E_exc)/(1+g);
    # first k with v_k > thr; the kernel's step index is k - 1.
    a, v0, v_star, thr = 0.005, -65.0, -65.0 / 1.5, -52.0 + theta - 20.0
    k_closed = math.floor(math.log((thr - v_star) / (v0 - v_star)) / math.log(1 - a * (1 + g))) + 1
    t_hand = first_spike_by_hand(v0, g, theta)
    assert t_hand == k_closed - 1

    p = params(decay_ge_e=1.0)  # g_e held constant
    net = Tiny(p, theta=[theta])
    net.exc[GE, 0] = g
    n_steps = t_hand + 5
    counts = net.run(p, n_steps)
    assert counts[0] == 1
    assert net.since[0, 0] == n_steps - 1 - t_hand  # fired at step t_hand
    assert net.theta[0] == theta  # learn=False: theta untouched


def test_first_spike_depends_on_theta():
    # a higher adaptive threshold delays the first spike, by the hand-computed amount
    assert (
        first_spike_by_hand(-65.0, 0.5, 19.0)
        < first_spike_by_hand(-65.0, 0.5, 20.0)
        < first_spike_by_hand(-65.0, 0.5, 21.5)
    )
    p = params(decay_ge_e=1.0)
    net = Tiny(p, n=3, theta=[19.0, 20.0, 21.5], weights=np.zeros((2, 3)))
    net.exc[GE, :] = 0.5
    p = p._replace(w_inh_to_exc=0.0)  # no lateral inhibition: three independent neurons
    rec = net.steps(p, 200)
    first = [next(t for t, r in enumerate(rec) if r[2][j]) for j in range(3)]
    assert first == [first_spike_by_hand(-65.0, 0.5, th) for th in (19.0, 20.0, 21.5)]


@pytest.mark.parametrize("g_i", [50.0, 199.0, 201.0, 1000.0, 30000.0])
def test_membrane_step_forward_or_backward_euler_when_forward_would_overshoot(g_i):
    # dt/tau (1 + g_i) <= 1: forward Euler; beyond: backward Euler, which cannot overshoot.
    p = params(decay_gi_e=1.0)  # g_i held constant
    net = Tiny(p)
    net.exc[V, 0] = -65.0
    net.exc[GI, 0] = g_i
    rec = net.steps(p, 30)
    a = 0.005
    v = -65.0
    for k, (exc, _, _, _) in enumerate(rec):
        if a * (1 + g_i) <= 1.0:
            v = v + a * ((-65.0 - v) + g_i * (-100.0 - v))
        else:
            v = (v + a * (-65.0 + g_i * -100.0)) / (1 + a * (1 + g_i))
        assert exc[V, 0] == pytest.approx(v, abs=1e-9), k
        assert -100.0 <= exc[V, 0] <= -65.0  # never beyond the reversal potentials


@pytest.mark.parametrize(
    "integrator, tau_ms, expected_total",
    [
        ("exact", 1.0, 0.5 / (1 - math.exp(-0.5))),  # left sum of e^(-t/tau): 1.27 tau
        ("exact-mean", 1.0, 1.0),  # the continuous integral: tau
        ("euler", 1.0, 1.0),  # g halves each step: 0.5 (1 + 1/2 + 1/4 ...) = tau
        ("exact", 2.0, 0.5 / (1 - math.exp(-0.25))),
        ("exact-mean", 2.0, 2.0),
    ],
)
def test_total_synaptic_drive_of_one_conductance_pulse(integrator, tau_ms, expected_total):
    # A pulse g_e = 1 at rest, far from threshold, with E_exc far above v and a tiny
    # dt/tau_membrane: to first order v - v_rest = dt/tau (E_exc - v_rest) * sum over steps
    # of the drive, whose sum times dt is the pulse's total drive in ms (tau for the
    # continuous model).
    cfg = Config().replace(simulation={"integrator": integrator}, excitatory={"tau_ge_ms": tau_ms})
    p = params(cfg, dt_tau_e=1e-9, e_exc_e=1e6)
    net = Tiny(p, theta=[1e9])
    net.exc[V, 0] = p.v_rest_e
    net.exc[GE, 0] = 1.0
    net.run(p, 200)
    total_ms = (net.exc[V, 0] - p.v_rest_e) / (1e-9 * (1e6 - p.v_rest_e)) * 0.5
    assert total_ms == pytest.approx(expected_total, rel=1e-6)


def test_excitatory_pass_steps_overshooting_neurons_by_backward_euler():
    # a population where some neurons' forward step would overshoot (dt/tau (1 + g_e +
    # g_i) > 1, i.e. g_e + g_i > 199) and others' not: each neuron must end as one
    # membrane_step (backward Euler for the former) + decay + threshold test
    p = params()
    g_e = np.array([0.0, 2.0, 150.0, 0.5, 300.0, 20.0])
    g_i = np.array([0.0, 150.0, 60.0, 1000.0, 0.0, 0.0])
    arrived = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.25], np.float32)
    v0 = np.array([-65.0, -60.0, -60.0, -50.0, -60.0, -55.0])
    exc = np.zeros((5, 6))
    exc[V], exc[GE], exc[GI] = v0, g_e, g_i
    theta = np.full(6, 10.0)
    fired = np.zeros(6, np.uint8)
    n_fired = kernel.update_excitatory(
        p, exc, np.full(6, -NEVER, np.int64), theta, 1.0, 0, fired, arrived, True
    )
    ge_in = g_e + np.array([0, 0, 0, 0, 0, 0.25])
    expected_v = [
        kernel.membrane_step(v0[j], ge_in[j], g_i[j], p.dt_tau_e, p.v_rest_e, p.e_exc_e, p.e_inh_e)
        for j in range(6)
    ]
    overshoot = p.dt_tau_e * (1 + ge_in + g_i) > 1
    assert list(overshoot) == [False, False, True, True, True, False]
    # by hand for neuron 3: (v + dt/tau (v_rest + g_e E_exc + g_i E_inh)) / (1 + dt/tau (1 + g_e + g_i))
    assert expected_v[3] == pytest.approx(
        (-50 + 0.005 * (-65 + 0.5 * 0 + 1000 * -100)) / (1 + 0.005 * 1001.5)
    )
    fires = np.array(expected_v) > p.v_thresh_e + 10.0
    assert list(fires) == [False, False, True, False, True, True]  # two overshooting ones and a forward one
    np.testing.assert_array_equal(exc[V], np.where(fires, p.v_reset_e, expected_v))
    np.testing.assert_array_equal(fired, fires)
    assert n_fired == 3
    np.testing.assert_array_equal(exc[GE], ge_in * p.decay_ge_e)
    np.testing.assert_array_equal(exc[GI], g_i * p.decay_gi_e)
    assert not arrived.any()


def test_synchronous_inhibition_burst_does_not_diverge():
    # 64 neurons driven to fire in the same step: 64 inhibitory spikes give every other
    # neuron g_i = 63 * 17, far past forward Euler's stability limit (dt/tau g_i < 2).
    n = 64
    p = params()
    net = Tiny(p, n=n, weights=np.zeros((2, n)))
    net.exc[V, :] = -53.0
    net.exc[GE, :] = 5.0
    counts = net.run(p, 200)
    assert counts.sum() == n  # one synchronous volley, then the inhibition holds
    assert np.all(np.isfinite(net.exc[V])) and np.all(net.exc[V] >= -100.0)


# --------------------------------------------------------------------------- STDP


@pytest.mark.parametrize("d", [0, 4])
def test_pre_then_post_potentiation_arrival_timing(d):
    a, b, post2_0 = 3, 10, 0.8
    w = pair_run(a, b, d_syn=d, d_stdp=d, post2_0=post2_0)
    # x_pre is read at b - d: set to 1 at a, decayed (b - d - a) steps
    x_pre = P0.decay_pre ** (b - d - a)
    # x_post2 just before the spike: decayed at steps 0..b (b + 1 times)
    x_post2 = post2_0 * P0.decay_post2 ** (b + 1)
    # the pre spike arrives at a + d < b, when x_post1 = 0: no depression
    assert_weight(w, f32_steps(0.5, P0.nu_post * x_pre * x_post2))
    assert w > 0.5


def test_pre_then_post_emission_timing_with_delay():
    a, b, d, post2_0 = 3, 10, 4, 0.8
    # STDP at emission: x_pre read at b regardless of the 4-step conductance delay
    w = pair_run(a, b, d_syn=d, d_stdp=0, post2_0=post2_0, depress_at_arrival=False)
    x_pre = P0.decay_pre ** (b - a)
    assert_weight(w, f32_steps(0.5, P0.nu_post * x_pre * post2_0 * P0.decay_post2 ** (b + 1)))


@pytest.mark.parametrize("post1_0", [0.0, 0.5])
def test_pre_arriving_after_post_is_post_then_pre(post1_0):
    # emitted at 3 before the post spike at 10, but with delay 9 it arrives at 12: the
    # potentiation at 10 reads x_pre(10 - 9 = 1) = 0 (before the input fired), and the
    # depression at arrival 12 reads x_post1 = decay_post1^(12 - 10), whatever x_post1
    # was at the emission (the depression predicted then is corrected at the spike)
    w = pair_run(3, 10, d_syn=9, d_stdp=9, post1_0=post1_0)
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * P0.decay_post1**2))


def test_pre_arriving_after_post_increment_traces():
    # all-to-all traces: x_post1 at the arrival 12 is what it was plus 1 added at 10,
    # 0.5 decayed over steps 0..12 and the spike's 1 decayed over 2 steps
    w = pair_run(3, 10, d_syn=9, d_stdp=9, post1_0=0.5, trace_increment=True)
    post1 = 0.5 * P0.decay_post1**13 + P0.decay_post1**2
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * post1))


@pytest.mark.parametrize("exact_reset", [False, True])
def test_depression_arriving_after_the_presentation(exact_reset):
    # the input fires at the last presentation step 19 with delay 6: it arrives during
    # the rest (simulated), or after the exact reset; either way it is depressed by
    # x_post1 as the rest would have it at the arrival (post spike at 10, none after)
    ring, n_steps, d = 20, 20, 6
    p = params(exact_reset=exact_reset)
    net = Tiny(p, n_in=2, n=1, ring=ring, weights=[0.5, 100.0], delays=[d, 0])
    counts = net.run(p, n_steps, {n_steps - 1: [0], 9: [1]}, learn=True, n_rest=0 if exact_reset else 40)
    assert counts[0] == 1
    assert_weight(net.weights[0, 0], f32_steps(0.5, -P0.nu_pre * P0.decay_post1 ** (n_steps - 1 + d - 10)))


def test_pre_then_post_pair_rule():
    a, b = 3, 10
    w = pair_run(a, b, d_syn=0, d_stdp=0, post2_0=0.8, rule=kernel.RULE_PAIR)
    # pair rule: dw = nu_post * x_pre, no x_post2 factor
    assert_weight(w, f32_steps(0.5, P0.nu_post * P0.decay_pre ** (b - a)))


def test_post2_factor_is_value_before_the_spike():
    # two post spikes 30 steps apart, no pre spike in between except one at step 40:
    # the second potentiation (at 50) uses x_post2 = decay_post2^(50-20), set to 1 at 20
    # (w_max raised so that the forcing weight of 100 is not clipped at its first spike)
    p = params(w_max=1000.0)
    net = Tiny(p, n_in=2, n=1, weights=[0.5, 100.0])
    counts = net.run(p, 60, {40: [0], 19: [1], 49: [1]}, learn=True)
    assert counts[0] == 2 and net.since[0, 0] == 59 - 50
    x_pre = P0.decay_pre ** (50 - 40)
    post2 = P0.decay_post2 ** (50 - 20)
    # depression at 40 by x_post1 = decay_post1^(40 - 20), then potentiation at 50
    assert_weight(
        net.weights[0, 0], f32_steps(0.5, -P0.nu_pre * P0.decay_post1**20, P0.nu_post * x_pre * post2)
    )


@pytest.mark.parametrize("d", [0, 6])
def test_post_then_pre_depression_arrival_timing(d):
    a, b = 5, 12
    w = pair_run(b, a, d_syn=d, d_stdp=d)
    # x_post1 = 1 at the post spike (a), read at the arrival b + d
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * P0.decay_post1 ** (b + d - a)))
    assert w < 0.5


def test_post_then_pre_depression_emission_timing():
    a, b, d = 5, 12, 6
    w = pair_run(b, a, d_syn=d, d_stdp=0, depress_at_arrival=False)
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * P0.decay_post1 ** (b - a)))


def test_simultaneous_pre_and_post_depression_first():
    # pre and post at the same step b (delay 0): the presynaptic half runs first, with
    # x_post1 before the spike (0 here), then potentiation with x_pre = 1
    b = 10
    w = pair_run(b, b, d_syn=0, d_stdp=0, post1_0=0.5, post2_0=0.8)
    post1 = 0.5 * P0.decay_post1 ** (b + 1)
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * post1, P0.nu_post * 1.0 * 0.8 * P0.decay_post2 ** (b + 1)))


def test_clipping_to_zero_and_w_max():
    # upper: pair rule, pre and post together, dw = +nu_post = 0.01 from 0.995 -> 1.0
    assert pair_run(10, 10, 0, 0, w0=0.995, rule=kernel.RULE_PAIR) == np.float32(1.0)
    # a lower w_max clips there
    assert pair_run(10, 10, 0, 0, w0=0.495, w_max=0.5, rule=kernel.RULE_PAIR) == np.float32(0.5)
    # lower: post at 5, pre at 6: dw = -nu_pre * decay_post1 ~ -9.75e-5 from 5e-5 -> 0
    assert pair_run(6, 5, 0, 0, w0=5e-5) == np.float32(0.0)
    # and the forcing input's weight of 100 was clipped to w_max at its own spike
    p = params()
    net = Tiny(p, weights=[0.5, 100.0])
    net.run(p, 5, {1: [1]}, learn=True)
    assert net.weights[1, 0] == np.float32(1.0)


def test_normalise_columns_to_a_euclidean_norm():
    # a column (3, 4) has norm 5: scaled to norm 1 it is (0.6, 0.8); a zero column stays
    w = np.zeros((784, 2), np.float32)
    w[:2, 0] = 3.0, 4.0
    kernel.normalise_columns(w, 1.0, True)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w[:2, 0], [0.6, 0.8], rtol=1e-7)
    assert np.count_nonzero(w[2:, 0]) == 0 and np.count_nonzero(w[:, 1]) == 0


@pytest.mark.parametrize("weight_l2", [0.0, 5.0])
def test_normalise_dispatches_on_weight_l2(weight_l2):
    # weight_l2 = 0 is the reference's sum (78); above 0 the Euclidean norm
    cfg = Config().replace(network={"n_excitatory": 3, "weight_l2": weight_l2})
    w = np.random.default_rng(4).random((784, 3)).astype(np.float32)
    kernel.normalise(network.kernel_params(cfg), w)
    w64 = w.astype(np.float64)
    measured = np.linalg.norm(w64, axis=0) if weight_l2 else w64.sum(axis=0)
    np.testing.assert_allclose(measured, weight_l2 or 78.0, rtol=1e-5)


def test_normalise_columns():
    gen = np.random.default_rng(3)
    w = gen.random((784, 4)).astype(np.float32) * 0.3
    w[:, 3] = 0.0  # an all-zero column is left alone
    before = w.copy()
    kernel.normalise_columns(w, 78.0)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w[:, :3].astype(np.float64).sum(axis=0), 78.0, rtol=1e-5)
    props_before = before[:, :3] / before[:, :3].astype(np.float64).sum(axis=0)
    props_after = w[:, :3] / w[:, :3].astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(props_after, props_before, rtol=1e-6)
    assert np.all(w[:, 3] == 0.0)


# --------------------------------------------------------------------------- refractoriness


def spike_steps(rec, j=0, which=2):
    return [t for t, r in enumerate(rec) if r[which][j]]


def test_excitatory_refractory_clamp_and_block():
    # strong constant drive: a spike every block_steps_e = 10 steps (5 ms), never sooner
    p = params(decay_ge_e=1.0)
    assert p.clamp_steps_e == 10 and p.block_steps_e == 10
    net = Tiny(p)
    net.exc[GE, 0] = 100.0
    rec = net.steps(p, 45)
    assert spike_steps(rec) == [0, 10, 20, 30, 40]
    # moderate drive from above threshold: spike at 0, then v == v_reset while steps since
    # the spike < 10 (9 steps), then it integrates from v_reset
    net = Tiny(p)
    net.exc[V, 0] = -40.0
    net.exc[GE, 0] = 2.0
    rec = net.steps(p, 12)
    assert spike_steps(rec) == [0]
    for t in range(1, 10):
        assert rec[t][0][V, 0] == P0.v_reset_e
    assert rec[10][0][V, 0] == pytest.approx(-65.0 + 0.005 * (2.0 * 65.0), rel=1e-14)


def test_inhibitory_refractory():
    p = params(decay_ge_i=1.0)
    assert p.refractory_steps_i == 4
    net = Tiny(p)
    net.inh[GE, 0] = 5.0
    rec = net.steps(p, 13)
    # from -60 with g = 5: v_0 = -60 + 0.05 * 5 * 60 = -45, not > -40: first spike at 1,
    # then every 4 steps: -45 + 0.05 (-15 + 5 * 45) = -34.5 > -40
    fired = [t for t, r in enumerate(rec) if r[3][1, 0] == 0]
    assert fired == [1, 5, 9]
    # moderate drive: clamped at v_reset_i for 3 steps after a spike, then integrates
    net = Tiny(p)
    net.inh[V, 0] = -30.0
    net.inh[GE, 0] = 1.0
    rec = net.steps(p, 6)
    assert rec[0][3][1, 0] == 0
    for t in (1, 2, 3):
        assert rec[t][1][V, 0] == P0.v_reset_i
    assert rec[4][1][V, 0] == pytest.approx(-45.0 + 0.05 * ((-60.0 + 45.0) + 1.0 * 45.0), rel=1e-14)


def test_spike_block_50ms_variant():
    cfg = CFG.replace(excitatory={"spike_block_ms": 50.0})
    p = params(cfg, decay_ge_e=1.0)
    assert p.clamp_steps_e == 10 and p.block_steps_e == 100
    net = Tiny(p)
    net.exc[GE, 0] = 100.0
    rec = net.steps(p, 210)
    assert spike_steps(rec) == [0, 100, 200]
    # clamped 9 steps, then far above threshold but blocked until step 100
    assert all(rec[t][0][V, 0] == P0.v_reset_e for t in range(1, 10))
    assert all(rec[t][0][V, 0] > -52.0 for t in range(10, 100))


# --------------------------------------------------------------------------- inhibition


def test_lateral_inhibition_silences_the_others():
    g, thetas = 0.5, [19.0, 20.0, 20.0]
    t0 = first_spike_by_hand(-65.0, g, 19.0)  # neuron 0 crosses first (lower theta)
    t1 = first_spike_by_hand(-65.0, g, 20.0)
    assert t1 > t0 + 2
    p = params(decay_ge_e=1.0)
    net = Tiny(p, n=3, theta=thetas, weights=np.zeros((2, 3)))
    net.exc[GE, :] = g
    rec = net.steps(p, 400)
    exc, inh, counts, since = rec[t0]
    assert list(counts) == [1, 0, 0]
    # step t0: exc spike 0 -> inh 0's g_e += w_exc_to_inh (it was 0)
    assert inh[GE, 0] == P0.w_exc_to_inh and inh[GE, 1] == inh[GE, 2] == 0.0
    assert since[1, 0] == NEVER  # the inhibitory neuron cannot fire before t0 + 1
    assert np.all(exc[GI] == 0.0)
    exc, inh, counts, since = rec[t0 + 1]
    # step t0 + 1: inh 0 integrates -60 + 0.05 * 10.4 * 60 = -28.8 > -40 and fires
    assert inh[V, 0] == P0.v_reset_i and since[1, 0] == 0
    # ... and g_i += w_inh_to_exc for j != 0 only
    assert exc[GI, 0] == 0.0
    assert exc[GI, 1] == exc[GI, 2] == P0.w_inh_to_exc
    # the others never fire; neuron 0 keeps firing
    total = sum(r[2] for r in rec)
    assert total[1] == total[2] == 0 and total[0] >= 2
    # control: without the inhibitory loop, neurons 1 and 2 fire at the hand-computed t1
    net = Tiny(p._replace(w_inh_to_exc=0.0), n=3, theta=thetas, weights=np.zeros((2, 3)))
    net.exc[GE, :] = g
    rec = net.steps(p._replace(w_inh_to_exc=0.0), t1 + 1)
    assert spike_steps(rec, 1) == spike_steps(rec, 2) == [t1]


def test_two_inhibitory_spikes_add_for_bystanders():
    # exc 0 and 1 fire together; inh 0 and 1 fire together at the next step: exc 2 gets
    # 2 * 17, exc 0 gets 17 (from inh 1), exc 1 gets 17 (from inh 0)
    p = params(decay_ge_e=1.0)
    net = Tiny(p, n=3, theta=[20.0, 20.0, 100.0], weights=np.zeros((2, 3)))
    net.exc[GE, :] = 100.0
    rec = net.steps(p, 2)
    assert list(rec[0][2]) == [1, 1, 0]
    gi = rec[1][0][GI]
    np.testing.assert_array_equal(gi, [17.0, 17.0, 34.0])


# --------------------------------------------------------------------------- theta


def test_theta_adaptation_and_decay_when_learning():
    dec = 0.9
    p = params(decay_ge_e=1.0, decay_theta=dec)
    net = Tiny(p)
    net.exc[GE, 0] = 100.0  # spikes at 0, 10, 20 (see the refractory test)
    T = 25
    rec = net.steps(p, T, learn=True)
    fired = spike_steps(rec)
    assert fired == [0, 10, 20]
    # each step theta *= dec, then += theta_plus on a spike
    expected = 20.0 * dec**T + sum(P0.theta_plus * dec ** (T - 1 - t) for t in fired)
    assert net.theta[0] == pytest.approx(expected, rel=1e-12)


def test_theta_decay_without_spikes_and_default_constant():
    # (a decay slow enough that the threshold -72 + theta stays above v_rest = -65)
    p = params(decay_theta=0.99)
    net = Tiny(p)
    counts = net.run(p, 30, learn=True)
    assert counts[0] == 0
    assert net.theta[0] == pytest.approx(20.0 * 0.99**30, rel=1e-12)
    # default: exp(-dt / 1e7 ms)
    assert P0.decay_theta == pytest.approx(math.exp(-0.5 / 1e7), rel=1e-15)
    p = params()
    net = Tiny(p)
    net.run(p, 1000, learn=True)
    assert net.theta[0] == pytest.approx(20.0 * math.exp(-500.0 / 1e7), rel=1e-12)


def test_theta_frozen_without_learning():
    p = params(decay_ge_e=1.0, decay_theta=0.9)
    net = Tiny(p)
    net.exc[GE, 0] = 100.0
    counts = net.run(p, 25, learn=False)
    assert counts[0] == 3
    assert net.theta[0] == 20.0
    # and no plasticity: traces untouched, weights unchanged
    assert net.exc[POST1, 0] == 0.0 and net.exc[POST2, 0] == 0.0
    assert np.all(net.weights == np.float32(0.5))


def test_theta_below_the_resting_line_fires_without_input():
    # threshold -72 + theta (mV) under v_rest = v_reset = -65 when theta < 7: no input, no
    # conductance, yet a spike at step 0 and at every end of the 10-step clamp
    assert network.self_firing_theta_mv(CFG) == 7.0
    p = params()
    n_steps = 700  # the paper's 350 ms presentation
    frozen = Tiny(p, n=3, theta=[6.0, 7.0, 8.0])  # 7.0 exactly: v = -65 is not > -65
    assert list(frozen.run(p, n_steps)) == [n_steps // 10, 0, 0]
    assert frozen.theta[0] == 6.0
    # one step's mutual inhibition is not enough to stop two of them (here 6 and 6.5 mV)
    pair = Tiny(p, n=3, theta=[6.0, 6.5, 20.0])
    assert list(pair.run(p, n_steps)) == [n_steps // 10, n_steps // 10, 0]
    # learning: each spike adds theta_plus = 0.05 mV; the 20th takes theta from 6.0 to 7.0
    # less its decay (1e-5 relative over 105 ms), still under the line: a 21st, then silence
    learning = Tiny(p, theta=[6.0])
    assert learning.run(p, n_steps, learn=True)[0] == 21
    assert 7.0 < learning.theta[0] < 7.05


# --------------------------------------------------------------------------- delays


def test_delayed_input_adds_weight_at_emission_on_arrival():
    ring = 8
    p = params()
    net = Tiny(p, n_in=2, n=2, ring=ring, weights=[[0.25, 0.375], [0.125, 0.5]], delays=[[5, 2], [5, 0]])
    w = net.weights.copy()
    s = 3
    # input 0 fires at 3 (arrives at 8 on neuron 0, at 5 on neuron 1); input 1 fires at 6
    # (arrives at 11 on neuron 0, at 6 on neuron 1)
    spikes = {s: [0], 6: [1]}
    ge = []
    for t in range(13):
        net.run(p, 1, {0: spikes.get(t, [])})
        ge.append(net.exc[GE].copy())
        if t == s:  # changing weights after emission does not change what arrives
            net.weights[:] = 0.9
    d0, w_new = P0.decay_ge_e, np.float64(np.float32(0.9))
    assert ge[s + 4][0] == 0.0 and ge[s + 5][0] == np.float64(w[0, 0])  # step 8
    assert ge[s + 1][1] == 0.0 and ge[s + 2][1] == np.float64(w[0, 1])  # step 5
    assert ge[6][1] == pytest.approx(np.float64(w[0, 1]) * d0 + w_new, rel=1e-15)  # delay 0, current weight
    assert ge[11][0] == pytest.approx(np.float64(w[0, 0]) * d0**3 + w_new, rel=1e-15)
    assert np.all(net.pending == 0.0)


def test_conductance_acts_on_v_from_the_next_step():
    p = params()
    net = Tiny(p, weights=[2.0, 0.0])
    rec = net.steps(p, 3, {1: [0]})
    # step 1: input arrives (delay 0), g_e = 2, but v_1 was computed before: pure leak
    v0 = P0.v_rest_e
    assert rec[1][0][V, 0] == v0 and rec[1][0][GE, 0] == np.float64(np.float32(2.0))
    # step 2: v_2 = v_1 + dt/tau * g_e (E_exc - v_1)
    assert rec[2][0][V, 0] == pytest.approx(v0 + 0.005 * 2.0 * (0.0 - v0), rel=1e-14)


# --------------------------------------------------------------------------- exact reset


@pytest.mark.parametrize("learn", [True, False])
def test_exact_reset(learn):
    ring = 6
    gen = np.random.default_rng(5)
    weights = gen.random((4, 2)).astype(np.float32) * 30.0
    delays = gen.integers(0, ring, (4, 2))
    spikes = {t: list(np.nonzero(gen.random(4) < 0.2)[0]) for t in range(60)}
    p = params()
    nets = []
    for reset in (False, True):
        q = p._replace(exact_reset=reset)
        net = Tiny(q, n_in=4, n=2, ring=ring, weights=weights, delays=delays, v_offset=5.0)
        counts = net.run(q, 60, spikes, learn=learn)
        nets.append((net, counts))
    (plain, c_plain), (reset, c_reset) = nets
    assert c_plain.sum() > 0
    np.testing.assert_array_equal(c_plain, c_reset)
    np.testing.assert_array_equal(plain.weights, reset.weights)
    assert np.any(plain.pending != 0.0) and np.any(plain.exc[GE:] != 0.0)
    # state back to rest ...
    assert np.all(reset.exc[V] == P0.v_rest_e) and np.all(reset.exc[GE:] == 0.0)
    assert np.all(reset.inh[V] == P0.v_rest_i) and np.all(reset.inh[GE:] == 0.0)
    assert np.all(reset.since == NEVER)
    assert np.all(reset.pending == 0.0) and np.all(reset.x_pre_hist == 0.0)
    assert reset.clock[0] == plain.clock[0] == 60
    # ... theta kept, with the rest's decay exp(-150 ms / 1e7 ms) when learning
    if learn:
        assert P0.rest_theta_decay == pytest.approx(math.exp(-150.0 / 1e7), rel=1e-15)
        np.testing.assert_allclose(reset.theta, plain.theta * P0.rest_theta_decay, rtol=1e-15)
        assert np.all(reset.theta != plain.theta)
    else:
        np.testing.assert_array_equal(reset.theta, plain.theta)
        assert np.all(reset.theta == 20.0)


# --------------------------------------------------------------------------- input spikes


def test_next_uniform_range_and_determinism():
    rng = np.array([12345], np.uint64)
    draws = np.array([kernel.next_uniform(rng) for _ in range(20000)])
    assert np.all(draws > 0.0) and np.all(draws <= 1.0)
    assert abs(draws.mean() - 0.5) < 5 * math.sqrt(1 / 12 / draws.size)
    rng2 = np.array([12345], np.uint64)
    assert [kernel.next_uniform(rng2) for _ in range(5)] == list(draws[:5])
    # the state advances by the golden-ratio increment each draw
    assert int(rng2[0]) == (12345 + 5 * 0x9E3779B97F4A7C15) % 2**64


def test_poisson_spike_train_deterministic_and_well_formed():
    rates = np.linspace(0.0, 63.75, 50)
    a = kernel.poisson_spike_train(rates, 0.0005, 700, np.array([7], np.uint64))
    rng = np.array([7], np.uint64)
    b = kernel.poisson_spike_train(rates, 0.0005, 700, rng)
    assert int(rng[0]) != 7  # the stream advanced
    c = kernel.poisson_spike_train(rates, 0.0005, 700, np.array([8], np.uint64))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    ptr, idx = a
    assert ptr.shape == (701,) and ptr[0] == 0 and idx.dtype == np.int32 and ptr[-1] == idx.size
    for s in range(700):
        step = idx[ptr[s] : ptr[s + 1]]
        assert np.all(np.diff(step) > 0)  # ascending, each input at most once per step
    assert not np.any(idx == 0)  # input 0 has rate 0
    # a following draw continues the stream (not a replay of the same train)
    d = kernel.poisson_spike_train(rates, 0.0005, 700, rng)
    assert not np.array_equal(d[1], b[1])


def test_poisson_zero_rate_and_certain_spikes():
    ptr, idx = kernel.poisson_spike_train(np.zeros(10), 0.0005, 500, np.array([1], np.uint64))
    assert idx.size == 0 and np.all(ptr == 0)
    # p = rate * dt = 2000 Hz * 0.0005 = 1: every step
    ptr, idx = kernel.poisson_spike_train(np.array([2000.0]), 0.0005, 100, np.array([1], np.uint64))
    np.testing.assert_array_equal(ptr, np.arange(101))


@pytest.mark.parametrize("prob", [0.05, 0.5])
def test_poisson_counts_and_bernoulli_marginal(prob):
    n_steps = 200_000
    ptr, idx = kernel.poisson_spike_train(
        np.array([prob / 0.0005]), 0.0005, n_steps, np.array([2024], np.uint64)
    )
    per_step = np.diff(ptr)
    assert per_step.max() <= 1
    n = per_step.sum()
    sd = math.sqrt(n_steps * prob * (1 - prob))
    assert abs(n - n_steps * prob) < 5 * sd
    # independent steps: pairs of consecutive spike steps ~ p^2
    both = np.sum(per_step[1:] & per_step[:-1])
    m = n_steps - 1
    assert abs(both - m * prob**2) < 5 * math.sqrt(m * prob**2 * (1 - prob**2)) + 1
    # gaps between spikes are geometric: P(gap = 1) = p
    gaps = np.diff(np.nonzero(per_step)[0])
    assert abs(np.mean(gaps == 1) - prob) < 5 * math.sqrt(prob * (1 - prob) / gaps.size)


def test_poisson_many_inputs_marginal():
    prob, n_in, n_steps = 0.05, 20, 20_000
    ptr, idx = kernel.poisson_spike_train(
        np.full(n_in, prob / 0.0005), 0.0005, n_steps, np.array([99], np.uint64)
    )
    per_input = np.bincount(idx, minlength=n_in)
    sd = math.sqrt(n_steps * prob * (1 - prob))
    assert np.all(np.abs(per_input - n_steps * prob) < 5 * sd)
    assert abs(per_input.sum() - n_in * n_steps * prob) < 5 * sd * math.sqrt(n_in)


# --------------------------------------------------------------------------- frozen runs


def synthetic_images(k, seed):
    gen = np.random.default_rng(seed)
    images = np.zeros((k, 784), np.uint8)
    for m in range(k):
        on = gen.choice(784, 150, replace=False)
        images[m, on] = gen.integers(128, 256, on.size)
    return images


def test_frozen_responses_block_partition_and_no_learning():
    cfg = CFG.replace(network={"n_excitatory": 6})
    net = network.new_network(cfg)
    kernel.normalise_columns(net.weights, 78.0)
    p = network.kernel_params(cfg, frozen=True)
    images = synthetic_images(4, 0)
    seeds = np.array([network.random_seed(0, 3, b) for b in range(2)], np.uint64)
    w0, th0 = net.weights.copy(), net.theta.copy()

    def run(imgs, block_seeds):
        counts = np.zeros((imgs.shape[0], 6), np.int64)
        retries = np.zeros(imgs.shape[0], np.int64)
        kernel.frozen_responses(p, imgs, 2, block_seeds, net.weights, net.theta, net.delays, counts, retries)
        return counts, retries

    both = run(images, seeds)
    first = run(images[:2], seeds[:1])
    second = run(images[2:], seeds[1:])
    np.testing.assert_array_equal(both[0], np.concatenate([first[0], second[0]]))
    np.testing.assert_array_equal(both[1], np.concatenate([first[1], second[1]]))
    assert both[0].sum() > 0
    assert np.all(both[0].sum(axis=1) >= p.min_spikes)  # boost retried until >= 5 spikes
    # the same whatever the number of threads, and repeatable
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = run(images, seeds)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(both[0], single[0])
    np.testing.assert_array_equal(both[1], single[1])
    # no learning: weights and theta untouched
    np.testing.assert_array_equal(net.weights, w0)
    np.testing.assert_array_equal(net.theta, th0)


def test_decayed_conductances_reach_zero_not_a_stuck_subnormal():
    # exp(-dt/tau) > 1/2 leaves the smallest subnormal (4.9e-324) where it is under
    # round-to-nearest; the kernel keeps values below 1e-300 as zero instead, which
    # moves no membrane potential (a g this small times (E - v) is far below v's step)
    p = params()
    net = Tiny(p, n=2)
    net.exc[GE] = [5.0, 1e-305]
    net.exc[GI] = [0.0, 3e-301]
    net.inh[GE] = [10.4, 0.0]  # makes inhibitory neuron 0 fire, adding 17 to excitatory 1's g_i
    net.run(p, 0, n_rest=4000)  # 17 exp(-4000 dt / 2 ms) < 1e-300
    assert np.all(net.exc[GE : GI + 1] == 0.0) and np.all(net.inh[GE:] == 0.0)
    assert np.float64(4.9e-324) * P0.decay_ge_e == np.float64(4.9e-324)  # the trap avoided
    # the potentials relaxed exactly as without those conductances' tails
    assert np.all(np.isfinite(net.exc[V])) and np.all(net.exc[V] < -60.0)
