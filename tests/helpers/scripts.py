"""Import a file of scripts/ as a module, for the tests of the scripts."""

import importlib.util
import sys

from helpers import REPO_ROOT

SCRIPTS = REPO_ROOT / "scripts"


def load_script(name: str):
    """scripts/NAME.py as a module (its ``if __name__ == "__main__"`` part not run);
    NAME may name a subfolder, as in ``experiments/pass_curve``. The module is entered
    in sys.modules under the file's stem: numba's cache of a script's compiled
    functions records their module by name and imports it again to load them."""
    if str(SCRIPTS) not in sys.path:  # as when a script of scripts/ runs: its modules import each other
        sys.path.insert(0, str(SCRIPTS))
    path = SCRIPTS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
