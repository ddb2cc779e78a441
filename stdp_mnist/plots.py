"""Figures of what a network learned, written as PNG files (matplotlib, Agg backend:
no display needed).

The plot functions know nothing of training or of run directories: each takes plain
arrays or metrics dicts and a path, writes one PNG there (making its directory) and
returns the path. ``stdp_mnist.figures`` connects them to run directories.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.figure import Figure

from .atomic import atomic_open
from .constants import IMAGE_SIDE as SIDE
from .constants import N_CLASSES, N_INPUTS
from .records import MetricsLine

DPI = 100
# Colour of class c: tab10, with its grey (class 7) darkened apart from the unassigned grey.
CLASS_COLOURS = tuple(
    (0.25, 0.25, 0.25) if c == 7 else rgb for c, rgb in enumerate(matplotlib.colormaps["tab10"].colors)
)
UNASSIGNED_COLOUR = (0.85, 0.85, 0.85)
SEPARATOR_COLOUR = "#7a7a7a"


DIGITS = tuple(str(digit) for digit in range(N_CLASSES))


def _named(c: int, class_names: Sequence[str]) -> str:
    """'3' for MNIST's class 3; 'Dress (3)' where the classes have names other than digits."""
    return class_names[c] if class_names[c] == str(c) else f"{class_names[c]} ({c})"


def _words(class_names: Sequence[str]) -> bool:
    """Whether the class names are words (ticked at an angle, with room made below)."""
    return any(len(name) > 2 for name in class_names)


def _class_ticks(ax, class_names: Sequence[str], axis: str = "x") -> None:
    """Tick each class on an axis by its name (rotated on x when the names are words)."""
    words = _words(class_names)
    if axis == "x":
        ax.set_xticks(
            np.arange(N_CLASSES), class_names, rotation=45 if words else 0, ha="right" if words else "center"
        )
    else:
        ax.set_yticks(np.arange(N_CLASSES), class_names)


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, columns) of the square-ish grid that shows n neurons, row by row."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def _on_grid(values: np.ndarray, fill=np.nan) -> np.ndarray:
    """Per-neuron values laid out on the neuron grid (padding cells = fill)."""
    rows, cols = grid_shape(len(values))
    out = np.full(rows * cols, fill, dtype=np.result_type(values, np.float64))
    out[: len(values)] = values
    return out.reshape(rows, cols)


