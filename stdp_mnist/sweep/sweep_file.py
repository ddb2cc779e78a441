"""A sweep file: its base config, seeds, grid and points, read into the runs of the
sweep (one per point and seed), each with a filesystem-safe directory name.

Paths in a sweep file (``base``, ``out``) are relative to the sweep file; ``base`` may
also name a shipped config (``quick``, ``dc2015-100``), and a relative ``base`` that
is no file falls back to the shipped config of its name (so ``../quick.toml`` in a
shipped sweep file copied elsewhere still means the shipped quick config). Without ``out`` the runs go to
``runs/sweeps/<sweep file stem>`` under the working directory. Overrides given for the
whole sweep (``--set``) change every point and send the runs to a directory of their
own (the out directory's name plus the overrides), so that they never mix with the
runs of the sweep as written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import (
    ConfigError,
    config_from_dict,
    config_path,
    override_error,
    parse_override,
    read_config_file,
    read_toml,
    unknown_key,
)

_SAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
_MAX_NAME = 100
KNOWN_ENTRIES = ("base", "seeds", "grid", "points", "out")

Overrides = tuple[tuple[str, Any], ...]  # ("section.key", value), in sweep order


@dataclass(frozen=True)
class Run:
    """One point of a sweep with one seed."""

    overrides: Overrides
    seed: int
    name: str  # run directory name, filesystem-safe and unique within the sweep

    @property
    def point(self) -> str:
        """The point's label (its overrides), the same for all its seeds."""
        return ", ".join(f"{key}={text(value)}" for key, value in self.overrides) or "(base)"


@dataclass(frozen=True)
class Sweep:
    path: Path
    base: Path  # base config file
    base_data: dict  # its content
    seeds: tuple[int, ...]
    out: Path
    runs: tuple[Run, ...]
    common: Overrides = ()  # overrides of every point (--set), applied before the point's own

    @property
    def keys(self) -> list[str]:
        """Every overridden key, in order of first appearance."""
        return list(dict.fromkeys(key for run in self.runs for key, _ in run.overrides))


