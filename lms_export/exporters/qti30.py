"""QTI 3.0: a 1EdTech content package of qti-assessment-item and qti-assessment-test files.

Every question is its own item file (``items/``), every quiz a test file
(``tests/``) that refers to its items, and ``imsmanifest.xml`` lists them as
resources: a test depends on its items, an item on the images it shows, and
each image is a ``webcontent`` resource of its own so every file in the zip
is named once. The XML itself lives in ``templates/qti/qti30/``.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import BinaryIO

import jinja2

from lms_export import qti, templating
from lms_export.exporters import Progress, register
from lms_export.model import Deck
from lms_export.package import Package

ITEMS, TESTS = "items", "tests"


def item_file(item: qti.Item) -> str:
    return posixpath.join(ITEMS, f"{item.ident}.xml")


def assessment_file(assessment: qti.Assessment) -> str:
    return posixpath.join(TESTS, f"{assessment.ident}.xml")


def item_href(item: qti.Item) -> str:
    """An item file as a test file refers to it: both sit one folder below the package root."""
    return posixpath.join("..", item_file(item))


@register("qti30", "QTI 3.0 content package (1EdTech)", ".zip", options=("one_quiz", "templates"))
def write(
    deck: Deck, out: BinaryIO, *, progress: Progress, one_quiz: bool = False, templates: Path | None = None
) -> None:
    def layout(package: Package, env: jinja2.Environment, assessments: list[qti.Assessment]) -> dict[str, int]:
        weights: dict[str, int] = {}
        for assessment in assessments:
            test = templating.render_stream(env, "test.xml.j2", assessment=assessment, item_href=item_href)
            package.add(assessment_file(assessment), test)
            for section in assessment.sections:
                for item in section.items:
                    package.add(
                        item_file(item), templating.render_stream(env, "item.xml.j2", item=item, lang=deck.language)
                    )
                # a card is done once the last of its items, in zip order, is written
                last = max(map(item_file, section.items))
                weights[last] = weights.get(last, 0) + 1
        manifest = templating.render_stream(
            env,
            "manifest.xml.j2",
            identifier=qti.identifier("manifest", deck.id),
            assessments=assessments,
            media=qti.packaged_media(package),
            item_file=item_file,
            assessment_file=assessment_file,
        )
        package.add("imsmanifest.xml", manifest)
        return weights

    qti.export(
        deck,
        out,
        format_name="qti30",
        layout=layout,
        media_prefix="../",
        progress=progress,
        one_quiz=one_quiz,
        templates=templates,
    )
