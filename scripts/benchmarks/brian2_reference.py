"""Brian2 implementation of the Diehl & Cook (2015) network, to time it and to compare its spikes.

Same model size and protocol as ``stdp_mnist`` (see docs/MODEL.md): 784 Poisson inputs
(rate pixel / 8 * intensity Hz), N conductance-based LIF excitatory neurons with an
adaptive threshold, N inhibitory neurons, one-to-one exc -> inh (10.4) and
all-but-self inh -> exc (17.0) lateral inhibition, all-to-all plastic input -> exc
synapses with per-synapse delays and the reference STDP rule (pre / post1 / post2
traces, nearest-spike, w clipped to [0, 1]), weight normalisation to 78 per neuron
before each training presentation, 350 ms presentation + 150 ms simulated rest at
dt = 0.5 ms, and the intensity boost (fewer than 5 excitatory spikes: intensity + 1,
show again).

The network it starts from is a stdp-mnist one: a fresh ``new_network`` of the paper's
config (``--n``), or a trained model file (``--model``, a run directory or its
model.npz, checked as stdp-mnist checks it): its input -> excitatory weights and
delays, theta, and the membrane potentials and conductances of both populations.

Written in the usual Brian2 idioms of the public Brian2 ports of the Diehl & Cook
code (Synapses with on_pre / on_post, event-driven traces per synapse, per-synapse
delays, the network built once and run example by example with ``net.run``). It is
not bit-identical to ``stdp_mnist``: the conductance increment of a delayed input
spike uses the weight at arrival (Brian2 applies the whole on_pre at arrival), neuron
state is integrated with Brian2's ``exponential_euler`` (exact decay of conductances
and theta, v exact for the conductances held over the step) where stdp-mnist steps v
by forward Euler from the conductances at the start of the step (docs/MODEL.md,
Numerics), v is not clamped after a spike (refractoriness blocks the update instead),
and its Poisson inputs come from Brian2's own random stream. ``--compare-spikes``
removes the last difference: both simulators get the same input spike trains.

Two ways to run it:

- ``runtime``: Brian2's Cython runtime target (numpy where Cython does not compile),
  Python between examples for the normalisation, the rates and the intensity boost.
- ``standalone``: Brian2's C++ standalone device, the fastest Brian2 offers on one core:
  every example in one compiled C++ run (the rates from a TimedArray of the images in
  turn, the weight normalisation a C++ function called at the start of each training
  example), timed inside the program after a warm-up example, compilation excluded.
  (One run per example, as the runtime does it, would make Brian2 generate and compile
  the whole program's code again for every run.) A standalone program cannot look at an
  example's spikes before choosing the next run, so it has no intensity boost: each
  example is shown once at the starting intensity, a little less work than the protocol.

Training is timed on the training images from ``--first``, frozen runs on the test
images from 0 (as ``stdp-mnist bench`` times them), each after one untimed warm-up
example, ``--rounds`` times from the same starting state.

Usage (Brian2 installed; prints one JSON line with ``--json``)::

    python scripts/benchmarks/brian2_reference.py --n 100 --examples 5 [--mode standalone] [--json]
    python scripts/benchmarks/brian2_reference.py --model runs/dc2015-100-seed0 --examples 20 --rounds 3 --json
    python scripts/benchmarks/brian2_reference.py --model runs/dc2015-100-seed0 --compare-spikes 50 --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, mV

from stdp_mnist import kernel
from stdp_mnist.bench import BenchmarkError, checkpoint_size
from stdp_mnist.config import Config, ConfigError
from stdp_mnist.network import CheckpointError, Network, kernel_params, load_network, new_network, random_seed
from stdp_mnist.rundir import RunDirError, read_run_config

# Filled in by select_codegen_target(): 'cython' or 'numpy'.
CODEGEN_TARGET: str | None = None

DT_MS = 0.5
PRESENT_MS = 350.0
REST_MS = 150.0
N_INPUT = 784
MIN_SPIKES = 5
START_INTENSITY = 2.0
MAX_PRESENTATIONS = 30  # safety cap on the intensity boost (the reference had none)
WEIGHT_SUM = 78.0
MAKE_JOBS = 2  # parallel compilations of the standalone program (compilation is not timed)
# Config sections that do not change the simulated network (where data lives, how long
# training goes on, the seed): a model file's config may differ from the paper's there.
NOT_SIMULATED = ("run.", "data.", "training.")


class ModelError(Exception):
    """A model file the port cannot start from (missing, damaged, or another network)."""


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


def paper_config(n: int) -> Config:
    """The paper's network (the config this port implements) at N = n."""
    return Config().replace(network={"n_excitatory": n})


