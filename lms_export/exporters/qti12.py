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
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import BinaryIO, NamedTuple

import jinja2
from markupsafe import Markup

from lms_export import qti, templating
from lms_export.errors import LmsExportError, Problem, warn
from lms_export.exporters import Progress, register
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


@lru_cache(maxsize=4)
def _environment(templates: Path | None) -> jinja2.Environment:
    """One per template folder, compiled here before any worker is forked, so none compiles it again."""
    env = qti.environment("qti12", templates)
    env.filters["canvas_matches"] = canvas_matches
    with templating.template_errors("items.xml.j2"):
        env.get_template("items.xml.j2")
    return env


# -- a part of the deck as items ------------------------------------------------


class RenderedCard(NamedTuple):
    """A run of one card's questions written as items into ``items``; ``card`` comes without its questions."""

    card: Card
    items: Path
    questions: int
    points: float
    shuffle: bool


class RenderedPart(NamedTuple):
    """A part of the deck as items; ``deck`` comes without its cards."""

    deck: Deck
    cards: tuple[RenderedCard, ...]


def render_part(deck: Deck, *, scratch: Path, templates: Path | None = None, one_quiz: bool = False) -> RenderedPart:
    """Every card's questions in a part of the deck as QTI 1.2 items, each run in a file in ``scratch``.

    The items go to a file rather than back through a pipe from a worker: a
    pipe costs the receiving process more than the file does, and the file
    is read once, when the package is written. ``one_quiz`` does not change
    the items.
    """
    env = _environment(templates)
    cards = []
    for card in deck.cards:
        items = [qti.make_item(deck, card, question, _media_url) for question in card.questions]
        _warn_losses(card, items)
        descriptor, name = tempfile.mkstemp(suffix=".xml", dir=scratch)
        with open(descriptor, "w", encoding="utf-8") as run:
            run.write(templating.render(env, "items.xml.j2", items=items))
        cards.append(
            RenderedCard(
                dataclasses.replace(card, questions=()),
                Path(name),
                len(items),
                sum(item.points for item in items),
                any(item.question.shuffle for item in items),
            )
        )
    return RenderedPart(dataclasses.replace(deck, cards=()), tuple(cards))


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


@dataclass
class Section:
    """A card's items in a quiz."""

    card_id: str
    ident: str
    #: Shown with --one-quiz, where a section is a card; None in a card's own quiz.
    title: str | None
    runs: list[Path]

    @property
    def item_runs(self) -> Iterator[Markup]:
        """The items, read from their files in blocks as the assessment is written."""
        for path in self.runs:
            with path.open(encoding="utf-8") as run:
                while block := run.read(1 << 20):
                    yield Markup(block)


@dataclass
class Quiz:
    """One Canvas quiz: a card's questions, or with --one-quiz the deck's."""

    ident: str
    title: str
    description: qti.Text | None
    sections: list[Section] = field(default_factory=list)
    points: float = 0
    shuffle: bool = False

    @property
    def path(self) -> str:
        return f"{self.ident}/{self.ident}.xml"

    @property
    def meta_path(self) -> str:
        return f"{self.ident}/{META_FILE}"

    @property
    def meta_ident(self) -> str:
        return f"{self.ident}_meta"

    def add(self, section: Section, run: RenderedCard) -> None:
        section.runs.append(run.items)
        self.points += run.points
        self.shuffle = self.shuffle or run.shuffle


def write_parts(
    parts: Iterable[RenderedPart],
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
    runs = [run for part in chain([first], parts) for run in part.cards]
    quizzes = _quizzes(deck, runs, one_quiz, progress)
    package = Package()
    for quiz in quizzes:
        package.add(quiz.path, templating.render_stream(env, "assessment.xml.j2", assessment=quiz))
        package.add(quiz.meta_path, templating.render_stream(env, "assessment_meta.xml.j2", assessment=quiz))
    shown = dict.fromkeys((run.card.id, ref) for run in runs for ref in run.card.media)
    for name, path in qti.media_files(deck, shown).items():
        package.add_file(name, path)
    manifest = templating.render_stream(
        env,
        "imsmanifest.xml.j2",
        ident=qti.identifier("manifest", deck.id),
        quizzes=quizzes,
        media=qti.packaged_media(package),
    )
    package.add("imsmanifest.xml", manifest)
    package.write(out)


def _quizzes(deck: Deck, runs: list[RenderedCard], one_quiz: bool, progress: Progress) -> list[Quiz]:
    """The quizzes the runs make; a card's runs follow one another, the first with its first questions."""
    if one_quiz:
        description = qti.Text(deck.description, media_url=_media_url) if deck.description else None
        quizzes = [Quiz(qti.identifier("assessment", deck.id), deck.title, description)]
    else:
        quizzes = []
    section: Section | None = None
    for run in runs:
        card = run.card
        if section is None or section.card_id != card.id:
            if not run.questions:  # a card's first run holds its first questions, if it has any
                warn(f"card {card.id} has no questions; it is left out of the quizzes")
                section = None
                continue
            progress(1)
            if not one_quiz:
                subtitle = qti.Text(card.subtitle) if card.subtitle else None
                quizzes.append(Quiz(qti.identifier("assessment", deck.id, card.id), card.title, subtitle))
            title = card.title if one_quiz else None
            section = Section(card.id, qti.identifier("section", deck.id, card.id), title, [])
            quizzes[-1].sections.append(section)
        quizzes[-1].add(section, run)
    if not any(quiz.sections for quiz in quizzes):
        raise LmsExportError(Problem("the deck has no questions, so there is no quiz to export", file=deck.id))
    return quizzes


@register(
    "qti12",
    "QTI 1.2 for Canvas Classic Quizzes",
    ".zip",
    options=("one_quiz", "templates"),
    render_part=render_part,
    write_parts=write_parts,
)
def write(
    deck: Deck, out: BinaryIO, *, progress: Progress, one_quiz: bool = False, templates: Path | None = None
) -> None:
    """A Canvas QTI zip: one quiz per card, or with ``one_quiz`` the deck as one quiz."""
    with tempfile.TemporaryDirectory(prefix="lms-export-") as scratch:
        parts = (
            render_part(dataclasses.replace(deck, cards=(card,)), scratch=Path(scratch), templates=templates)
            for card in deck.cards
        )
        write_parts(parts, out, progress=progress, one_quiz=one_quiz, templates=templates)
