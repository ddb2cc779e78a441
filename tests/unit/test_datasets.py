"""Datasets by name (data.name): the DATASETS table, verification of the decompressed
content (raw, .gz, recompressed .gz alike), KMNIST's published-.gz checks, the
fetches (torchvision, Debian) with fakes, the one-line offline error, the config value,
the run record and the class names in figures. Synthetic IDX files only, no network."""

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.cli import invoke

from stdp_mnist import data, plots
from stdp_mnist.config import Config, ConfigError
from stdp_mnist.data import DATASETS, MNIST_FILES, DataError, _idx_bytes

GEN = np.random.default_rng(31)
FASHION = DATASETS["fashion-mnist"]
KMNIST = DATASETS["kmnist"]


def _arrays(n_train=30, n_test=12) -> dict[str, np.ndarray]:
    """Synthetic content of the four files, by canonical file name."""
    return {
        MNIST_FILES["train_images"]: GEN.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        MNIST_FILES["train_labels"]: GEN.integers(0, 10, n_train, dtype=np.uint8),
        MNIST_FILES["test_images"]: GEN.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        MNIST_FILES["test_labels"]: GEN.integers(0, 10, n_test, dtype=np.uint8),
    }


def _as_fashion(monkeypatch, arrays) -> None:
    """Make the synthetic content Fashion-MNIST's, as far as its checksums go."""
    for name, array in arrays.items():
        monkeypatch.setitem(FASHION.md5, name, hashlib.md5(_idx_bytes(array)).hexdigest())


def _write_gz(directory: Path, arrays, level: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        (directory / f"{name}.gz").write_bytes(gzip.compress(_idx_bytes(array), compresslevel=level, mtime=0))


def _no_fetch(*args, **kwargs):
    raise AssertionError("no fetch may be tried when the files are there")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No torchvision, no user cache: a fetch reaches only what a test fakes."""
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setenv("STDP_MNIST_DATA", str(tmp_path / "cache"))


def test_table_rows():
    assert DATASETS["mnist"].md5 is data.MNIST_MD5  # MNIST's checksums are the ones it always had
    assert DATASETS["mnist"].subdir == ""
    assert FASHION.classes[:2] == ("T-shirt/top", "Trouser") and FASHION.classes[-1] == "Ankle boot"
    for spec in DATASETS.values():
        assert len(spec.classes) == 10 and len(set(spec.classes)) == 10
        assert set(spec.md5) | set(spec.gz_md5) == set(MNIST_FILES.values())
        assert all(len(md5) == 32 for md5 in [*spec.md5.values(), *spec.gz_md5.values()])


def test_cache_directories(offline, tmp_path):
    assert data.dataset_dir("mnist") == tmp_path / "cache"  # today's MNIST cache, unchanged
    assert data.dataset_dir("fashion-mnist") == tmp_path / "cache" / "fashion-mnist"
    assert data.dataset_dir("kmnist", tmp_path / "mine") == tmp_path / "mine"
    with pytest.raises(DataError, match="unknown dataset 'emnist'"):
        data.dataset_dir("emnist")


@pytest.mark.parametrize("level", [1, 9])  # the published .gz and a recompressed copy
def test_recompressed_files_verify_by_content(offline, monkeypatch, tmp_path, level):
    arrays = _arrays()
    _as_fashion(monkeypatch, arrays)
    _write_gz(tmp_path / "fm", arrays, level)
    monkeypatch.setattr(subprocess, "run", _no_fetch)
    assert data.ensure_dataset("fashion-mnist", tmp_path / "fm") == tmp_path / "fm"
    loaded = data.load_mnist(tmp_path / "fm", dataset="fashion-mnist")
    np.testing.assert_array_equal(loaded.test_labels, arrays[MNIST_FILES["test_labels"]])


def test_wrong_content_is_refused_and_kept(offline, monkeypatch, tmp_path):
    arrays = _arrays()
    _write_gz(tmp_path / "fm", arrays, 6)  # synthetic content, Fashion-MNIST's real checksums
    with pytest.raises(DataError) as exc_info:
        data.ensure_dataset("fashion-mnist", tmp_path / "fm")
    message = str(exc_info.value)
    assert "Fashion-MNIST" in message and "data.name" in message and "\n" not in message
    assert len(list((tmp_path / "fm").iterdir())) == 4


def test_mnist_files_are_not_fashion(offline, monkeypatch, tmp_path):
    """MNIST's checksums do not pass for another dataset: data.name decides what is checked."""
    arrays = _arrays()
    for name, array in arrays.items():
        monkeypatch.setitem(data.MNIST_MD5, name, hashlib.md5(_idx_bytes(array)).hexdigest())
    _write_gz(tmp_path / "d", arrays, 6)
    monkeypatch.setattr(subprocess, "run", _no_fetch)
    data.ensure_dataset("mnist", tmp_path / "d")
    with pytest.raises(DataError, match="does not match Fashion-MNIST"):
        data.ensure_dataset("fashion-mnist", tmp_path / "d")


def test_kmnist_checks_the_published_gz(offline, monkeypatch, tmp_path):
    arrays = _arrays()
    _write_gz(tmp_path / "k", arrays, 9)
    for name in arrays:
        blob = (tmp_path / "k" / f"{name}.gz").read_bytes()
        monkeypatch.setitem(KMNIST.gz_md5, name, hashlib.md5(blob).hexdigest())
    monkeypatch.setattr(subprocess, "run", _no_fetch)
    assert data.ensure_dataset("kmnist", tmp_path / "k") == tmp_path / "k"
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / MNIST_FILES["test_labels"]).write_bytes(_idx_bytes(arrays[MNIST_FILES["test_labels"]]))
    with pytest.raises(DataError, match=r"published checksums are of its \.gz files"):
        data.ensure_dataset("kmnist", raw)


