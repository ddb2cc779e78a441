"""Typed, validated experiment configuration: TOML in, frozen dataclasses out.

Every parameter of the model (docs/MODEL.md) is a field here with the reference value
as its default. Units are in the names: ``_ms`` milliseconds, ``_mv`` millivolts,
``_hz`` hertz. A config file may set any subset; unknown sections or keys, wrong
types and out-of-range values raise :class:`ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import os
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import MNIST_FILES, N_INPUTS, delay_ring_steps
from .data import DATASETS
from .shipped import find_config, not_found_message

# Feature transforms of the spike counts for the linear readout (stdp_mnist.linear).
LINEAR_TRANSFORMS = ("counts", "sqrt", "log1p", "share")


class ConfigError(Exception):
    """A config file or override that cannot be used; the message names the key."""


def _positive(x: float) -> bool:
    return x > 0


def _non_negative(x: float) -> bool:
    return x >= 0


def _fraction(x: float) -> bool:
    return 0 <= x <= 1


def _up_to(limit: float):
    """A check: positive and at most ``limit`` (a sane bound on work or memory)."""

    def check(x: float) -> bool:
        return 0 < x <= limit

    check.__name__ = f"above 0 and at most {limit:,}"
    return check


def _count_up_to(limit: int):
    """A check: non-negative and at most ``limit``."""

    def check(x: int) -> bool:
        return 0 <= x <= limit

    check.__name__ = f"0 to {limit:,}"
    return check


def _spec(default: Any, check=None, doc: str = "", choices: tuple = ()):
    """A dataclass field carrying its validity check, allowed choices and a one-line doc."""
    return field(default=default, metadata={"check": check, "doc": doc, "choices": choices})


@dataclass(frozen=True)
class RunSection:
    """The run: its random seed and how often progress is saved and logged."""

    seed: int = _spec(0, _non_negative, "master random seed: weights, delays, spike trains, order")
    checkpoint_every: int = _spec(1000, _positive, "training examples between checkpoints of model.npz")
    metrics_every: int = _spec(
        1000,
        _positive,
        "training examples between lines of metrics.jsonl (spikes, boosts, theta, running accuracy)",
    )
    snapshot_every: int = _spec(
        0,
        _non_negative,
        "training examples between snapshots of the input weights in snapshots/ (0 = none), "
        "from which `stdp-mnist plot --what prototypes` animates the receptive fields forming",
    )


@dataclass(frozen=True)
class DataSection:
    """Which dataset, where its files are and whether they are checked."""

    name: str = _spec(
        "mnist",
        None,
        "the dataset: its files are fetched, verified by checksum and cached by name (docs/configuration.md)",
        tuple(DATASETS),
    )
    dir: str = _spec(
        "",
        None,
        "directory of the dataset's files; empty = its cache ($STDP_MNIST_DATA or the user cache dir, "
        "in a subdirectory named after the dataset for all but mnist)",
    )
    verify: bool = _spec(
        True,
        None,
        "check the dataset's checksums and fetch missing files; false = use the IDX files in dir as they are",
    )
    train_images: str = _spec(
        MNIST_FILES["train_images"],
        None,
        "training images file in dir (IDX, N x 28 x 28 unsigned bytes; raw or .gz); another name needs verify = false",
    )
    train_labels: str = _spec(
        MNIST_FILES["train_labels"], None, "training labels file in dir (IDX, labels 0-9)"
    )
    test_images: str = _spec(MNIST_FILES["test_images"], None, "test images file in dir")
    test_labels: str = _spec(MNIST_FILES["test_labels"], None, "test labels file in dir")


@dataclass(frozen=True)
class NetworkSection:
    """The network: its size, input weights and delays, and the inhibition."""

    n_excitatory: int = _spec(100, _up_to(100_000), "excitatory neurons (and as many inhibitory ones)")
    w_exc_to_inh: float = _spec(10.4, _non_negative, "excitatory k -> inhibitory k conductance increment")
    w_inh_to_exc: float = _spec(
        17.0, _non_negative, "inhibitory k -> every excitatory j != k conductance increment"
    )
    inhibition: str = _spec(
        "population",
        None,
        "population: through the inhibitory neurons (reference); direct: each excitatory spike adds w_direct_inhibition to g_i of every other excitatory neuron in the same step, no inhibitory neurons simulated",
        ("population", "direct"),
    )
    inhibition_distance: float = _spec(
        0.0,
        _non_negative,
        "lateral inhibition that grows with distance (Hazan et al. 2018): the neurons sit on a square grid (row by row, ceil(sqrt(n_excitatory)) wide) and neuron k inhibits neuron j with its weight times min(1, sqrt(d / inhibition_distance)), d their distance in grid steps, so near neighbours inhibit each other less and may learn alike; 0 = every other neuron alike (reference)",
    )
    w_direct_inhibition: float = _spec(
        17.0, _non_negative, "excitatory k -> every excitatory j != k g_i increment under direct inhibition"
    )
    max_delay_ms: float = _spec(
        10.0, _non_negative, "input->excitatory delays uniform in [0, max), whole steps; 0 = no delays"
    )
    w_init_scale: float = _spec(0.3, _non_negative, "initial weight = scale * (U(0,1) + offset)")
    w_init_offset: float = _spec(0.01, _non_negative, "see w_init_scale")
    w_max: float = _spec(1.0, _positive, "upper clip of input weights")
    weight_sum: float = _spec(
        78.0,
        _positive,
        "each excitatory neuron's input weights are rescaled to this sum before every training presentation",
    )
    weight_l2: float = _spec(
        0.0,
        _non_negative,
        "above 0: each excitatory neuron's input weights are rescaled to this Euclidean (L2) norm before every training presentation instead of to weight_sum, so a neuron's drive ranks images by the cosine of their angle to its weights (nearest-prototype matching); 0 = the reference's sum",
    )


@dataclass(frozen=True)
class InputSection:
    """The input: Poisson rates of the pixels and the intensity boost of a quiet example."""

    rate_per_pixel_hz: float = _spec(
        0.125, _positive, "Poisson rate per pixel value (0-255) per unit intensity, Hz: pixel/8*intensity"
    )
    intensity: float = _spec(2.0, _positive, "starting intensity of every example")
    intensity_step: float = _spec(
        1.0, _positive, "intensity added when the layer fired fewer than min_spikes"
    )
    min_spikes: int = _spec(
        5, _count_up_to(1000), "fewer excitatory spikes than this in a presentation triggers a retry"
    )
    max_retries: int = _spec(
        20,
        _count_up_to(100),
        "give up boosting an example after this many retries (the reference never gave up)",
    )


@dataclass(frozen=True)
class ExcitatorySection:
    """The excitatory neurons: conductance-based LIF with an adaptive threshold theta (mV, ms)."""

    tau_ms: float = _spec(100.0, _positive, "membrane time constant")
    v_rest_mv: float = _spec(-65.0, None, "resting potential")
    v_reset_mv: float = _spec(-65.0, None, "potential after a spike")
    v_thresh_mv: float = _spec(
        -52.0, None, "threshold before theta: fires when v > v_thresh + theta - theta_offset"
    )
    refractory_ms: float = _spec(
        5.0, _non_negative, "v clamped at v_reset this long after a spike (0 = Brian 1's unclamped reset)"
    )
    spike_block_ms: float = _spec(
        5.0,
        _non_negative,
        "no spike this long after a spike (>= refractory_ms; 50 = the Brian 2 ports' reading)",
    )
    e_exc_mv: float = _spec(0.0, None, "reversal potential of excitatory synapses")
    e_inh_mv: float = _spec(-100.0, None, "reversal potential of inhibitory synapses")
    tau_ge_ms: float = _spec(1.0, _positive, "excitatory conductance time constant")
    tau_gi_ms: float = _spec(2.0, _positive, "inhibitory conductance time constant")
    v_init_offset_mv: float = _spec(
        -40.0, None, "membrane potentials start at v_rest + this (both populations)"
    )
    theta_init_mv: float = _spec(20.0, _non_negative, "initial adaptive threshold")
    theta_plus_mv: float = _spec(0.05, _non_negative, "theta increment per spike while training")
    theta_target_spikes: float = _spec(
        0.0,
        _non_negative,
        "homeostasis towards a target rate: the layer's target spikes per training presentation; above 0, every neuron's theta also falls by theta_plus x target / n_excitatory after each training presentation (floored at 0 mV), so that it settles where the neuron fires its share of the target; 0 = the reference's rise alone",
    )
    tau_theta_ms: float = _spec(
        1e7, _positive, "theta decay time constant while training (frozen in evaluation)"
    )
    theta_offset_mv: float = _spec(20.0, None, "subtracted from v_thresh + theta")


@dataclass(frozen=True)
class InhibitorySection:
    """The inhibitory neurons: conductance-based LIF (mV, ms)."""

    tau_ms: float = _spec(10.0, _positive, "membrane time constant")
    v_rest_mv: float = _spec(-60.0, None, "resting potential")
    v_reset_mv: float = _spec(-45.0, None, "potential after a spike")
    v_thresh_mv: float = _spec(-40.0, None, "threshold")
    refractory_ms: float = _spec(2.0, _non_negative, "v clamped and no spike this long after a spike")
    e_exc_mv: float = _spec(0.0, None, "reversal potential of excitatory synapses")
    e_inh_mv: float = _spec(-85.0, None, "reversal potential of inhibitory synapses")
    tau_ge_ms: float = _spec(1.0, _positive, "excitatory conductance time constant")
    tau_gi_ms: float = _spec(2.0, _positive, "inhibitory conductance time constant")


@dataclass(frozen=True)
class StdpSection:
    """The STDP rule of the input weights: its traces, timing and learning rates."""

    rule: str = _spec(
        "reference",
        None,
        "reference: potentiation scaled by x_post2; pair: without it; paper: the paper's text rule, no depression, dw = nu_post (x_pre - x_tar) (w_max - w)^mu on an excitatory spike; instar: no depression, dw = nu_post (x_pre - w) on an excitatory spike (each weight moves towards its input trace, as an online k-means centroid moves towards its input); soft-bound: the reference rule with potentiation times max(w_max - w, 0)",
        ("reference", "pair", "paper", "instar", "soft-bound"),
    )
    traces: str = _spec(
        "set",
        None,
        "set: a trace becomes 1 at a spike (nearest-spike pairing, reference); increment: it grows by 1 (all-to-all pairing)",
        ("set", "increment"),
    )
    timing: str = _spec(
        "arrival",
        None,
        "arrival: rule runs when a delayed spike arrives (reference); emission: at the input spike; brian1-dense: as Brian 1's C STDP ran on the reference's dense matrices, depression at arrival, potentiation timed with the delay of another synapse (a lookup at flat index i + j N instead of i N + j); n_excitatory <= 784",
        ("arrival", "emission", "brian1-dense"),
    )
    nu_pre: float = _spec(0.0001, _fraction, "depression rate on an input spike")
    nu_post: float = _spec(0.01, _fraction, "potentiation rate on an excitatory spike")
    rate_decay_spikes: float = _spec(
        0.0,
        _non_negative,
        "a learning-rate schedule per neuron (MacQueen's online k-means): above 0, each excitatory neuron's nu_pre and nu_post are multiplied by S / (S + n), S this value and n the spikes the neuron fired while learning before the present presentation, so its rates halve after S spikes and fall as S / n; with the instar rule and nu_post x S = 1 a neuron's weights become the running mean of the inputs it won; 0 = constant rates (reference)",
    )
    tau_pre_ms: float = _spec(20.0, _positive, "input trace time constant")
    tau_post1_ms: float = _spec(20.0, _positive, "postsynaptic trace used by depression")
    tau_post2_ms: float = _spec(40.0, _positive, "postsynaptic trace scaling potentiation")
    x_tar: float = _spec(
        0.4,
        None,
        "paper rule: target value of x_pre at a post spike (below it the synapse is depressed); the paper's text gives no value, 0.4 is this project's choice",
    )
    mu: float = _spec(
        0.2,
        _non_negative,
        "paper rule: exponent of the weight dependence (w_max - w)^mu; the paper's text gives no value, 0.2 is this project's choice",
    )


@dataclass(frozen=True)
class SimulationSection:
    """The simulation: time step, presentation and rest, and the integrator."""

    dt_ms: float = _spec(0.5, _positive, "time step")
    present_ms: float = _spec(350.0, _up_to(10_000), "presentation time of one example")
    rest_ms: float = _spec(150.0, _count_up_to(10_000), "rest after every presentation, no input")
    rest: str = _spec(
        "simulate",
        None,
        "simulate: the rest is simulated (reference); reset: exact reset to rest, theta decayed, depressions still on their way applied as a rest without spikes would",
        ("simulate", "reset"),
    )
    integrator: str = _spec(
        "exact",
        None,
        "exact: exponential decay of conductances and theta, v driven by the conductances at the start of each step; exact-mean: the same, v driven by their means over the step (the continuous model's total synaptic drive); euler: Brian 1's forward Euler",
        ("exact", "exact-mean", "euler"),
    )


@dataclass(frozen=True)
class TrainingSection:
    """The training schedule: passes over the images, their order, a cap on examples."""

    passes: int = _spec(1, _positive, "passes over the 60,000 training images")
    max_examples: int = _spec(0, _non_negative, "stop after this many training examples; 0 = all passes")
    shuffle: bool = _spec(False, None, "shuffle the image order of every pass (seeded)")


@dataclass(frozen=True)
class EvaluationSection:
    """The frozen evaluation: labelled and test images, blocks, the linear readout."""

    n_assign: int = _spec(60000, _positive, "labelled training images used to assign neurons to classes")
    n_test: int = _spec(10000, _positive, "test images classified")
    block_size: int = _spec(
        1000, _up_to(10_000), "frozen runs are cut into blocks of this many examples, each from rest"
    )
    boost: bool = _spec(True, None, "apply the intensity boost in frozen runs too (reference)")
    split: str = _spec(
        "test",
        None,
        "what is scored: test: the test images (neurons labelled from the first n_assign training images); validation: training images 50,000 on (the first n_test of them), the network trained on training images 0-49,999 only (its passes go over those) and labelled from the first n_assign (at most 50,000) of them, for choosing settings without the test set",
        ("test", "validation"),
    )
    linear_transform: str = _spec(
        "log1p",
        None,
        "supervised linear readout (a logistic regression fitted to the n_assign labelled images' spike counts): feature transform of the counts before they are standardised per neuron: the counts, their square root, log(1 + count), or each neuron's share of the example's spikes",
        LINEAR_TRANSFORMS,
    )
    linear_c: float = _spec(
        0.01,
        _positive,
        "inverse L2 regularisation strength of the linear readout (scikit-learn's C, the weight of the loss summed over the labelled images; smaller = stronger); both defaults chosen on a validation split of the training images (results/linear-readout.md)",
    )


# Sections and keys that do not change what training computes (see Config.model_values):
# the schedule's length may change on a resume (the examples before are the same).
NOT_MODEL_KEYS = (
    "data",
    "evaluation",
    "run.checkpoint_every",
    "run.metrics_every",
    "run.snapshot_every",
    "training.passes",
    "training.max_examples",
)

SECTIONS: dict[str, type] = {
    "run": RunSection,
    "data": DataSection,
    "network": NetworkSection,
    "input": InputSection,
    "excitatory": ExcitatorySection,
    "inhibitory": InhibitorySection,
    "stdp": StdpSection,
    "simulation": SimulationSection,
    "training": TrainingSection,
    "evaluation": EvaluationSection,
}


@dataclass(frozen=True)
class Config:
    """A run's whole configuration, one frozen section per table of a config file; every
    value has its default (the paper's 100-neuron network) and is checked on creation.
    ``load_config`` reads one from TOML; ``replace`` makes a changed copy."""

    run: RunSection = RunSection()
    data: DataSection = DataSection()
    network: NetworkSection = NetworkSection()
    input: InputSection = InputSection()
    excitatory: ExcitatorySection = ExcitatorySection()
    inhibitory: InhibitorySection = InhibitorySection()
    stdp: StdpSection = StdpSection()
    simulation: SimulationSection = SimulationSection()
    training: TrainingSection = TrainingSection()
    evaluation: EvaluationSection = EvaluationSection()

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def replace(self, **sections: Any) -> Config:
        """A copy with some fields changed: ``cfg.replace(network={"n_excitatory": 4})``."""
        merged = self.to_dict()
        for name, values in sections.items():
            merged.setdefault(name, {}).update(values)
        return config_from_dict(merged)

    def model_hash(self) -> str:
        """Hash of the values that fix the learnable state's shapes; a checkpoint must match it."""
        shape = {"n_excitatory": self.network.n_excitatory, "n_input": N_INPUTS}
        return hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]

    def model_values(self) -> dict[str, Any]:
        """Every value that defines the trained model and its schedule, as
        {"section.key": value}: all but where the data lives, how often progress is
        saved and logged, how long training goes on, and how a trained network is
        evaluated (NOT_MODEL_KEYS). A
        checkpoint keeps them, so that a resume with a changed one is refused."""
        return {
            f"{section}.{key}": value
            for section, values in self.to_dict().items()
            for key, value in values.items()
            if section not in NOT_MODEL_KEYS and f"{section}.{key}" not in NOT_MODEL_KEYS
        }


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Check a value's type against the default's type (ints are accepted for floats)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return value


