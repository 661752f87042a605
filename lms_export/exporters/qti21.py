"""QTI 2.1: an IMS content package of assessmentItem and assessmentTest files.

Every question is its own item file in ``items/``, every quiz a test in
``tests/`` that refers to its items, and ``imsmanifest.xml`` names each file
with its dependencies, as TAO, OpenOLAT, Inspera and other QTI 2.1 players
expect. The XML lives in ``templates/qti/qti21/``; the package's layout,
answer keys, points and text come from :mod:`lms_export.qti`, shared with
QTI 3.0.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from lms_export import qti
from lms_export.exporters import Progress, register
from lms_export.model import Deck
from lms_export.parts import write_in_parts

FORMAT = "qti21"


def render_part(
    deck: Deck, *, scratch: Path, templates: Path | None = None, one_quiz: bool = False
) -> qti.RenderedPart:
    return qti.render_item_files(deck, FORMAT, scratch, templates)


def write_parts(
    parts, out: BinaryIO, *, progress: Progress = lambda n: None, one_quiz: bool = False, templates: Path | None = None
) -> None:
    qti.write_item_files(parts, out, FORMAT, progress=progress, one_quiz=one_quiz, templates=templates)


@register(
    FORMAT,
    "IMS QTI 2.1 content package (TAO, OpenOLAT, Inspera, ...)",
    ".zip",
    options=("one_quiz", "templates"),
    render_part=render_part,
    write_parts=write_parts,
)
def write(
    deck: Deck, out: BinaryIO, *, progress: Progress, one_quiz: bool = False, templates: Path | None = None
) -> None:
    write_in_parts(deck, out, render_part, write_parts, progress=progress, one_quiz=one_quiz, templates=templates)
