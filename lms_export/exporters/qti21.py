"""QTI 2.1: an IMS content package of assessmentItem and assessmentTest files.

Every question is its own item file in ``items/``, every quiz a test in
``tests/`` that refers to its items, and ``imsmanifest.xml`` names each file
with its dependencies, as TAO, OpenOLAT, Inspera and other QTI 2.1 players
expect. The XML lives in ``templates/qti/qti21/``; answer keys, points and
text come from :mod:`lms_export.qti`.
"""

from __future__ import annotations

import posixpath
from functools import partial
from pathlib import Path
from typing import BinaryIO

import jinja2

from lms_export import qti, templating
from lms_export.exporters import Progress, register
from lms_export.model import Deck
from lms_export.package import Package

FORMAT = "qti21"
#: Items and tests sit one folder down, so both reach the package's media through ../
MEDIA_PREFIX = "../"


def item_path(item: qti.Item) -> str:
    return f"items/{item.ident}.xml"


def assessment_path(assessment: qti.Assessment) -> str:
    return f"tests/{assessment.ident}.xml"


def _layout(
    package: Package, env: jinja2.Environment, assessments: list[qti.Assessment], *, manifest: str
) -> dict[str, int]:
    cards_done = {}
    for assessment in assessments:
        for item in assessment.items:
            package.add(item_path(item), templating.render_stream(env, "item.xml.j2", item=item))
        path = assessment_path(assessment)
        item_href = partial(_relative, posixpath.dirname(path))
        package.add(path, templating.render_stream(env, "test.xml.j2", assessment=assessment, item_href=item_href))
        cards_done[path] = len(assessment.sections)
    package.add(
        "imsmanifest.xml",
        templating.render_stream(
            env,
            "manifest.xml.j2",
            identifier=manifest,
            assessments=assessments,
            assessment_path=assessment_path,
            item_path=item_path,
            media=qti.packaged_media(package),
        ),
    )
    return cards_done


def _relative(folder: str, item: qti.Item) -> str:
    """An item's file as a test refers to it: relative to the test's own file."""
    return posixpath.relpath(item_path(item), folder)


@register(
    FORMAT, "IMS QTI 2.1 content package (TAO, OpenOLAT, Inspera, ...)", ".zip", options=("one_quiz", "templates")
)
def write(
    deck: Deck, out: BinaryIO, *, progress: Progress, one_quiz: bool = False, templates: Path | None = None
) -> None:
    qti.export(
        deck,
        out,
        format_name=FORMAT,
        layout=partial(_layout, manifest=qti.identifier("manifest", deck.id)),
        media_prefix=MEDIA_PREFIX,
        progress=progress,
        one_quiz=one_quiz,
        templates=templates,
    )