def test_offline_error_says_which_files_go_where(offline, monkeypatch, tmp_path):
    monkeypatch.setattr(
        subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 100, "", "E: unable to fetch\n")
    )
    with pytest.raises(DataError) as exc_info:
        data.ensure_dataset("fashion-mnist")
    message = str(exc_info.value)
    target = str(tmp_path / "cache" / "fashion-mnist")
    assert message.startswith(target) and "\n" not in message
    assert all(name in message for name in MNIST_FILES.values())
    assert "unable to fetch" in message and not (tmp_path / "cache" / "fashion-mnist" / "_debian").exists()
    with pytest.raises(DataError, match="torchvision is not installed.*published .gz files"):
        data.ensure_dataset("kmnist")


def test_no_apt_get_is_one_line(offline, monkeypatch, tmp_path):
    def missing(cmd, **kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(subprocess, "run", missing)
    with pytest.raises(DataError, match="no apt-get here"):
        data.ensure_dataset("fashion-mnist", tmp_path / "fm")


def test_fetch_from_debian_package(offline, monkeypatch, tmp_path):
    """The Debian branch with apt-get and dpkg-deb faked: the package's recompressed .gz
    files are checked by content and cached raw; the scratch directory goes."""
    arrays = _arrays()
    _as_fashion(monkeypatch, arrays)
    calls = []

    def fake_run(cmd, cwd=None, **kwargs):
        calls.append(cmd[:2])
        if cmd[:2] == ["apt-get", "download"]:
            (Path(cwd) / f"{cmd[2]}_1.0-1_all.deb").write_bytes(b"a package")
        else:
            _write_gz(Path(cmd[3]) / "usr" / "share" / "datasets" / "fashion-mnist", arrays, 9)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    logs = []
    target = data.ensure_dataset("fashion-mnist", log=logs.append)
    assert target == tmp_path / "cache" / "fashion-mnist"
    assert calls == [["apt-get", "download"], ["dpkg-deb", "-x"]]
    assert any("dataset-fashion-mnist" in line for line in logs)
    assert sorted(p.name for p in target.iterdir()) == sorted(MNIST_FILES.values())
    monkeypatch.setattr(subprocess, "run", _no_fetch)  # cached now: verified, not fetched again
    loaded = data.load_mnist(dataset="fashion-mnist")
    np.testing.assert_array_equal(loaded.train_images, arrays[MNIST_FILES["train_images"]].reshape(-1, 784))


def test_debian_copy_with_wrong_content_is_not_written(offline, monkeypatch, tmp_path):
    def fake_run(cmd, cwd=None, **kwargs):
        if cmd[:2] == ["apt-get", "download"]:
            (Path(cwd) / f"{cmd[2]}_1.0-1_all.deb").write_bytes(b"a package")
        else:
            _write_gz(Path(cmd[3]) / "usr" / "share" / "datasets" / "fashion-mnist", _arrays(), 9)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(DataError, match="MD5"):
        data.ensure_dataset("fashion-mnist", tmp_path / "fm")
    assert sorted(p.name for p in (tmp_path / "fm").iterdir()) == []


def test_config_names_the_dataset():
    assert Config().data.name == "mnist"
    assert Config().replace(data={"name": "kmnist"}).data.name == "kmnist"
    with pytest.raises(ConfigError, match="data.name: must be one of mnist, fashion-mnist, kmnist"):
        Config().replace(data={"name": "fashion"})


def test_run_record_names_its_dataset(offline, monkeypatch, tmp_path):
    """train --set data.name=fashion-mnist on verified (synthetic) files: the config and
    metrics.json of the run say fashion-mnist."""
    arrays = _arrays()
    _as_fashion(monkeypatch, arrays)
    _write_gz(tmp_path / "fm", arrays, 9)
    monkeypatch.setattr(subprocess, "run", _no_fetch)
    config = tmp_path / "tiny.toml"
    config.write_text(
        "[network]\nn_excitatory = 4\nmax_delay_ms = 5.0\n[simulation]\npresent_ms = 20.0\nrest_ms = 10.0\n"
        "[training]\nmax_examples = 6\n[evaluation]\nn_assign = 30\nn_test = 12\nblock_size = 10\n"
    )
    run_dir = tmp_path / "run"
    settings = ("--set", "data.name=fashion-mnist", "--set", f"data.dir={tmp_path / 'fm'}")
    result = invoke("train", "--config", config, *settings, "--run-dir", run_dir, "--evaluate")
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "metrics.json").read_text())["dataset"] == "fashion-mnist"
    assert 'name = "fashion-mnist"' in (run_dir / "config.toml").read_text()


