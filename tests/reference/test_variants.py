"""The model variants a config can select (stdp.rule = "paper", stdp.traces =
"increment", network.inhibition = "direct", stdp.timing), each shown on a tiny
hand-built case to change behaviour as documented. Expected values come from the
formulas (kernel.py's docstring), as in test_kernel.py, with the same harness
(helpers/kernel_harness.py). The compiled kernel is also checked against the numpy
reference for every variant in test_reference_equivalence.py.
"""

import numpy as np
import pytest
from helpers.kernel_harness import P0, Tiny, assert_weight, f32_steps, pair_run, params

from stdp_mnist import kernel, network
from stdp_mnist.config import Config, ConfigError, load_config
from stdp_mnist.kernel import GE, GI, NEVER, POST1, POST2, V

# --------------------------------------------------------------- config -> kernel


def test_defaults_select_the_reference_model():
    p = network.kernel_params(Config())
    assert p.rule == kernel.RULE_REFERENCE and not p.trace_increment
    assert not p.direct_inhibition
    assert (p.x_tar, p.mu, p.w_direct_inhibition) == (0.4, 0.2, 17.0)


def test_variant_keys_reach_the_kernel():
    cfg = Config().replace(
        stdp={"rule": "paper", "traces": "increment", "x_tar": 0.3, "mu": 0.5},
        network={"inhibition": "direct", "w_direct_inhibition": 5.0},
    )
    p = network.kernel_params(cfg)
    assert p.rule == kernel.RULE_PAPER and p.trace_increment and p.direct_inhibition
    assert (p.x_tar, p.mu, p.w_direct_inhibition) == (0.3, 0.5, 5.0)
    with pytest.raises(ConfigError, match="stdp.traces"):
        Config().replace(stdp={"traces": "all"})
    with pytest.raises(ConfigError, match="network.inhibition"):
        Config().replace(network={"inhibition": "none"})


# --------------------------------------------------------------- paper rule

PAPER = dict(rule=kernel.RULE_PAPER)


def paper_dw(x_pre, w=0.5):
    return P0.nu_post * (x_pre - P0.x_tar) * (P0.w_max - w) ** P0.mu


def test_paper_rule_potentiates_above_x_tar():
    a, b = 3, 10
    w = pair_run(a, b, d_syn=0, d_stdp=0, post2_0=0.0, **PAPER)
    # x_post2 is irrelevant (0 here: the reference rule would not change the weight)
    x_pre = P0.decay_pre ** (b - a)
    assert x_pre > P0.x_tar
    assert_weight(w, f32_steps(0.5, paper_dw(x_pre)))
    assert w > 0.5


def test_paper_rule_depresses_below_x_tar():
    a, b = 3, 45  # x_pre decayed 42 steps: exp(-21/20) = 0.35 < x_tar
    w = pair_run(a, b, d_syn=0, d_stdp=0, **PAPER)
    x_pre = P0.decay_pre ** (b - a)
    assert x_pre < P0.x_tar
    assert_weight(w, f32_steps(0.5, paper_dw(x_pre)))
    assert w < 0.5


@pytest.mark.parametrize("d", [0, 6])
def test_paper_rule_has_no_depression_on_pre_spikes(d):
    # post at 5, pre at 12 arriving at 12 + d: the pair rules depress at the arrival
    # (x_post1 > 0); the paper rule does nothing then. Its only update is at the post
    # spike, when x_pre of input 0 is still 0: dw = nu_post (0 - x_tar) (w_max - w)^mu.
    w = pair_run(12, 5, d_syn=d, d_stdp=d, post1_0=0.7, **PAPER)
    assert_weight(w, f32_steps(0.5, paper_dw(0.0)))


