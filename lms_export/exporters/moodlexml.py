"""Moodle XML: the deck as a question bank, every question in one of Moodle's own types.

Moodle XML is Moodle's most complete question format: one XML file, imported
under Question bank > Import. What Moodle's importer
(``question/format/xml/format.php``) reads decides the shape, which lives in
``templates/moodlexml/``; this module prepares what the templates need.

The choices that decide how a question scores, each against the rule in
:mod:`lms_export.scoring`, which stays the truth:

- multiple answers become ``multichoice`` with ``single`` false. Moodle adds
  the fractions of the chosen answers and keeps the total between 0 and 100%.
  Every wrong answer is worth -100%, so choosing any wrong answer scores 0, as
  in lms-export; the correct answers share 100% (never more), using only the
  grades Moodle's importer accepts, so choosing all of them scores 100%. One
  difference is left: Moodle gives partial credit for choosing only some of
  the correct answers, where lms-export gives nothing.
- ``penalty`` is 0: lms-export scores the final answer, so a wrong try before
  it (Moodle's interactive and adaptive behaviours) costs nothing.
- ordering becomes ``ordering`` graded all-or-nothing: the Ordering question
  type has been part of Moodle since 4.4 (before, the widely installed
  ``qtype_ordering`` plugin, which reads the same XML).
- right and wrong feedback of true/false, short answer and numerical questions
  (which have no overall feedback in Moodle) becomes the feedback of the
  accepted answers and of a ``*`` answer (Moodle's "any other answer") worth 0.

Text is the sanitized HTML of :func:`lms_export.render.to_html` inside CDATA,
as Moodle writes it; each image is embedded in the element of the text that
shows it, as ``<file encoding="base64">`` named by its path in the deck and
referred to as ``@@PLUGINFILE@@/path`` in the HTML. Question and category
names and matching answers are plain text, but Moodle reads them as HTML too
(its importer strips their tags, ``format_string`` shows them as HTML), so
they are :func:`lms_export.render.plain_text_as_html`: a ``<script>`` the
deck shows as text reaches Moodle as ``&lt;script>``, and shows as text there.
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from markupsafe import Markup

from lms_export import qti, render, templating
from lms_export.errors import LmsExportError, Problem, warn
from lms_export.exporters import Progress, register
from lms_export.model import (
    Card,
    Deck,
    Essay,
    Matching,
    MultipleAnswers,
    Numerical,
    Ordering,
    Question,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)

#: The positive grades Moodle's importer accepts for an answer (question_bank::fraction_options), in percent.
GRADES = tuple(
    Decimal(g)
    for g in (
        "100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40",
        "33.33333", "30", "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5",
    )
)  # fmt: skip
#: How far below 100% the correct answers may add up: Moodle counts a fraction above 0.999999 as right.
_FULL_MARGIN = Decimal("0.0001")


# -- numbers and text ----------------------------------------------------------


def cdata(text: str) -> Markup:
    """Element text as Moodle writes it: as is when plain, in CDATA when it holds markup.

    ``]]>`` cannot appear inside a CDATA section, so it is split across two,
    as Moodle's own exporter does. Every text from the deck goes through here.
    """
    text = templating.xml_text(str(text))
    if not any(c in text for c in "<>&"):
        return Markup(text)
    return Markup("<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>")


def plugin_url(path: str) -> str:
    """Where an embedded image is found once Moodle has stored the text's files."""
    return "@@PLUGINFILE@@/" + posixpath.normpath(path)


def wildcard_literal(answer: str) -> str:
    """A short answer as Moodle matches it: ``*`` is Moodle's wildcard, ``\\*`` a star."""
    return answer.replace("*", "\\*")


@lru_cache(maxsize=64)
def correct_shares(count: int) -> tuple[Decimal, ...] | None:
    """The grades of ``count`` correct answers: adding up to 100% and never more.

    Only the grades Moodle's importer accepts (:data:`GRADES`), as even as
    they allow: equal where 100/count is one of them, else two grades as close
    as possible (six answers: four at 20% and two at 10%, since six at
    16.66667% pass 100% and a wrong answer would then leave a sliver). None
    when no split exists: beyond 20 correct answers, as 5% is the smallest.
    """
    best: tuple[Decimal, tuple[Decimal, ...]] | None = None
    for high in GRADES:
        for low in (g for g in GRADES if g <= high):
            for highs in range(1, count + 1):
                total = highs * high + (count - highs) * low
                if 100 - _FULL_MARGIN < total <= 100 and (best is None or high - low < best[0]):
                    best = (high - low, (high,) * highs + (low,) * (count - highs))
    return best[1] if best else None