def test_figures_label_classes_by_name(tmp_path, monkeypatch):
    saved = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: saved.append(fig) or Path(path))
    plots.plot_confusion(np.diag(np.arange(1, 11)), tmp_path / "c.png", class_names=FASHION.classes)
    plots.plot_assignments(np.arange(20) % 10, tmp_path / "a.png", class_names=FASHION.classes)
    plots.plot_confusion(np.diag(np.arange(1, 11)), tmp_path / "m.png")  # MNIST: the digits, as before
    counts = saved[0].axes[0]
    assert [t.get_text() for t in counts.get_xticklabels()] == list(FASHION.classes)
    assert [t.get_text() for t in counts.get_yticklabels()] == list(FASHION.classes)
    bars = saved[1].axes[1]
    assert bars.get_title().startswith("neurons per class")
    assert [t.get_text() for t in bars.get_xticklabels()] == list(FASHION.classes)
    assert [t.get_text() for t in saved[2].axes[0].get_xticklabels()] == [str(c) for c in range(10)]


def test_example_names_true_and_predicted_class(tmp_path, monkeypatch):
    saved = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: saved.append(fig) or Path(path))
    steps = 4
    plots.plot_example(
        tmp_path / "e.png",
        image=np.zeros(784, np.uint8),
        dt_ms=0.5,
        input_spikes=(np.array([0]), np.array([3])),
        exc_spikes=(np.array([1]), np.array([0])),
        n_excitatory=2,
        v=np.zeros((steps, 1)),
        threshold=np.ones((steps, 1)),
        neurons=[0],
        scores=np.arange(10.0),
        label=9,
        predicted=3,
        class_names=FASHION.classes,
    )
    axes = saved[0].axes
    assert axes[0].get_title() == "input image (label Ankle boot (9))"
    votes = next(ax for ax in axes if ax.get_title().startswith("votes"))
    assert votes.get_title().endswith("-> Dress (3)")
    assert [t.get_text() for t in votes.get_xticklabels()] == list(FASHION.classes)