def load_model(path: str | Path) -> tuple[Config, Network]:
    """The config and network of a stdp-mnist model file (a run directory, whose
    config.toml it reads, or a model.npz, read under the paper's config), checked as
    stdp-mnist checks a checkpoint; ModelError (one line) when it is unreadable or its
    network is not the paper's one that this port implements."""
    path = Path(path)
    model = path / "model.npz" if path.is_dir() else path
    try:
        n = checkpoint_size(model)
        cfg = read_run_config(path) if path.is_dir() else paper_config(n)
        network = load_network(model, cfg)
    except (BenchmarkError, CheckpointError, ConfigError, RunDirError, OSError) as exc:
        raise ModelError(str(exc).removeprefix("--trained ")) from None
    paper = paper_config(network.n_excitatory).model_values()
    changed = [
        key
        for key, value in cfg.model_values().items()
        if not key.startswith(NOT_SIMULATED) and paper[key] != value
    ]
    if changed:
        raise ModelError(
            f"{path}: {changed[0]} = {cfg.model_values()[changed[0]]!r}; the port simulates only the paper's network"
        )
    return cfg, network


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


def _build_network(network: Network, learn: bool, seed: int, inputs=None):
    """The Brian2 network in ``network``'s state. Its inputs: Poisson at rates set per
    example (``inputs`` None), Poisson at the rates of a TimedArray of every example in
    turn (``inputs`` a TimedArray named "stimulus", see _stimulus), or given spike
    trains (``inputs`` a pair: indices, times in ms)."""
    b2.seed(seed)
    n = network.n_excitatory

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
    exc.v = network.exc[kernel.V] * mV
    exc.ge = network.exc[kernel.GE]
    exc.gi = network.exc[kernel.GI]
    exc.theta = network.theta * mV

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
    inh.v = network.inh[kernel.V] * mV
    inh.ge = network.inh[kernel.GE]
    inh.gi = network.inh[kernel.GI]

    if inputs is None:
        inp = b2.PoissonGroup(N_INPUT, rates=np.zeros(N_INPUT) * Hz, name="inp")
    elif isinstance(inputs, b2.TimedArray):
        inp = b2.PoissonGroup(N_INPUT, rates="stimulus(t, i)", namespace={"stimulus": inputs}, name="inp")
    else:
        indices, times_ms = inputs
        inp = b2.SpikeGeneratorGroup(N_INPUT, indices, times_ms * ms, name="inp")

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
    # all to all, input-major (the row-major order of the 784 x N weight matrix), given
    # as arrays so that the standalone device knows the synapses before its run
    pre_idx, post_idx = np.repeat(np.arange(N_INPUT), n), np.tile(np.arange(n), N_INPUT)
    xe.connect(i=pre_idx, j=post_idx)
    xe.w = network.weights.reshape(-1).astype(np.float64)
    delays = network.delays.reshape(-1) * DT_MS * ms
    if learn:
        xe.pre.delay = delays
    else:
        xe.delay = delays

    mon = b2.SpikeMonitor(exc, record=True, name="exc_spikes")
    net = b2.Network(exc, inh, inp, ei, ie, xe, mon)
    return net, inp, xe, mon, post_idx


def _normalize(xe, post_idx: np.ndarray, n: int) -> None:
    w = np.asarray(xe.w[:])
    colsum = np.bincount(post_idx, weights=w, minlength=n)
    colsum[colsum == 0] = 1.0
    xe.w[:] = w * (WEIGHT_SUM / colsum)[post_idx]


