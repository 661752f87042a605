"""QTI 1.2 as Canvas Classic Quizzes imports it, in the shape of Canvas's own QTI export.

Canvas fails silently on a package it does not like, so the package follows
Canvas's export exactly: the manifest names each quiz's assessment with a
dependency on ``<ident>/assessment_meta.xml``, Canvas's quiz settings, whose
identifier must be the assessment's for Canvas to apply them; images are
referenced as ``$IMS-CC-FILEBASE$/<path in the package>``. The XML itself is
in ``templates/qti/qti12/``; this module lays out the files and adds what only
Canvas needs: how it shows a matching question, and warnings where Canvas
cannot keep the deck's meaning.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, NamedTuple

import jinja2

from lms_export import qti, templating
from lms_export.errors import warn
from lms_export.exporters import Progress, register
from lms_export.model import Deck
from lms_export.package import Package

#: Canvas looks for a quiz's settings under this name in the quiz's folder.
META_FILE = "assessment_meta.xml"
#: How Canvas's importer resolves a path inside the package.
MEDIA_PREFIX = "$IMS-CC-FILEBASE$/"


class Quiz(NamedTuple):
    """One assessment and where its two files go."""

    assessment: qti.Assessment
    path: str
    meta_path: str
    meta_ident: str


class Matches(NamedTuple):
    """A matching question as Canvas shows it: a list of labels to pick from per left-hand item.

    ``key`` pairs each left-hand ident with the number of its label (from 1).
    """

    left: tuple[qti.Option, ...]
    labels: tuple[str, ...]
    key: tuple[tuple[str, int], ...]


def canvas_matches(item: qti.Item) -> Matches:
    """Matching as is; ordering as its items matched to their positions "1", "2", ...

    Canvas shows the left-hand side in the order given, so an ordering
    question's items come in their display order, which is never the answer.
    """
    if item.type == "ordering":
        position = {o.ident: n for n, o in enumerate(item.options, 1)}
        left = item.display_options
        return Matches(left, tuple(map(str, position.values())), tuple((o.ident, position[o.ident]) for o in left))
    targets = item.display_options
    number = {o.ident: n for n, o in enumerate(targets, 1)}
    labels = tuple(o.text.plain for o in targets)
    return Matches(item.sources, labels, tuple((source, number[target]) for source, target in item.correct_pairs))


def _warn_losses(assessments: list[qti.Assessment]) -> None:
    """Tell the user where Canvas cannot keep what the deck says."""
    for assessment in assessments:
        for section in assessment.sections:
            for item in section.items:
                where = f"card {section.card.id}, question {item.question.id}"
                if item.type == "ordering":
                    warn(
                        f"{where}: Canvas has no ordering question; exported as a matching question "
                        "that matches each item to its position (1, 2, ...), scored per position"
                    )
                elif item.type == "short_answer" and item.question.case_sensitive:
                    warn(f"{where}: Canvas ignores case in short answers, so the answer is not case-sensitive there")


def _layout(
    manifest_ident: str, package: Package, env: jinja2.Environment, assessments: list[qti.Assessment]
) -> dict[str, int]:
    """The manifest, then per quiz a folder named by its identifier, as Canvas's importer expects."""
    _warn_losses(assessments)
    env.filters["canvas_matches"] = canvas_matches
    quizzes = [Quiz(a, f"{a.ident}/{a.ident}.xml", f"{a.ident}/{META_FILE}", f"{a.ident}_meta") for a in assessments]
    media = qti.packaged_media(package)
    manifest = templating.render_stream(env, "imsmanifest.xml.j2", ident=manifest_ident, quizzes=quizzes, media=media)
    package.add("imsmanifest.xml", manifest)
    for quiz in quizzes:
        package.add(quiz.path, templating.render_stream(env, "assessment.xml.j2", assessment=quiz.assessment))
        package.add(quiz.meta_path, templating.render_stream(env, "assessment_meta.xml.j2", assessment=quiz.assessment))
    return {quiz.path: len(quiz.assessment.sections) for quiz in quizzes}


@register("qti12", "QTI 1.2 for Canvas Classic Quizzes", ".zip", options=("one_quiz", "templates"))
def write(
    deck: Deck, out: BinaryIO, *, progress: Progress, one_quiz: bool = False, templates: Path | None = None
) -> None:
    """A Canvas QTI zip: one quiz per card, or with ``one_quiz`` the deck as one quiz."""
    manifest_ident = qti.identifier("manifest", deck.id)
    qti.export(
        deck,
        out,
        format_name="qti12",
        layout=lambda package, env, assessments: _layout(manifest_ident, package, env, assessments),
        media_prefix=MEDIA_PREFIX,
        progress=progress,
        one_quiz=one_quiz,
        templates=templates,
    )
