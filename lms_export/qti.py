"""What QTI 1.2, 2.1 and 3.0 share, computed once in Python.

The three exporters differ only in the XML they write, and that lives in
``templates/qti/<format>/``. Everything a template needs to know is prepared
here, the same for every version: identifiers, the rendered text (HTML for
1.2, where it travels escaped inside ``mattext``; XHTML for 2.1 and 3.0, where
it is part of the XML), the answer key and the points from
:mod:`lms_export.scoring`, and the media files a package carries.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import jinja2
from markupsafe import Markup, escape

from lms_export import render, scoring, templating
from lms_export.errors import LmsExportError, Problem, warn
from lms_export.model import (
    Card,
    Deck,
    Matching,
    MediaRef,
    MultipleAnswers,
    Numerical,
    Ordering,
    Question,
    SingleChoice,
    Source,
    TrueFalse,
)
from lms_export.package import Package
from lms_export.presentation import shown_order

# -- identifiers ---------------------------------------------------------------


def identifier(kind: str, *ids: str) -> str:
    """A stable XML identifier (an NCName) for a deck, card or question.

    Derived from the ids alone, so the same deck always gives the same
    identifiers and an LMS re-import updates rather than duplicates. The ids
    are kept readable (``.`` becomes ``_``: Canvas rewrites dots in some
    identifiers but not in others) and a short digest of the exact tuple keeps
    ``a-b`` + ``c`` apart from ``a`` + ``b-c``.
    """
    digest = hashlib.blake2b("\x1f".join(ids).encode("utf-8"), digest_size=4).hexdigest()
    return f"{kind}_{_UNSAFE.sub('_', '_'.join(ids))[:48]}_{digest}"


@lru_cache(maxsize=4096)
def local_identifier(kind: str, key: str) -> str:
    """An identifier unique within one item (a choice, a matching side), as short as it can be.

    The same few keys (choice letters, positions) recur in every item, hence the cache.
    """
    return f"{kind}_{key}" if _UNSAFE.search(key) is None else identifier(kind, key)


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


# -- text ----------------------------------------------------------------------

#: What QTI 2.1 and 3.0 allow of HTML, by attribute; other elements are renamed.
_GLOBAL_ATTRIBUTES = {"id", "class"}
_ELEMENT_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"rowspan", "colspan"},
    "th": {"rowspan", "colspan"},
}
#: HTML the sanitizer keeps but the QTI content model lacks; shown as marked spans.
_QTI_RENAMES = {"del": "span", "s": "span", "u": "span"}
#: An image's width or height as QTI accepts it: pixels or a percentage.
_QTI_LENGTH = re.compile(r"[0-9]+%?")


def to_xhtml(html: str) -> Markup:
    """Sanitized HTML as well-formed XHTML within the QTI content model."""
    if "<" not in html and "&" not in html:
        return Markup(html)
    import lxml.html  # only QTI 2.1 and 3.0 get here, and only for text with markup
    from lxml import etree

    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for element in root.iterdescendants():
        if not isinstance(element.tag, str):  # a comment
            element.drop_tree()
            continue
        if element.tag in _QTI_RENAMES:
            element.set("class", f"{element.get('class', '')} {element.tag}".strip())
            element.tag = _QTI_RENAMES[element.tag]
        allowed = _GLOBAL_ATTRIBUTES | _ELEMENT_ATTRIBUTES.get(element.tag, set())
        for name in list(element.attrib):
            if name not in allowed or (name in ("width", "height") and not _QTI_LENGTH.fullmatch(element.get(name))):
                del element.attrib[name]
        if element.tag == "img" and "alt" not in element.attrib:
            element.set("alt", "")
        if element.tag == "thead" and element.getparent().find("tbody") is None:
            element.tag = "tbody"  # a Markdown table with no rows; QTI 2.1 requires a tbody
    parts = [str(escape(root.text or ""))]
    parts.extend(etree.tostring(child, encoding="unicode", method="xml") for child in root)
    return Markup("".join(parts))


class Text:
    """One Markdown text of a card, rendered when a template asks for it.

    ``html`` is a plain string, so a template's autoescaping puts it into
    QTI 1.2's ``mattext`` as escaped text; ``xhtml`` is markup, inserted into
    QTI 2.1 and 3.0 as elements.
    """

    __slots__ = ("inline", "markdown", "media_url", "sources")

    def __init__(
        self,
        markdown: str,
        sources: tuple[Source, ...] = (),
        media_url: render.MediaUrl | None = None,
        inline: bool = False,
    ):
        self.markdown = markdown
        self.sources = sources
        self.media_url = media_url
        self.inline = inline

    @property
    def html(self) -> str:
        return render.to_html(self.markdown, self.sources, self.media_url, self.inline)

    @property
    def xhtml(self) -> Markup:
        return to_xhtml(self.html)

    @property
    def plain(self) -> str:
        return render.plain_text(self.markdown)

    def __bool__(self) -> bool:
        return bool(self.markdown)


# -- items ---------------------------------------------------------------------


@dataclass(slots=True)
class Option:
    """Something a learner picks, matches or orders."""

    ident: str
    text: Text
    correct: bool = False
    feedback: Text | None = None


@dataclass(slots=True)
class Item:
    """One question as every QTI version needs it.

    ``options`` are the choices (true/false included), the right-hand side of
    a matching question (targets, then distractors) or the items of an
    ordering question in the correct order; ``sources`` is the left-hand side
    of a matching question.
    """

    ident: str
    question: Question
    title: str
    prompt: Text
    hint: Text | None
    correct_feedback: Text | None
    incorrect_feedback: Text | None
    general_feedback: Text | None
    options: tuple[Option, ...] = ()
    sources: tuple[Option, ...] = ()
    #: ``options`` in the order a learner first sees them (see :mod:`lms_export.presentation`).
    display_options: tuple[Option, ...] = ()

    @property
    def type(self) -> str:
        return self.question.type

    @property
    def points(self) -> float:
        return self.question.points

    @property
    def correct_options(self) -> tuple[Option, ...]:
        return tuple(o for o in self.options if o.correct)

    @property
    def media(self) -> tuple[str, ...]:
        """Package names of the images this item shows: its manifest dependencies."""
        texts = [self.prompt, self.hint, self.correct_feedback, self.incorrect_feedback, self.general_feedback]
        for option in (*self.options, *self.sources):
            texts += [option.text, option.feedback]
        names = {media_name(path) for text in texts if text for path in render.references(text.markdown)[1]}
        return tuple(sorted(names))

    @property
    def correct_pairs(self) -> tuple[tuple[str, str], ...]:
        """Matching: (source ident, target ident) of every pair."""
        assert isinstance(self.question, Matching)
        target = {o.text.markdown: o.ident for o in self.options}
        return tuple((s.ident, target[p.right]) for s, p in zip(self.sources, self.question.pairs, strict=True))

    @property
    def pair_credit(self) -> float:
        assert isinstance(self.question, Matching)
        return scoring.pair_credit(self.question)

    @property
    def bounds(self) -> tuple[float, float]:
        assert isinstance(self.question, Numerical)
        return self.question.bounds


class Run(NamedTuple):
    """A run of one card's questions as a QTI version writes them, made in whichever process checked them.

    ``items`` is what the version needs to write them: the items themselves,
    or the file they were already written to. ``card`` may come without its
    questions, which the items stand for.
    """

    card: Card
    items: Any
    questions: int
    points: float
    shuffle: bool


def run_of(card: Card, items: Sequence[Item], written: Any = None) -> Run:
    """The run of ``items``, carrying them or, when given, what they were ``written`` to."""
    return Run(
        card,
        tuple(items) if written is None else written,
        len(items),
        sum(item.points for item in items),
        any(item.question.shuffle for item in items),
    )


@dataclass
class Section:
    """A card's questions in a quiz."""

    ident: str
    title: str
    card: Card
    runs: list[Run] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        """The items, where the runs carry them."""
        return [item for run in self.runs for item in run.items]