def _show(net, inp, xe, mon, post_idx, n, image, learn, ns) -> list[int]:
    """One example with the intensity boost; returns each presentation's spike count."""
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
            return counts
        intensity += 1


def _timing(
    seconds: list[float], n_examples: int, first_counts: list[int], presentations: int, target: str
) -> dict:
    """A mode's result: ms per example of each round and their median, the first
    presentation's excitatory spikes of each timed example (first round), and how
    many presentations a round took."""
    ms_per_example = [1000.0 * s / n_examples for s in seconds]
    return {
        "ms": ms_per_example,
        "median_ms": statistics.median(ms_per_example),
        "first_presentation_spikes": first_counts,
        "presentations": presentations,
        "target": target,
    }


def runtime_timing(network: Network, images: np.ndarray, learn: bool, rounds: int = 1, seed: int = 0) -> dict:
    """Time the network on Brian2's runtime device: the given uint8 images (K x 784)
    after a warm-up example (images[0]; code generation and compilation excluded),
    ``rounds`` times from the state after the warm-up (Brian2's store / restore)."""
    images = np.asarray(images).reshape(-1, N_INPUT)
    if len(images) == 0:
        raise ValueError("need at least one image")
    target = select_codegen_target()
    b2.defaultclock.dt = DT_MS * ms
    ns = _namespace()
    n = network.n_excitatory
    net, inp, xe, mon, post_idx = _build_network(network, learn, seed)
    _show(net, inp, xe, mon, post_idx, n, images[0], learn, ns)
    net.store("after_warm_up")
    seconds, first_counts, presentations = [], [], 0
    for round_index in range(rounds):
        net.restore("after_warm_up")
        t0 = time.perf_counter()
        shown = [_show(net, inp, xe, mon, post_idx, n, image, learn, ns) for image in images]
        seconds.append(time.perf_counter() - t0)
        if round_index == 0:
            first_counts = [counts[0] for counts in shown]
            presentations = sum(map(len, shown))
    return _timing(seconds, len(images), first_counts, presentations, target)


# C++ of a function the standalone program calls before each training example (a
# run_regularly of a one-neuron group, at the start of the step): scale each excitatory
# neuron's input weights to sum WEIGHT_SUM, as _normalize does in Python.
_NORMALISE_CPP = f"""
double normalise_input_weights(int n) {{
    auto &w = brian::_dynamic_array_xe_w;
    auto &post = brian::_dynamic_array_xe__synaptic_post;
    std::vector<double> sums(n, 0.0);
    for (size_t s = 0; s < w.size(); s++) sums[post[s]] += w[s];
    for (size_t s = 0; s < w.size(); s++) if (sums[post[s]] > 0) w[s] *= {WEIGHT_SUM!r} / sums[post[s]];
    return 0.0;
}}
"""


@b2.implementation("cpp", _NORMALISE_CPP)
@b2.check_units(n=1, result=1)
def normalise_input_weights(n):
    """The standalone program's weight normalisation (C++ only)."""
    raise NotImplementedError("C++ standalone only")


normalise_input_weights.stateless = False  # called for its effect: never hoisted or merged

_CLOCK_CPP = "{ timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); %s }"
STIMULUS_BIN_MS = 50.0  # divides PRESENT_MS and REST_MS


def _stimulus(images: np.ndarray) -> b2.TimedArray:
    """Input rates of the images shown back to back, each PRESENT_MS at the starting
    intensity then REST_MS at 0 Hz, as a TimedArray ``stimulus(t, i)``."""
    on, off = int(PRESENT_MS / STIMULUS_BIN_MS), int(REST_MS / STIMULUS_BIN_MS)
    values = np.zeros((len(images), on + off, N_INPUT))
    values[:, :on, :] = (images.astype(np.float64) / 8.0 * START_INTENSITY)[:, None, :]
    return b2.TimedArray(values.reshape(-1, N_INPUT) * Hz, dt=STIMULUS_BIN_MS * ms, name="stimulus")


