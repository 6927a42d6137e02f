"""Files the workbench writes: owner-only, written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


class OutputFileError(Exception):
    """A file that cannot be written; the message names it and says why."""


def write_private(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a failure never leaves half a file."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise OutputFileError(f"{path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputFileError(f"{path}: {folder} is not a folder")
    if path.is_dir():
        raise OutputFileError(f"{path}: is a folder; give a file name")
    tmp_name: str | None = None
    try:
        # mkstemp creates the file 0600: readable by its owner only from the first byte.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def read_input(path: Path, *, limit: int = 512 * 1024 * 1024) -> bytes:
    try:
        if path.is_dir():
            raise OutputFileError(f"{path}: is a folder, not a file")
        size = path.stat().st_size
        if size > limit:
            raise OutputFileError(f"{path}: {size} bytes is larger than the {limit} byte limit")
        return path.read_bytes()
    except FileNotFoundError:
        raise OutputFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