# -- what the templates read ---------------------------------------------------


@dataclass(frozen=True)
class File:
    """An image a text shows, carried inside the text's element."""

    name: str
    path: str
    source: Path

    def base64(self) -> str:
        """Read when the template writes it, so no more than one image is held at a time."""
        return base64.b64encode(self.source.read_bytes()).decode("ascii")


@dataclass(frozen=True)
class Text:
    """One Moodle text field: sanitized HTML and the images it shows."""

    html: str
    files: tuple[File, ...] = ()


@dataclass(frozen=True)
class Answer:
    """``text`` is HTML for multichoice and ordering, plain text for the others."""

    text: Text | str
    fraction: str
    feedback: Text | None = None
    tolerance: str | None = None


@dataclass(frozen=True)
class Subquestion:
    """A matching row; one with empty text is a distractor, as Moodle writes them."""

    text: Text
    answer: str


@dataclass(frozen=True)
class MoodleQuestion:
    """One question as the templates write it; ``qtype`` names Moodle's type and the template."""

    qtype: str
    name: str
    idnumber: str
    text: Text
    points: str
    general_feedback: Text | None
    hints: tuple[Text, ...]
    answers: tuple[Answer, ...] = ()
    subquestions: tuple[Subquestion, ...] = ()
    single: bool = True
    shuffle: bool = False
    usecase: bool = False
    correct_feedback: Text | None = None
    incorrect_feedback: Text | None = None


@dataclass(frozen=True)
class Category:
    """A ``category`` pseudo-question: the questions after it are imported into ``path``."""

    path: str
    info: str


@dataclass(frozen=True)
class CardBank:
    """A card's category and the questions imported into it."""

    category: Category
    questions: tuple[MoodleQuestion, ...]


def category_path(*names: str) -> str:
    """A category path as Moodle writes one: ``/`` in a name doubled, a space against an edge ``/``."""
    escaped = []
    for name in names:
        name = name.replace("/", "//")
        escaped.append(f"{' ' if name.startswith('/') else ''}{name}{' ' if name.endswith('/') else ''}")
    return "/".join(["$course$", "top", *escaped])


# -- building ------------------------------------------------------------------


