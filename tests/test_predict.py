"""Tests for `stdp-mnist predict`: MNIST-like preprocessing of hand-made digit images,
one-line errors for files that are not usable images, and classification by a trained
run (a tiny synthetic one in the default suite; a real one when available)."""

import json
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stdp_mnist import evaluation, training
from stdp_mnist.config import Config
from stdp_mnist.data import load_mnist
from stdp_mnist.network import load_network, save_network
from stdp_mnist.predict import ImageError, load_digit, preprocess
from stdp_mnist.rundir import MODEL_FILE, read_run_config
from test_cli import invoke, only_error_line
from test_plots import tiny_run

ROOT = Path(__file__).resolve().parents[1]
REAL_RUN = ROOT / "runs" / "quick"  # what the README's first command trains and evaluates


def draw_one(size: int = 100) -> np.ndarray:
    """A clear '1': a dark vertical bar on a light background."""
    image = np.full((size, size), 255, np.uint8)
    image[int(0.15 * size):int(0.85 * size), int(0.45 * size):int(0.56 * size)] = 0
    return image


def draw_zero(size: int = 100) -> np.ndarray:
    """A clear '0': a dark upright ring on a light background."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    r = np.hypot(yy - 0.5, (xx - 0.5) * 1.3)
    return np.where((r > 0.22) & (r < 0.34), 0, 255).astype(np.uint8)


def save(path: Path, array: np.ndarray, **kwargs) -> Path:
    Image.fromarray(array).save(path, **kwargs)
    return path


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    yy, xx = np.mgrid[0:28, 0:28]
    mass = digit.astype(np.float64).sum()
    return (yy * digit).sum() / mass, (xx * digit).sum() / mass


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


# --- preprocessing --------------------------------------------------------------------


@pytest.mark.parametrize("draw", [draw_one, draw_zero], ids=["one", "zero"])
def test_hand_drawn_digit_becomes_mnist_like(tmp_path, draw):
    digit = load_digit(save(tmp_path / "d.png", draw()))
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() == 255  # white ink ...
    assert digit[:3].max() == 0 and digit[-3:].max() == 0 and digit[:, :3].max() == 0 and digit[:, -3:].max() == 0
    assert max(ink_box(digit)) == 20  # ... scaled to fit 20 x 20, on black
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75  # centred by centre of mass


def test_one_keeps_its_aspect_and_zero_its_hole(tmp_path):
    one = load_digit(save(tmp_path / "one.png", draw_one()))
    height, width = ink_box(one)
    assert height == 20 and width <= 6
    zero = load_digit(save(tmp_path / "zero.png", draw_zero()))
    assert zero[14, 14] == 0 and zero[14].max() > 200  # dark hole inside a bright ring


def test_light_and_dark_backgrounds_agree():
    for image in (draw_one(), draw_zero()):
        np.testing.assert_array_equal(preprocess(image), preprocess(255 - image))


def test_any_size_and_position():
    reference = preprocess(draw_zero(100))
    big = np.full((1200, 1600), 255, np.uint8)
    big[50:50 + 900, 1000:1000 + 540] = np.asarray(Image.fromarray(draw_zero(100)).resize((540, 900)))
    digit = preprocess(big)  # a tall zero in a corner of a large photo
    assert digit.shape == (28, 28) and max(ink_box(digit)) == 20
    cy, cx = centre_of_mass(digit)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75
    small = preprocess(draw_one(12))  # smaller than MNIST: scaled up
    assert small.shape == (28, 28) and max(ink_box(small)) == 20
    assert np.abs(preprocess(draw_zero(300)).astype(int) - reference).mean() < 10


def test_grey_paper_and_colour_and_transparency(tmp_path):
    reference = load_digit(save(tmp_path / "plain.png", draw_one()))
    grey_paper = np.where(draw_one() == 0, 40, 200).astype(np.uint8)  # dark grey ink on grey paper
    np.testing.assert_array_equal(preprocess(grey_paper), reference)
    rgb = np.stack([draw_one()] * 3, axis=-1)
    rgb[..., 2] = np.maximum(rgb[..., 2], 60)  # blue ink
    assert np.abs(load_digit(save(tmp_path / "rgb.png", rgb)).astype(int) - reference).max() <= 3
    rgba = np.zeros((100, 100, 4), np.uint8)
    rgba[..., 3] = 255 - draw_one()  # black ink, transparent background
    np.testing.assert_array_equal(load_digit(save(tmp_path / "alpha.png", rgba)), reference)
    rgba[..., :3] = 255  # a light (white) digit on a transparent background
    np.testing.assert_array_equal(load_digit(save(tmp_path / "light-alpha.png", rgba)), reference)
    jpeg = load_digit(save(tmp_path / "one.jpg", draw_one(), quality=85))
    assert jpeg.shape == (28, 28) and np.abs(jpeg.astype(int) - reference).mean() < 8


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels (enough for a size check)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("case, needle", [
    ("text", "not an image"), ("empty", "empty"), ("missing", "no such file"), ("directory", "directory"),
    ("huge", "too large"), ("truncated", "cannot read"), ("blank", "no digit"),
])
def test_unusable_files_are_one_line_errors(tmp_path, case, needle):
    path = tmp_path / f"{case}.png"
    if case == "text":
        path.write_text("this is not an image\n")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "directory":
        path.mkdir()
    elif case == "huge":
        path.write_bytes(_png_header_only(10_000, 6_000))
    elif case == "truncated":
        full = save(tmp_path / "full.png", np.random.default_rng(0).integers(0, 256, (200, 200)).astype(np.uint8))
        path.write_bytes(full.read_bytes()[:300])
    elif case == "blank":
        save(path, np.full((50, 50), 255, np.uint8))
    with pytest.raises(ImageError) as info:
        load_digit(path)
    message = str(info.value)
    assert needle in message and str(path) in message and "\n" not in message


# --- classification through the CLI --------------------------------------------------------


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    return save(folder / "one.png", draw_one()), save(folder / "zero.png", draw_zero())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("tiny"), evaluated=True)


def parse_predictions(stdout: str) -> dict[str, int]:
    """{file name: class} from predict's output ("PATH: CLASS  spikes: ...")."""
    found = {}
    for line in stdout.splitlines():
        if not line.startswith(" ") and ": " in line and "spikes:" in line:
            path, rest = line.split(": ", 1)
            found[Path(path).name] = int(rest.split()[0])
    return found


