"""Atomic file writes: a temp file beside the target, fsync, then a rename.

An interrupted write (Ctrl-C, a killed process, a full disk) leaves the previous
file intact and never a torn one; the new file gets the usual permissions (0666
less the umask) rather than mkstemp's 0600.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temp file to write ``path``; it replaces ``path`` only if the block ends
    without an exception (which removes the temp file and propagates)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, content: str | bytes) -> None:
    """Write text or bytes to ``path`` atomically."""
    with atomic_open(path, "w" if isinstance(content, str) else "wb") as fh:
        fh.write(content)