def _save(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write the figure as PNG atomically (a temp file beside it, then a rename): an
    interrupted save never leaves a torn image."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        fig.savefig(fh, format="png", dpi=dpi)
    return path


def _grid_ticks(ax, n: int) -> None:
    """Label the neuron grid's rows with the index of their first neuron."""
    rows, cols = grid_shape(n)
    step = max(1, rows // 10)
    ticks = np.arange(0, rows, step)
    ax.set_yticks(ticks, [str(r * cols) for r in ticks])
    ax.set_xticks(np.arange(0, cols, max(1, cols // 10)))
    ax.tick_params(length=2, labelsize=7)
    ax.set_ylabel("first neuron of the row", fontsize=8)
    ax.set_xlabel("column", fontsize=8)


def receptive_field_mosaic(weights: np.ndarray, separator: int = 1) -> np.ndarray:
    """The 28 x 28 input weights of every neuron on the neuron grid, NaN between them."""
    weights = np.asarray(weights, dtype=np.float64)
    n = weights.shape[1]
    rows, cols = grid_shape(n)
    cell = SIDE + separator
    tiles = np.full((rows * cols, cell, cell), np.nan)
    tiles[:n, :SIDE, :SIDE] = weights.T.reshape(n, SIDE, SIDE)
    mosaic = tiles.reshape(rows, cols, cell, cell).transpose(0, 2, 1, 3).reshape(rows * cell, cols * cell)
    out = np.full((rows * cell + separator, cols * cell + separator), np.nan)
    out[separator:, separator:] = mosaic
    return out


def plot_receptive_fields(
    weights: np.ndarray, path: str | Path, title: str | None = None, vmax: float | None = None
) -> Path:
    """Input weights (784 x N) as one 28 x 28 image per excitatory neuron, on a square
    grid with thin separators and one colour scale shared by all (the paper's figure).
    The canvas grows with N so that every weight gets at least one screen pixel."""
    weights = np.asarray(weights)
    n = weights.shape[1]
    mosaic = receptive_field_mosaic(weights)
    h, w = mosaic.shape
    scale = max(1, math.ceil(900 / max(h, w)))  # screen pixels per weight
    top, bottom, left, right, bar = 60, 16, 16, 110, 22
    width_px, height_px = w * scale + left + right, h * scale + top + bottom
    fig = Figure(figsize=(width_px / DPI, height_px / DPI))
    ax = fig.add_axes((left / width_px, bottom / height_px, w * scale / width_px, h * scale / height_px))
    cmap = matplotlib.colormaps["hot_r"].with_extremes(bad=SEPARATOR_COLOUR)
    top_value = float(vmax if vmax is not None else max(np.nanmax(weights), 1e-12))
    image = ax.imshow(
        np.ma.masked_invalid(mosaic),
        cmap=cmap,
        vmin=0.0,
        vmax=top_value,
        interpolation="nearest",
        aspect="equal",
    )
    ax.set_axis_off()
    cax = fig.add_axes(
        ((left + w * scale + 20) / width_px, bottom / height_px, bar / width_px, h * scale / height_px)
    )
    fig.colorbar(image, cax=cax).set_label("input weight (shared scale)")
    rows, cols = grid_shape(n)
    fig.suptitle(
        title
        or f"Receptive fields: input weights of {n} excitatory neurons "
        f"({rows} x {cols} grid, neuron 0 top left, row by row)",
        fontsize=11 if width_px < 1500 else 16,
        y=1 - 12 / height_px,
        va="top",
    )
    return _save(fig, path)


def plot_assignments(
    assignments: np.ndarray, path: str | Path, title: str | None = None, class_names: Sequence[str] = DIGITS
) -> Path:
    """Each neuron's class on the neuron grid (colour, and the class number when the grid is
    small enough to read it), and how many neurons each class got, by class name. -1 = unassigned."""
    assignments = np.asarray(assignments, dtype=np.int64)
    n = len(assignments)
    rows, cols = grid_shape(n)
    colours = np.array([*CLASS_COLOURS, UNASSIGNED_COLOUR, (1.0, 1.0, 1.0)])
    index = np.where(assignments >= 0, assignments, N_CLASSES)
    picture = colours[_on_grid(index, fill=N_CLASSES + 1).astype(np.int64)]
    grid_in = 9.0 if n <= 1600 else 12.0
    fig = Figure(figsize=(grid_in + 5.5, grid_in * rows / cols + 1.2))
    bottom = 0.16 if _words(class_names) else 0.08
    gs = fig.add_gridspec(
        1, 2, width_ratios=(grid_in, 4.5), left=0.05, right=0.97, top=0.9, bottom=bottom, wspace=0.15
    )
    ax = fig.add_subplot(gs[0])
    ax.imshow(picture, interpolation="nearest", aspect="equal")
    if n <= 1600:
        size = min(14.0, 0.45 * grid_in * 72 / cols)
        for j, c in enumerate(assignments):
            r, q = divmod(j, cols)
            ax.text(
                q,
                r,
                str(c) if c >= 0 else "-",
                ha="center",
                va="center",
                fontsize=size,
                color="white" if c >= 0 else "black",
            )
    _grid_ticks(ax, n)
    ax.set_title(
        "class of each neuron (grid as the receptive fields; light grey '-': never fired)", fontsize=10
    )
    per_class = np.bincount(assignments[assignments >= 0], minlength=N_CLASSES)
    bx = fig.add_subplot(gs[1])
    bars = bx.bar(np.arange(N_CLASSES), per_class, color=CLASS_COLOURS)
    bx.bar_label(bars, fontsize=9)
    _class_ticks(bx, class_names)
    for tick, colour in zip(bx.get_xticklabels(), CLASS_COLOURS, strict=True):
        tick.set_color(colour)
        tick.set_fontweight("bold")
    bx.set_xlabel("class")
    bx.set_ylabel("neurons")
    bx.set_title(f"neurons per class ({int((assignments < 0).sum())} unassigned)", fontsize=10)
    bx.margins(y=0.12)
    fig.suptitle(title or f"Neuron assignments ({n} excitatory neurons)", fontsize=12)
    return _save(fig, path)


def plot_theta(
    theta: np.ndarray, path: str | Path, title: str | None = None, self_firing_mv: float | None = None
) -> Path:
    """The adaptive thresholds: their distribution, and each neuron's on the neuron grid.
    With ``self_firing_mv``, the theta below which a neuron fires with no input is
    marked on the distribution when any neuron is below it."""
    theta = np.asarray(theta, dtype=np.float64)
    n = len(theta)
    rows, cols = grid_shape(n)
    fig = Figure(figsize=(14, 6.2))
    gs = fig.add_gridspec(
        1, 2, width_ratios=(1.0, 1.1), left=0.06, right=0.95, top=0.86, bottom=0.1, wspace=0.2
    )
    ax = fig.add_subplot(gs[0])
    ax.hist(theta, bins=min(60, max(10, n // 5)), color="#4c72b0", edgecolor="white", linewidth=0.4)
    ax.axvline(theta.mean(), color="black", linestyle="--", linewidth=1, label=f"mean {theta.mean():.2f} mV")
    ax.axvline(
        np.median(theta),
        color="#c44e52",
        linestyle=":",
        linewidth=1.5,
        label=f"median {np.median(theta):.2f} mV",
    )
    if self_firing_mv is not None and theta.min() < self_firing_mv:
        n_low = int(np.count_nonzero(theta < self_firing_mv))
        ax.axvline(
            self_firing_mv,
            color="#dd8452",
            linewidth=1.5,
            label=f"{n_low} below {self_firing_mv:g} mV: fire with no input",
        )
    ax.set_xlabel("theta (mV)")
    ax.set_ylabel("neurons")
    ax.set_title(f"distribution (min {theta.min():.2f}, max {theta.max():.2f} mV)", fontsize=10)
    ax.legend(fontsize=9)
    gx = fig.add_subplot(gs[1])
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="white")
    image = gx.imshow(
        np.ma.masked_invalid(_on_grid(theta)), cmap=cmap, interpolation="nearest", aspect="equal"
    )
    fig.colorbar(image, ax=gx, fraction=0.046, pad=0.03).set_label("theta (mV)")
    _grid_ticks(gx, n)
    gx.set_title("per neuron (grid as the receptive fields)", fontsize=10)
    fig.suptitle(title or f"Adaptive threshold theta of {n} excitatory neurons", fontsize=12)
    return _save(fig, path)


def plot_confusion(
    matrix: np.ndarray, path: str | Path, title: str | None = None, class_names: Sequence[str] = DIGITS
) -> Path:
    """A 10 x 10 confusion matrix (rows = true class, columns = predicted): counts, and
    normalised by row (the share of each true class given each prediction)."""
    matrix = np.asarray(matrix, dtype=np.int64)
    total = int(matrix.sum())
    accuracy = np.trace(matrix) / total if total else 0.0
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
    fig = Figure(figsize=(15, 7))
    bottom = 0.17 if _words(class_names) else 0.09
    gs = fig.add_gridspec(1, 2, left=0.05 + bottom - 0.09, right=0.97, top=0.86, bottom=bottom, wspace=0.18)
    panels = (
        (matrix, "counts", "Blues", lambda v: f"{int(v)}", matrix.max() or 1),
        (share * 100, "row-normalised (% of each true class)", "Greens", lambda v: f"{v:.1f}", 100.0),
    )
    for k, (values, name, cmap, fmt, top) in enumerate(panels):
        ax = fig.add_subplot(gs[k])
        image = ax.imshow(values, cmap=cmap, vmin=0, vmax=top, interpolation="nearest")
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                ax.text(
                    j,
                    i,
                    fmt(values[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if values[i, j] > 0.6 * top else "black",
                )
        _class_ticks(ax, class_names)
        _class_ticks(ax, class_names, axis="y")
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(name, fontsize=10)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
    fig.suptitle(f"{title or 'Confusion matrix'}: accuracy {accuracy:.4f} ({total} test images)", fontsize=12)
    return _save(fig, path)


def plot_learning_curve(
    records: Sequence[MetricsLine],
    path: str | Path,
    test_accuracy: dict | None = None,
    title: str | None = None,
) -> Path:
    """Training metrics lines (metrics.jsonl records) against examples seen: the running
    accuracy estimate, mean spikes per example, and mean theta. ``test_accuracy``
    ({"all": 0.8, ...}) marks the evaluation's test accuracies at the end."""
    records = list(records)
    seen = np.array([r.examples_seen for r in records], dtype=np.float64)
    fig = Figure(figsize=(11, 9))
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": (1.4, 1, 1), "hspace": 0.12})
    fig.subplots_adjust(left=0.09, right=0.91, top=0.92, bottom=0.07)
    acc = [(r.examples_seen, r.running_accuracy) for r in records if r.running_accuracy is not None]
    ax = axes[0]
    if acc:
        x, y = np.array(acc).T
        ax.plot(
            x,
            y,
            "o-",
            color="#4c72b0",
            markersize=3,
            label="running accuracy (window's own examples, previous window's assignment)",
        )
        ax.set_title(f"latest running accuracy {y[-1]:.3f}", fontsize=10)
    else:
        ax.text(
            0.5,
            0.5,
            "no running accuracy recorded\n(train with labels: stdp-mnist train records it)",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="grey",
        )
    # one marker per readout, in order; a run evaluated by fewer readouts uses the first ones
    for (name, value), style in zip((test_accuracy or {}).items(), ("s", "D", "^"), strict=False):
        if value is not None and len(seen):
            ax.plot(
                [seen[-1]],
                [value],
                style,
                color="#c44e52",
                markersize=7,
                linestyle="none",
                label=f"test accuracy, {name} voting: {value:.3f}",
            )
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower right")
    spikes = np.array([r.spikes_per_example for r in records], dtype=np.float64)  # None: NaN
    axes[1].plot(seen, spikes, "o-", color="#55a868", markersize=3)
    axes[1].set_ylabel("spikes / example")
    axes[1].grid(alpha=0.3)
    boosts = np.array([r.boosts or 0 for r in records], dtype=np.float64)
    window = np.diff(np.concatenate([[0.0], seen]))
    bx = axes[1].twinx()
    bx.plot(seen, boosts / np.maximum(window, 1), ".:", color="#8172b2", markersize=3)
    bx.set_ylabel("boosts / example", color="#8172b2")
    bx.tick_params(axis="y", colors="#8172b2")
    axes[2].plot(
        seen,
        np.array([r.mean_theta_mv for r in records], dtype=np.float64),
        "o-",
        color="#dd8452",
        markersize=3,
    )
    axes[2].set_ylabel("mean theta (mV)")
    axes[2].set_xlabel("training examples seen")
    axes[2].grid(alpha=0.3)
    fig.suptitle(title or "Learning curve (one point per metrics window)", fontsize=12)
    return _save(fig, path)


def plot_example(
    path: str | Path,
    *,
    image: np.ndarray,
    dt_ms: float,
    input_spikes: tuple[np.ndarray, np.ndarray],
    exc_spikes: tuple[np.ndarray, np.ndarray],
    n_excitatory: int,
    v: np.ndarray,
    threshold: np.ndarray,
    neurons: Sequence[int],
    counts: np.ndarray | None = None,
    scores: np.ndarray | None = None,
    label: int | None = None,
    predicted: int | None = None,
    assignments: np.ndarray | None = None,
    note: str = "",
    title: str | None = None,
    class_names: Sequence[str] = DIGITS,
) -> Path:
    """One example in detail: the input image, the input spike raster, the excitatory
    spike raster, and the membrane potential and threshold of a few neurons (``v`` and
    ``threshold`` are steps x len(neurons), mV) over the presentation; ``scores``
    (votes per class) and the predicted / true class when known."""
    image = np.asarray(image).reshape(SIDE, SIDE)
    v, threshold = np.atleast_2d(v), np.atleast_2d(threshold)
    steps = v.shape[0]
    t_end = steps * dt_ms
    times = (np.arange(steps) + 1) * dt_ms
    neuron_colours = ["#c44e52", "#4c72b0", "#55a868", "#8172b2", "#dd8452"]
    fig = Figure(figsize=(14, 10))
    gs = fig.add_gridspec(
        3,
        2,
        width_ratios=(1, 3.3),
        height_ratios=(1, 1, 1.25),
        left=0.06,
        right=0.98,
        top=0.92,
        bottom=0.06,
        hspace=0.3,
        wspace=0.16,
    )
    ax = fig.add_subplot(gs[0, 0])
    ax.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(
        "input image" + (f" (label {_named(label, class_names)})" if label is not None else ""), fontsize=10
    )

    in_steps, in_ids = input_spikes
    rx = fig.add_subplot(gs[0, 1])
    rx.scatter((np.asarray(in_steps) + 1) * dt_ms, in_ids, s=2, marker="|", color="black", linewidths=0.5)
    rx.set_xlim(0, t_end)
    rx.set_ylim(N_INPUTS, 0)
    rx.set_ylabel("input (pixel index)")
    rate = len(in_ids) / (N_INPUTS * t_end / 1000.0) if t_end else 0.0
    rx.set_title(f"input spike raster: {len(in_ids)} spikes (mean {rate:.1f} Hz per pixel)", fontsize=10)

    ex_steps, ex_ids = np.asarray(exc_spikes[0]), np.asarray(exc_spikes[1])
    ex = fig.add_subplot(gs[1, 1], sharex=rx)
    colour_of = {int(j): neuron_colours[k % len(neuron_colours)] for k, j in enumerate(neurons)}
    dot_colours = [colour_of.get(int(j), "black") for j in ex_ids]
    ex.scatter((ex_steps + 1) * dt_ms, ex_ids, s=40, marker="|", c=dot_colours, linewidths=1.5)
    ex.set_ylim(n_excitatory - 0.5, -0.5)
    ex.set_ylabel("excitatory neuron")
    active = len(set(ex_ids.tolist()))
    ex.set_title(
        f"excitatory spike raster: {len(ex_ids)} spike{'s' * (len(ex_ids) != 1)} from {active} "
        f"neuron{'s' * (active != 1)}",
        fontsize=10,
    )

    vx = fig.add_subplot(gs[2, 1], sharex=rx)
    for k, j in enumerate(neurons):
        colour = colour_of[int(j)]
        fired = int(counts[j]) if counts is not None else int((ex_ids == j).sum())
        cls = f", class {assignments[j]}" if assignments is not None and assignments[j] >= 0 else ""
        vx.plot(times, v[:, k], color=colour, linewidth=1, label=f"neuron {j}: v ({fired} spikes{cls})")
        vx.plot(
            times, threshold[:, k], color=colour, linewidth=1, linestyle="--", label=f"neuron {j}: threshold"
        )
        at = ex_steps[ex_ids == j]
        vx.plot((at + 1) * dt_ms, threshold[at, k], "v", color=colour, markersize=6, linestyle="none")
    vx.set_xlabel("time (ms)")
    vx.set_ylabel("membrane potential (mV)")
    vx.set_xlim(0, t_end)
    vx.set_title(
        "membrane potential (solid) and threshold v_thresh + theta (dashed) of the most active "
        "neurons; triangles: spikes",
        fontsize=10,
    )
    vx.grid(alpha=0.3)

    sx = fig.add_subplot(gs[1, 0])
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        colours = ["#c44e52" if c == predicted else "#8fa8c8" for c in range(N_CLASSES)]
        sx.bar(np.arange(N_CLASSES), scores, color=colours)
        _class_ticks(sx, class_names)
        sx.set_xlabel("class")
        sx.set_title(
            "votes: mean spikes per neuron\nof each class"
            + (f" -> {_named(predicted, class_names)}" if predicted is not None else ""),
            fontsize=10,
        )
    else:
        per_neuron = np.bincount(ex_ids, minlength=n_excitatory) if counts is None else np.asarray(counts)
        sx.hist(
            per_neuron[per_neuron > 0], bins=np.arange(1, max(2, per_neuron.max() + 2)) - 0.5, color="grey"
        )
        sx.set_xlabel("spikes")
        sx.set_ylabel("neurons")
        sx.set_title("spikes per active neuron", fontsize=10)
    tx = fig.add_subplot(gs[2, 0])
    tx.set_axis_off()
    lines = [f"presentation: {t_end:.0f} ms, dt {dt_ms} ms", f"excitatory spikes: {len(ex_ids)}"]
    if predicted is not None:
        lines.append(f"predicted class: {_named(predicted, class_names)}")
    if label is not None:
        lines.append(f"true class: {_named(label, class_names)}")
    if note:
        lines.extend(note.splitlines())
    tx.text(
        0.0,
        1.0,
        "\n".join(lines),
        va="top",
        ha="left",
        fontsize=10,
        family="monospace",
        transform=tx.transAxes,
    )
    handles, labels = vx.get_legend_handles_labels()
    if handles:
        tx.legend(handles, labels, fontsize=8, loc="lower left", frameon=False, borderaxespad=0.0)
    fig.suptitle(title or "One example in detail (frozen network)", fontsize=12)
    return _save(fig, path)


def plot_pass_curve(
    passes: Sequence[int],
    accuracies: dict[str, Sequence[float]],
    spikes: Sequence[float],
    ms_per_example: Sequence[float],
    path: str | Path,
    paper: float | None = None,
    title: str | None = None,
) -> Path:
    """A long run's figures per finished pass: test accuracy by readout (NaN where a
    pass is not evaluated; the evaluated passes are joined) against the paper's figure,
    and spikes per training example with the median training ms per example."""
    fig = Figure(figsize=(8, 7))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"hspace": 0.1})
    # one line style per readout, in order; fewer readouts use the first ones
    for (name, values), style in zip(accuracies.items(), ("o-", "s-", "^-"), strict=False):
        evaluated = ~np.isnan(np.asarray(values, dtype=float))
        top.plot(
            np.asarray(passes)[evaluated],
            np.asarray(values, dtype=float)[evaluated],
            style,
            markersize=5,
            label=name,
        )
    if paper is not None:
        top.axhline(paper, color="grey", linestyle="--", label=f"paper {paper:.3f}")
    top.set_ylabel("test accuracy")
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="lower right")
    bottom.plot(passes, spikes, "o-", color="#55a868", markersize=5)
    bottom.set_ylabel("spikes / training example", color="#55a868")
    bottom.set_xlabel("pass")
    bottom.grid(alpha=0.3)
    speed = bottom.twinx()
    speed.plot(passes, ms_per_example, "s:", color="#8172b2", markersize=4)
    speed.set_ylabel("median ms / training example", color="#8172b2")
    bottom.set_xticks(list(passes))
    fig.suptitle(title or "Per pass", fontsize=12)
    return _save(fig, path)