def test_predict_command_on_tiny_run(tiny, digits, tmp_path):
    result = invoke("predict", tiny, *digits)
    assert result.exit_code == 0, result.output
    predictions = parse_predictions(result.stdout)
    assert set(predictions) == {"one.png", "zero.png"} and all(0 <= c <= 9 for c in predictions.values())
    assert result.stdout.count("probabilities:") == 2 and "spikes:" in result.stdout  # linear by default
    assert result.stdout.count("(linear readout: supervised)") == 2
    assert result.stdout.count("% probability") == 2  # a confidence cue
    for line in result.stdout.splitlines():
        if line.startswith("  probabilities:"):
            probabilities = [float(item.split(":")[1]) for item in line.split()[1:]]
            assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 0.01
    voting = invoke("predict", tiny, *digits, "--readout", "all")
    assert voting.stdout.count("votes:") == 2 and voting.stdout.count("(all voting)") == 2
    assert voting.stdout.count("% of the vote") == 2
    again = invoke("predict", tiny, *digits)
    assert again.stdout == result.stdout  # deterministic
    alone = invoke("predict", tiny, digits[1])
    assert parse_predictions(alone.stdout)["zero.png"] == predictions["zero.png"]  # independent of the others
    shown = invoke("predict", tiny, digits[0], "--show", "--out", tmp_path / "show")
    assert shown.exit_code == 0, shown.output
    figure = tmp_path / "show" / "predict_one.png"
    assert figure.read_bytes()[:4] == b"\x89PNG" and str(figure) in shown.stdout


