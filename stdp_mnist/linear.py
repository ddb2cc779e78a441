"""A supervised linear readout of frozen spike counts: multinomial logistic regression.

The paper's readout labels each neuron with one class and lets the classes vote
(``readout``). A linear readout instead learns a weight for every (neuron, class)
pair from the labelled training images' spike counts, so it also uses which neurons
fire together. It is supervised, unlike the network: report it beside the voting
accuracies, never in place of them.

Counts (examples x neurons) go through a feature transform (``TRANSFORMS``), are
standardised per neuron with the training images' mean and standard deviation, and
scikit-learn's ``LogisticRegression`` (lbfgs, L2 penalty of inverse strength C) is
fitted in float32. Memory stays linear in the number of examples: the counts are
kept as uint16 (``evaluation.count_dtype``) and the features as float32, which
scikit-learn 1.9's lbfgs fits without a float64 copy (60,000 images x 6,400 neurons:
0.8 GB of counts, 1.5 GB of features). The fitted readout is stored as plain arrays
(``save``/``load``, no pickle) and applied with numpy (``probabilities``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_open
from .config import LINEAR_TRANSFORMS as TRANSFORMS
from .npzfile import NPZ_ERRORS, read_npz
from .readout import N_CLASSES

MAX_ITER = 1000  # lbfgs iterations; a fit that stops here is reported (metrics: linear_iterations)
ROWS_PER_CHUNK = 4096  # examples transformed at a time (bounds the float64 temporaries)
ABSENT_CLASS_LOGIT = -1e4  # intercept of a class missing from the labelled images: probability 0


class LinearReadoutError(Exception):
    """A linear readout that cannot be fitted, or a stored one that is unusable."""


@dataclass(frozen=True)
class LinearReadout:
    """A fitted readout: features = (transform(counts) - mean) / scale, logits =
    features @ coef.T + intercept, class probabilities = softmax(logits)."""

    transform: str  # one of TRANSFORMS
    c: float  # inverse L2 regularisation strength it was fitted with (scikit-learn's C)
    mean: np.ndarray  # float64 (N,), per-neuron mean of the transformed training counts
    scale: np.ndarray  # float64 (N,), per-neuron standard deviation (1 where it is 0)
    coef: np.ndarray  # float64 (10, N)
    intercept: np.ndarray  # float64 (10,)
    iterations: int  # lbfgs iterations the fit took (MAX_ITER: stopped before converging)

    @property
    def n_neurons(self) -> int:
        return self.coef.shape[1]

    def probabilities(self, counts: np.ndarray) -> np.ndarray:
        """Class probabilities (K x 10) of spike counts (K x N)."""
        logits = standardised(counts, self.transform, self.mean, self.scale) @ self.coef.T.astype(np.float32)
        logits = logits.astype(np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)

    def predict(self, counts: np.ndarray) -> np.ndarray:
        """The most probable class of each example (K,)."""
        return self.probabilities(counts).argmax(axis=1)


def transformed(counts: np.ndarray, transform: str) -> np.ndarray:
    """Feature transform of spike counts (K x N) as float64: the counts themselves,
    their square root, log(1 + count), or each count's share of the example's spikes."""
    x = np.asarray(counts, dtype=np.float64)
    if transform == "counts":
        return x
    if transform == "sqrt":
        return np.sqrt(x)
    if transform == "log1p":
        return np.log1p(x)
    if transform == "share":
        totals = x.sum(axis=1, keepdims=True)
        return np.divide(x, totals, out=np.zeros_like(x), where=totals > 0)
    raise LinearReadoutError(f"unknown feature transform {transform!r} (known: {', '.join(TRANSFORMS)})")


def standardised(counts: np.ndarray, transform: str, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(transform(counts) - mean) / scale as float32, a chunk of rows at a time."""
    out = np.empty(counts.shape, np.float32)
    for first in range(0, len(counts), ROWS_PER_CHUNK):
        rows = slice(first, first + ROWS_PER_CHUNK)
        out[rows] = (transformed(counts[rows], transform) - mean) / scale
    return out