def text(value: Any) -> str:
    """A swept value as the summaries and run names show it (TOML's true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _unique(name: str, unique_by: Any) -> str:
    """``name`` cut to leave room for a digest of ``unique_by``, and that digest."""
    return f"{name[: _MAX_NAME - 9]}-{hashlib.sha256(repr(unique_by).encode()).hexdigest()[:8]}"


def _safe_name(parts: list[str], unique_by: Any) -> str:
    """A filesystem-safe name from ``parts``; a long one is cut and made unique by a
    digest of ``unique_by``."""
    name = _SAFE.sub("-", "_".join(parts)).strip("-.") or "run"
    return _unique(name, unique_by) if len(name) > _MAX_NAME else name


def run_name(overrides: Overrides, seed: int) -> str:
    """A filesystem-safe directory name from the overrides and seed."""
    return _safe_name(
        [f"{key}={text(value)}" for key, value in overrides] + [f"seed={seed}"], (overrides, seed)
    )


def _check_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or key.count(".") != 1:
        raise ConfigError(f"{where}: {key!r} is not a section.key name")
    problem = unknown_key(key)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    if key == "run.seed":
        raise ConfigError(f"{where}: run.seed is set by the sweep's seeds list")
    return key


def _seeds(path: Path, data: dict, base_data: dict) -> list[int]:
    seeds = data.get("seeds", [base_data.get("run", {}).get("seed", 0)])
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
    ):
        raise ConfigError(f"{path}: seeds: expected a non-empty list of non-negative integers")
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"{path}: seeds: repeated seed")
    return seeds


def _grid(path: Path, data: dict) -> list[Overrides]:
    """The points of the [grid] table: the cartesian product of its lists."""
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise ConfigError(f'{path}: [grid]: expected a table of "section.key" = [values]')
    for key, values in grid.items():
        _check_key(key, f"{path}: [grid]")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: [grid] {key}: expected a non-empty list of values")
    return (
        [tuple(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())] if grid else []
    )


def _points(path: Path, data: dict) -> list[Overrides]:
    """The single points of the [[points]] tables."""
    points = data.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise ConfigError(f'{path}: [[points]]: expected tables of "section.key" = value')
    for point in points:
        for key in point:
            _check_key(key, f"{path}: [[points]]")
    return [tuple(point.items()) for point in points]


def _runs(overrides: list[Overrides], seeds: list[int]) -> list[Run]:
    """Every point with every seed, each with a unique directory name."""
    runs, names = [], set()
    for point in overrides:
        for seed in seeds:
            name = run_name(point, seed)
            if name in names:  # two value spellings made the same safe name
                name = _unique(name, (point, seed))
            names.add(name)
            runs.append(Run(point, seed, name))
    return runs


def _common_overrides(overrides: list[str] | tuple[str, ...], swept: list[str]) -> Overrides:
    """``--set section.key=value`` texts as overrides of every point; a swept key or
    run.seed is refused (the sweep file sets them per run)."""
    common = []
    for entry in overrides:
        section, name, value = parse_override(entry)
        key = _check_key(f"{section}.{name}", f"--set {entry!r}")
        if key in swept:
            raise ConfigError(f"--set {entry!r}: {key} is swept by the sweep file")
        common.append((key, value))
    return tuple(common)


def _out(path: Path, data: dict, common: Overrides) -> Path:
    """Where the runs go: ``out`` relative to the sweep file, or runs/sweeps/<stem>
    under the working directory; with overrides of every point, a directory named
    after them beside it."""
    out = data.get("out")
    if out is not None and (not isinstance(out, str) or not out):
        raise ConfigError(f"{path}: out: expected the path of a directory")
    out_dir = path.parent / out if out else Path("runs") / "sweeps" / path.stem
    if common:
        out_dir = out_dir.with_name(
            _safe_name([out_dir.name] + [f"{k}={text(v)}" for k, v in common], common)
        )
    return out_dir


def load_sweep(
    path: str | Path, overrides: list[str] | tuple[str, ...] = (), out: str | Path | None = None
) -> Sweep:
    """Read and check a sweep file (keys must exist; values are checked per run).
    ``path`` is a file or a shipped sweep's name (``seeds-100``); ``overrides``
    (``section.key=value``, as --set) change every point; ``out`` (relative to the
    working directory) replaces where the runs go."""
    path = config_path(path, sweep=True)
    data = read_toml(path)
    unknown = set(data) - set(KNOWN_ENTRIES)
    if unknown:
        raise ConfigError(
            f"{path}: unknown sweep entries {sorted(unknown)} (known: {', '.join(sorted(KNOWN_ENTRIES))})"
        )
    if not isinstance(data.get("base"), str):
        raise ConfigError(f"{path}: base: expected the path of a config file (or a shipped config's name)")
    try:
        base = config_path(data["base"], relative_to=path.parent).resolve()
    except ConfigError as exc:
        raise ConfigError(
            f"{path}: base is relative to the sweep file's folder ({path.parent}): {exc}"
        ) from None
    base_data = read_config_file(base)
    seeds = _seeds(path, data, base_data)
    points = _grid(path, data) + _points(path, data) or [()]
    if len({repr(point) for point in points}) != len(points):
        raise ConfigError(f"{path}: the same point is listed twice")
    runs = _runs(points, seeds)
    common = _common_overrides(overrides, list(dict.fromkeys(key for point in points for key, _ in point)))
    out_dir = Path(out) if out is not None else _out(path, data, common)
    sweep = Sweep(path, base, base_data, tuple(seeds), out_dir, tuple(runs), common)
    _check_common(sweep, overrides)
    return sweep


def _check_common(sweep: Sweep, overrides: list[str] | tuple[str, ...]) -> None:
    """Refuse --set values that make the base config invalid (e.g. a word where a
    number goes), before any run starts: every run would fail on them. A base that is
    invalid on its own is left to fail in its runs, as a bad point's value is."""
    if not sweep.common:
        return
    plain = Run((), sweep.seeds[0], "base")  # the base config, no point's own overrides
    try:
        config_from_dict(run_config_dict(dataclasses.replace(sweep, common=()), plain))
    except ConfigError:
        return
    try:
        config_from_dict(run_config_dict(sweep, plain))
    except ConfigError as exc:
        raise override_error(overrides, exc) from None


def run_config_dict(sweep: Sweep, run: Run) -> dict:
    """The nested config dict of one run: base, the overrides of every point, the
    point's own, seed."""
    merged = {
        name: dict(values) if isinstance(values, dict) else values for name, values in sweep.base_data.items()
    }
    for key, value in sweep.common + run.overrides:
        section, name = key.split(".")
        merged.setdefault(section, {})[name] = value
    merged.setdefault("run", {})["seed"] = run.seed
    return merged


def run_specs(sweep: Sweep) -> list[dict]:
    """What each worker needs (plain, picklable data): one dict per run."""
    out = sweep.out.resolve()
    return [
        {
            "name": run.name,
            "point": run.point,
            "overrides": [list(o) for o in run.overrides],
            "seed": run.seed,
            "config": run_config_dict(sweep, run),
            "run_dir": str(out / run.name),
        }
        for run in sweep.runs
    ]
