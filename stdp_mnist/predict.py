"""Classify the user's own digit images with a trained, evaluated run.

Images are brought to MNIST's form first (``preprocess``): grey, white ink on black
(inverted when the border is lighter than the centre), the digit scaled to fit a
20 x 20 box with its aspect kept, and placed in a 28 x 28 field so that its centre of
mass is at the centre, as MNIST's digits were. Each image is then one frozen
presentation (``kernel.frozen_responses``, a block of its own, from rest, with a
random stream derived from the run seed: the same image always gets the same answer)
classified with the neuron assignment of the run's evaluation (assignments.npz).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from . import kernel, readout
from .config import Config
from .constants import IMAGE_SIDE as SIDE
from .evaluation import call_heeding_signals
from .network import STREAM_PREDICT, Network, kernel_params, random_seed
from .rundir import ASSIGNMENTS_FILE, RunDirError

MAX_PIXELS = 50_000_000
BOX = 20  # MNIST: each digit scaled to fit a 20 x 20 box, aspect kept
CENTRE = 14.0  # MNIST's mean centre of mass (row and column, pixel indices)
INK_FLOOR = 0.15  # after inversion, values below this share of the peak are background


class ImageError(Exception):
    """A file given to predict that is not a usable digit image."""


def predict_seed(cfg: Config) -> int:
    """The random stream of every predict presentation (and of its detail trace)."""
    return random_seed(cfg.run.seed, STREAM_PREDICT)


def _grey_pixels(image: Image.Image) -> np.ndarray:
    """The image as float grey levels 0..255; transparency is composited onto white, or
    onto black when what is opaque is light (a light digit on a transparent background)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = values.max()
        return values * (255.0 / top) if top > 0 else values
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64)
        grey = np.asarray(rgba.convert("L"), dtype=np.float64)
        light_ink = alpha.sum() > 0 and (grey * alpha).sum() / alpha.sum() > 127.5
        background = (0, 0, 0, 255) if light_ink else (255, 255, 255, 255)
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, background), rgba)
    return np.asarray(image.convert("L"), dtype=np.float64)


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as float grey levels (H x W, 0..255); one-line ImageError for
    anything that is not a readable image of at most MAX_PIXELS pixels."""
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file, not an image")
    return read_image(path, str(path))


def read_image(source: str | Path | BinaryIO, name: str) -> np.ndarray:
    """Read an image (a path or a binary file object, called ``name`` in errors) as float
    grey levels (H x W, 0..255); one-line ImageError for anything that is not a readable
    image of at most MAX_PIXELS pixels."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageError(
                        f"{name}: {width} x {height} pixels is too large "
                        f"(at most {MAX_PIXELS // 1_000_000} megapixels)"
                    )
                if width == 0 or height == 0:
                    raise ImageError(f"{name}: image has no pixels")
                image = ImageOps.exif_transpose(image)
                return _grey_pixels(image)
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(f"{name}: too large (at most {MAX_PIXELS // 1_000_000} megapixels)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not an image (PNG, JPEG or another format Pillow reads)") from None
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        raise ImageError(f"{name}: cannot read image ({exc})") from None


