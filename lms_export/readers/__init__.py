"""Readers: every input format becomes a :class:`~lms_export.model.Deck`.

A reader module has ``NAME``, ``EXTENSIONS`` and ``read(text, file=, base_dir=)``.
Files are decoded here, once, with the limits every reader shares, and the
reader is chosen by extension (``--from`` overrides). A ``.txt`` file is either
a text2qti quiz or a card page as the learning platform prints it; the page's
own layout tells which.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

from lms_export.errors import LmsExportError, Problem
from lms_export.model import Deck
from lms_export.parts import RawPart, ReadParts
from lms_export.readers import cardpage, deck, text2qti

READERS = {module.NAME: module for module in (deck, text2qti, cardpage)}

#: Deck files beyond this size are refused before they are read: no real deck
#: comes near it, and a parser handed hundreds of megabytes can exhaust memory.
MAX_INPUT_BYTES = 32 * 1024 * 1024


def read_text(path: Path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The file's text, or an error that says why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LmsExportError(
                Problem(f"file is {size / 2**20:.1f} MiB; the limit is {max_bytes / 2**20:.0f} MiB", file=str(path))
            )
        data = path.read_bytes()
    except OSError as error:
        raise LmsExportError(Problem(f"cannot read file: {error.strerror}", file=str(path))) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LmsExportError(
            Problem(
                f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); save the file as UTF-8",
                file=str(path),
                line=line,
            )
        ) from None
    if not text.strip():
        raise LmsExportError(Problem("file is empty", file=str(path)))
    return text


def reader_for(path: Path, text: str, name: str | None = None):
    """The reader module a file needs: named with ``--from``, else by extension."""
    if name is not None:
        if name not in READERS:
            raise LmsExportError(
                Problem(f"unknown input format {name!r} (one of: {', '.join(READERS)})", file=str(path))
            )
        return READERS[name]
    suffix = path.suffix.lower()
    if suffix == ".txt" and cardpage.looks_like(text):
        return cardpage
    for module in READERS.values():
        if suffix in module.EXTENSIONS:
            return module
    known = sorted({ext for module in READERS.values() for ext in module.EXTENSIONS})
    raise LmsExportError(
        Problem(
            f"cannot tell the format from the extension {suffix or '(none)'!r}; use one of {', '.join(known)} or --from",
            file=str(path),
        )
    )


#: How much of a file tells its format, when the file is read as a stream.
_HEAD_BYTES = 1 << 16


def read_parts(path: Path | str, format: str | None = None, max_bytes: int = MAX_INPUT_BYTES) -> ReadParts | None:
    """The file as a stream of raw parts, for a reader that can split its input; None for the others.

    The file is read a line at a time as the parts are taken, so it is never
    in memory whole.
    """
    path = Path(path)
    head = _head(path, max_bytes)
    module = reader_for(path, head, format)
    if not hasattr(module, "parts"):
        return None
    return ReadParts(str(path), path.parent.resolve(), _stream_parts(module, path, max_bytes))


def _head(path: Path, max_bytes: int) -> str:
    """The start of the file, after the same checks as :func:`read_text`."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            data = file.read(_HEAD_BYTES)
    except OSError as error:
        raise LmsExportError(Problem(f"cannot read file: {error.strerror}", file=str(path))) from None
    if size > max_bytes or size <= len(data) or not data.strip():
        return read_text(path, max_bytes)  # every error, said as it says them
    return data.decode("utf-8-sig", errors="ignore")


def _stream_parts(module, path: Path, max_bytes: int) -> Iterator[RawPart]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            yield from module.parts(lines, str(path))
    except UnicodeDecodeError:
        read_text(path, max_bytes)  # raises, naming the line and the byte
        raise


def read(path: Path | str, format: str | None = None, max_bytes: int = MAX_INPUT_BYTES) -> Deck:
    """Read one input file into a deck."""
    path = Path(path)
    text = read_text(path, max_bytes)
    module = reader_for(path, text, format)
    # Reading makes millions of small containers and no reference cycles; the
    # cycle collector would walk them again and again (40% of a large read).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return module.read(text, file=str(path), base_dir=path.parent.resolve())
    finally:
        if collecting:
            gc.enable()
