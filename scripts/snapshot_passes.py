"""Keep a copy of a training run at the end of every pass, to evaluate each pass.

    python scripts/snapshot_passes.py RUN_DIR [--every-s 3]

Runs beside `stdp-mnist train` (or `train --resume`) on RUN_DIR: it watches the run's
checkpoint and, whenever the checkpoint stands exactly at the end of pass K (K times
the number of training images), copies the run directory to `RUN_DIR-passK` (through
a temporary name, so a copy is whole or absent). `stdp-mnist evaluate RUN_DIR-passK`
then evaluates that pass while training goes on. Training checkpoints at every pass
end when `run.checkpoint_every` divides the number of images (the paper configs:
1,000 and 60,000). Stops once every pass is copied; a pass whose end it did not see
(the run had moved on, or was already past it when started) is reported and skipped.
"""

from __future__ import annotations

import argparse
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np

from stdp_mnist.data import count_training_images
from stdp_mnist.rundir import MODEL_FILE, read_run_config


def examples_seen(run_dir: Path) -> int | None:
    """The checkpoint's examples_seen, or None while there is no readable checkpoint."""
    try:
        with np.load(run_dir / MODEL_FILE, allow_pickle=False) as data:
            return int(data["examples_seen"][0])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def snapshot_due(run_dir: Path, per_pass: int, next_pass: int, log=print) -> int:
    """Copy the run if its checkpoint is at the end of pass ``next_pass``; returns the
    pass to wait for next (the same one while the checkpoint has not reached it)."""
    seen = examples_seen(run_dir)
    if seen is None or seen < next_pass * per_pass:
        return next_pass
    if seen == next_pass * per_pass:
        target = run_dir.with_name(f"{run_dir.name}-pass{next_pass}")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(run_dir, partial)
        if examples_seen(partial) == seen:  # a checkpoint written during the copy: retry
            partial.rename(target)
            log(f"pass {next_pass}: {target}")
            return next_pass + 1
        shutil.rmtree(partial)
        return next_pass
    log(f"pass {next_pass}: missed (the checkpoint is at {seen} examples)")
    return seen // per_pass + 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--every-s", type=float, default=3.0, help="seconds between looks at the checkpoint")
    args = parser.parse_args(argv)
    cfg = read_run_config(args.run_dir)
    per_pass = count_training_images(cfg)
    if per_pass is None:
        raise SystemExit(f"{args.run_dir}: its training data is not found (run stdp-mnist download)")
    seen = examples_seen(args.run_dir) or 0
    next_pass = max(1, -(-seen // per_pass))  # the first pass end not yet behind the checkpoint
    while next_pass <= cfg.training.passes:
        next_pass = snapshot_due(args.run_dir, per_pass, next_pass)
        time.sleep(args.every_s)


if __name__ == "__main__":
    main()
