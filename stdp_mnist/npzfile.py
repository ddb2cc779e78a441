"""Reading npz archives as untrusted input: without pickle, with every error a file of
another kind can raise listed once."""

from __future__ import annotations

import io
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

# What read_npz raises for a file that is not a readable npz archive: numpy parses a
# damaged .npy header with ast and tokenize, which raise SyntaxError or TokenError.
NPZ_ERRORS = (OSError, ValueError, EOFError, SyntaxError, tokenize.TokenError, zipfile.BadZipFile, zlib.error)


def read_npz(source: Path | bytes) -> dict:
    """Every array of an npz file (a path, or its bytes), read without pickle. Raises one
    of NPZ_ERRORS for a file that is not a readable npz (ValueError also for a plain
    .npy file)."""
    loaded = np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ValueError("not an npz archive")
    with loaded as npz:
        return {name: npz[name] for name in npz.files}


def array_headers(source: bytes) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """(shape, dtype) of each array of an npz file's bytes, from the headers alone, so
    that a file claiming huge arrays is refused before anything is allocated."""
    headers = {}
    with zipfile.ZipFile(io.BytesIO(source)) as archive:
        for name in archive.namelist():
            with archive.open(name) as fh:
                version = np.lib.format.read_magic(fh)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read(fh)
            headers[name.removesuffix(".npy")] = (shape, dtype)
    return headers
