"""Progress of the long steps (training, and the evaluation's assign and test stages):
rates and times left from measured progress only, and progress lines for a log.

A stage's clock starts at its first finished item, not when the stage starts: the
first kernel call of a process may spend seconds to a minute compiling (or loading
the compiled kernel from numba's cache), and a rate that counted that time would
promise hours for a step of seconds. So a stage has no rate and no ETA until items
have been finished over ``StageProgress.MIN_RATE_S`` seconds after its first one.

The Python API (``stdp_mnist.train``, ``stdp_mnist.evaluate``) reports through the
standard ``logging`` module, logger ``"stdp_mnist"``, at INFO level; the package
installs no handler, so it is silent unless asked, e.g. with
``logging.basicConfig(level=logging.INFO)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

LOGGER = logging.getLogger("stdp_mnist")
LOGGER.addHandler(logging.NullHandler())  # a library: silent until the application configures logging


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 figure``, ``2 figures``: a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else plural_noun or noun + 's'}"


def format_duration(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour on."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class StageProgress:
    """How far one stage is (``done`` of ``total`` items, from ``start``), its rate and
    time left from measured progress only, and when a log line is due."""

    MIN_RATE_S = 1.0  # seconds of measured progress before a rate (and an ETA) is given
    LOG_EVERY_S = 10.0  # seconds between log lines (and one at the start and the end)

    def __init__(
        self, stage: str, start: int, total: int, unit: str, clock: Callable[[], float] = time.monotonic
    ):
        """``unit``: what is counted, singular ("image")."""
        self.stage, self.total, self.unit, self.clock = stage, total, unit, clock
        self.done = start
        self.first: tuple[float, int] | None = None  # (time, done) at the first finished item
        self.logged_at: float | None = None  # when the last log line was due
        self.logged_done = start  # and how far the stage was then
        self.began = clock()

    def update(self, done: int) -> None:
        if self.first is None and done > self.done:
            self.first = (self.clock(), done)
        self.done = done

    @property
    def started(self) -> bool:
        """Whether an item has been finished (the kernel is compiled and running)."""
        return self.first is not None

    @property
    def rate(self) -> float | None:
        """Items per second since the first finished item; None until measured over MIN_RATE_S."""
        if self.first is None:
            return None
        elapsed = self.clock() - self.first[0]
        if elapsed < self.MIN_RATE_S or self.done <= self.first[1]:
            return None
        return (self.done - self.first[1]) / elapsed

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the measured rate; None while there is no rate."""
        rate = self.rate
        return None if rate is None else (self.total - self.done) / rate

    def text(self, detail: str = "") -> str:
        """``1,200/10,000 images, 150 images/s, ETA 0:58`` (rate and ETA once measured)."""
        parts = [f"{self.done:,}/{plural(self.total, self.unit)}"]
        rate, eta = self.rate, self.eta_s
        if rate is not None:
            parts.append(f"{rate:,.0f} {self.unit}s/s")
            if self.done < self.total:
                parts.append(f"ETA {format_duration(eta)}")
        if detail:
            parts.append(detail)
        return ", ".join(parts)

    def line_due(self) -> bool:
        """True when a log line is due: the first time asked, LOG_EVERY_S after the
        last line, and once at the end. Marks it as logged."""
        now = self.clock()
        at_end = self.done >= self.total > self.logged_done
        due = self.logged_at is None or at_end or now - self.logged_at >= self.LOG_EVERY_S
        if due:
            self.logged_at, self.logged_done = now, self.done
        return due


class LoggedStages:
    """A progress callback ``(stage, done, total)`` (evaluation's, and training's with a
    ``detail``) that logs to LOGGER at INFO: a stage's first report, a line every
    LOG_EVERY_S with its rate and ETA, and its end. ``units`` names what each stage
    counts (singular); a stage of one step (total 1, the linear readout's fit) logs
    its start and how long it took."""

    def __init__(self, units: dict[str, str], logger: logging.Logger = LOGGER):
        self.units = units
        self.logger = logger
        self.stages: dict[str, StageProgress] = {}

    def __call__(self, stage: str, done: int, total: int, detail: str = "") -> None:
        progress = self.stages.get(stage)
        if progress is None:
            progress = self.stages[stage] = StageProgress(stage, done, total, self.units.get(stage, "item"))
            if total == 1:
                self.logger.info("%s: started", stage)
        progress.update(done)
        if total == 1:
            if done == total:
                self.logger.info("%s: finished in %.1f s", stage, progress.clock() - progress.began)
        elif progress.line_due():
            self.logger.info("%s: %s", stage, progress.text(detail))
