"""scripts/beyond.py: the comparison table from run records, baseline rows and
validation records; the best variant chosen on validation, never on test; the paired
tests; and results/beyond.md being the generated page."""

import json

import numpy as np
import pytest
from helpers import REPO_ROOT
from helpers.records import make_record
from helpers.scripts import load_script

beyond = load_script("beyond")
IMAGES = 200
LABELS = np.arange(IMAGES, dtype=np.uint8) % 10


def predictions_right_on(right: np.ndarray) -> dict[str, np.ndarray]:
    """predictions.npz content whose 'all' readout is right exactly where ``right`` is."""
    wrong = (LABELS + 1) % 10
    chosen = np.where(right, LABELS, wrong).astype(np.uint8)
    return {"labels": LABELS, "all": chosen, "proportion": chosen, "linear": chosen}


def first(k: int) -> np.ndarray:
    return np.arange(IMAGES) < k


def as_digits(right: np.ndarray) -> str:
    return "".join(str(int(v)) for v in np.where(right, LABELS, (LABELS + 1) % 10))


@pytest.fixture
def inputs(tmp_path):
    """Records of dc2015 and two variants at 400 neurons on MNIST (variant 'test-best' is
    ahead on test, 'valid-best' on validation), one dc2015 Fashion-MNIST record, a quick
    run (not the full protocol), baselines of both datasets and validation records."""
    records, baselines = tmp_path / "runs", tmp_path / "beyond"
    records.mkdir()
    baselines.mkdir()
    for seed, k in ((0, 150), (1, 152)):
        make_record(
            records,
            f"dc2015-400-seed{seed}",
            400,
            seed,
            k / IMAGES,
            0.3,
            (),
            predictions=predictions_right_on(first(k)),
        )
    for seed, k in ((0, 180), (1, 176)):
        make_record(
            records,
            f"valid-best-seed{seed}",
            400,
            seed,
            k / IMAGES,
            0.3,
            ["stdp.nu_post=0.02"],
            predictions=predictions_right_on(first(k)),
        )
    make_record(
        records,
        "test-best-seed0",
        400,
        0,
        0.95,
        0.3,
        ["stdp.nu_post=0.03"],
        predictions=predictions_right_on(first(190)),
    )
    make_record(records, "dc2015-400-fashion-mnist-seed0", 400, 0, 0.7, 0.3, ["data.name=fashion-mnist"])
    quick = make_record(records, "quick-100-seed0", 100, 0, 0.8, 0.1, ["stdp.nu_post=0.05"])
    metrics = json.loads((quick / "metrics.json").read_text())
    (quick / "metrics.json").write_text(json.dumps({**metrics, "n_assign": 10000}))
    kmeans = {"voting": 0.85, "voting_predictions": as_digits(first(170)), "fit_s": 1.0}
    projection = {"linear": 0.9, "linear_predictions": as_digits(first(180))}
    (baselines / "baselines-mnist.json").write_text(
        json.dumps(
            {"k-means|400|seed0|v2": kmeans, "random projection + ReLU|400|gauss-seed0|v2": projection}
        )
    )
    (baselines / "baselines-fashion-mnist.json").write_text(
        json.dumps({"k-means|400|seed0|v2|fashion-mnist": {**kmeans, "voting": 0.75}})
    )
    validation = baselines / "validation.jsonl"
    lines = [
        {"dataset": "mnist", "neurons": 400, "variant": "valid-best", "seed": 0, "accuracy_all": 0.93},
        {"dataset": "mnist", "neurons": 400, "variant": "valid-best", "seed": 1, "accuracy_all": 0.94},
        {"dataset": "mnist", "neurons": 400, "variant": "test-best", "seed": 0, "accuracy_all": 0.92},
    ]
    validation.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return records, baselines, validation


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| MNIST") or line.startswith("| Fashion")]


def test_table_rows(inputs):
    text = beyond.report(*inputs)
    assert table_rows(text) == [
        "| MNIST | 400 | dc2015 | 3 | 2 | 0.7550 ± 0.0071 | 0.7750 ± 0.0071 |",
        "| MNIST | 400 | test-best | 3 | 1 | 0.9500 | 0.9700 |",
        "| MNIST | 400 | valid-best | 3 | 2 | 0.8900 ± 0.0141 | 0.9100 ± 0.0141 |",
        "| MNIST | 400 | k-means | - | 1 | 0.8500 | - |",
        "| MNIST | 400 | random-projection | - | 1 | - | 0.9000 |",
        "| Fashion-MNIST | 400 | dc2015 | 3 | 1 | 0.7000 | 0.7200 |",
        "| Fashion-MNIST | 400 | k-means | - | 1 | 0.7500 | - |",
    ]
    assert "quick" not in text


def test_best_variant_is_chosen_on_validation_and_tested_pairwise(inputs):
    text = beyond.report(*inputs)
    assert "- MNIST, 400 neurons: valid-best (validation 'all' 0.9350, 2 seeds)." in text
    assert "- Fashion-MNIST, 400 neurons: no variant with validation records yet." in text
    tests = [line for line in text.splitlines() if line.startswith("| 400 | ")]
    # seed 0: right on the first 180 images against dc2015's first 150: 30 only the variant, 0 only dc2015
    assert tests[0].startswith(
        "| 400 | valid-best | 0 | dc2015 (seed 0) | 0.9000 | 0.7500 | +15.00 | 30 | 0 |"
    )
    assert tests[0].endswith("| variant ahead |")
    assert tests[1].startswith(
        "| 400 | valid-best | 1 | dc2015 (seed 1) | 0.8800 | 0.7600 | +12.00 | 24 | 0 |"
    )
    assert tests[2].startswith(
        "| 400 | valid-best | 0 | k-means (seed 0) | 0.9000 | 0.8500 | +5.00 | 10 | 0 |"
    )
    assert tests[3].startswith(
        "| 400 | valid-best | 1 | k-means (seed 0) | 0.8800 | 0.8500 | +3.00 | 6 | 0 |"
    )
    assert len(tests) == 4


def test_without_validation_records_no_variant_is_best(inputs):
    records, baselines, validation = inputs
    validation.unlink()
    text = beyond.report(records, baselines, validation)
    assert "- MNIST, 400 neurons: no variant with validation records yet." in text
    assert not [line for line in text.splitlines() if line.startswith("| 400 | ")]


def test_a_bad_validation_line_is_one_error(inputs):
    records, baselines, validation = inputs
    validation.write_text('{"dataset": "mnist", "neurons": 400}\n')
    with pytest.raises(SystemExit, match=r"validation.jsonl:1: not a validation record"):
        beyond.report(records, baselines, validation)


def test_paper_network_is_recognised_by_its_model_values():
    from stdp_mnist.config import Config

    assert beyond.is_paper_network(Config().replace(run={"seed": 4}, network={"n_excitatory": 400}))
    assert beyond.is_paper_network(Config().replace(data={"name": "fashion-mnist"}, training={"passes": 3}))
    assert not beyond.is_paper_network(Config().replace(stdp={"nu_post": 0.02}))


def test_committed_page_is_the_generated_one():
    assert (REPO_ROOT / "results" / "beyond.md").read_text() == beyond.report(), (
        "rerun python scripts/beyond.py --write"
    )
