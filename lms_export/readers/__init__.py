"""Readers: every input format becomes a :class:`~lms_export.model.Deck`.

A reader module has ``NAME``, ``EXTENSIONS`` and ``read(text, file=, base_dir=)``.
Files are decoded here, once, with the limits every reader shares, and the
reader is chosen by extension (``--from`` overrides). A ``.txt`` file is either
a text2qti quiz or a card page as the learning platform prints it; the page's
own layout tells which.
"""

from __future__ import annotations

import gc
from pathlib import Path

from lms_export.errors import LmsExportError, Problem
from lms_export.model import Deck
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
