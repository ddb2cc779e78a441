"""Regenerate the figures of docs/model-shown.md ("The model, shown") in docs/assets/model-shown/.

Trains a small network on MNIST (100 neurons, the default model otherwise, the first
MODEL_SHOWN_EXAMPLES training images, weight snapshots every SNAPSHOT_EVERY examples)
in a temporary run directory, then draws the five mechanism figures of ``stdp-mnist
plot --what mechanisms`` from it, each measured on the compiled kernel with the run's
config; the encoding and inhibition figures show test image 0. A few minutes on one
core; MNIST is read from the cache (or downloaded once).

    python scripts/model_shown.py [--run-dir DIR]    # DIR: keep the run there
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from stdp_mnist import training
from stdp_mnist.config import Config
from stdp_mnist.data import load_configured
from stdp_mnist.figures import MECHANISMS, write_figures

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "docs" / "assets" / "model-shown"
MODEL_SHOWN_EXAMPLES = 3000
SNAPSHOT_EVERY = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=None, help="keep the trained run here")
    args = parser.parse_args(argv)
    cfg = Config().replace(
        network={"n_excitatory": 100},
        training={"max_examples": MODEL_SHOWN_EXAMPLES},
        run={"snapshot_every": SNAPSHOT_EVERY, "checkpoint_every": MODEL_SHOWN_EXAMPLES},
    )
    data = load_configured(cfg)
    scratch = Path(tempfile.mkdtemp(prefix="model-shown-"))
    run = args.run_dir or scratch / "run"
    try:
        print(f"training {MODEL_SHOWN_EXAMPLES} examples into {run} ...", file=sys.stderr)
        training.train(cfg, run, data.train_images, labels=data.train_labels, overwrite=True)
        ASSETS.mkdir(parents=True, exist_ok=True)
        for result in write_figures(run, MECHANISMS, out_dir=ASSETS, data=data, example_index=0):
            for path in result.paths:
                print(path.relative_to(ROOT))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