def _suggestion(word: str, known: list[str], prefix: str = "") -> str:
    """' (did you mean X?)' for the known word nearest to a mistyped one (one it begins,
    else difflib's closest), or ''; ``prefix`` goes before the word shown."""
    close = [name for name in known if word and name.startswith(word)][:1]
    close = close or difflib.get_close_matches(word, known, n=1, cutoff=0.5)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def unknown_key(key: str) -> str | None:
    """Why ``section.key`` is not a config key (with the nearest known one), or None
    when it is one."""
    section, _, name = key.partition(".")
    if section not in SECTIONS:
        return f"unknown section {section!r}{_suggestion(section, list(SECTIONS))}"
    names = [f.name for f in dataclasses.fields(SECTIONS[section])]
    if name not in names:
        return f"unknown key {key}{_suggestion(name, names, f'{section}.')}"
    return None


def _build_section(name: str, values: Any) -> Any:
    cls = SECTIONS[name]
    if not isinstance(values, dict):
        raise ConfigError(f"[{name}]: expected a table of keys, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        full = f"{name}.{key}"
        if key not in fields:
            raise ConfigError(
                f"{full}: unknown key{_suggestion(key, list(fields), f'{name}.')} (known: {', '.join(fields)})"
            )
        f = fields[key]
        value = _coerce(full, value, f.default)
        check, choices = f.metadata["check"], f.metadata["choices"]
        if choices and value not in choices:
            raise ConfigError(f"{full}: must be one of {', '.join(choices)}, got {value!r}")
        if check is not None and not check(value):
            raise ConfigError(f"{full}: out of range ({check.__name__.strip('_')}), got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)


# Bounds on the work of one kernel call, so that a signal is heard within about a second:
MAX_STEPS_PER_PRESENTATION = 100_000  # (present_ms + rest_ms) / dt_ms
# neurons x steps of one training example with every retry: the 6,400-neuron paper
# network (1,000 steps, 20 retries) is 1.3e8, about 1.5 s on a 2026 laptop core at worst.
MAX_NEURON_STEPS_PER_EXAMPLE = 150_000_000


def physical_memory_bytes() -> int | None:
    """The machine's memory (bytes), or None where the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def network_bytes(cfg: Config) -> int:
    """Memory a run of this config needs at its peak, roughly (bytes): per neuron, the
    784 inputs' weights, delays and STDP tables twice over (a checkpoint is written and
    read beside the live network), its state, the spike counts of one frozen call per
    core, and the evaluation's responses: uint16 counts of every labelled and test
    image, and the labelled ones again as float32 features for the linear readout
    (about 2.4 GB at 6,400 neurons)."""
    ring = delay_ring_steps(cfg.network.max_delay_ms, cfg.simulation.dt_ms)
    ev = cfg.evaluation
    per_neuron = (
        2 * (N_INPUTS * (4 + 1 + 1 + 4) + 8 * (10 + ring))
        + 4 * (os.cpu_count() or 1) * ev.block_size
        + (2 + 4) * ev.n_assign
        + 2 * ev.n_test
    )
    return cfg.network.n_excitatory * per_neuron


def _check_work_bounds(cfg: Config) -> None:
    """Bound one kernel call's time and a network's memory (checked before anything is
    allocated or written)."""
    sim, net, inp = cfg.simulation, cfg.network, cfg.input
    steps = (sim.present_ms + sim.rest_ms) / sim.dt_ms
    if steps > MAX_STEPS_PER_PRESENTATION:
        raise ConfigError(
            f"simulation.dt_ms: {steps:,.0f} steps per presentation (present_ms + rest_ms over dt_ms), "
            f"more than {MAX_STEPS_PER_PRESENTATION:,}"
        )
    neuron_steps = net.n_excitatory * steps * (inp.max_retries + 1)
    if neuron_steps > MAX_NEURON_STEPS_PER_EXAMPLE:
        raise ConfigError(
            f"network.n_excitatory: {net.n_excitatory} neurons x {steps:,.0f} steps x "
            f"{inp.max_retries + 1} tries (input.max_retries + 1) is {neuron_steps:.3g} neuron-steps "
            f"for one example, more than {MAX_NEURON_STEPS_PER_EXAMPLE:.3g} (Ctrl-C must be heard "
            "within about a second); lower one of them or simulation.present_ms/rest_ms"
        )
    memory = physical_memory_bytes()
    needed = network_bytes(cfg)
    if memory is not None and needed > memory:
        raise ConfigError(
            f"network.n_excitatory: {net.n_excitatory} neurons need about {needed / 2**30:.1f} GiB "
            f"(training, and the responses to evaluation.n_assign + n_test images), more than this "
            f"machine's {memory / 2**30:.1f} GiB of memory"
        )


def _check_consistency(cfg: Config) -> None:
    """Cross-field rules that a single key's check cannot see."""
    sim = cfg.simulation
    if cfg.stdp.timing == "brian1-dense" and cfg.network.n_excitatory > N_INPUTS:
        raise ConfigError(
            "stdp.timing: brian1-dense needs network.n_excitatory <= 784 (beyond it Brian 1's "
            f"lookup ran past the end of the delay matrix), got {cfg.network.n_excitatory}"
        )
    if sim.dt_ms >= sim.present_ms:
        raise ConfigError(
            f"simulation.dt_ms: must be smaller than simulation.present_ms ({sim.present_ms}), got {sim.dt_ms}"
        )
    if cfg.excitatory.spike_block_ms < cfg.excitatory.refractory_ms:
        raise ConfigError("excitatory.spike_block_ms: must be >= excitatory.refractory_ms")
    if cfg.network.max_delay_ms / sim.dt_ms > 256:
        raise ConfigError(
            f"network.max_delay_ms: at most 256 time steps ({256 * sim.dt_ms} ms at dt {sim.dt_ms} ms)"
        )
    names = {
        f.name: f.default for f in dataclasses.fields(DataSection) if f.name not in ("name", "dir", "verify")
    }
    for key, default in names.items():
        value = getattr(cfg.data, key)
        if not value or "/" in value or "\\" in value:
            raise ConfigError(f"data.{key}: expected a file name in data.dir, got {value!r}")
        if cfg.data.verify and value != default:
            raise ConfigError(
                f"data.{key}: a file other than the dataset's ({default}) needs data.verify = false"
            )
    if sim.rest == "simulate" and cfg.network.max_delay_ms > sim.rest_ms:
        raise ConfigError(
            "network.max_delay_ms: must not exceed simulation.rest_ms, so that delayed input arrives within the rest"
        )
    _check_work_bounds(cfg)


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build and validate a Config from nested dicts; missing keys take their defaults."""
    if not isinstance(data, dict):
        raise ConfigError("config: expected a table of sections")
    sections = {}
    for name, values in data.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"[{name}]: unknown section{_suggestion(name, list(SECTIONS))} (known: {', '.join(SECTIONS)})"
            )
        sections[name] = _build_section(name, values)
    cfg = Config(**sections)
    _check_consistency(cfg)
    return cfg


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value``; the value is read as TOML (a bare word as a string)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    path, raw = text.split("=", 1)
    parts = path.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ConfigError(f"--set {path.strip()}: value nested too deeply") from None
    return parts[0], parts[1], value


def apply_overrides(data: dict[str, Any], overrides: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Merge ``section.key=value`` overrides into nested config dicts (a new dict)."""
    merged = {name: dict(values) if isinstance(values, dict) else values for name, values in data.items()}
    for text in overrides:
        section, key, value = parse_override(text)
        problem = unknown_key(f"{section}.{key}")
        if problem:
            raise ConfigError(f"--set {text!r}: {problem}")
        merged.setdefault(section, {})[key] = value
    return merged


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line ConfigError. A UTF-8
    byte order mark at the start (as some Windows editors write) is accepted and ignored."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None


BASE_KEY = "base"  # a config file's top-level key naming the config it starts from
MAX_BASE_CHAIN = 8  # configs a file may stack through base, itself included


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A config file's sections with its ``base`` resolved. ``base = "dc2015-400"`` (a
    file relative to this one, or a shipped config's name) supplies every key the file
    does not set itself, so a variant's config holds only what it changes; a base may
    have a base of its own. Every failure is a one-line ConfigError naming the file."""
    return _with_base(Path(path), ())


def _with_base(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """``path``'s sections over its base's (``chain``: the files that led here)."""
    data = read_toml(path)
    if BASE_KEY not in data:
        return data
    base = data.pop(BASE_KEY)
    if not isinstance(base, str):
        raise ConfigError(
            f"{path}: base: expected the name of a config (a file relative to this one, or a shipped name)"
        )
    try:
        base_path = config_path(base, relative_to=path.parent).resolve()
    except ConfigError as exc:
        raise ConfigError(f"{path}: base: {exc}") from None
    chain = (*chain, path.resolve())
    if base_path in chain:
        raise ConfigError(
            f"{path}: base: {base} leads back to itself ({' -> '.join(p.name for p in (*chain, base_path))})"
        )
    if len(chain) >= MAX_BASE_CHAIN:
        raise ConfigError(f"{path}: base: more than {MAX_BASE_CHAIN} configs stacked through base")
    merged = _with_base(base_path, chain)
    try:
        config_from_dict(merged)  # a base's own errors are the base's
    except ConfigError as exc:
        raise ConfigError(f"{base_path} (the base of {path}): {exc}") from None
    for name, values in data.items():
        below = merged.get(name)
        merged[name] = {**below, **values} if isinstance(below, dict) and isinstance(values, dict) else values
    return merged


def config_path(text: str | Path, sweep: bool = False, relative_to: Path | None = None) -> Path:
    """The config file that ``text`` names: a file (relative to the directory
    ``relative_to`` when given), or else a shipped config's name (``quick``,
    ``quick.toml``, ``dc2015-400``; a sweep file when ``sweep``). A name that is
    neither is a ConfigError listing the shipped names."""
    path = find_config(text, sweep, relative_to)
    if path is None:
        raise ConfigError(not_found_message(text, sweep))
    return path


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load a TOML config (a file, or a shipped config's name such as ``quick``; the
    defaults when path is None), its base resolved, and apply overrides."""
    data = read_config_file(config_path(path)) if path is not None else {}
    if path is not None:
        try:
            config_from_dict(data)  # the file alone: its own errors are the file's
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    merged = apply_overrides(data, overrides)  # an unknown key is named by its --set
    try:
        return config_from_dict(merged)
    except ConfigError as exc:
        if not overrides:
            raise
        raise override_error(overrides, exc) from None


def override_error(overrides: list[str] | tuple[str, ...], exc: ConfigError) -> ConfigError:
    """``exc`` (a config made invalid by ``--set`` overrides) as an error of the
    overrides it names (of them all when it names none), not of the config file."""
    named = [text for text in overrides if text.split("=", 1)[0].strip() in str(exc)]
    return ConfigError(f"--set {' '.join(shlex.quote(text) for text in named or overrides)}: {exc}")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def config_to_toml(cfg: Config) -> str:
    """The fully resolved config as TOML text (every key, one section per table)."""
    lines = []
    for name, values in cfg.to_dict().items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


def config_reference() -> str:
    """Markdown table of every key, its default and meaning (docs/reference/configuration.md)."""
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]
    for name, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            doc = f.metadata["doc"]
            if f.metadata["choices"]:
                doc += f" ({' / '.join(f.metadata['choices'])})"
            rows.append(f"| `{name}.{f.name}` | `{_toml_value(f.default)}` | {doc} |")
    return "\n".join(rows)
