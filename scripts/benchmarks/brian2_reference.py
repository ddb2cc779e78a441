"""Brian2 implementation of the Diehl & Cook (2015) network, for speed comparison only.

Same model size and protocol as ``stdp_mnist`` (see docs/MODEL.md): 784 Poisson inputs
(rate pixel / 8 * intensity Hz), N conductance-based LIF excitatory neurons with an
adaptive threshold, N inhibitory neurons, one-to-one exc -> inh (10.4) and
all-but-self inh -> exc (17.0) lateral inhibition, all-to-all plastic input -> exc
synapses with random delays in [0, 10) ms and the reference STDP rule (pre / post1 /
post2 traces, nearest-spike, w clipped to [0, 1]), weight normalisation to 78 per
neuron before each training presentation, 350 ms presentation + 150 ms simulated
rest at dt = 0.5 ms, and the intensity boost (fewer than 5 excitatory spikes:
intensity + 1, show again).

Written in the usual Brian2 idioms of the public Brian2 ports of the Diehl & Cook
code (Synapses with on_pre / on_post, event-driven traces per synapse, per-synapse
delays, the network built once and run example by example with ``net.run``). It is
not meant to be bit-identical to ``stdp_mnist`` and is used only by the benchmark.

Differences of detail that do not change the amount of work: the conductance
increment of a delayed input spike uses the weight at arrival (Brian2 applies the
whole on_pre at arrival), and neuron state is integrated with Brian2's
``exponential_euler`` (exact decay of conductances and theta).

Two ways to run it:

- ``runtime``: Brian2's Cython runtime target (numpy where Cython does not compile),
  Python between examples for the normalisation, the rates and the intensity boost.
- ``standalone``: Brian2's C++ standalone device, the fastest Brian2 offers on one core:
  every example compiled into one C++ program (the rates set between runs, the weight
  normalisation inserted as C++ before each example), timed inside the program after a
  warm-up example, compilation excluded. A standalone program cannot look at an
  example's spikes before choosing the next run, so it has no intensity boost: each
  example is shown once at the starting intensity, a little less work than the protocol
  (a fresh network boosts a few percent of its examples).

Usage (Brian2 installed; prints one JSON line with ``--json``)::

    python scripts/benchmarks/brian2_reference.py --n 100 --examples 5 [--mode standalone] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, mV

# Filled in by select_codegen_target(): 'cython' or 'numpy'.
CODEGEN_TARGET: str | None = None

# Details of the last brian2_ms_per_example() call (for reporting / sanity checks).
LAST_RUN_INFO: dict = {}

DT_MS = 0.5
PRESENT_MS = 350.0
REST_MS = 150.0
N_INPUT = 784
MIN_SPIKES = 5
START_INTENSITY = 2.0
MAX_PRESENTATIONS = 30  # safety cap on the intensity boost (the reference had none)
WEIGHT_SUM = 78.0


def select_codegen_target() -> str:
    """Use Cython if it compiles and runs a tiny network here, else numpy."""
    global CODEGEN_TARGET
    if CODEGEN_TARGET is not None:
        return CODEGEN_TARGET
    b2.prefs.codegen.target = "cython"
    try:
        g = b2.NeuronGroup(2, "dv/dt = -v / (10*ms) : 1", threshold="v > 1", reset="v = 0", method="exact")
        g.v = 2
        s = b2.Synapses(g, g, "w : 1", on_pre="v_post += w")
        s.connect(condition="i != j")
        net = b2.Network(g, s)
        net.run(1 * ms, namespace={})
        CODEGEN_TARGET = "cython"
    except Exception:
        b2.prefs.codegen.target = "numpy"
        CODEGEN_TARGET = "numpy"
    return CODEGEN_TARGET


def _namespace() -> dict:
    return {
        # excitatory
        "v_rest_e": -65.0 * mV,
        "v_reset_e": -65.0 * mV,
        "v_thresh_e": -52.0 * mV,
        "offset": 20.0 * mV,
        "tau_e": 100.0 * ms,
        "E_exc_e": 0.0 * mV,
        "E_inh_e": -100.0 * mV,
        "tau_theta": 1e7 * ms,
        "theta_plus": 0.05 * mV,
        # inhibitory
        "v_rest_i": -60.0 * mV,
        "v_reset_i": -45.0 * mV,
        "v_thresh_i": -40.0 * mV,
        "tau_i": 10.0 * ms,
        "E_exc_i": 0.0 * mV,
        "E_inh_i": -85.0 * mV,
        # synapses
        "tau_ge": 1.0 * ms,
        "tau_gi": 2.0 * ms,
        # STDP
        "tc_pre": 20.0 * ms,
        "tc_post1": 20.0 * ms,
        "tc_post2": 40.0 * ms,
        "nu_pre": 0.0001,
        "nu_post": 0.01,
        "wmax": 1.0,
    }


def _build_network(n: int, learn: bool, seed: int):
    rng = np.random.default_rng(seed)
    b2.seed(seed)

    theta_eq = "dtheta/dt = -theta / tau_theta : volt" if learn else "theta : volt"
    eqs_e = f"""
        dv/dt = ((v_rest_e - v) + ge * (E_exc_e - v) + gi * (E_inh_e - v)) / tau_e : volt (unless refractory)
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
        {theta_eq}
    """
    reset_e = "v = v_reset_e; theta += theta_plus" if learn else "v = v_reset_e"
    exc = b2.NeuronGroup(
        n,
        eqs_e,
        threshold="v > (theta - offset + v_thresh_e)",
        reset=reset_e,
        refractory=5 * ms,
        method="exponential_euler",
        name="exc",
    )
    exc.v = -65.0 * mV - 40.0 * mV
    exc.theta = 20.0 * mV

    eqs_i = """
        dv/dt = ((v_rest_i - v) + ge * (E_exc_i - v) + gi * (E_inh_i - v)) / tau_i : volt (unless refractory)
        dge/dt = -ge / tau_ge : 1
        dgi/dt = -gi / tau_gi : 1
    """
    inh = b2.NeuronGroup(
        n,
        eqs_i,
        threshold="v > v_thresh_i",
        reset="v = v_reset_i",
        refractory=2 * ms,
        method="exponential_euler",
        name="inh",
    )
    inh.v = -60.0 * mV - 40.0 * mV

    inp = b2.PoissonGroup(N_INPUT, rates=np.zeros(N_INPUT) * Hz, name="inp")

    ei = b2.Synapses(exc, inh, "w : 1", on_pre="ge_post += w", name="ei")
    ei.connect(j="i")
    ei.w = 10.4
    ie = b2.Synapses(inh, exc, "w : 1", on_pre="gi_post += w", name="ie")
    ie.connect(condition="i != j")
    ie.w = 17.0

    if learn:
        model = """
            w : 1
            post2before : 1
            dpre/dt = -pre / tc_pre : 1 (event-driven)
            dpost1/dt = -post1 / tc_post1 : 1 (event-driven)
            dpost2/dt = -post2 / tc_post2 : 1 (event-driven)
        """
        on_pre = """
            ge_post += w
            pre = 1.
            w = clip(w - nu_pre * post1, 0, wmax)
        """
        on_post = """
            post2before = post2
            w = clip(w + nu_post * pre * post2before, 0, wmax)
            post1 = 1.
            post2 = 1.
        """
        xe = b2.Synapses(inp, exc, model, on_pre=on_pre, on_post=on_post, name="xe")
    else:
        xe = b2.Synapses(inp, exc, "w : 1", on_pre="ge_post += w", name="xe")
    # all to all, input-major (connect(True)'s order), given as arrays so that the
    # standalone device knows the synapses before its run
    pre_idx, post_idx = np.repeat(np.arange(N_INPUT), n), np.tile(np.arange(n), N_INPUT)
    xe.connect(i=pre_idx, j=post_idx)
    n_syn = len(post_idx)
    # initial weights 0.3 * (U + 0.01); delays uniform [0, 10) ms truncated to whole steps
    xe.w = 0.3 * (rng.random(n_syn) + 0.01)
    steps = np.floor(rng.random(n_syn) * (10.0 / DT_MS))
    if learn:
        xe.pre.delay = steps * DT_MS * ms
    else:
        xe.delay = steps * DT_MS * ms

    mon = b2.SpikeMonitor(exc, record=False, name="exc_spikes")
    net = b2.Network(exc, inh, inp, ei, ie, xe, mon)
    return net, inp, xe, mon, post_idx


def _normalize(xe, post_idx: np.ndarray, n: int) -> None:
    w = np.asarray(xe.w[:])
    colsum = np.bincount(post_idx, weights=w, minlength=n)
    colsum[colsum == 0] = 1.0
    xe.w[:] = w * (WEIGHT_SUM / colsum)[post_idx]


def _show(net, inp, xe, mon, post_idx, n, image, learn, ns) -> tuple[int, list[int]]:
    """One example with the intensity boost; returns (presentations, spike counts)."""
    rates = image.astype(np.float64) / 8.0
    intensity = START_INTENSITY
    counts = []
    while True:
        if learn:
            _normalize(xe, post_idx, n)
        inp.rates = rates * intensity * Hz
        before = mon.num_spikes
        net.run(PRESENT_MS * ms, namespace=ns)
        spikes = int(mon.num_spikes - before)
        counts.append(spikes)
        inp.rates = 0 * Hz
        net.run(REST_MS * ms, namespace=ns)
        if spikes >= MIN_SPIKES or len(counts) >= MAX_PRESENTATIONS:
            return len(counts), counts
        intensity += 1


def brian2_ms_per_example(n_excitatory: int, images: np.ndarray, learn: bool, seed: int = 0) -> float:
    """Wall milliseconds per example (350 ms presentation + 150 ms simulated rest at dt 0.5 ms) of the
    Diehl & Cook network in Brian2, over the given uint8 images (K x 784), after a warm-up example
    (code generation/compilation excluded). learn=True: STDP on (reference rule: pre trace tau 20 ms,
    post1 tau 20, post2 tau 40, nu_pre 1e-4, nu_post 0.01, w clipped to [0,1], theta adaptation
    theta_plus 0.05 mV, tau_theta 1e7 ms, weight normalisation to 78 per neuron before each example);
    learn=False: frozen. Intensity boost: if fewer than 5 excitatory spikes, raise intensity by 1 and
    show again (count those presentations in the time, report per example)."""
    images = np.asarray(images).reshape(-1, N_INPUT)
    if len(images) == 0:
        raise ValueError("need at least one image")
    target = select_codegen_target()
    b2.defaultclock.dt = DT_MS * ms
    ns = _namespace()
    n = int(n_excitatory)
    net, inp, xe, mon, post_idx = _build_network(n, learn, seed)

    # warm-up: one example (code generation / compilation), not timed
    _show(net, inp, xe, mon, post_idx, n, images[0], learn, ns)

    presentations = 0
    counts_per_example = []
    t0 = time.perf_counter()
    for image in images:
        p, counts = _show(net, inp, xe, mon, post_idx, n, image, learn, ns)
        presentations += p
        counts_per_example.append(counts)
    elapsed = time.perf_counter() - t0

    LAST_RUN_INFO.clear()
    LAST_RUN_INFO.update(
        codegen_target=target,
        n_excitatory=n,
        learn=learn,
        examples=len(images),
        presentations=presentations,
        spikes_per_example=sum(map(sum, counts_per_example)) / len(images),
        seconds=elapsed,
    )
    return 1000.0 * elapsed / len(images)


def _normalisation_cpp(n: int) -> str:
    """C++ for main(): scale each excitatory neuron's input weights to sum WEIGHT_SUM
    (what _normalize does in Python), on the standalone device's synapse arrays."""
    return (
        "{ auto &w = brian::_dynamic_array_xe_w; auto &post = brian::_dynamic_array_xe__synaptic_post; "
        f"std::vector<double> sums({n}, 0.0); "
        "for (size_t s = 0; s < w.size(); s++) sums[post[s]] += w[s]; "
        f"for (size_t s = 0; s < w.size(); s++) if (sums[post[s]] > 0) w[s] *= {WEIGHT_SUM!r} / sums[post[s]]; }}"
    )


