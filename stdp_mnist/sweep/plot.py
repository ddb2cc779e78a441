"""summary.png: a sweep's test accuracies against its swept values.

One panel per swept key whose value varies, one series (a colour) per combination of
the other keys; each series shows the three readouts' test accuracies as fractions,
as the summary tables give them: 'all' voting (filled circles, solid), 'proportion'
voting (triangles, dotted) and the supervised linear readout (open squares, dashed),
each the mean over seeds with the seeds' min-max as error bars, and every seed's 'all'
accuracy as a dot. Numeric values are placed on a numeric axis and joined by lines;
other values (words, true/false, the base config's "(base)") are separate categories,
not joined, the series side by side. The readouts' legend is outside the panels on the
right; a panel's series (their colours) are named below it.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from ..progress import plural
from .summary import ACCURACY_ALL
from .sweep_file import Sweep, text

BASE = "(base)"  # the value shown for a run whose point does not set the key
PANEL_WIDTH_IN, HEIGHT_IN = 4.8, 4.4
LEGEND_WIDTH_IN = 2.6  # room on the right for the legend
CHARS_PER_INCH = 11  # of the 10-point title, so that it is wrapped to fit the figure
DODGE = 0.12  # sideways step between the series of a categorical panel
STYLES = {
    "accuracy_all": {"marker": "o", "linestyle": "-"},
    "accuracy_proportion": {"marker": "^", "linestyle": ":"},
    "accuracy_linear": {"marker": "s", "linestyle": "--", "markerfacecolor": "none"},
}
READOUTS = {
    "accuracy_all": "'all' voting",
    "accuracy_proportion": "'proportion' voting",
    "accuracy_linear": "linear readout (supervised)",
}


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


def _varying_keys(sweep: Sweep, rows: list[dict]) -> list[str | None]:
    """The swept keys whose value differs between runs; [None] for a sweep of one
    point (its seeds shown as one category)."""
    varying = [k for k in sweep.keys if len({repr(r["overrides"].get(k, BASE)) for r in rows}) > 1]
    return varying or [None]


def _series(done: list[dict], key: str | None) -> dict[str, dict[str, list[dict]]]:
    """{series label (the other keys' values): {repr(x value): the runs there}}."""
    series: dict[str, dict[str, list[dict]]] = {}
    for r in done:
        x = r["overrides"].get(key, BASE) if key else "all runs"
        other = ", ".join(f"{k}={text(v)}" for k, v in r["overrides"].items() if k != key) or "base"
        series.setdefault(other, {}).setdefault(repr(x), []).append(r)
    return series


def _draw(ax, xs: list[float], groups: list[list[dict]], accuracy: str, color, joined: bool):
    """One accuracy of one series: the mean over seeds (a fraction) with the seeds'
    min-max; returns the line's colour (matplotlib's next one when ``color`` is None)."""
    points = [
        (x, [r[accuracy] for r in group if r.get(accuracy) is not None])
        for x, group in zip(xs, groups, strict=True)
    ]
    points = [(x, values) for x, values in points if values]
    if not points:
        return color
    mean = [sum(v) / len(v) for _, v in points]
    style = dict(STYLES[accuracy], **({} if joined else {"linestyle": "none"}))
    line = ax.errorbar(
        [x for x, _ in points],
        mean,
        yerr=[
            [m - min(v) for m, (_, v) in zip(mean, points, strict=True)],
            [max(v) - m for m, (_, v) in zip(mean, points, strict=True)],
        ],
        capsize=4,
        color=color,
        **style,
    )
    color = line[0].get_color()
    if accuracy == "accuracy_all":
        for x, values in points:
            ax.scatter([x] * len(values), values, s=12, color=color, alpha=0.5, zorder=3)
    return color


def _scored_split(sweep: Sweep) -> str:
    """What the sweep's runs are scored on, evaluation.split: "test" or "validation"
    (from --set, else the base config)."""
    return dict(sweep.common).get(
        "evaluation.split", sweep.base_data.get("evaluation", {}).get("split", "test")
    )


def _panel(ax, key: str | None, rows: list[dict], done: list[dict], split: str) -> None:
    """Draw one swept key's panel, with its series' colours in a legend below it
    (outside the plot) when there are several; the accuracy axis names ``split``."""
    values = list(dict.fromkeys(r["overrides"].get(key, BASE) for r in rows)) if key else ["all runs"]
    numeric = key is not None and _numeric(values)
    position = {repr(v): (v if numeric else i) for i, v in enumerate(values)}
    series = _series(done, key)
    colors = {}
    for j, (label, groups) in enumerate(series.items()):
        xs = sorted(groups, key=lambda k: position[k])
        offset = 0.0 if numeric else DODGE * (j - (len(series) - 1) / 2)
        px = [position[k] + offset for k in xs]
        color = None
        for accuracy in READOUTS:
            color = _draw(ax, px, [groups[k] for k in xs], accuracy, color, numeric)
        colors[label] = color
    if not numeric:
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels([text(v) for v in values], rotation=20 if len(values) > 3 else 0)
        ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_xlabel(key or "")
    ax.set_ylabel(f"{split} accuracy")
    ax.grid(alpha=0.3)
    if len(colors) > 1:
        from matplotlib.lines import Line2D

        ax.legend(
            [Line2D([], [], color=color, linewidth=6) for color in colors.values()],
            list(colors),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.15),
            fontsize=7,
            frameon=False,
        )


def _readout_legend(fig) -> None:
    """The figure's legend of the readouts' markers and line styles (in grey),
    outside the panels on the right."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="0.3", **STYLES[accuracy]) for accuracy in READOUTS]
    fig.legend(handles, list(READOUTS.values()), loc="outside right upper", fontsize=8)


def _title(sweep: Sweep, width_in: float) -> str:
    """The figure's title, wrapped to the figure's width."""
    common = "".join(f", {key}={text(value)}" for key, value in sweep.common)
    words = (
        f"{sweep.path.name}{common}: mean over {plural(len(sweep.seeds), 'seed')}; "
        "bars: seed min-max; dots: each seed's 'all'"
    )
    return textwrap.fill(words, width=int(width_in * CHARS_PER_INCH))


def summary_figure(sweep: Sweep, rows: list[dict]):
    """The figure of summary.png (see the module docstring), or None when no run has an
    accuracy; the caller closes it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in rows if r[ACCURACY_ALL] is not None]
    if not done:
        return None
    varying = _varying_keys(sweep, rows)
    width = PANEL_WIDTH_IN * len(varying) + LEGEND_WIDTH_IN
    fig, axes = plt.subplots(1, len(varying), figsize=(width, HEIGHT_IN), squeeze=False, layout="constrained")
    for ax, key in zip(axes[0], varying, strict=True):
        _panel(ax, key, rows, done, _scored_split(sweep))
    _readout_legend(fig)
    fig.suptitle(_title(sweep, width), fontsize=10)
    return fig


def plot_summary(sweep: Sweep, rows: list[dict], path: Path) -> Path | None:
    """Write summary.png to ``path``; None (nothing written) when no run has an accuracy."""
    fig = summary_figure(sweep, rows)
    if fig is None:
        return None
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
