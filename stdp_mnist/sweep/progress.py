"""A sweep's progress as its runs go: runs done and in flight, how far each run in
flight is (training examples, then the evaluation's images), and an ETA from the
measured share of the sweep's work done so far (none until some is measured). The rate
is measured from the first progress report on, so the time spent loading data and
compiling the kernel before it does not make the first ETA run high.

A run's work is its training examples plus its evaluation images (n_assign + n_test,
which cost about as much per image as a training example); runs found finished (skipped)
are not counted, so they do not make the ETA look short.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..progress import format_duration, plural

# Stages that count images or examples (the linear readout's fit is one step).
COUNTED_STAGES = ("train", "assign", "test")


class SweepProgress:
    """What a sweep has done: its runs' stages as they report them (from any thread)."""

    MIN_ETA_S = 2.0  # seconds of measured progress before an ETA is given

    def __init__(self, specs: list[dict], clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.total = len(specs)
        self.done = 0
        self.skipped = 0
        self.lock = threading.Lock()
        self.evaluation_images = {
            spec["name"]: _evaluation_images(spec.get("config", {}).get("evaluation", {})) for spec in specs
        }
        self.stages: dict[str, dict[str, tuple[int, int]]] = {}  # run in flight -> stage -> (done, total)
        self.current: dict[str, str] = {}  # run in flight -> its latest stage
        self.work: dict[str, int] = {}  # finished run -> its units of work
        self.first_progress: float | None = None  # when the first report came
        self.fraction_at_first = 0.0  # the share of the work done by then

    def update(self, name: str, stage: str, done: int, total: int) -> None:
        """A run in flight reports ``done`` of ``total`` in ``stage``."""
        with self.lock:
            self.stages.setdefault(name, {})[stage] = (done, total)
            self.current[name] = stage
            if self.first_progress is None:
                self.first_progress = self.clock()
                self.fraction_at_first = self.fraction() or 0.0

    def finished(self, row: dict) -> None:
        """A run's summary row came back (done, skipped, resumed or failed)."""
        with self.lock:
            name = row["name"]
            self.done += 1
            if row["status"] == "skipped":
                self.skipped += 1
            else:
                self.work[name] = self._units(name)[1]
            self.stages.pop(name, None)
            self.current.pop(name, None)

    def _units(self, name: str) -> tuple[int, int]:
        """(units done, units in all) of a run in flight; its training total is known
        once it reports, its evaluation's from its config until its stages report."""
        stages = self.stages.get(name, {})
        train = stages.get("train", (0, 0))
        expected = self.evaluation_images.get(name, {"assign": 0, "test": 0})
        done = train[0] + sum(stages.get(s, (0, 0))[0] for s in ("assign", "test"))
        total = train[1] + sum(stages.get(s, (0, expected[s]))[1] for s in ("assign", "test"))
        return done, total

    def fraction(self) -> float | None:
        """The share of the sweep's work done (runs skipped left out; a run in flight
        by its units done), or None when every run was skipped."""
        counted = self.total - self.skipped
        if counted <= 0:
            return None
        in_flight = [(done, total) for done, total in map(self._units, self.stages) if total]
        return (self.done - self.skipped + sum(done / total for done, total in in_flight)) / counted

    def eta_s(self) -> float | None:
        """Seconds left at the rate measured since the first progress report; None
        before there is a measurement (MIN_ETA_S of it, and some work done since) or
        once nothing is left."""
        fraction = self.fraction()
        if self.first_progress is None or not fraction or fraction >= 1:
            return None
        elapsed = self.clock() - self.first_progress
        if elapsed < self.MIN_ETA_S or fraction <= self.fraction_at_first:
            return None
        return elapsed * (1 - fraction) / (fraction - self.fraction_at_first)

    def text(self) -> str:
        """``sweep: 1/4 runs done, 2 in flight (seed=1: train 120/200; seed=2: test 10/200), ETA 0:42``."""
        with self.lock:
            parts = [f"sweep: {self.done}/{plural(self.total, 'run')} done"]
            flights = [
                f"{name}: {stage} {self.stages[name][stage][0]:,}/{self.stages[name][stage][1]:,}"
                for name, stage in self.current.items()
            ]
            if flights:
                parts.append(f"{len(flights)} in flight ({'; '.join(flights)})")
            eta = self.eta_s()
            if eta is not None:
                parts.append(f"ETA {format_duration(eta)}")
            return ", ".join(parts)


def _evaluation_images(evaluation: dict) -> dict[str, int]:
    """The images a run's evaluation stages are expected to count, from its config."""
    return {"assign": int(evaluation.get("n_assign", 0)), "test": int(evaluation.get("n_test", 0))}


class ProgressDisplay:
    """A SweepProgress shown on stderr as the sweep goes: on a terminal, one status
    line rewritten in place (at most every REDRAW_S); in a log (not a terminal), a
    line at the first progress and then every LOG_EVERY_S. A ticker thread redraws it
    while nothing reports, so the ETA moves and the log gets its lines."""

    REDRAW_S = 0.5
    LOG_EVERY_S = 5.0
    TICK_S = 1.0

    def __init__(
        self,
        progress: SweepProgress,
        write: Callable[[str], None],
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.progress, self.write, self.tty, self.clock = progress, write, tty, clock
        self.shown_at: float | None = None
        self.status_shown = False  # a status line is on the terminal, not ended
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._tick, name="sweep-progress", daemon=True)

    def __enter__(self) -> ProgressDisplay:
        self.ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.ticker.join()
        with self.lock:
            self._end_status()

    def update(self, name: str, stage: str, done: int, total: int) -> None:
        """A run in flight's progress (executors' on_progress)."""
        self.progress.update(name, stage, done, total)
        self.show()

    def finished(self, row: dict, line: str) -> None:
        """A run's row came back: ``line`` (its result) is written on a line of its own."""
        self.progress.finished(row)
        with self.lock:
            self._end_status()
            self.write(line + "\n")
        self.show(force=self.tty)

    def show(self, force: bool = False) -> None:
        """Draw the status (a terminal) or log a line (a log) when one is due."""
        with self.lock:
            now = self.clock()
            if self.progress.first_progress is None and not force:
                return  # nothing measured yet: the runs are starting (or compiling)
            if self.progress.done >= self.progress.total:
                return  # every run's result line is out: nothing left to report
            every = self.REDRAW_S if self.tty else self.LOG_EVERY_S
            if not force and self.shown_at is not None and now - self.shown_at < every:
                return
            self.shown_at = now
            if self.tty:
                self.write("\r" + self.progress.text() + "\x1b[K")
                self.status_shown = True
            else:
                self.write(self.progress.text() + "\n")

    def _end_status(self) -> None:
        """Clear a terminal's status line, so the next line starts clean."""
        if self.status_shown:
            self.write("\r\x1b[K")
            self.status_shown = False

    def _tick(self) -> None:
        while not self.stopped.wait(self.TICK_S):
            self.show()
