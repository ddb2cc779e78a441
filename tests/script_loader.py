"""Import a file of scripts/ as a module, for the tests of the scripts."""

import importlib.util
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str):
    """scripts/NAME.py as a module (its ``if __name__ == "__main__"`` part not run),
    registered in sys.modules under NAME: numba's cache of a script's compiled
    function names its module, and a module it cannot import by that name makes the
    next process's cache load fail (ModuleNotFoundError: '<dynamic>')."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