class _Bank:
    """Turns a deck's questions into Moodle questions, resolving images once per deck."""

    def __init__(self, deck: Deck):
        self.deck = deck
        self.media = qti.media_files(deck)

    def text(self, card: Card, markdown: str | None, inline: bool = False) -> Text | None:
        if not markdown:
            return None
        html = render.to_html(markdown, card.sources, plugin_url, inline)
        images = dict.fromkeys(render.references(markdown)[1])
        return Text(html, tuple(f for f in (self.file(card, src) for src in images) if f is not None))

    def file(self, card: Card, src: str) -> File | None:
        source = self.media.get(qti.media_name(src))
        if source is None:
            warn(
                f"card {card.id}: image {src} is not embedded; "
                "only prompts, choices, hints and feedback may show images"
            )
            return None
        folder, name = posixpath.split(posixpath.normpath(src))
        folder = "/" + (unquote(folder) + "/" if folder else "")
        return File(templating.xml_text(unquote(name)), templating.xml_text(folder), source)

    def category(self, card: Card | None = None) -> Category:
        if card is None:
            description = render.to_html(self.deck.description) if self.deck.description else ""
            return Category(category_path(render.plain_text_as_html(self.deck.title)), description)
        subtitle = render.to_html(card.subtitle) if card.subtitle else ""
        names = (render.plain_text_as_html(self.deck.title), render.plain_text_as_html(card.title))
        return Category(category_path(*names), subtitle)

    def question(self, card: Card, q: Question) -> MoodleQuestion | None:
        """The Moodle question, or None (with a warning) when Moodle cannot score it as lms-export does."""

        def text(markdown: str | None, inline: bool = False) -> Text | None:
            return self.text(card, markdown, inline)

        feedback = q.feedback
        name = render.plain_text_as_html(q.title) if q.title else f"{render.plain_text_as_html(card.title)}: {q.id}"
        common = {
            "name": name,
            "idnumber": qti.identifier("question", self.deck.id, card.id, q.id),
            "text": text(q.prompt),
            "points": templating.number(q.points),
            "general_feedback": text(feedback.general),
            "hints": (text(q.hint),) if q.hint else (),
        }
        overall = {"correct_feedback": text(feedback.correct), "incorrect_feedback": text(feedback.incorrect)}
        right, wrong = overall["correct_feedback"], overall["incorrect_feedback"]
        if isinstance(q, SingleChoice):
            answers = tuple(
                Answer(text(c.text, inline=True), "100" if c.correct else "0", text(c.feedback)) for c in q.choices
            )
            return MoodleQuestion("multichoice", answers=answers, shuffle=q.shuffle, **common, **overall)
        if isinstance(q, MultipleAnswers):
            shares = correct_shares(len(q.correct_choices))
            if shares is None:
                warn(
                    f"card {card.id}, question {q.id}: Moodle cannot share 100% among "
                    f"{len(q.correct_choices)} correct answers; the question is left out"
                )
                return None
            grades = iter(shares)
            answers = tuple(
                Answer(
                    text(c.text, inline=True),
                    templating.number(next(grades)) if c.correct else "-100",
                    text(c.feedback),
                )
                for c in q.choices
            )
            return MoodleQuestion("multichoice", answers=answers, single=False, shuffle=q.shuffle, **common, **overall)
        if isinstance(q, TrueFalse):
            answers = tuple(
                Answer(label, "100" if value is q.answer else "0", right if value is q.answer else wrong)
                for label, value in (("true", True), ("false", False))
            )
            return MoodleQuestion("truefalse", answers=answers, **common)
        if isinstance(q, ShortAnswer):
            answers = tuple(Answer(wildcard_literal(a), "100", right) for a in q.answers)
            if wrong:
                answers += (Answer("*", "0", wrong),)
            return MoodleQuestion("shortanswer", answers=answers, usecase=q.case_sensitive, **common)
        if isinstance(q, Numerical):
            if q.range is None:
                middle, tolerance = Decimal(repr(q.answer)), Decimal(repr(q.tolerance))
            else:  # in decimal, so middle +- tolerance gives back exactly the ends the author wrote
                low, high = (Decimal(repr(end)) for end in q.range)
                middle, tolerance = (low + high) / 2, (high - low) / 2
            answers = (Answer(templating.number(middle), "100", right, templating.number(tolerance)),)
            if wrong:
                answers += (Answer("*", "0", wrong, "0"),)
            return MoodleQuestion("numerical", answers=answers, **common)
        if isinstance(q, Essay):
            dropped = [what for what, value in (("hint", q.hint), ("right/wrong feedback", right or wrong)) if value]
            if dropped:
                warn(f"card {card.id}, question {q.id}: a Moodle essay has no {' or '.join(dropped)}; left out")
            return MoodleQuestion("essay", **{**common, "hints": ()})
        if isinstance(q, Matching):
            subquestions = tuple(
                Subquestion(text(p.left, inline=True), render.plain_text_as_html(p.right)) for p in q.pairs
            ) + tuple(Subquestion(Text(""), render.plain_text_as_html(d)) for d in q.distractors)
            return MoodleQuestion("matching", subquestions=subquestions, shuffle=q.shuffle, **common, **overall)
        if isinstance(q, Ordering):
            answers = tuple(Answer(text(item, inline=True), str(i)) for i, item in enumerate(q.items, start=1))
            return MoodleQuestion("ordering", answers=answers, **common, **overall)
        raise TypeError(f"no Moodle question type for {q.type}")

    def cards(self, progress: Progress) -> Iterator[CardBank]:
        """Card by card, built as the template reaches it, so the output streams."""
        for card in self.deck.cards:
            questions = tuple(m for m in (self.question(card, q) for q in card.questions) if m is not None)
            if questions:
                yield CardBank(self.category(card), questions)
            elif not card.questions:
                warn(f"card {card.id} has no questions; it is left out of the question bank")
            progress(1)


@register("moodlexml", "a Moodle XML question bank: every question type, a category per card", ".xml", ("templates",))
def write_moodlexml(deck: Deck, out: BinaryIO, *, progress: Progress, templates: Path | None = None) -> None:
    """Write the question bank to ``out`` as a stream.

    Each card's questions are built when the template reaches the card and
    written before the next card is read, so a large deck never sits in
    memory as XML, and ``progress`` moves card by card.
    """
    if not any(card.questions for card in deck.cards):
        raise LmsExportError(Problem("the deck has no questions, so there is no question bank to export", file=deck.id))
    env = templating.environment("moodlexml", templates, {"cdata": cdata})
    bank = _Bank(deck)
    produce = templating.render_stream(env, "quiz.xml.j2", deck=bank.category(), cards=bank.cards(progress))
    for chunk in produce():
        out.write(chunk.encode("utf-8"))