@dataclass
class Assessment:
    """One quiz: a card's questions, or (with ``--one-quiz``) the whole deck's."""

    ident: str
    title: str
    description: Text | None
    sections: list[Section] = field(default_factory=list)
    points: float = 0
    shuffle: bool = False

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def add(self, section: Section, run: Run) -> None:
        section.runs.append(run)
        self.points += run.points
        self.shuffle = self.shuffle or run.shuffle


def make_item(deck: Deck, card: Card, question: Question, media_url: render.MediaUrl | None) -> Item:
    """One question as every QTI version needs it; ``media_url`` is where its images are in the package."""

    def text(markdown: str | None, inline: bool = False) -> Text | None:
        return Text(markdown, card.sources, media_url, inline) if markdown else None

    def option(kind: str, key: str, markdown: str, **fields) -> Option:
        return Option(local_identifier(kind, key), text(markdown, inline=True), **fields)

    options: tuple[Option, ...] = ()
    sources: tuple[Option, ...] = ()
    if isinstance(question, (SingleChoice, MultipleAnswers)):
        options = tuple(
            option("choice", c.id, c.text, correct=c.correct, feedback=text(c.feedback)) for c in question.choices
        )
    elif isinstance(question, TrueFalse):
        options = tuple(
            option("choice", label.lower(), label, correct=value is question.answer)
            for label, value in (("True", True), ("False", False))
        )
    elif isinstance(question, Matching):
        sources = tuple(option("left", str(i), p.left) for i, p in enumerate(question.pairs))
        options = tuple(option("right", str(i), right) for i, right in enumerate(question.targets))
    elif isinstance(question, Ordering):
        options = tuple(option("order", str(i), value, correct=True) for i, value in enumerate(question.items))
    shown = options
    if isinstance(question, (Matching, Ordering)):
        what = "targets" if isinstance(question, Matching) else "items"
        shown = tuple(options[i] for i in shown_order(len(options), card.id, question.id, what))
    feedback = question.feedback
    return Item(
        ident=identifier("item", deck.id, card.id, question.id),
        question=question,
        title=render.plain_text(question.title) if question.title else f"{card.title}: {question.id}",
        prompt=text(question.prompt),
        hint=text(question.hint),
        correct_feedback=text(feedback.correct),
        incorrect_feedback=text(feedback.incorrect),
        general_feedback=text(feedback.general),
        options=options,
        sources=sources,
        display_options=shown,
    )