def test_paper_rule_weight_dependence():
    # mu = 1: the step shrinks linearly as w approaches w_max
    a, b = 3, 10
    x_pre = P0.decay_pre ** (b - a)
    for w0 in (0.2, 0.9):
        w = pair_run(a, b, d_syn=0, d_stdp=0, w0=w0, mu=1.0, **PAPER)
        assert_weight(w, f32_steps(w0, P0.nu_post * (x_pre - P0.x_tar) * (1.0 - np.float64(np.float32(w0)))))


# --------------------------------------------------------------- instar rule

INSTAR = dict(rule=kernel.RULE_INSTAR)


@pytest.mark.parametrize("w0", [0.2, 0.9])
def test_instar_rule_moves_the_weight_towards_the_input_trace(w0):
    # x_pre = decay^7 = 0.84 at the post spike: a weight below it rises, one above it falls,
    # by nu_post times the difference; x_post2 plays no part (0 here)
    a, b = 3, 10
    x_pre = P0.decay_pre ** (b - a)
    w = pair_run(a, b, d_syn=0, d_stdp=0, w0=w0, post2_0=0.0, **INSTAR)
    assert_weight(w, f32_steps(w0, P0.nu_post * (x_pre - np.float64(np.float32(w0)))))
    assert (w > w0) == (w0 < x_pre)


@pytest.mark.parametrize("d", [0, 6])
def test_instar_rule_has_no_depression_on_pre_spikes(d):
    # post at 5, pre at 12 (x_post1 0.7 then): only the post spike's update, with x_pre 0
    w = pair_run(12, 5, d_syn=d, d_stdp=d, post1_0=0.7, **INSTAR)
    assert_weight(w, f32_steps(0.5, P0.nu_post * (0.0 - 0.5)))


# --------------------------------------------------------------- soft-bound rule


@pytest.mark.parametrize("w0", [0.2, 0.9])
def test_soft_bound_rule_potentiates_less_near_w_max(w0):
    # the reference rule's step nu_post x_pre x_post2 times (w_max - w); x_post2 has
    # decayed from 0.8 over the b + 1 steps up to the spike
    a, b = 3, 10
    x_pre, post2 = P0.decay_pre ** (b - a), 0.8 * P0.decay_post2 ** (b + 1)
    w = pair_run(a, b, d_syn=0, d_stdp=0, w0=w0, post2_0=0.8, rule=kernel.RULE_SOFT_BOUND)
    assert_weight(w, f32_steps(w0, P0.nu_post * post2 * x_pre * (1.0 - np.float64(np.float32(w0)))))


@pytest.mark.parametrize("rule", [kernel.RULE_REFERENCE, kernel.RULE_SOFT_BOUND])
def test_soft_bound_rule_depresses_as_the_reference_does(rule):
    # post at 5, pre at 12 with x_post1 reset to 1 at the post spike: the reference's
    # depression nu_pre x_post1 at the pre spike (x_pre 0 at the post spike: no potentiation)
    w = pair_run(12, 5, d_syn=0, d_stdp=0, rule=rule)
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * P0.decay_post1**7))


# --------------------------------------------------------------- homeostasis


def test_target_spikes_give_theta_its_fall_per_presentation():
    cfg = Config().replace(network={"n_excitatory": 400}, excitatory={"theta_target_spikes": 20.0})
    assert network.kernel_params(cfg).theta_minus == pytest.approx(0.05 * 20 / 400)
    assert network.kernel_params(Config()).theta_minus == 0.0