def presentation_counts(spike_times_ms: np.ndarray, n_examples: int, skip: int = 0) -> list[int]:
    """Excitatory spikes in each presentation window of examples shown back to back
    (each PRESENT_MS then REST_MS), leaving out the first ``skip`` examples."""
    period = PRESENT_MS + REST_MS
    example = np.floor(spike_times_ms / period).astype(np.int64)
    in_presentation = spike_times_ms - example * period < PRESENT_MS
    counts = np.bincount(example[in_presentation], minlength=skip + n_examples)
    return [int(c) for c in counts[skip : skip + n_examples]]


def standalone_timing(
    network: Network,
    images: np.ndarray,
    learn: bool,
    rounds: int = 1,
    seed: int = 0,
    build_dir: Path | None = None,
) -> dict:
    """Time the network on Brian2's C++ standalone device: images[0] once as an untimed
    warm-up, then every image, timed inside the compiled program (compilation and
    start-up excluded); no intensity boost (see the module docstring). The program is
    built once and run ``rounds`` times, each from the same starting state. In
    ``build_dir`` (kept) a later build of the same code is not compiled again."""
    images = np.asarray(images).reshape(-1, N_INPUT)
    if len(images) == 0:
        raise ValueError("need at least one image")
    n = network.n_excitatory
    period = (PRESENT_MS + REST_MS) * ms
    with tempfile.TemporaryDirectory(prefix="brian2-standalone-") as scratch:
        directory = str(build_dir or scratch)
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        # make's jobs: Brian2's default (-j, unbounded) starts a compiler per file at once
        b2.prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{MAKE_JOBS}"]
        try:
            b2.defaultclock.dt = DT_MS * ms
            ns = {**_namespace(), "normalise_input_weights": normalise_input_weights}
            net, _, _, mon, _ = _build_network(
                network, learn, seed, _stimulus(np.concatenate([images[:1], images]))
            )
            if learn:
                normaliser = b2.NeuronGroup(1, "done : 1", name="normaliser")
                normaliser.run_regularly(f"done = normalise_input_weights({n})", dt=period, when="start")
                net.add(normaliser)
            net.run(period, namespace=ns)  # the warm-up example
            b2.device.insert_code("main", "double _bench_t0 = 0;")
            b2.device.insert_code("main", _CLOCK_CPP % "_bench_t0 = ts.tv_sec + 1e-9 * ts.tv_nsec;")
            net.run(len(images) * period, namespace=ns)
            b2.device.insert_code(
                "main",
                _CLOCK_CPP
                % (
                    'std::ofstream("bench_seconds.txt") << '
                    "(ts.tv_sec + 1e-9 * ts.tv_nsec - _bench_t0) << std::endl;"
                ),
            )
            seconds = []
            for round_index in range(rounds):
                if round_index == 0:
                    b2.device.build(directory=directory, compile=True, run=True)
                else:
                    b2.device.run(directory=directory, with_output=False)
                seconds.append(float((Path(directory) / "bench_seconds.txt").read_text()))
            counts = presentation_counts(np.asarray(mon.t / ms), len(images), skip=1)
        finally:
            b2.device.reinit()
            b2.device.activate()  # back to the runtime device for whatever runs next
            b2.set_device("runtime")
    return _timing(seconds, len(images), counts, len(images), "cpp_standalone")


MODES = {"runtime": runtime_timing, "standalone": standalone_timing}