def feature_moments(counts: np.ndarray, transform: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron mean and standard deviation of the transformed counts (a chunk of rows
    at a time); a neuron with no spread gets scale 1."""
    n = counts.shape[1]
    total, total_sq = np.zeros(n), np.zeros(n)
    for first in range(0, len(counts), ROWS_PER_CHUNK):
        x = transformed(counts[first : first + ROWS_PER_CHUNK], transform)
        total += x.sum(axis=0)
        total_sq += (x * x).sum(axis=0)
    mean = total / len(counts)
    std = np.sqrt(np.maximum(total_sq / len(counts) - mean * mean, 0.0))
    return mean, np.where(std > 1e-12, std, 1.0)


def fit(counts: np.ndarray, labels: np.ndarray, transform: str, c: float) -> LinearReadout:
    """Fit the readout to spike counts (K x N, non-negative integers) and labels (K,)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels, dtype=np.int64)
    present = np.unique(labels)
    if len(present) < 2:
        raise LinearReadoutError(
            f"the labelled images hold {len(present)} class(es); a linear readout needs two or more"
        )
    mean, scale = feature_moments(counts, transform)
    features = standardised(counts, transform, mean, scale)
    model = LogisticRegression(C=c, max_iter=MAX_ITER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported as iterations == MAX_ITER
        model.fit(features, labels)
    coef = np.zeros((N_CLASSES, counts.shape[1]))
    intercept = np.full(N_CLASSES, ABSENT_CLASS_LOGIT)
    if len(present) == 2:  # scikit-learn fits one logit, of the second class against the first
        coef[present[1]], intercept[present] = model.coef_[0], (0.0, model.intercept_[0])
    else:
        coef[present], intercept[present] = model.coef_, model.intercept_
    return LinearReadout(
        transform=transform,
        c=float(c),
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        iterations=int(np.max(model.n_iter_)),
    )


def to_arrays(readout: LinearReadout) -> dict[str, np.ndarray]:
    """The readout as named plain arrays (for an npz without pickle)."""
    return {
        "transform": np.array(readout.transform),
        "c": np.array(readout.c),
        "mean": readout.mean,
        "scale": readout.scale,
        "coef": readout.coef,
        "intercept": readout.intercept,
        "iterations": np.array(readout.iterations, np.int64),
    }


def from_arrays(arrays, n_neurons: int, source: str) -> LinearReadout:
    """Rebuild and check a readout from ``to_arrays``'s arrays (any mapping, e.g. an
    open npz); a missing, mistyped, misshaped or non-finite array is a one-line
    LinearReadoutError naming ``source``."""

    def get(name: str, shape: tuple[int, ...], kind: str) -> np.ndarray:
        try:
            value = np.asarray(arrays[name])
        except KeyError:
            raise LinearReadoutError(f"{source}: no linear readout array {name!r}") from None
        if value.shape != shape or value.dtype.kind not in kind:
            raise LinearReadoutError(
                f"{source}: linear readout {name} has shape {value.shape} and dtype "
                f"{value.dtype}, expected shape {shape}"
            )
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise LinearReadoutError(f"{source}: linear readout {name} holds non-finite values")
        return value

    transform = str(get("transform", (), "U"))
    if transform not in TRANSFORMS:
        raise LinearReadoutError(f"{source}: unknown linear readout transform {transform!r}")
    c, iterations = float(get("c", (), "f")), int(get("iterations", (), "iu"))
    scale = get("scale", (n_neurons,), "f").astype(np.float64)
    if c <= 0 or (scale <= 0).any() or iterations < 0:
        raise LinearReadoutError(
            f"{source}: linear readout out of range (C and scale must be positive, iterations not negative)"
        )
    return LinearReadout(
        transform=transform,
        c=c,
        mean=get("mean", (n_neurons,), "f").astype(np.float64),
        scale=scale,
        coef=get("coef", (N_CLASSES, n_neurons), "f").astype(np.float64),
        intercept=get("intercept", (N_CLASSES,), "f").astype(np.float64),
        iterations=iterations,
    )


def save(readout: LinearReadout, path: str | Path) -> None:
    """Write the readout to an npz file atomically."""
    with atomic_open(path) as fh:
        np.savez(fh, **to_arrays(readout))


def load(path: str | Path, n_neurons: int) -> LinearReadout:
    """Read a readout written by ``save`` (no pickle), checked against ``n_neurons``."""
    try:
        arrays = read_npz(path)
    except NPZ_ERRORS as exc:
        raise LinearReadoutError(
            f"{path}: not a readable linear readout ({' '.join(str(exc).split())})"
        ) from None
    return from_arrays(arrays, n_neurons, str(path))
