"""Outputs appear whole or not at all.

A conversion writes into a temporary file beside the target and renames it
into place only when the writer finished without error, so a failed or
interrupted run never leaves a half-written package where an LMS admin might
upload it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from lms_export.errors import LmsExportError, Problem


@contextmanager
def atomic_output(target: Path | str) -> Iterator[BinaryIO]:
    """A binary file to write; it becomes ``target`` only if the block succeeds.

    ``-`` means standard output, written directly.
    """
    if str(target) == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(target)
    if target.is_dir():
        raise LmsExportError(Problem("is a folder; name the file to write", file=str(target)))
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, before the rename
            dir=target.parent, prefix=f".{target.name}.", suffix=".part", delete=False
        )
    except OSError as error:
        raise LmsExportError(Problem(f"cannot write here: {error.strerror}", file=str(target))) from None
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