_CLOCK_CPP = "{ timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); %s }"


def standalone_ms_per_example(n_excitatory: int, images: np.ndarray, learn: bool, seed: int = 0) -> float:
    """Wall milliseconds per example of the same network on Brian2's C++ standalone
    device: images[0] once as an untimed warm-up, then every image, timed inside the
    compiled program (compilation and start-up excluded); no intensity boost (see the
    module docstring). One standalone build per call."""
    images = np.asarray(images).reshape(-1, N_INPUT)
    if len(images) == 0:
        raise ValueError("need at least one image")
    n = int(n_excitatory)
    with tempfile.TemporaryDirectory(prefix="brian2-standalone-") as directory:
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        try:
            b2.defaultclock.dt = DT_MS * ms
            ns = _namespace()
            net, inp, _, mon, _ = _build_network(n, learn, seed)
            b2.device.insert_code("main", "double _bench_t0 = 0;")
            for k, image in enumerate([images[0], *images]):
                if k == 1:  # after the warm-up example
                    b2.device.insert_code("main", _CLOCK_CPP % "_bench_t0 = ts.tv_sec + 1e-9 * ts.tv_nsec;")
                if learn:
                    b2.device.insert_code("main", _normalisation_cpp(n))
                inp.rates = image.astype(np.float64) / 8.0 * START_INTENSITY * Hz
                net.run(PRESENT_MS * ms, namespace=ns)
                inp.rates = 0 * Hz
                net.run(REST_MS * ms, namespace=ns)
            b2.device.insert_code(
                "main",
                _CLOCK_CPP
                % (
                    'std::ofstream("bench_seconds.txt") << '
                    "(ts.tv_sec + 1e-9 * ts.tv_nsec - _bench_t0) << std::endl;"
                ),
            )
            b2.device.build(directory=directory, compile=True, run=True)
            seconds = float((Path(directory) / "bench_seconds.txt").read_text())
            spikes = int(mon.num_spikes)
        finally:
            b2.device.reinit()
            b2.device.activate()  # back to the runtime device for whatever runs next
            b2.set_device("runtime")
    LAST_RUN_INFO.clear()
    LAST_RUN_INFO.update(
        codegen_target="cpp_standalone",
        n_excitatory=n,
        learn=learn,
        examples=len(images),
        presentations=len(images),
        spikes_per_example=spikes / (len(images) + 1),
        seconds=seconds,
    )
    return 1000.0 * seconds / len(images)


MODES = {"runtime": brian2_ms_per_example, "standalone": standalone_ms_per_example}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="excitatory neurons")
    parser.add_argument("--examples", type=int, default=5, help="timed examples")
    parser.add_argument("--first", type=int, default=0, help="index of the first training image used")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=sorted(MODES), default="runtime")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON line: train_ms, frozen_ms, target, version"
    )
    args = parser.parse_args(argv)

    from stdp_mnist.data import load_mnist

    images = load_mnist().train_images[args.first : args.first + args.examples]
    row = {"version": b2.__version__}
    for learn, key in ((True, "train_ms"), (False, "frozen_ms")):
        row[key] = MODES[args.mode](args.n, images, learn=learn, seed=args.seed)
        row["target"] = LAST_RUN_INFO["codegen_target"]
        if not args.json:
            print(
                f"brian2 ({row['target']}) N={args.n} {'learn ' if learn else 'frozen'}: {row[key]:.1f} ms/example "
                f"over {len(images)} examples, {LAST_RUN_INFO['spikes_per_example']:.1f} excitatory spikes "
                "per example",
                flush=True,
            )
    if args.json:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
