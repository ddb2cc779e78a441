"""A run directory's figures: which exist, what each is drawn from, where it goes.

``write_figures`` takes what it draws from a ``Run`` (its network, training records,
evaluation and assignments: in memory where the caller has them, else read once from
model.npz, metrics.jsonl, metrics.json and assignments.npz) and hands arrays to
``stdp_mnist.plots``; by default the PNGs go to
``RUN_DIR/figures/``. Nothing here runs during training: the CLI calls it after
training and after evaluation, and ``stdp-mnist plot`` on demand.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import diagnostics, readout
from .config import Config
from .data import Mnist, class_names
from .network import Network, self_firing_theta_mv
from .predict import predict_seed
from .records import MetricsLine
from .rundir import (
    ASSIGNMENTS_FILE,
    EVAL_METRICS_FILE,
    FIGURES_DIR,
    TRAIN_METRICS_FILE,
    Run,
    RunDirError,
    WriteError,
)

# Figure names, in the order they are drawn.
FIGURES = ("receptive-fields", "theta", "learning-curve", "assignments", "confusion", "example")
AFTER_TRAINING = ("receptive-fields", "theta", "learning-curve")
# After an evaluation the learning curve is drawn again, with the test accuracies.
AFTER_EVALUATION = ("learning-curve", "assignments", "confusion", "example")
# The model's mechanisms, measured on the kernel with the run's config (stdp_mnist.mechanisms),
# drawn only when named: the neuron, the STDP window, the input encoding and lateral
# inhibition (on test image --example), and the receptive fields through training (from
# the snapshots a run keeps with run.snapshot_every).
MECHANISMS = ("neuron", "stdp-window", "encoding", "inhibition", "prototypes")


def figures_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / FIGURES_DIR


def example_figure(
    cfg: Config,
    network: Network,
    image: np.ndarray,
    path: str | Path,
    assignments: np.ndarray | None = None,
    rates: np.ndarray | None = None,
    label: int | None = None,
    title: str | None = None,
    note: str = "",
) -> Path:
    """Trace one image through the frozen network (the predict presentation: from rest,
    the predict random stream) and draw it in detail."""
    from . import plots

    trace = diagnostics.trace_example(cfg, network, image, predict_seed(cfg))
    winners = trace.winners(3)
    scores = predicted = None
    if assignments is not None:
        scores = readout.scores_all(trace.counts[None], assignments)[0]
        predicted = int(readout.predict_all(trace.counts[None], assignments)[0])
    lines = [f"input intensity: {trace.intensity:g}", f"boosts before it: {trace.retries}"]
    if note:
        lines.append(note)
    return plots.plot_example(
        path,
        image=trace.image,
        dt_ms=trace.dt_ms,
        input_spikes=trace.input_spikes(),
        exc_spikes=(trace.spike_steps, trace.spike_neurons),
        n_excitatory=network.n_excitatory,
        v=trace.v[:, winners],
        threshold=trace.threshold[:, winners],
        neurons=winners.tolist(),
        counts=trace.counts,
        scores=scores,
        label=label,
        predicted=predicted,
        assignments=assignments,
        note="\n".join(lines),
        title=title,
        class_names=class_names(cfg),
    )


def _trained(run: Run) -> str:
    return f"after {int(run.network.examples_seen[0])} training examples"


def _records(run: Run) -> list[MetricsLine]:
    records = run.records()
    if not records:
        raise RunDirError(f"{run.dir}: no {TRAIN_METRICS_FILE} lines yet (train the run first)")
    return records


@dataclass
class FigureResult:
    name: str
    paths: list[Path]  # files written
    skipped: str = ""  # why not drawn: an input the run lacks (e.g. not evaluated yet)
    error: str = ""  # why drawing failed (only with keep_going)


def write_figures(
    run_dir: str | Path | Run,
    what: tuple[str, ...] | list[str] = FIGURES,
    out_dir: str | Path | None = None,
    data: Mnist | Callable[[], Mnist] | None = None,
    example_index: int = 0,
    skip_missing: bool = False,
    keep_going: bool = False,
) -> list[FigureResult]:
    """Draw the named figures of a run (a path, or a Run: its network and files in
    memory are used as they are) into RUN_DIR/figures unless ``out_dir``.

    A figure whose inputs the run lacks (no evaluation yet, say) raises RunDirError,
    or with ``skip_missing`` is skipped with the reason. With ``keep_going`` any other
    failure of one figure is recorded and the others are still drawn. ``data`` (or a
    function returning it) gives the test image of the 'example' figure; without it
    MNIST is loaded as the run's config says."""
    from . import mechanism_plots, mechanisms, plots
    from .snapshots import read_snapshots

    known = FIGURES + MECHANISMS
    unknown = [name for name in what if name not in known]
    if unknown:
        raise ValueError(f"unknown figure(s): {', '.join(unknown)} (known: {', '.join(known)})")
    run = Run.of(run_dir)
    out = Path(out_dir) if out_dir is not None else figures_dir(run.dir)
    n = run.cfg.network.n_excitatory

    def receptive_fields() -> list[Path]:
        return [
            plots.plot_receptive_fields(
                run.network.weights,
                out / "receptive_fields.png",
                title=f"Receptive fields: input weights of {n} excitatory neurons {_trained(run)} "
                "(neuron 0 top left, row by row)",
            )
        ]

    def theta() -> list[Path]:
        return [
            plots.plot_theta(
                run.network.theta,
                out / "theta.png",
                title=f"Adaptive threshold theta of {n} excitatory neurons {_trained(run)}",
                self_firing_mv=self_firing_theta_mv(run.cfg),
            )
        ]

    def learning_curve() -> list[Path]:
        records = _records(run)
        test = None
        evaluation = run.evaluation
        if evaluation is not None and evaluation.examples_trained == records[-1].examples_seen:
            test = {readout: evaluation.accuracy(readout) for readout in ("all", "proportion")}
        return [
            plots.plot_learning_curve(
                records,
                out / "learning_curve.png",
                test_accuracy=test,
                title=f"Learning curve: {n} neurons, one point per {run.cfg.run.metrics_every} examples",
            )
        ]

    def assignments() -> list[Path]:
        classes, _ = run.assignments
        return [
            plots.plot_assignments(
                classes,
                out / "assignments.png",
                title=f"Neuron assignments ({n} neurons, from "
                f"{run.require_evaluation().n_assign} labelled training images)",
                class_names=class_names(run.cfg),
            )
        ]

    def confusion() -> list[Path]:
        evaluation = run.require_evaluation()
        paths = []
        for voting in ("all", "proportion"):
            matrix = evaluation.confusion(voting)
            if matrix is None:
                raise RunDirError(
                    f"{run.path(EVAL_METRICS_FILE)}: no confusion_{voting}; evaluate the run again"
                )
            paths.append(
                plots.plot_confusion(
                    np.array(matrix),
                    out / f"confusion_{voting}.png",
                    title=f"Confusion matrix, '{voting}' voting ({n} neurons)",
                    class_names=class_names(run.cfg),
                )
            )
        return paths

    @functools.cache
    def test_set() -> Mnist:
        """The data of the figures of a test image (read once), checked to hold image
        ``example_index``."""
        mnist = data() if callable(data) else data
        if mnist is None:
            from .data import load_configured

            mnist = load_configured(run.cfg)
        if not 0 <= example_index < len(mnist.test_images):
            raise RunDirError(f"example {example_index}: the test set has {len(mnist.test_images)} images")
        return mnist

    def example() -> list[Path]:
        mnist = test_set()
        classes = rates = None
        if run.path(ASSIGNMENTS_FILE).is_file():
            classes, rates = run.assignments
        return [
            example_figure(
                run.cfg,
                run.network,
                mnist.test_images[example_index],
                out / f"example_test{example_index}.png",
                classes,
                rates,
                label=int(mnist.test_labels[example_index]),
                title=f"Test image {example_index} in detail ({n} neurons {_trained(run)}; "
                "frozen, from rest)",
            )
        ]

    def neuron() -> list[Path]:
        trace = mechanisms.neuron_trace(run.cfg)
        title = (
            f"One excitatory neuron under {mechanisms.TRACE_INPUTS} Poisson inputs and a rival's inhibition\n"
            "(the run's parameters; recorded from the kernel)"
        )
        return [mechanism_plots.plot_neuron_trace(trace, out / "mechanism_neuron.png", title=title)]

    def stdp_window() -> list[Path]:
        window = mechanisms.stdp_window(run.cfg)
        title = "The STDP window: one input spike and one output spike per pairing, through the kernel"
        return [mechanism_plots.plot_stdp_window(window, out / "mechanism_stdp_window.png", title=title)]

    def encoding() -> list[Path]:
        measured = mechanisms.encoding(run.cfg, test_set().test_images[example_index])
        title = f"Poisson encoding of test image {example_index} (the run's intensity and rates)"
        path = out / f"mechanism_encoding_test{example_index}.png"
        return [mechanism_plots.plot_encoding(measured, path, title=title)]

    def inhibition() -> list[Path]:
        image = test_set().test_images[example_index]
        trace = diagnostics.trace_example(run.cfg, run.network, image, predict_seed(run.cfg))
        title = (
            f"Lateral inhibition: test image {example_index}, {n} neurons {_trained(run)} (frozen, from rest)"
        )
        path = out / f"mechanism_inhibition_test{example_index}.png"
        return [mechanism_plots.plot_inhibition(trace, path, title=title)]

    def prototypes() -> list[Path]:
        frames = read_snapshots(run.dir, run.network.weights.shape[0], n)
        title = f"Receptive fields of {n} neurons"
        strip_title = f"{title} through training (columns: examples seen; {len(frames)} snapshots)"
        return [
            mechanism_plots.plot_prototype_strip(frames, out / "prototypes.png", title=strip_title),
            mechanism_plots.write_prototype_gif(frames, out / "prototypes.gif", title=title),
        ]

    drawers = {
        "receptive-fields": receptive_fields,
        "theta": theta,
        "learning-curve": learning_curve,
        "assignments": assignments,
        "confusion": confusion,
        "example": example,
        "neuron": neuron,
        "stdp-window": stdp_window,
        "encoding": encoding,
        "inhibition": inhibition,
        "prototypes": prototypes,
    }
    results = []
    for name in known:
        if name not in what:
            continue
        try:
            results.append(FigureResult(name, drawers[name]()))
        except RunDirError as exc:
            if not skip_missing:
                raise
            results.append(FigureResult(name, [], skipped=str(exc)))
        except OSError as exc:  # a full disk, say: the file, what is kept, what to do
            failure = WriteError(
                Path(exc.filename) if exc.filename else out / name,
                exc,
                "the run's other files are intact",
                f"draw it again with: stdp-mnist plot {run.dir} --what {name}",
            )
            if not keep_going:
                raise failure from None
            results.append(FigureResult(name, [], error=str(failure)))
        except Exception as exc:
            if not keep_going:
                raise
            results.append(FigureResult(name, [], error=f"{type(exc).__name__}: {exc}"))
    return results