def our_input_trains(cfg: Config, images: np.ndarray, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """stdp-mnist's Poisson input spike trains (CSR ptr, idx per presentation step) for
    one presentation of each image at the starting intensity, from the stream ``seed``."""
    p = kernel_params(cfg, frozen=True)
    rng = np.array([random_seed(seed)], np.uint64)
    return [
        kernel.poisson_spike_train(
            image.astype(np.float64) * (p.rate_per_pixel_hz * p.intensity),
            p.spike_prob_per_hz,
            p.n_present,
            rng,
        )
        for image in images
    ]


def compare_spikes(cfg: Config, network: Network, images: np.ndarray, seed: int = 0) -> dict:
    """Excitatory spikes per image of both simulators given the same input spike trains
    (stdp-mnist's encoder's, one presentation per image at the starting intensity, no
    boost), frozen, the images shown back to back from the network's state: {"ours":
    [...], "brian2": [...]} (Brian2 on its runtime device)."""
    images = np.asarray(images).reshape(-1, N_INPUT)
    trains = our_input_trains(cfg, images, seed)
    p = kernel_params(cfg, frozen=True)
    start = network_copy(network)  # ours runs on network's arrays in place
    syn, state = network.kernel_state(cfg)
    ours = []
    for ptr, idx in trains:
        counts = np.zeros(network.n_excitatory, np.int32)
        ours.append(int(kernel.simulate(p, ptr, idx, False, syn, state, counts)))
    period_steps = p.n_present + p.n_rest
    steps = [
        np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)) + k * period_steps
        for k, (ptr, _) in enumerate(trains)
    ]
    indices = np.concatenate([idx for _, idx in trains])
    times_ms = np.concatenate(steps) * DT_MS
    select_codegen_target()
    b2.defaultclock.dt = DT_MS * ms
    net, _, _, mon, _ = _build_network(start, False, seed, (indices, times_ms))
    net.run(len(images) * (PRESENT_MS + REST_MS) * ms, namespace=_namespace())
    return {"ours": ours, "brian2": presentation_counts(np.asarray(mon.t / ms), len(images))}


def network_copy(network: Network) -> Network:
    """A copy of every array of ``network``."""
    return Network(
        **{field.name: np.array(getattr(network, field.name)) for field in dataclasses.fields(network)}
    )


def starting_network(n: int | None, model: str | None) -> tuple[Config, Network]:
    """The model file's config and network, or a fresh network of the paper's config at N = n."""
    if model is not None:
        return load_model(model)
    cfg = paper_config(n)
    return cfg, new_network(cfg)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="excitatory neurons of a fresh network")
    parser.add_argument("--model", help="start from this stdp-mnist run directory or model.npz instead")
    parser.add_argument("--examples", type=int, default=5, help="timed examples")
    parser.add_argument("--first", type=int, default=0, help="index of the first training image timed")
    parser.add_argument("--rounds", type=int, default=1, help="times each timing is repeated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=sorted(MODES), default="runtime")
    parser.add_argument(
        "--build-dir", type=Path, help="standalone: build here (kept), not in a temporary directory"
    )
    parser.add_argument(
        "--compare-spikes",
        type=int,
        metavar="K",
        help="instead of timing: spikes per image of both simulators on the first K test images, same input trains",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args(argv)

    from stdp_mnist.data import load_mnist

    try:
        cfg, network = starting_network(args.n, args.model)
    except ModelError as exc:
        raise SystemExit(f"brian2_reference: error: {exc}") from None
    mnist = load_mnist()
    row = {"version": b2.__version__, "n": network.n_excitatory}
    if args.compare_spikes:
        row["spikes"] = compare_spikes(cfg, network, mnist.test_images[: args.compare_spikes], args.seed)
        print(json.dumps(row))
        return
    samples = {
        True: mnist.train_images[args.first : args.first + args.examples],
        False: mnist.test_images[: args.examples],
    }
    timing = MODES[args.mode]
    for learn, key in ((True, "train"), (False, "frozen")):
        extra = {"build_dir": args.build_dir / key} if args.build_dir and args.mode == "standalone" else {}
        result = timing(
            network_copy(network), samples[learn], learn=learn, rounds=args.rounds, seed=args.seed, **extra
        )
        row[key] = result
        row[f"{key}_ms"] = result["median_ms"]
        row["target"] = result["target"]
        if not args.json:
            spikes = statistics.fmean(result["first_presentation_spikes"])
            print(
                f"brian2 ({row['target']}) N={row['n']} {key}: {result['median_ms']:.1f} ms/example (median of "
                f"{args.rounds}) over {args.examples} examples, {spikes:.1f} excitatory spikes per first presentation",
                flush=True,
            )
    if args.json:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
