"""stdp-mnist: unsupervised MNIST learning with STDP in a spiking network (Diehl & Cook 2015).

Public API: ``load_config`` / ``Config`` to describe a run, ``load_mnist`` for the data,
``train`` to train into a run directory, ``evaluate`` to label and test it (its results
an ``Evaluation``; a training metrics line is a ``MetricsLine``), ``write_figures`` to
draw its figures, ``Run`` to read a run directory's files once each, and the errors
they raise, each with a one-line message.
Progress goes to the ``logging`` logger "stdp_mnist" at level INFO.
"""

from .config import Config, ConfigError, load_config
from .data import DataError, load_mnist
from .evaluation import evaluate
from .figures import write_figures
from .network import CheckpointError
from .records import Evaluation, MetricsLine
from .rundir import Run, RunDirError, RunExistsError, WriteError
from .training import NumericalError, RunWriteError, TrainingInterrupted, train

__all__ = [
    "CheckpointError",
    "Config",
    "ConfigError",
    "DataError",
    "Evaluation",
    "MetricsLine",
    "NumericalError",
    "Run",
    "RunDirError",
    "RunExistsError",
    "RunWriteError",
    "TrainingInterrupted",
    "WriteError",
    "evaluate",
    "load_config",
    "load_mnist",
    "train",
    "write_figures",
]
