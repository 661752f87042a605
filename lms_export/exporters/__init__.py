"""Output formats register themselves here; the CLI lists and calls them.

An exporter is a function ``write(deck, out, *, progress, **options)`` that
writes the whole output to the binary stream ``out`` and calls ``progress(n)``
as it finishes cards. :func:`register` records it with the options it takes,
so ``lms-export convert`` can refuse an option that does not apply.

A format may also write a deck that arrives in parts (a long quiz read as a
stream, see :mod:`lms_export.parts`): ``render_part(deck_part, scratch=DIR,
**options)`` turns one part into something small that pickles, in whatever
process checked it, leaving its bulk in files in the folder ``scratch``; and
``write_parts(rendered_parts, out, **options)`` assembles those in order.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from lms_export.model import Deck

Progress = Callable[[int], None]
Writer = Callable[..., None]

#: The module whose import registers each built-in format, in listing order.
BUILTIN = {
    "json": "lms_export.exporters.deck",
    "yaml": "lms_export.exporters.deck",
    "qti12": "lms_export.exporters.qti12",
    "qti21": "lms_export.exporters.qti21",
    "qti30": "lms_export.exporters.qti30",
    "moodlexml": "lms_export.exporters.moodlexml",
    "scorm12": "lms_export.exporters.scorm",
    "scorm2004": "lms_export.exporters.scorm",
    "cc11": "lms_export.exporters.cc",
    "cc13": "lms_export.exporters.cc",
}


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    suffix: str
    write: Writer
    options: frozenset[str] = frozenset()
    render_part: Callable[..., Any] | None = None
    write_parts: Callable[..., None] | None = None

    def __call__(self, deck: Deck, out: BinaryIO, progress: Progress = lambda n: None, **options: Any) -> None:
        self.write(deck, out, progress=progress, **options)


_FORMATS: dict[str, Format] = {}


def register(
    name: str,
    description: str,
    suffix: str,
    options: tuple[str, ...] = (),
    render_part: Callable[..., Any] | None = None,
    write_parts: Callable[..., None] | None = None,
) -> Callable[[Writer], Writer]:
    def decorate(write: Writer) -> Writer:
        _FORMATS[name] = Format(name, description, suffix, write, frozenset(options), render_part, write_parts)
        return write

    return decorate


def register_parts(
    name: str,
    description: str,
    suffix: str,
    options: tuple[str, ...],
    render_part: Callable[..., Any],
    write_parts: Callable[..., None],
) -> Writer:
    """Register a format that writes a deck in parts; a deck in memory goes a part per card. Returns its writer."""
    from lms_export.parts import write_in_parts

    def write(deck: Deck, out: BinaryIO, *, progress: Progress = lambda n: None, **chosen: Any) -> None:
        write_in_parts(deck, out, render_part, write_parts, progress=progress, **chosen)

    write.__doc__ = f"Write ``deck`` to ``out`` as {description}."
    return register(name, description, suffix, options, render_part, write_parts)(write)


def formats() -> dict[str, Format]:
    """Every registered format by name."""
    for module in dict.fromkeys(BUILTIN.values()):
        importlib.import_module(module)
    return dict(_FORMATS)


def get_format(name: str) -> Format | None:
    """One format, importing only its own module (a conversion need not load every exporter)."""
    if name in BUILTIN:
        importlib.import_module(BUILTIN[name])
    return _FORMATS.get(name)
