"""stdp-mnist: unsupervised MNIST learning with STDP in a spiking network (Diehl & Cook 2015).

Public API: ``load_config`` / ``Config`` to describe a run, ``load_mnist`` for the data,
``train`` to train into a run directory and ``evaluate`` to label and test it.
"""

from .config import Config, ConfigError, load_config
from .data import DataError, load_mnist
from .evaluation import evaluate
from .training import train

__all__ = ["Config", "ConfigError", "DataError", "evaluate", "load_config", "load_mnist", "train"]
