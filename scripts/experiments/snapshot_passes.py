"""Keep a copy of a training run at the end of every pass, to evaluate each pass.

    python scripts/experiments/snapshot_passes.py RUN_DIR [--every-s 3] [--evaluate]

Runs beside `stdp-mnist train` (or `train --resume`) on RUN_DIR: it watches the run's
checkpoint and, whenever the checkpoint stands exactly at the end of pass K (K times
the number of training images), copies the run directory to `RUN_DIR-passK` (through
a temporary name, so a copy is whole or absent). `stdp-mnist evaluate RUN_DIR-passK`
then evaluates that pass while training goes on. Training checkpoints at every pass
end when `run.checkpoint_every` divides the number of images (the paper configs:
1,000 and 60,000). Stops once every pass is copied; a pass whose end it did not see
(the run had moved on, or was already past it when started) is reported and skipped.

With ``--evaluate`` it also evaluates every pass copy that has no metrics.json yet,
one at a time, each in a child `stdp-mnist evaluate RUN_DIR-passK` on one thread at
the lowest CPU priority (so it takes only what training leaves idle), logging to
``RUN_DIR-passK.evaluate.log``, and keeps going until every pass is copied and
evaluated. SIGTERM or Ctrl-C stops the child too (an evaluation keeps its finished
responses, and the next start continues it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from stdp_mnist.data import count_training_images
from stdp_mnist.rundir import EVAL_METRICS_FILE, RunDirError, checkpoint_examples, read_run_config


def log_line(line: str) -> None:
    """Print at once: the script usually runs for hours into a log file."""
    print(line, flush=True)


def snapshot_due(run_dir: Path, per_pass: int, next_pass: int, log=log_line) -> int:
    """Copy the run if its checkpoint is at the end of pass ``next_pass``; returns the
    pass to wait for next (the same one while the checkpoint has not reached it)."""
    seen = checkpoint_examples(run_dir)
    if seen is None or seen < next_pass * per_pass:
        return next_pass
    if seen == next_pass * per_pass:
        target = run_dir.with_name(f"{run_dir.name}-pass{next_pass}")
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(run_dir, partial)
        if checkpoint_examples(partial) == seen:  # a checkpoint written during the copy: retry
            partial.rename(target)
            log(f"pass {next_pass}: {target}")
            return next_pass + 1
        shutil.rmtree(partial)
        return next_pass
    log(f"pass {next_pass}: missed (the checkpoint is at {seen} examples)")
    return seen // per_pass + 1


def evaluate_command(copy: Path) -> list[str]:
    return [sys.executable, "-m", "stdp_mnist", "evaluate", str(copy)]


class PassEvaluations:
    """Evaluates the pass copies of a run one at a time, in a low-priority child."""

    def __init__(self, run_dir: Path, passes: int, command=evaluate_command, log=log_line):
        self.run_dir, self.passes, self.command, self.log = run_dir, passes, command, log
        self.child: subprocess.Popen | None = None
        self.current: Path | None = None
        self.failed: set[Path] = set()

    def copy(self, k: int) -> Path:
        return self.run_dir.with_name(f"{self.run_dir.name}-pass{k}")

    def waiting(self) -> list[Path]:
        """Pass copies that exist, are not evaluated and have not failed this time."""
        copies = (self.copy(k) for k in range(1, self.passes + 1))
        return [
            c for c in copies if c.is_dir() and not (c / EVAL_METRICS_FILE).exists() and c not in self.failed
        ]

    def poll(self) -> bool:
        """Reap a finished child, start the next evaluation; True while one runs or waits."""
        if self.child is not None:
            if self.child.poll() is None:
                return True
            code, self.child = self.child.returncode, None
            if code == 0:
                self.log(f"evaluated {self.current}")
            else:
                self.failed.add(self.current)
                self.log(
                    f"evaluation of {self.current} failed (exit {code}); see {self.current}.evaluate.log"
                )
        todo = self.waiting()
        if not todo:
            return False
        self.current = todo[0]
        with open(f"{self.current}.evaluate.log", "ab") as out:
            self.child = subprocess.Popen(
                self.command(self.current),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(os.environ, NUMBA_NUM_THREADS="1"),
                preexec_fn=lambda: os.nice(19),
            )
        self.log(f"evaluating {self.current} (pid {self.child.pid})")
        return True

    def stop(self) -> None:
        """SIGTERM the running evaluation (it keeps its finished responses) and wait for it."""
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)
            self.child.wait()
            self.log(f"stopped the evaluation of {self.current}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--every-s", type=float, default=3.0, help="seconds between looks at the checkpoint")
    parser.add_argument(
        "--evaluate", action="store_true", help="evaluate each pass copy, one at a time, niced"
    )
    args = parser.parse_args(argv)
    try:
        cfg = read_run_config(args.run_dir)
    except RunDirError as exc:  # e.g. started before `stdp-mnist train` has written the run's config
        raise SystemExit(f"snapshot_passes: error: {exc}; start it once the run exists") from None
    per_pass = count_training_images(cfg)
    if per_pass is None:
        raise SystemExit(f"{args.run_dir}: its training data is not found (run stdp-mnist download)")
    seen = checkpoint_examples(args.run_dir) or 0
    next_pass = max(1, -(-seen // per_pass))  # the first pass end not yet behind the checkpoint
    evaluations = PassEvaluations(args.run_dir, cfg.training.passes) if args.evaluate else None
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops as Ctrl-C does
    try:
        evaluating = True
        while next_pass <= cfg.training.passes or evaluating:
            if next_pass <= cfg.training.passes:
                next_pass = snapshot_due(args.run_dir, per_pass, next_pass)
            evaluating = evaluations.poll() if evaluations else False
            time.sleep(args.every_s)
    except KeyboardInterrupt:
        pass
    finally:
        if evaluations:
            evaluations.stop()


if __name__ == "__main__":
    main()