def preprocess(grey: np.ndarray) -> np.ndarray:
    """MNIST's form of a grey image (H x W, 0..255, any size): 28 x 28 uint8, white ink
    on black, digit scaled into 20 x 20 (aspect kept), centre of mass at the centre."""
    grey = np.asarray(grey, dtype=np.float64)
    if grey.ndim != 2 or grey.size == 0:
        raise ImageError(f"expected a 2-D grey image, got shape {grey.shape}")
    h, w = grey.shape
    rim = max(1, min(h, w) // 20)
    border = np.concatenate(
        [grey[:rim].ravel(), grey[-rim:].ravel(), grey[:, :rim].ravel(), grey[:, -rim:].ravel()]
    )
    centre = grey[h // 4 : h - h // 4, w // 4 : w - w // 4]
    if border.mean() > centre.mean():
        grey, border = 255.0 - grey, 255.0 - border
    ink = np.clip(grey - np.median(border), 0.0, None)
    peak = ink.max()
    if peak < 16.0:
        raise ImageError("no digit found: the image is (nearly) uniform")
    ink[ink < INK_FLOOR * peak] = 0.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * (255.0 / peak)
    scale = BOX / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = np.asarray(Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.LANCZOS))
    small = np.clip(small, 0.0, None)
    small *= 255.0 / max(small.max(), 1e-9)
    yy, xx = np.mgrid[0 : small.shape[0], 0 : small.shape[1]]
    mass = small.sum()
    cy, cx = (yy * small).sum() / mass, (xx * small).sum() / mass
    top = int(np.clip(round(CENTRE - cy), 0, SIDE - small.shape[0]))
    left = int(np.clip(round(CENTRE - cx), 0, SIDE - small.shape[1]))
    out = np.zeros((SIDE, SIDE))
    out[top : top + small.shape[0], left : left + small.shape[1]] = small
    return np.round(np.clip(out, 0, 255)).astype(np.uint8)


def load_digit(path: str | Path) -> np.ndarray:
    """An image file as an MNIST-like 28 x 28 uint8 digit."""
    return _digit(lambda: load_image(path), str(path))


def digit_from_bytes(data: bytes, name: str) -> np.ndarray:
    """An image's bytes (an upload called ``name``) as an MNIST-like 28 x 28 uint8 digit,
    read and preprocessed exactly as ``load_digit`` reads a file."""
    if not data:
        raise ImageError(f"{name}: empty file, not an image")
    return _digit(lambda: read_image(io.BytesIO(data), name), name)


def _digit(read, name: str) -> np.ndarray:
    """``preprocess`` of what ``read()`` returns, every ImageError naming ``name``."""
    try:
        return preprocess(read())
    except ImageError as exc:
        if str(exc).startswith(name):
            raise
        raise ImageError(f"{name}: {exc}") from None


@dataclass
class Prediction:
    """One image's frozen response and its classification."""

    label_all: int  # 'all' voting (the reference's)
    label_proportion: int
    scores_all: np.ndarray  # (10,) mean spikes of each class's assigned neurons
    scores_proportion: np.ndarray  # (10,)
    counts: np.ndarray  # (N,) spikes per neuron
    retries: int  # intensity boosts

    @property
    def spikes(self) -> int:
        return int(self.counts.sum())

    def classes(self, linear=None) -> dict[str, int]:
        """The class by each readout: 'all' and 'proportion' voting, and 'linear' where a
        linear readout (stdp_mnist.linear.LinearReadout) is given."""
        classes = {"all": self.label_all, "proportion": self.label_proportion}
        if linear is not None:
            classes["linear"] = int(linear.probabilities(self.counts[None])[0].argmax())
        return classes


def classify(
    cfg: Config, network: Network, assignments: np.ndarray, rates: np.ndarray, images: np.ndarray
) -> list[Prediction]:
    """Classify 28 x 28 (or 784) uint8 images, each from rest with the predict stream."""
    images = np.ascontiguousarray(np.asarray(images, dtype=np.uint8).reshape(-1, SIDE * SIDE))
    if len(assignments) != network.n_excitatory:
        raise RunDirError(
            f"{ASSIGNMENTS_FILE} has {len(assignments)} neurons, the model {network.n_excitatory}; "
            "evaluate the run again"
        )
    params = kernel_params(cfg, frozen=True)
    counts = np.zeros((len(images), network.n_excitatory), np.int32)
    retries = np.zeros(len(images), np.int64)
    seeds = np.full(len(images), predict_seed(cfg), np.uint64)
    call_heeding_signals(
        lambda: kernel.frozen_responses(
            params, images, 1, seeds, network.weights, network.theta, network.delays, counts, retries
        )
    )
    s_all = readout.scores_all(counts, assignments)
    s_prop = readout.scores_proportion(counts, assignments, rates)
    p_all = readout.predict_all(counts, assignments)
    p_prop = readout.predict_proportion(counts, assignments, rates)
    return [
        Prediction(int(p_all[k]), int(p_prop[k]), s_all[k], s_prop[k], counts[k], int(retries[k]))
        for k in range(len(images))
    ]