def assessments(deck: Deck, media_url: render.MediaUrl | None = None, one_quiz: bool = False) -> list[Assessment]:
    """The quizzes a deck in memory makes, their runs carrying the items."""
    runs = (run_of(card, [make_item(deck, card, q, media_url) for q in card.questions]) for card in deck.cards)
    return gather(deck, runs, media_url, one_quiz)


def gather(
    deck: Deck,
    runs: Iterable[Run],
    media_url: render.MediaUrl | None = None,
    one_quiz: bool = False,
    progress: Callable[[int], None] = lambda n: None,
) -> list[Assessment]:
    """The quizzes a deck's runs make: one per card with questions, or one for the whole deck.

    A card's runs follow one another, the first with the card's first
    questions if it has any. ``progress`` is told of each card as it is taken.
    """
    if one_quiz:
        description = Text(deck.description, media_url=media_url) if deck.description else None
        quizzes = [Assessment(identifier("assessment", deck.id), deck.title, description)]
    else:
        quizzes = []
    section: Section | None = None
    for run in runs:
        card = run.card
        if section is None or section.card.id != card.id:
            if not run.questions:
                warn(f"card {card.id} has no questions; it is left out of the quizzes")
                section = None
                continue
            progress(1)
            if not one_quiz:
                subtitle = Text(card.subtitle) if card.subtitle else None
                quizzes.append(Assessment(identifier("assessment", deck.id, card.id), card.title, subtitle))
            section = Section(identifier("section", deck.id, card.id), card.title, card)
            quizzes[-1].sections.append(section)
        quizzes[-1].add(section, run)
    if not any(quiz.sections for quiz in quizzes):
        raise LmsExportError(Problem("the deck has no questions, so there is no quiz to export", file=deck.id))
    return quizzes


# -- media ---------------------------------------------------------------------

MEDIA_FOLDER = "media"


def media_name(path: str) -> str:
    """Where a local image goes inside a package."""
    return posixpath.join(MEDIA_FOLDER, posixpath.normpath(path))


def media_resource(name: str) -> str:
    """The manifest resource identifier of a packaged image."""
    return identifier("media", name)


def packaged_media(package: Package) -> list[str]:
    """The images a package carries, by name."""
    return [name for name in package.names if name.startswith(MEDIA_FOLDER + "/")]


def media_files(deck: Deck, shown: Iterable[tuple[str, MediaRef]] | None = None) -> dict[str, Path]:
    """Every local image the deck shows (or the ``shown`` (card id, image) pairs), by package name.

    An error names each missing file and the card that shows it.
    """
    if shown is None:
        shown = ((card.id, ref) for card in deck.cards for ref in card.media)
    files: dict[str, Path] = {}
    problems = []
    for card_id, ref in shown:
        source = deck.media_path(ref)
        if not source.is_file():
            problems.append(Problem(f"image file not found: {ref.path}", file=str(source), card=card_id))
        files[media_name(ref.path)] = source
    if problems:
        raise LmsExportError(problems)
    return files


# -- templates -----------------------------------------------------------------


