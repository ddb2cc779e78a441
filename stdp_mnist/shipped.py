"""The configs that ship with the package, found by name.

The repository's ``configs/`` directory is installed as the data package
``stdp_mnist.configs`` (pyproject.toml), so an installed package reaches the paper's
configs, the quick one and the sweep files without a clone. A config is named by its
path under that directory without ``.toml``: ``quick``, ``dc2015-400``,
``sweeps/seeds-100``. ``find_config`` takes what a user typed (``quick``,
``quick.toml``, ``configs/quick.toml``) and gives the shipped file when no file of
that name exists.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path, PurePosixPath

PACKAGE = "stdp_mnist.configs"
SUFFIX = ".toml"
SWEEPS = "sweeps"


def shipped_dir() -> Path:
    """The directory of the shipped configs (in the repository for an editable install,
    in site-packages for a wheel)."""
    return Path(str(resources.files(PACKAGE)))


def shipped_configs(sweeps: bool | None = None) -> dict[str, Path]:
    """Every shipped config as {name: path}, sorted by name: the training configs, the
    sweep files (``sweeps=True``), or both (None)."""
    root = shipped_dir()
    found = {}
    for path in sorted(root.rglob(f"*{SUFFIX}")):
        name = path.relative_to(root).with_suffix("").as_posix()
        if sweeps is None or sweeps == name.startswith(f"{SWEEPS}/"):
            found[name] = path
    return found


def description(path: Path) -> str:
    """The first comment line of a config file (what it is), or '' when it has none."""
    try:
        first = path.read_text().lstrip().splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return ""
    return first.lstrip("#").strip() if first.startswith("#") else ""


def _candidate_names(text: str, sweep: bool) -> list[str]:
    """The shipped names a typed config might mean: without leading ``./`` and ``../``
    (so a shipped sweep file copied elsewhere still finds its ``base = "../quick.toml"``),
    a leading ``configs/`` and a trailing ``.toml``; a sweep file also without its
    ``sweeps/``."""
    parts = list(PurePosixPath(Path(text).as_posix()).parts)
    while parts and parts[0] in (".", ".."):
        parts.pop(0)
    name = "/".join(parts).removeprefix("configs/").removesuffix(SUFFIX)
    return [name, f"{SWEEPS}/{name}"] if sweep else [name]


def find_config(text: str | Path, sweep: bool = False, relative_to: Path | None = None) -> Path | None:
    """The file a config argument names: the file itself when there is one (relative
    to the directory ``relative_to`` when given, else to the working directory), else
    the shipped config of that name (a sweep file when ``sweep``), else whatever else
    is at that path (for its reader to refuse), else None."""
    path = Path(relative_to or ".") / text
    if path.is_file():
        return path
    shipped = shipped_configs(sweeps=sweep)
    for name in _candidate_names(str(text), sweep):
        if name in shipped:
            return shipped[name]
    return path if path.exists() else None


def not_found_message(text: str | Path, sweep: bool = False) -> str:
    """One line for a config that is neither a file nor a shipped name: the shipped names."""
    kind = "sweep file" if sweep else "config file"
    shipped = list(shipped_configs(sweeps=sweep))
    typed = _candidate_names(str(text), sweep)
    close = difflib.get_close_matches(typed[-1], shipped, n=1, cutoff=0.6) or difflib.get_close_matches(
        typed[0], shipped, n=1, cutoff=0.6
    )
    hint = f" (did you mean {close[0].removeprefix(f'{SWEEPS}/')}?)" if close else ""
    return (
        f"{text}: {kind} not found, nor a shipped one{hint} "
        f"(shipped: {', '.join(shipped)}; stdp-mnist configs lists them)"
    )
