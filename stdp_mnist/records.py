"""The records a run writes as JSON: a training metrics line (metrics.jsonl) and an
evaluation's results (metrics.json), each a dataclass read and written in one place.

Everything else reads their fields, never their JSON keys. ``from_json`` also reads
the records of earlier versions: a field a record lacks is None (an evaluation from
before the linear readout has no ``accuracy_linear``), and keys it does not know
(added by scripts, say) are kept in ``extra`` and written back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

READOUTS = ("all", "proportion", "linear")  # the evaluation's three ways from counts to a class


class RecordError(ValueError):
    """A JSON record that is not an object, or lacks a field every record has."""


def _from_dict(cls, values: Any, source: str):
    """An instance of the record class ``cls`` from a parsed JSON object: its required
    fields must be there, the others default to None, unknown keys go to ``extra``."""
    if not isinstance(values, dict):
        raise RecordError(f"{source}: not a JSON object")
    names = {f.name for f in dataclasses.fields(cls) if f.name != "extra"}
    missing = [name for name in cls.REQUIRED if name not in values]
    if missing:
        raise RecordError(f"{source}: no {', '.join(missing)}")
    known = {name: values[name] for name in names if name in values}
    extra = {key: value for key, value in values.items() if key not in names}
    return cls(**known, extra=extra)


def _to_dict(record) -> dict[str, Any]:
    """The record as a JSON object: its fields in declaration order, then ``extra``. The
    fields named in ``WRITTEN_WHEN_SET`` (added after records were committed) are left out
    while None, so an older record writes back as it was."""
    later = getattr(record, "WRITTEN_WHEN_SET", ())
    values = {
        f.name: value
        for f in dataclasses.fields(record)
        if f.name != "extra" and not ((value := getattr(record, f.name)) is None and f.name in later)
    }
    return {**values, **record.extra}


@dataclass(kw_only=True)
class MetricsLine:
    """One line of metrics.jsonl: the training examples since the previous line."""

    REQUIRED: ClassVar[tuple[str, ...]] = ("examples_seen",)

    examples_seen: int  # training examples finished at this line
    wall_s: float | None = None  # training time so far, all sessions (s; the kernel's compilation excluded)
    spikes_per_example: float | None = None  # excitatory spikes per example in the window
    boosts: int | None = None  # intensity boosts in the window
    mean_theta_mv: float | None = None  # mean adaptive threshold at the line (mV)
    running_accuracy: float | None = None  # 'all' voting of the window with the previous window's assignment
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The record as one line of JSON (no newline)."""
        return json.dumps(_to_dict(self))

    @classmethod
    def from_json(cls, text: str, source: str = "metrics line") -> MetricsLine:
        """A line of metrics.jsonl; RecordError (a ValueError) when it is not one."""
        return _from_dict(cls, json.loads(text), source)


@dataclass(kw_only=True)
class Evaluation:
    """An evaluation's results (metrics.json): the test accuracies of the three readouts,
    the samples they come from, confusion matrices, the neurons' assignment and the
    time each stage took."""

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "accuracy_all",
        "accuracy_proportion",
        "n_test",
        "n_assign",
        "examples_trained",
    )
    WRITTEN_WHEN_SET: ClassVar[tuple[str, ...]] = ("split", "dataset")

    split: str | None = (
        None  # evaluation.split scored: 'test' or 'validation' (None: records from before, the test set)
    )
    accuracy_all: float  # 'all' voting (the paper's), fraction of the test images
    accuracy_proportion: float  # 'proportion' voting
    accuracy_linear: float | None = None  # the supervised linear readout (None before it existed)
    n_test: int  # test images classified
    n_assign: int  # labelled training images the assignment and the linear readout come from
    n_excitatory: int | None = None
    examples_trained: int  # training examples of the network evaluated
    seed: int | None = None
    dataset: str | None = (
        None  # data.name of the images (None: records from before datasets had names, MNIST)
    )
    confusion_all: list[list[int]] | None = None  # rows: true class, columns: predicted
    confusion_proportion: list[list[int]] | None = None
    confusion_linear: list[list[int]] | None = None
    linear_transform: str | None = None
    linear_c: float | None = None
    linear_iterations: int | None = None  # lbfgs iterations of the linear readout's fit
    linear_max_iterations: int | None = None  # its limit: a fit that reached it stopped early
    neurons_per_class: list[int] | None = None
    unassigned_neurons: int | None = None
    self_firing_neurons: int | None = None
    assign_spikes_per_example: float | None = None
    test_spikes_per_example: float | None = None
    assign_boosts: int | None = None
    test_boosts: int | None = None
    assign_wall_s: float | None = None
    linear_fit_wall_s: float | None = None
    test_wall_s: float | None = None
    threads: int | None = None  # numba threads of the frozen runs
    extra: dict[str, Any] = field(default_factory=dict)

    def accuracy(self, readout: str) -> float | None:
        """The test accuracy of one of READOUTS."""
        return {
            "all": self.accuracy_all,
            "proportion": self.accuracy_proportion,
            "linear": self.accuracy_linear,
        }[readout]

    def confusion(self, readout: str) -> list[list[int]] | None:
        """The confusion matrix of one of READOUTS (None when the record has none)."""
        return {
            "all": self.confusion_all,
            "proportion": self.confusion_proportion,
            "linear": self.confusion_linear,
        }[readout]

    @property
    def linear_capped(self) -> bool:
        """Whether the linear readout's fit stopped at its iteration limit."""
        return (
            self.linear_iterations is not None
            and self.linear_max_iterations is not None
            and self.linear_iterations >= self.linear_max_iterations
        )

    @property
    def eval_wall_s(self) -> float:
        """Seconds of the frozen runs, labelled and test images together."""
        return round((self.assign_wall_s or 0.0) + (self.test_wall_s or 0.0), 3)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON object (what metrics.json holds)."""
        return _to_dict(self)

    def to_json(self) -> str:
        """The text of metrics.json."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, values: Any, source: str = "evaluation") -> Evaluation:
        """An evaluation from a parsed JSON object; RecordError when it is not one."""
        return _from_dict(cls, values, source)

    @classmethod
    def from_json(cls, text: str, source: str = "evaluation") -> Evaluation:
        """An evaluation from the text of metrics.json; RecordError (a ValueError) when it
        is not one."""
        return cls.from_dict(json.loads(text), source)
