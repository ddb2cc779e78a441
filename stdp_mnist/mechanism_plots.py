"""Figures of the model's mechanisms (stdp_mnist.mechanisms, stdp_mnist.diagnostics),
written as PNG files, and the receptive fields through training as a GIF.

Like stdp_mnist.plots, each function takes what was measured and a path, writes one
file there and returns the path.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from .atomic import atomic_open
from .diagnostics import ExampleTrace
from .mechanisms import Encoding, NeuronTrace, StdpWindow
from .plots import SIDE, _save, receptive_field_mosaic

INPUT_COLOUR, V_COLOUR, THRESHOLD_COLOUR = "#4c72b0", "#222222", "#c44e52"
GE_COLOUR, GI_COLOUR, THETA_COLOUR = "#55a868", "#8172b2", "#dd8452"
# Neurons shown by the prototype strip, and snapshots (columns) at most.
STRIP_NEURONS, STRIP_COLUMNS = 8, 8
GIF_FRAME_MS = 400


def plot_neuron_trace(trace: NeuronTrace, path: str | Path, title: str | None = None) -> Path:
    """The inputs, v with its threshold, reset and refractory periods, g_e and g_i, and
    theta of one neuron over a presentation. Where the neuron fired, a dotted segment
    rises to the membrane the step reached before the reset (``free_v``)."""
    t = trace.times_ms
    fig = Figure(figsize=(11, 9))
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": (0.8, 2, 1.2, 0.8), "hspace": 0.3})
    rx, vx, gx, tx = axes
    rx.scatter((trace.input_steps + 1) * trace.dt_ms, trace.input_ids, s=12, marker="|", color=INPUT_COLOUR)
    rx.set_ylabel("input")
    rx.set_title(
        f"input spike train: {len(trace.input_ids)} spikes from {trace.input_ids.max() + 1} inputs",
        fontsize=10,
    )

    vx.plot(t, trace.v, color=V_COLOUR, linewidth=1, label="v")
    vx.plot(
        t,
        trace.threshold,
        color=THRESHOLD_COLOUR,
        linestyle="--",
        linewidth=1,
        label="threshold v_thresh + θ",
    )
    vx.axhline(trace.v_reset, color="grey", linestyle=":", linewidth=1, label=f"reset {trace.v_reset:g} mV")
    for k, step in enumerate(trace.spike_steps):
        before = trace.v[step - 1] if step > 0 else trace.v[0]
        vx.plot([t[step]] * 2, [before, trace.free_v[step]], color=V_COLOUR, linestyle=":", linewidth=1)
        vx.plot(
            t[step],
            trace.free_v[step],
            "^",
            color=THRESHOLD_COLOUR,
            markersize=6,
            label="spike: v crossed the threshold" if k == 0 else None,
        )
        vx.axvspan(
            t[step],
            t[step] + trace.refractory_ms,
            color="grey",
            alpha=0.2,
            label=f"refractory {trace.refractory_ms:g} ms (v held at reset)" if k == 0 else None,
        )
    vx.set_ylabel("membrane potential (mV)")
    vx.legend(fontsize=8, loc="lower right")
    vx.set_title(f"membrane: {len(trace.spike_steps)} spikes", fontsize=10)
    vx.grid(alpha=0.3)

    gx.plot(t, trace.g_e, color=GE_COLOUR, linewidth=1, label="g_e (excitatory)")
    gx.plot(t, trace.g_i, color=GI_COLOUR, linewidth=1, label="g_i (inhibitory)")
    for k, step in enumerate(trace.rival_steps):
        gx.axvline(
            t[step],
            color=GI_COLOUR,
            alpha=0.4,
            linestyle=":",
            label="a rival neuron fired" if k == 0 else None,
        )
    gx.set_ylabel("conductance\n(leak units)")
    gx.legend(fontsize=8, loc="upper right")
    gx.grid(alpha=0.3)

    tx.plot(t, trace.theta, color=THETA_COLOUR, linewidth=1.2)
    tx.ticklabel_format(axis="y", useOffset=False)
    tx.set_ylabel("θ (mV)")
    tx.set_xlabel("time (ms)")
    tx.set_title("adaptive threshold θ: up by θ+ at each spike, decaying with τ_θ", fontsize=10)
    tx.grid(alpha=0.3)
    tx.set_xlim(0, t[-1])
    fig.suptitle(title or "One excitatory neuron, recorded from the kernel", fontsize=12)
    return _save(fig, path)


def plot_stdp_window(window: StdpWindow, path: str | Path, title: str | None = None) -> Path:
    """Measured weight change of one synapse (dots) against t_post - t_pre, the rule's
    formula (line) drawn over it: the whole window, and its t_post < t_pre side on its
    own scale (depression is far weaker than potentiation in the reference)."""
    fig = Figure(figsize=(12, 5.5))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": (1.6, 1), "wspace": 0.3})
    error = np.abs(window.measured - window.formula).max()
    negative = window.intervals_ms < 0
    for ax, shown in zip(axes, (np.ones_like(negative), negative), strict=True):
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.axvline(0, color="grey", linewidth=0.8)
        for part in (negative, ~negative):  # the formula's two branches, each as one line
            ax.plot(
                window.intervals_ms[shown & part],
                window.formula[shown & part],
                color=THRESHOLD_COLOUR,
                gid="formula",
            )
        ax.plot(
            window.intervals_ms[shown],
            window.measured[shown],
            "o",
            color=V_COLOUR,
            markersize=3,
            gid="measured",
        )
        ax.set_xlabel("t_post − t_pre (ms)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"weight change Δw (from w = {window.w0:g})")
    axes[0].plot([], [], color=THRESHOLD_COLOUR, label="the rule's formula")
    axes[0].plot([], [], "o", color=V_COLOUR, markersize=3, label="measured: one pairing through the kernel")
    axes[0].legend(fontsize=9)
    axes[0].set_title(f"{window.rule} rule; largest |measured − formula| = {error:.1e}", fontsize=10)
    axes[1].set_title("t_post < t_pre, on its own scale", fontsize=10)
    fig.suptitle((title or "The STDP window, measured") + "\n" + window.formula_text, fontsize=11)
    return _save(fig, path)


def plot_encoding(enc: Encoding, path: str | Path, title: str | None = None) -> Path:
    """The image, its input raster in one presentation, and every pixel's measured rate
    over all presentations against its value, with intensity x pixel x rate per pixel."""
    fig = Figure(figsize=(13, 5))
    gs = fig.add_gridspec(1, 3, width_ratios=(1, 2.4, 1.6), wspace=0.3, left=0.04, right=0.98)
    ix = fig.add_subplot(gs[0])
    ix.imshow(enc.image.reshape(SIDE, SIDE), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ix.set_xticks([])
    ix.set_yticks([])
    ix.set_title("image (pixel values 0-255)", fontsize=10)
    rx = fig.add_subplot(gs[1])
    rx.scatter(
        (enc.raster_steps + 1) * enc.dt_ms, enc.raster_inputs, s=2, marker="|", color="black", linewidths=0.5
    )
    rx.set_xlim(0, enc.present_ms)
    rx.set_ylim(enc.image.size, 0)
    rx.set_xlabel("time (ms)")
    rx.set_ylabel("input (pixel index)")
    rx.set_title(f"one presentation: {len(enc.raster_inputs)} input spikes", fontsize=10)
    sx = fig.add_subplot(gs[2])
    pixels = enc.image.astype(np.float64)
    sx.plot(
        pixels,
        enc.measured_hz,
        "o",
        color=INPUT_COLOUR,
        markersize=2,
        alpha=0.5,
        label=f"measured ({enc.repeats} presentations)",
    )
    line = np.array([0.0, 255.0])
    sx.plot(
        line,
        line * enc.rate_per_pixel_hz * enc.intensity,
        color=THRESHOLD_COLOUR,
        label=f"{enc.intensity:g} × pixel × {enc.rate_per_pixel_hz:g} Hz",
    )
    sx.set_xlabel("pixel value")
    sx.set_ylabel("rate (Hz)")
    sx.set_title("rate against pixel value", fontsize=10)
    sx.legend(fontsize=8)
    sx.grid(alpha=0.3)
    fig.suptitle(title or "Poisson encoding of one image, drawn by the kernel", fontsize=12)
    return _save(fig, path)


def plot_inhibition(trace: ExampleTrace, path: str | Path, title: str | None = None) -> Path:
    """One presentation: input raster, excitatory raster with the winner marked, the
    inhibitory conductance of the winner and of the others, and the winner's v."""
    winner = int(trace.winners(1)[0])
    t = trace.times_ms
    others = np.delete(np.arange(trace.g_i.shape[1]), winner)
    fig = Figure(figsize=(11, 10))
    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": (1.2, 1.2, 1, 1), "hspace": 0.3})
    rx, ex, gx, vx = axes
    in_steps, in_ids = trace.input_spikes()
    rx.scatter((in_steps + 1) * trace.dt_ms, in_ids, s=2, marker="|", color="black", linewidths=0.5)
    rx.set_ylim(trace.image.size, 0)
    rx.set_ylabel("input (pixel)")
    rx.set_title(f"input raster: {len(in_ids)} spikes", fontsize=10)
    won = trace.spike_neurons == winner
    ex.scatter(
        (trace.spike_steps[~won] + 1) * trace.dt_ms,
        trace.spike_neurons[~won],
        s=30,
        marker="|",
        color="grey",
        label="other neurons",
    )
    ex.scatter(
        (trace.spike_steps[won] + 1) * trace.dt_ms,
        trace.spike_neurons[won],
        s=40,
        marker="|",
        color=THRESHOLD_COLOUR,
        label=f"winner: neuron {winner}",
    )
    ex.set_ylim(trace.g_i.shape[1] - 0.5, -0.5)
    ex.set_ylabel("excitatory neuron")
    ex.legend(fontsize=8, loc="upper right")
    ex.set_title(
        f"excitatory raster: {len(trace.spike_steps)} spikes, {int(trace.counts[winner])} of them the winner's",
        fontsize=10,
    )
    gx.plot(t, trace.g_i[:, others].mean(axis=1), color=GI_COLOUR, label="g_i, mean of the other neurons")
    gx.plot(
        t, trace.g_i[:, winner], color=THRESHOLD_COLOUR, linewidth=1, label=f"g_i of the winner ({winner})"
    )
    gx.set_ylabel("inhibitory conductance\n(leak units)")
    gx.legend(fontsize=8, loc="upper right")
    gx.grid(alpha=0.3)
    gx.set_title("each excitatory spike drives inhibition onto every other neuron", fontsize=10)
    vx.plot(t, trace.v[:, winner], color=V_COLOUR, linewidth=1, label="v of the winner")
    vx.plot(
        t,
        trace.threshold[:, winner],
        color=THRESHOLD_COLOUR,
        linestyle="--",
        linewidth=1,
        label="its threshold",
    )
    vx.set_ylabel("mV")
    vx.set_xlabel("time (ms)")
    vx.legend(fontsize=8, loc="lower right")
    vx.grid(alpha=0.3)
    vx.set_xlim(0, t[-1])
    fig.suptitle(title or "Lateral inhibition in one presentation", fontsize=12)
    return _save(fig, path)