@pytest.mark.parametrize(("theta0", "learn"), [(20.0, True), (0.05, True), (20.0, False)])
def test_homeostasis_lowers_theta_once_per_learning_presentation(theta0, learn):
    # no input, no spike (v starts 40 mV below rest): theta decays for 12 steps, then
    # falls by theta_minus (0.1 mV), floored at 0; a frozen presentation leaves it as it is
    p = params(theta_minus=0.1)
    net = Tiny(p, theta=[theta0], v_offset=-40.0)
    net.run(p, 10, learn=learn, n_rest=2)
    expected = max(theta0 * P0.decay_theta**12 - 0.1, 0.0) if learn else theta0
    assert net.theta[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_homeostasis_and_the_rise_at_a_spike_add_up():
    # one spike (input 1, weight 100): theta rises by theta_plus at it, then falls by
    # theta_minus at the presentation's end
    p = params(theta_minus=0.02)
    net = Tiny(p, n_in=2, weights=[0.0, 100.0])
    assert net.run(p, 12, {4: [1]}, learn=True)[0] == 1
    expected = (20.0 * P0.decay_theta**6 + P0.theta_plus) * P0.decay_theta**6 - 0.02
    assert net.theta[0] == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------- trace variants


def two_pre_one_post(trace_increment):
    """Input 0 fires at 2 and 5; input 1 (weight 100) makes the neuron fire at 10
    (pair rule, so x_post2 plays no part). Returns (weight of synapse 0, net)."""
    p = params(rule=kernel.RULE_PAIR, trace_increment=trace_increment)
    net = Tiny(p, n_in=2, n=1, weights=[0.5, 100.0])
    counts = net.run(p, 11, {2: [0], 5: [0], 9: [1]}, learn=True)
    assert counts[0] == 1 and net.since[0, 0] == 0
    return net.weights[0, 0], net


def test_set_traces_pair_with_the_nearest_pre_spike():
    w, _ = two_pre_one_post(False)
    assert_weight(w, f32_steps(0.5, P0.nu_post * P0.decay_pre**5))


def test_incremented_traces_pair_with_every_pre_spike():
    w, _ = two_pre_one_post(True)
    assert_weight(w, f32_steps(0.5, P0.nu_post * (P0.decay_pre**5 + P0.decay_pre**8)))


@pytest.mark.parametrize("increment", [False, True])
def test_post_traces_set_or_incremented(increment):
    # two post spikes, at 10 and 30: just after the second, x_post = 1 (set) or
    # 1 + decay^20 (incremented)
    p = params(rule=kernel.RULE_PAIR, trace_increment=increment, w_max=1000.0)
    net = Tiny(p, n_in=2, n=1, weights=[0.5, 100.0])
    counts = net.run(p, 31, {9: [1], 29: [1]}, learn=True)
    assert counts[0] == 2 and net.since[0, 0] == 0
    extra = 1.0 if increment else 0.0
    assert net.exc[POST1, 0] == pytest.approx(1.0 + extra * P0.decay_post1**20, rel=1e-12)
    assert net.exc[POST2, 0] == pytest.approx(1.0 + extra * P0.decay_post2**20, rel=1e-12)


# --------------------------------------------------------------- direct inhibition


def forced(direct, n=3, fire=(0,), w_direct=17.0, distance=0.0):
    """Neurons in ``fire`` are made to fire at step 10 by input 1 (weight 100); the
    state just after step 10 is returned."""
    p = params(direct_inhibition=direct, w_direct_inhibition=w_direct, inhibition_distance=distance)
    weights = np.zeros((2, n))
    weights[1, list(fire)] = 100.0
    net = Tiny(p, n_in=2, n=n, weights=weights)
    counts = net.run(p, 11, {9: [1]})
    assert list(np.nonzero(counts)[0]) == list(fire) and (net.since[0, list(fire)] == 0).all()
    return net


def test_direct_inhibition_hits_every_other_excitatory_neuron_in_the_same_step():
    net = forced(True, fire=(0, 1))
    # neuron 2 gets two spikes' worth, 0 and 1 one each (their own does not count)
    np.testing.assert_array_equal(net.exc[GI], [17.0, 17.0, 34.0])
    # the inhibitory population is not simulated: untouched since its start
    assert (net.since[1] == NEVER).all() and (net.inh[GE] == 0).all()
    np.testing.assert_array_equal(net.inh[V], P0.v_rest_i)


def test_direct_inhibition_strength():
    net = forced(True, fire=(0,), w_direct=3.5)
    np.testing.assert_array_equal(net.exc[GI], [0.0, 3.5, 3.5])


def test_population_inhibition_goes_through_the_inhibitory_neurons():
    # the default: at the spike step, only the inhibitory partner is driven
    net = forced(False, fire=(0,))
    np.testing.assert_array_equal(net.exc[GI], 0.0)
    assert net.inh[GE, 0] == P0.w_exc_to_inh


def test_direct_inhibition_silences_the_others_over_a_presentation():
    # 2 neurons with the same input: one fires first and, with strong direct
    # inhibition, keeps the other below threshold; without inhibition both fire
    def run(w_direct):
        p = params(direct_inhibition=True, w_direct_inhibition=w_direct)
        net = Tiny(p, n_in=1, n=2, weights=[[2.0, 1.9]])
        return net.run(p, 200, {t: [0] for t in range(0, 200, 4)})

    free, inhibited = run(0.0), run(200.0)
    assert free.min() > 0
    assert inhibited[0] > 0 and inhibited[1] < free[1]


# ------------------------------------------------------ STDP timing on delayed synapses


def test_stdp_delays_per_timing():
    # 784 x 3 delays numbered by flat position (mod 20): synapse (i, j) holds (3 i + j) % 20
    cfg = Config().replace(network={"n_excitatory": 3})
    net = network.new_network(cfg)
    net.delays[:] = (np.arange(784 * 3) % 20).reshape(784, 3).astype(np.uint8)
    assert net.potentiation_delays(cfg) is net.delays
    assert network.kernel_params(cfg).depress_at_arrival
    emission = cfg.replace(stdp={"timing": "emission"})
    assert not net.potentiation_delays(emission).any()
    assert not network.kernel_params(emission).depress_at_arrival
    dense = cfg.replace(stdp={"timing": "brian1-dense"})
    potentiation = net.potentiation_delays(dense)
    assert network.kernel_params(dense).depress_at_arrival  # depression keeps the synaptic delays
    # Brian 1's dense lookup: synapse (i, j) reads flat position i + 3 j, i.e. delay (i + 3 j) % 20
    for i, j in [(0, 0), (1, 0), (0, 1), (5, 2), (783, 2)]:
        assert potentiation[i, j] == (i + 3 * j) % 20
    # the kernel gets the synaptic delays for conductance and depression, and the
    # potentiation delays beside them
    synapses, state = net.kernel_state(dense)
    assert synapses.weights is net.weights and synapses.delays is net.delays
    np.testing.assert_array_equal(synapses.potentiation_delays, potentiation)
    assert state.theta is net.theta and state.pending is net.pending and state.clock is net.clock


def test_brian1_dense_timing_limited_to_784_neurons():
    load_config(overrides=["stdp.timing=brian1-dense", "network.n_excitatory=784"])
    with pytest.raises(ConfigError, match="n_excitatory <= 784"):
        load_config(overrides=["stdp.timing=brian1-dense", "network.n_excitatory=785"])


# --------------------------------------------------------------- inhibition by distance


def test_inhibition_grows_with_distance_on_the_grid():
    # 5 neurons on a 3-wide grid (rows 0 1 2 / 3 4); neuron 0 fires, distance 4 grid
    # steps: neighbours 1 and 3 (d = 1) get sqrt(1/4) of the weight, 4 (d = sqrt 2)
    # sqrt(sqrt(2)/4), 2 (d = 2) sqrt(2/4); 0 itself nothing
    net = forced(True, n=5, fire=(0,), w_direct=10.0, distance=4.0)
    factors = [0.0, 0.5, np.sqrt(0.5), 0.5, np.sqrt(np.sqrt(2.0) / 4.0)]
    np.testing.assert_allclose(net.exc[GI], 10.0 * np.array(factors), rtol=1e-15)


def test_inhibition_beyond_the_distance_is_the_full_weight():
    net = forced(True, n=5, fire=(4,), w_direct=10.0, distance=1.0)
    np.testing.assert_allclose(net.exc[GI], [10.0, 10.0, 10.0, 10.0, 0.0], rtol=1e-15)


def test_inhibition_distance_reaches_the_kernel():
    cfg = Config().replace(network={"inhibition_distance": 3.0})
    assert network.kernel_params(cfg).inhibition_distance == 3.0
    assert network.kernel_params(Config()).inhibition_distance == 0.0


# --------------------------------------------------------------- learning-rate schedule per neuron

RATE_SCHEDULE = dict(rate_decay_spikes=4.0)


def test_rate_schedule_reaches_the_kernel():
    assert (
        network.kernel_params(Config().replace(stdp={"rate_decay_spikes": 100.0})).rate_decay_spikes == 100.0
    )
    assert network.kernel_params(Config()).rate_decay_spikes == 0.0
    with pytest.raises(ConfigError, match="stdp.rate_decay_spikes"):
        Config().replace(stdp={"rate_decay_spikes": -1.0})


@pytest.mark.parametrize("wins", [0, 12])
def test_rate_schedule_scales_the_potentiation_by_s_over_s_plus_wins(wins):
    # instar step nu_post (x_pre - w) times S / (S + wins): 1 for a neuron that never won,
    # 4 / 16 after 12 wins
    a, b = 3, 10
    x_pre, w0 = P0.decay_pre ** (b - a), 0.2
    w = pair_run(a, b, d_syn=0, d_stdp=0, w0=w0, post2_0=0.0, wins_0=wins, **INSTAR, **RATE_SCHEDULE)
    factor = 4.0 / (4.0 + wins)
    assert_weight(w, f32_steps(w0, P0.nu_post * factor * (x_pre - np.float64(np.float32(w0)))))


def test_rate_schedule_scales_the_depression_by_the_wins_before_the_call():
    # post at 5, pre at 12: the reference's depression nu_pre x_post1 at the pre spike, at
    # 4 / (4 + 4) of the rate: the factor of the wins when the call began (the spike at 5
    # is the fifth win, counted for the calls after this one)
    w = pair_run(12, 5, d_syn=0, d_stdp=0, wins_0=4, **RATE_SCHEDULE)
    assert_weight(w, f32_steps(0.5, -P0.nu_pre * 0.5 * P0.decay_post1**7))


@pytest.mark.parametrize("learn, schedule, counted", [(True, True, 2), (True, False, 0), (False, True, 0)])
def test_wins_count_learning_spikes_under_the_schedule_only(learn, schedule, counted):
    p = params(**(RATE_SCHEDULE if schedule else {}))
    net = Tiny(p, n_in=1, weights=[100.0])
    for _ in range(2):  # one spike per call (learning clips the weight to w_max: set it again)
        net.weights[0, 0] = 100.0
        assert net.run(p, 40, {3: [0]}, learn=learn)[0] == 1
    assert net.wins[0] == counted


def test_rate_schedule_with_the_instar_rule_is_the_running_mean():
    # nu_post S = 1 (S = 1, nu_post = 1): the step at the (n + 1)-th win is 1 / (n + 1), so
    # the weight is the mean of the input traces at the neuron's spikes (MacQueen 1967)
    p = params(rule=kernel.RULE_INSTAR, rate_decay_spikes=1.0, nu_post=1.0)
    net = Tiny(p, n_in=2, weights=[0.3, 100.0])
    traces = []
    for gap in (2, 9, 5):  # input 0 fires `gap` steps before the spike that input 1 causes
        net.weights[1, 0] = 100.0  # the rule moved it to its trace: set it again
        assert net.run(p, 40, {10 - gap: [0], 9: [1]}, learn=True)[0] == 1
        traces.append(P0.decay_pre**gap)
        assert abs(float(net.weights[0, 0]) - np.mean(traces)) < 1e-6
    assert net.wins[0] == 3
