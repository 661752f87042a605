"""QTI 3.0: a 1EdTech content package of qti-assessment-item and qti-assessment-test files.

Every question is its own item file (``items/``), every quiz a test file
(``tests/``) that refers to its items, and ``imsmanifest.xml`` lists them as
resources: a test depends on its items, an item on the images it shows, and
each image is a ``webcontent`` resource of its own so every file in the zip
is named once. The XML itself lives in ``templates/qti/qti30/``; the layout is
QTI 2.1's, from :mod:`lms_export.qti`.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from lms_export import qti
from lms_export.exporters import Progress, register
from lms_export.model import Deck
from lms_export.parts import write_in_parts

FORMAT = "qti30"


def render_part(
    deck: Deck, *, scratch: Path, templates: Path | None = None, one_quiz: bool = False
) -> qti.RenderedPart:
    """QTI 3 items carry the deck's language (``xml:lang``)."""
    return qti.render_item_files(deck, FORMAT, scratch, templates, lang=deck.language)


def write_parts(
    parts, out: BinaryIO, *, progress: Progress = lambda n: None, one_quiz: bool = False, templates: Path | None = None
) -> None:
    qti.write_item_files(parts, out, FORMAT, progress=progress, one_quiz=one_quiz, templates=templates)


@register(
    FORMAT,
    "QTI 3.0 content package (1EdTech)",
    ".zip",
    options=("one_quiz", "templates"),
    render_part=render_part,
    write_parts=write_parts,
)
def write(
    deck: Deck, out: BinaryIO, *, progress: Progress, one_quiz: bool = False, templates: Path | None = None
) -> None:
    write_in_parts(deck, out, render_part, write_parts, progress=progress, one_quiz=one_quiz, templates=templates)