def strip_columns(n_snapshots: int, most: int = STRIP_COLUMNS) -> np.ndarray:
    """Indices of at most ``most`` snapshots, evenly spread, first and last included."""
    return np.unique(np.round(np.linspace(0, n_snapshots - 1, min(most, n_snapshots))).astype(int))


def plot_prototype_strip(
    snapshots: Sequence[tuple[int, np.ndarray]], path: str | Path, title: str | None = None
) -> Path:
    """The receptive fields of the STRIP_NEURONS neurons whose weights moved most from
    the first snapshot to the last (rows, in neuron order) at up to STRIP_COLUMNS
    snapshots (columns), each field on its own colour scale."""
    columns = strip_columns(len(snapshots))
    moved = np.abs(snapshots[-1][1] - snapshots[0][1]).sum(axis=0)
    neurons = np.sort(np.argsort(-moved, kind="stable")[:STRIP_NEURONS])
    fig = Figure(figsize=(1.3 * len(columns) + 0.8, 1.3 * len(neurons) + 0.9))
    axes = np.atleast_2d(fig.subplots(len(neurons), len(columns), squeeze=False))
    for c, k in enumerate(columns):
        examples, weights = snapshots[k]
        for row, j in enumerate(neurons):
            ax = axes[row, c]
            ax.imshow(weights[:, j].reshape(SIDE, SIDE), cmap="hot_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"{examples:,}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"neuron {j}", fontsize=8)
    fig.suptitle(
        (title or "Receptive fields through training (columns: examples seen)")
        + f"\nthe {len(neurons)} neurons whose weights moved most",
        fontsize=11,
    )
    return _save(fig, path)


def prototype_frame(weights: np.ndarray, examples: int, title: str) -> Image.Image:
    """One animation frame: every neuron's receptive field on the neuron grid."""
    fig = Figure(figsize=(6, 6.4))
    ax = fig.add_subplot()
    mosaic = receptive_field_mosaic(weights)
    ax.imshow(mosaic, cmap="hot_r", vmin=0, vmax=max(float(np.nanmax(mosaic)), 1e-9), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{title}\nafter {examples:,} training examples", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    buffer.seek(0)
    return Image.open(buffer).convert("P", palette=Image.Palette.ADAPTIVE)


def write_prototype_gif(
    snapshots: Sequence[tuple[int, np.ndarray]], path: str | Path, title: str = "Receptive fields"
) -> Path:
    """An animated GIF with one frame per snapshot (GIF_FRAME_MS each, the last held)."""
    frames = [prototype_frame(weights, examples, title) for examples, weights in snapshots]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [GIF_FRAME_MS] * (len(frames) - 1) + [GIF_FRAME_MS * 5]
    with atomic_open(path) as fh:
        frames[0].save(fh, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path
