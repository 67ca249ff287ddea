"""Writing user files safely: atomically, and never over an existing file unless asked."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["check_output_path", "write_atomically"]


def check_output_path(path: Any, name: str = "path") -> Path:
    """``path`` as a Path to a file whose folder exists; ``TypeError``/``ValueError`` if not."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{name} {path} is a directory; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"the folder of {name} {path} does not exist")
    return path


def write_atomically(path: Path, payload: bytes, *, overwrite: bool) -> None:
    """Write ``payload`` to ``path``: temporary file in the same folder, fsync, then link/rename.

    Readers never see a partial file and a crash leaves any previous file intact. Without
    ``overwrite`` an existing file, even one created while writing, raises ``FileExistsError``.
    """
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp creates the file private (0o600); give it the permissions of an open() file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(descriptor, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() refuses an existing target, so a file created meanwhile is not lost.
            try:
                os.link(temporary, path)
            except FileExistsError:
                raise FileExistsError(f"{path} exists; pass overwrite=True to replace it") from None
            os.unlink(temporary)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