@lru_cache(maxsize=8)
def environment(
    format_name: str, override: Path | None = None, filters: tuple[tuple[str, Callable], ...] = ()
) -> jinja2.Environment:
    """Templates for one QTI version: ``templates/qti/<format>``, or ``override/qti/<format>`` file by file.

    One per version, folder and filters in a process; workers forked later
    start with it, and with whatever templates it has already loaded.
    """
    return templating.environment(f"qti/{format_name}", override, {"media_resource": media_resource, **dict(filters)})


# -- packages of parts -----------------------------------------------------------


class RenderedPart(NamedTuple):
    """A part of the deck as runs of written items, one run per card; ``deck`` comes without its cards."""

    deck: Deck
    runs: tuple[Run, ...]


def add_media(package: Package, deck: Deck, runs: Iterable[Run]) -> None:
    """The images the cards of the runs show; an error names each missing file and its card."""
    shown = dict.fromkeys((run.card.id, ref) for run in runs for ref in run.card.media)
    for name, path in media_files(deck, shown).items():
        package.add_file(name, path)


# -- QTI 2.1 and 3.0: a file per item ----------------------------------------------

ITEMS, TESTS = "items", "tests"
#: Items and tests sit one folder down, so both reach the package's media through ../
ITEM_FILES_MEDIA_PREFIX = "../"


class WrittenItem(NamedTuple):
    """An item whose XML is in a run's file, at ``offset``; what tests and the manifest say of it."""

    ident: str
    media: tuple[str, ...]
    file: Path
    offset: int
    length: int

    def read(self) -> bytes:
        with self.file.open("rb") as run:
            run.seek(self.offset)
            return run.read(self.length)


def item_file(item: Item | WrittenItem) -> str:
    return posixpath.join(ITEMS, f"{item.ident}.xml")


def assessment_file(assessment: Assessment) -> str:
    return posixpath.join(TESTS, f"{assessment.ident}.xml")


def item_href(item: Item | WrittenItem) -> str:
    """An item file as a test file refers to it: both sit one folder below the package root."""
    return posixpath.join("..", item_file(item))


def _item_files_media_url(path: str) -> str:
    return ITEM_FILES_MEDIA_PREFIX + media_name(path)


def render_item_files(
    deck: Deck, *, format_name: str, scratch: Path, templates: Path | None = None, one_quiz: bool = False
) -> RenderedPart:
    """Every card's questions in a part of the deck as one version's item files, each run's in a file in ``scratch``.

    The item template also gets the deck's language (``lang``), which QTI 3 writes.
    """
    env = environment(format_name, templates)
    runs = []
    for card in deck.cards:
        items = [make_item(deck, card, q, _item_files_media_url) for q in card.questions]
        descriptor, name = tempfile.mkstemp(suffix=".xml", dir=scratch)
        written, offset = [], 0
        with open(descriptor, "wb") as run:
            for item in items:
                xml = templating.render(env, "item.xml.j2", item=item, lang=deck.language).encode("utf-8")
                run.write(xml)
                written.append(WrittenItem(item.ident, item.media, Path(name), offset, len(xml)))
                offset += len(xml)
        runs.append(run_of(dataclasses.replace(card, questions=()), items, written=tuple(written)))
    return RenderedPart(dataclasses.replace(deck, cards=()), tuple(runs))


def write_item_files(
    parts: Iterable[RenderedPart],
    out: BinaryIO,
    *,
    format_name: str,
    progress: Callable[[int], None] = lambda n: None,
    one_quiz: bool = False,
    templates: Path | None = None,
) -> None:
    """A content package of item files, a test per quiz and the manifest naming them all, from a deck's parts."""
    env = environment(format_name, templates)
    parts = iter(parts)
    first = next(parts)
    deck = first.deck
    runs = [run for part in chain([first], parts) for run in part.runs]
    assessments = gather(deck, runs, _item_files_media_url, one_quiz, progress)
    package = Package()
    for assessment in assessments:
        test = templating.render_stream(env, "test.xml.j2", assessment=assessment, item_href=item_href)
        package.add(assessment_file(assessment), test)
        for item in assessment.items:
            package.add(item_file(item), lambda item=item: (item.read(),))
    add_media(package, deck, runs)
    manifest = templating.render_stream(
        env,
        "manifest.xml.j2",
        identifier=identifier("manifest", deck.id),
        assessments=assessments,
        media=packaged_media(package),
        item_file=item_file,
        assessment_file=assessment_file,
    )
    package.add("imsmanifest.xml", manifest)
    package.write(out)
