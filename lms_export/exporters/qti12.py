"""QTI 1.2 as Canvas Classic Quizzes imports it, in the shape of Canvas's own QTI export.

Canvas fails silently on a package it does not like, so the package follows
Canvas's export exactly: the manifest names each quiz's assessment with a
dependency on ``<ident>/assessment_meta.xml``, Canvas's quiz settings, whose
identifier must be the assessment's for Canvas to apply them; images are
referenced as ``$IMS-CC-FILEBASE$/<path in the package>``. The XML itself is
in ``templates/qti/qti12/``; this module lays out the files and adds what only
Canvas needs: how it shows a matching question, and warnings where Canvas
cannot keep the deck's meaning.

A long quiz is written part by part (see :mod:`lms_export.parts`): each part
of the deck becomes a run of items wherever it was checked (:func:`render_part`,
perhaps in a worker process), and the runs are assembled into the package in
order (:func:`write_parts`). The assessment file is written as its runs arrive,
so memory does not grow with the quiz; its settings file, which holds the
total points, follows it.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import BinaryIO, NamedTuple

import jinja2
from markupsafe import Markup

from lms_export import qti, templating
from lms_export.errors import warn
from lms_export.exporters import Progress, register_parts
from lms_export.model import Card, Deck
from lms_export.package import Package

#: Canvas looks for a quiz's settings under this name in the quiz's folder.
META_FILE = "assessment_meta.xml"
#: How Canvas's importer resolves a path inside the package.
MEDIA_PREFIX = "$IMS-CC-FILEBASE$/"


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


def _media_url(path: str) -> str:
    """Where an image a card shows is, for Canvas's importer."""
    return MEDIA_PREFIX + qti.media_name(path)


def _environment(templates: Path | None) -> jinja2.Environment:
    return qti.environment("qti12", templates, (("canvas_matches", canvas_matches),))


# -- a part of the deck as items ------------------------------------------------


def render_part(
    deck: Deck, *, scratch: Path, templates: Path | None = None, one_quiz: bool = False
) -> qti.RenderedPart:
    """Every card's questions in a part of the deck as QTI 1.2 items, each run in a file in ``scratch``.

    The items go to a file rather than back through a pipe from a worker: a
    pipe costs the receiving process more than the file does, and the file
    is read once, when the package is written. ``one_quiz`` does not change
    the items.
    """
    env = _environment(templates)
    runs = []
    for card in deck.cards:
        items = [qti.make_item(deck, card, question, _media_url) for question in card.questions]
        _warn_losses(card, items)
        descriptor, name = tempfile.mkstemp(suffix=".xml", dir=scratch)
        with open(descriptor, "w", encoding="utf-8") as run:
            run.write(templating.render(env, "items.xml.j2", items=items))
        runs.append(qti.run_of(dataclasses.replace(card, questions=()), items, written=Path(name)))
    return qti.RenderedPart(dataclasses.replace(deck, cards=()), tuple(runs))


def _warn_losses(card: Card, items: list[qti.Item]) -> None:
    """Tell the user where Canvas cannot keep what the deck says."""
    for item in items:
        where = f"card {card.id}, question {item.question.id}"
        if item.type == "ordering":
            warn(
                f"{where}: Canvas has no ordering question; exported as a matching question "
                "that matches each item to its position (1, 2, ...), scored per position"
            )
        elif item.type == "short_answer" and item.question.case_sensitive:
            warn(f"{where}: Canvas ignores case in short answers, so the answer is not case-sensitive there")


# -- the package ----------------------------------------------------------------


class Quiz(NamedTuple):
    """One assessment and where its two files go."""

    assessment: qti.Assessment
    path: str
    meta_path: str
    meta_ident: str


def item_runs(section: qti.Section) -> Iterator[Markup]:
    """A section's items, read from the files of its runs in blocks as the assessment is written."""
    for run in section.runs:
        with run.items.open(encoding="utf-8") as items:
            while block := items.read(1 << 20):
                yield Markup(block)


def write_parts(
    parts: Iterable[qti.RenderedPart],
    out: BinaryIO,
    *,
    progress: Progress = lambda n: None,
    one_quiz: bool = False,
    templates: Path | None = None,
) -> None:
    """A Canvas QTI zip from a deck's parts, in order: one quiz per card, or with ``one_quiz`` one in all.

    Every part is taken before anything is written, as Canvas's settings file
    holds the quiz's total points and comes first in the zip; the items stay
    in their files until their assessment is written. ``progress`` is told of
    each card as its items arrive.
    """
    env = _environment(templates)
    parts = iter(parts)
    first = next(parts)
    deck = first.deck
    runs = [run for part in chain([first], parts) for run in part.runs]
    assessments = qti.gather(deck, runs, _media_url, one_quiz, progress)
    quizzes = [Quiz(a, f"{a.ident}/{a.ident}.xml", f"{a.ident}/{META_FILE}", f"{a.ident}_meta") for a in assessments]
    package = Package()
    for quiz in quizzes:
        assessment = templating.render_stream(env, "assessment.xml.j2", assessment=quiz.assessment, item_runs=item_runs)
        package.add(quiz.path, assessment)
        package.add(quiz.meta_path, templating.render_stream(env, "assessment_meta.xml.j2", assessment=quiz.assessment))
    qti.add_media(package, deck, runs)
    manifest = templating.render_stream(
        env,
        "imsmanifest.xml.j2",
        ident=qti.identifier("manifest", deck.id),
        quizzes=quizzes,
        media=qti.packaged_media(package),
    )
    package.add("imsmanifest.xml", manifest)
    package.write(out)


write = register_parts(
    "qti12", "QTI 1.2 for Canvas Classic Quizzes", ".zip", ("one_quiz", "templates"), render_part, write_parts
)
