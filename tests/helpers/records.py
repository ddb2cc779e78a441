"""Run records as scripts/collect_results.py --record writes them (results/runs/NAME),
with made-up numbers, for the tests of the scripts that read records."""

import json
from pathlib import Path

import numpy as np

from helpers import REPO_ROOT
from stdp_mnist.config import config_to_toml, load_config


def make_record(
    records: Path,
    name: str,
    size: int,
    seed: int,
    accuracy: float,
    hours: float,
    overrides=(),
    config: str | None = None,
    predictions: dict[str, np.ndarray] | None = None,
) -> Path:
    """A record of the shipped configs/CONFIG.toml (default: dc2015-SIZE) with
    ``overrides`` (e.g. ``data.name=fashion-mnist``); ``predictions`` ({"labels": ...,
    "all": ..., ...}), when given, are written as its predictions.npz."""
    run = records / name
    run.mkdir(parents=True)
    config_file = REPO_ROOT / "configs" / f"{config or f'dc2015-{size}'}.toml"
    cfg = load_config(config_file, [f"run.seed={seed}", *overrides])
    (run / "config.toml").write_text(config_to_toml(cfg))
    metrics = {
        "accuracy_all": accuracy,
        "accuracy_proportion": accuracy + 0.01,
        "accuracy_linear": accuracy + 0.02,
        "n_assign": 60000,
        "n_test": 10000,
        "n_excitatory": size,
        "seed": seed,
        "examples_trained": cfg.training.passes * 60000,
    }
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "metrics.jsonl").write_text(json.dumps({"examples_seen": 1000, "wall_s": hours * 3600}) + "\n")
    (run / "code_revision").write_text("0123456789abcdef\n")
    if predictions is not None:
        np.savez_compressed(run / "predictions.npz", **predictions)
    return run