def test_predict_command_errors(tiny, digits, tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    only_error_line(invoke("predict", tiny, bad), "notes.png", "not an image")
    # a bad file among good ones: each good one is still classified, each bad one gets its
    # own line, and the command fails at the end
    missing = tmp_path / "missing.png"
    mixed = invoke("predict", tiny, bad, digits[0], missing, digits[1])
    assert mixed.exit_code == 1 and "Traceback" not in mixed.output
    assert set(parse_predictions(mixed.stdout)) == {"one.png", "zero.png"}
    errors = mixed.stderr.strip().splitlines()
    assert len(errors) == 3 and "notes.png" in errors[0] and "missing.png" in errors[1]
    assert errors[2] == "stdp-mnist: error: 2 of 4 images could not be read (see above)"
    only_error_line(invoke("predict", tmp_path / "nothing", digits[0]), "nothing", "no such run directory or model file")
    unevaluated = tiny_run(tmp_path / "u", evaluated=False)
    only_error_line(invoke("predict", unevaluated, digits[0]), "assignments.npz", "evaluate")
    result = invoke("predict", tiny)
    assert result.exit_code != 0  # at least one image is required


def test_self_firing_neurons_are_warned_of_and_counted(tiny, digits, tmp_path):
    # two neurons' theta below 7 mV (v_rest - v_thresh + theta_offset): they fire with no
    # input, which a frozen run cannot stop; evaluate and predict say so, and still work
    quiet = invoke("predict", tiny, digits[0])
    assert quiet.exit_code == 0 and "fire with no input" not in quiet.stderr
    run = tmp_path / "low-theta"
    shutil.copytree(tiny, run)
    cfg = read_run_config(run)
    net = load_network(run / MODEL_FILE, cfg)
    net.theta[[1, 4]] = [6.9, 0.0]
    save_network(net, run / MODEL_FILE, cfg.model_hash(), cfg.model_values())
    for command in (("evaluate", run), ("predict", run, digits[0])):
        result = invoke(*command)
        assert result.exit_code == 0, result.output
        warnings = [line for line in result.stderr.splitlines() if "fire with no input" in line]
        assert len(warnings) == 1 and warnings[0].startswith("stdp-mnist: warning: 2 of 6 neurons"), result.stderr
        assert "below 7 mV" in warnings[0]
    assert json.loads((run / "metrics.json").read_text())["self_firing_neurons"] == 2
    assert json.loads((tiny / "metrics.json").read_text())["self_firing_neurons"] == 0


def _predict_one_and_zero(run: Path, digits) -> dict[str, int]:
    result = invoke("predict", run, *digits)
    assert result.exit_code == 0, result.output
    return parse_predictions(result.stdout)


@pytest.mark.skipif(not (REAL_RUN / "assignments.npz").is_file(),
                    reason="needs runs/quick, made by the README's command (stdp-mnist train --config "
                           "configs/quick.toml --run-dir runs/quick --evaluate)")
def test_predict_with_the_real_quick_run(tmp_path, digits):
    run = tmp_path / "quick"
    shutil.copytree(REAL_RUN, run)
    assert _predict_one_and_zero(run, digits) == {"one.png": 1, "zero.png": 0}


@pytest.mark.slow
def test_predict_with_a_small_network_trained_on_mnist(tmp_path, digits):
    """Train 100 neurons on 6,000 MNIST images, label them from 5,000, and read a clear
    hand-made 1 and 0."""
    cfg = Config().replace(training={"max_examples": 6000},
                           evaluation={"n_assign": 5000, "n_test": 100})
    data = load_mnist()
    run = tmp_path / "small"
    training.train(cfg, run, data.train_images, labels=data.train_labels)
    evaluation.evaluate(run, data)
    assert _predict_one_and_zero(run, digits) == {"one.png": 1, "zero.png": 0}
