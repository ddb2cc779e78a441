"""The harness of the kernel's hand-built test cases: kernel parameters with fields
replaced, spike trains from {step: [inputs]}, a tiny network whose arrays the test sets
by hand (``Tiny``), float32 weight arithmetic, and one pre/post spike pair run with
learning on (``pair_run``)."""

import numpy as np

from stdp_mnist import kernel, network
from stdp_mnist.config import Config
from stdp_mnist.kernel import POST1, POST2

# The default (reference) model and its kernel parameters.
CFG = Config()
P0 = network.kernel_params(CFG)


def params(cfg=None, **over):
    """Kernel params of ``cfg`` with some fields replaced, each keeping its type (so the
    compiled kernel is reused rather than recompiled for a new signature)."""
    p = network.kernel_params(cfg or CFG)
    return p._replace(**{k: type(getattr(p, k))(v) for k, v in over.items()})


def csr(spikes, n_steps):
    """CSR spike train from {step: [inputs]}: ptr int64 (n_steps + 1), idx int32."""
    ptr = np.zeros(n_steps + 1, np.int64)
    idx = []
    for s in range(n_steps):
        inputs = sorted(spikes.get(s, []))
        idx.extend(inputs)
        ptr[s + 1] = ptr[s] + len(inputs)
    return ptr, np.array(idx, np.int32)


class Tiny:
    """A tiny network's arrays, in the kernel's dtypes, and calls of kernel.simulate."""

    def __init__(
        self, p, n_in=2, n=1, ring=1, v_offset=0.0, weights=None, theta=None, delays=None, stdp_delays=None
    ):
        self.weights = (
            np.full((n_in, n), 0.5, np.float32)
            if weights is None
            else np.array(weights, np.float32).reshape(n_in, n)
        )
        self.theta = np.full(n, 20.0) if theta is None else np.array(theta, np.float64)
        self.delays = (
            np.zeros((n_in, n), np.uint8) if delays is None else np.array(delays, np.uint8).reshape(n_in, n)
        )
        self.stdp_delays = (
            self.delays.copy() if stdp_delays is None else np.array(stdp_delays, np.uint8).reshape(n_in, n)
        )
        self.synapses = kernel.Synapses(self.weights, self.delays, self.stdp_delays)
        self.state = kernel.init_state(p, self.theta, n_in, ring, v_offset)
        (_, self.exc, self.inh, self.since, self.pending, self.x_pre_hist, self.clock, self.wins) = self.state
        self.n = n

    def run(self, p, n_steps, spikes=None, learn=False, n_rest=0):
        """Present ``spikes`` ({step: [inputs]}) for n_steps steps, then n_rest steps."""
        q = p._replace(n_present=int(n_steps), n_rest=int(n_rest))
        ptr, idx = csr(spikes or {}, n_steps)
        counts = np.zeros(self.n, np.int64)
        kernel.simulate(q, ptr, idx, learn, self.synapses, self.state, counts)
        return counts

    def steps(self, p, n_steps, spikes=None, learn=False):
        """One call per step (fine for everything but the correction of a delayed
        depression, which needs the call's spike train); returns per-step copies of exc,
        inh and who fired."""
        spikes = spikes or {}
        rec = []
        for t in range(n_steps):
            counts = self.run(p, 1, {0: spikes.get(t, [])}, learn)
            rec.append((self.exc.copy(), self.inh.copy(), counts.copy(), self.since.copy()))
        return rec


def f32_steps(w0, *deltas):
    """Weight after float32-stored updates w <- f32(clip(f64(w) + delta, 0, w_max=1))."""
    w = np.float32(w0)
    for d in deltas:
        w = np.float32(min(max(np.float64(w) + d, 0.0), 1.0))
    return w


def assert_weight(actual, expected):
    """Equal up to one float32 ulp (decays by repeated products vs powers differ ~1e-16)."""
    assert abs(float(actual) - float(expected)) <= np.spacing(np.float32(expected)), (actual, expected)


def pair_run(
    pre_step, post_step, d_syn, d_stdp, w0=0.5, post1_0=0.0, post2_0=0.8, n_after=30, wins_0=0, **over
):
    """Input 0 (synapse under test, delay d_syn, STDP delay d_stdp) fires at pre_step; the
    neuron, with ``wins_0`` wins so far, is made to fire at post_step by input 1 (weight
    100, delay 0) firing at post_step - 1. Returns the final weight of synapse (0, 0)."""
    ring = 20
    p = params(**over)
    net = Tiny(p, n_in=2, n=1, ring=ring, weights=[w0, 100.0], delays=[d_syn, 0], stdp_delays=[d_stdp, 0])
    net.exc[POST1, 0] = post1_0
    net.exc[POST2, 0] = post2_0
    net.wins[0] = wins_0
    n_steps = max(pre_step, post_step) + n_after
    counts = net.run(p, n_steps, {pre_step: [0], post_step - 1: [1]}, learn=True)
    assert counts[0] == 1 and net.since[0, 0] == n_steps - 1 - post_step  # one spike, at post_step
    # input 1 was depressed (post1 = 0 then: no change) and clipped into [0, w_max] at its
    # spike, after its weight of 100 (at emission) went to the conductance
    assert net.weights[1, 0] <= 1.0
    return net.weights[0, 0]
