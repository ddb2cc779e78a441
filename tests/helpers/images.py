"""Image files in the tests: hand-drawn digits as a user would give them to `predict`,
and the check that a figure is a real PNG."""

from pathlib import Path

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def draw_one(size: int = 100) -> np.ndarray:
    """A clear '1': a dark vertical bar on a light background."""
    image = np.full((size, size), 255, np.uint8)
    image[int(0.15 * size) : int(0.85 * size), int(0.45 * size) : int(0.56 * size)] = 0
    return image


def draw_zero(size: int = 100) -> np.ndarray:
    """A clear '0': a dark upright ring on a light background."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    r = np.hypot(yy - 0.5, (xx - 0.5) * 1.3)
    return np.where((r > 0.22) & (r < 0.34), 0, 255).astype(np.uint8)


def save_image(path: Path, array: np.ndarray, **kwargs) -> Path:
    """Write ``array`` as an image file (format from the suffix; kwargs go to PIL)."""
    Image.fromarray(array).save(path, **kwargs)
    return path


def assert_png(path: Path) -> tuple[int, int]:
    """A readable, non-empty PNG; returns its (width, height)."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000, path
    with Image.open(path) as image:
        return image.size
