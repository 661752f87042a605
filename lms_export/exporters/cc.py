"""IMS Common Cartridge 1.1 and 1.3: the deck as a course, one module per card.

A cartridge is what Canvas, Moodle, Blackboard, Brightspace and Sakai import
as a whole course. Each card becomes a module (an item of the organization)
holding, in this order::

    the card page             webcontent, the page of lms_export.page
    the card's quiz           a CC assessment (the QTI 1.2 profile of CC)
    a web link per source     imswl resources
    a live link (--lti-url)   an LTI link launching the card in the lms-export tool

laid out as::

    imsmanifest.xml
    cards/<card id>.html
    assets/lms-export.css, assets/lms-export-runtime.js
    media/...
    quizzes/<card id>.xml
    links/<card id>-<source id>.xml
    lti/<card id>.xml

The page is the SCORM and preview page without its quiz: the quiz is the
cartridge's assessment, graded by the LMS, and a page carrying the answer key
next to it would hand the key to anyone reading the page's source.

The assessment follows the CC QTI profile and what Moodle's CC importer
(``backup/cc``), the strictest reader, makes of it: the question type is the
item's ``cc_profile``; a right answer sets SCORE to 100 in a single condition
that stops processing; the points are ``cc_weighting``, a whole number from 1
to 99; true/false choices are identified ``true`` and ``false``; general
feedback is the only feedback on a condition that continues. Numerical,
matching and ordering questions, and single-choice questions with two choices
(the profile's multiple choice needs three, by its Schematron rule 4d), have
no CC form: they are left out with a warning. The XML is in
``templates/cc/cc11/``; CC 1.3 differs only in names, which :class:`Version`
holds, so ``templates/cc/cc13/`` extends the 1.1 templates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import jinja2

from lms_export import launch, page, qti, render, templating
from lms_export.errors import LmsExportError, warn
from lms_export.exporters import Progress, register
from lms_export.model import (
    Card,
    Deck,
    Matching,
    Numerical,
    Ordering,
    Question,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)
from lms_export.package import Package

#: How an assessment reaches a package file: from its folder (quizzes/) up to the top.
MEDIA_PREFIX = "$IMS-CC-FILEBASE$../"
#: The words the LMS shows as module items, beside the page's own words (page.UI_TEXT).
ITEM_TEXT = {"quiz": "Quiz: {title}", "live": "{title} (interactive)"}
LTI_TYPE = "imsbasiclti_xmlv1p0"
#: Question types the CC QTI profile has no form for.
NO_CC_FORM = {Numerical.type: "numerical", Matching.type: "matching", Ordering.type: "ordering"}


@dataclass(frozen=True)
class Version:
    """The names one CC version uses; its structure is the same in 1.1 and 1.3."""

    name: str  # "1.1" or "1.3"
    tag: str  # "v1p1" or "v1p3", as the namespaces and type names spell the version

    @property
    def format(self) -> str:
        return f"cc{self.tag[1]}{self.tag[3]}"

    @property
    def schemaversion(self) -> str:
        return f"{self.name}.0"

    @property
    def namespace(self) -> str:
        return f"http://www.imsglobal.org/xsd/imscc{self.tag}/imscp_v1p1"

    @property
    def lom_namespace(self) -> str:
        return f"http://ltsc.ieee.org/xsd/imscc{self.tag}/LOM/manifest"

    @property
    def weblink_namespace(self) -> str:
        return f"http://www.imsglobal.org/xsd/imscc{self.tag}/imswl_{self.tag}"

    @property
    def profile(self) -> str:
        """The folder where 1EdTech publishes the version's XSDs, for the schemaLocation hints."""
        return f"http://www.imsglobal.org/profile/cc/cc{self.tag}/"

    @property
    def assessment_type(self) -> str:
        return f"imsqti_xmlv1p2/imscc_xml{self.tag}/assessment"

    @property
    def weblink_type(self) -> str:
        return f"imswl_xml{self.tag}"


CC11 = Version("1.1", "v1p1")
CC13 = Version("1.3", "v1p3")


# -- the quiz --------------------------------------------------------------------


def left_out(question: Question) -> str | None:
    """Why the CC QTI profile cannot carry a question; None when it can."""
    if question.type in NO_CC_FORM:
        return f"Common Cartridge has no {NO_CC_FORM[question.type]} question"
    if isinstance(question, SingleChoice) and len(question.choices) < 3:
        return "a Common Cartridge multiple-choice question needs at least three choices (two are true/false only)"
    return None


def weighting(points: float) -> str | None:
    """``cc_weighting``: the points as the whole number from 1 to 99 the profile allows; None otherwise."""
    return str(int(points)) if float(points).is_integer() and 1 <= points <= 99 else None


def label_ident(option: qti.Option, item: qti.Item) -> str:
    """A choice's ident: ``true`` and ``false`` for true/false, the only idents Moodle's importer accepts."""
    if isinstance(item.question, TrueFalse):
        return "true" if option.correct == item.question.answer else "false"
    return option.ident


def _quiz_deck(deck: Deck) -> Deck | None:
    """The deck with only what a CC quiz carries, each loss warned; None when no card keeps a question."""
    cards = []
    for card in deck.cards:
        kept = []
        for question in card.questions:
            where = f"card {card.id}, question {question.id}"
            reason = left_out(question)
            if reason is not None:
                warn(f"{where}: {reason}; left out of the cartridge's quiz")
                continue
            if weighting(question.points) is None:
                warn(
                    f"{where}: Common Cartridge weighs a question by a whole number from 1 to 99, "
                    f"so its {templating.number(question.points)} point(s) are left to the LMS (Moodle counts 1)"
                )
            if isinstance(question, ShortAnswer) and question.case_sensitive:
                warn(f"{where}: Moodle's and Canvas's cartridge importers ignore case in the answer")
            kept.append(question)
        if kept:
            cards.append(dataclasses.replace(card, questions=tuple(kept)))
    return dataclasses.replace(deck, cards=tuple(cards)) if cards else None


# -- the manifest ------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """A manifest resource: ``href`` only for what an item launches as a file (webcontent)."""

    identifier: str
    type: str
    files: tuple[str, ...]
    href: str | None = None
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """A module item of the organization and the resource it shows."""

    identifier: str
    title: str
    resource: str


@dataclass(frozen=True)
class Module:
    """A card: an organization item holding the card's items."""

    identifier: str
    title: str
    items: tuple[Item, ...]


def _launch_urls(lti_url: str) -> Callable[[Card], str]:
    """Each card's launch URL in the lms-export tool at ``lti_url``: where the tool serves it."""
    try:
        origin = launch.tool_origin(lti_url)
    except LmsExportError as error:
        raise LmsExportError(f"--lti-url {error.problems[0].message}") from None
    return lambda card: launch.card_url(origin, card.id)


def _environment(templates: Path | None) -> jinja2.Environment:
    return templating.environment("cc", templates, {"cc_weighting": weighting, "label_ident": label_ident})


def write_cartridge(
    deck: Deck, out: BinaryIO, *, progress: Progress, version: Version, lti_url: str | None, templates: Path | None
) -> None:
    """Write the cartridge: media, shared assets, then per card its page, quiz, links and live link."""
    launch_url = _launch_urls(lti_url) if lti_url is not None else None
    env = _environment(templates)
    package = Package()

    def render_to(name: str, template: str, **context) -> None:
        package.add(name, templating.render_stream(env, f"{version.format}/{template}", cc=version, **context))

    media = qti.media_files(deck)
    for name, path in media.items():
        package.add_file(name, path)
    assets = page.asset_files()
    for name, path in assets.items():
        package.add_file(name, path)
    assets_id = qti.identifier("assets", deck.id)
    resources = [Resource(assets_id, "webcontent", tuple(sorted(assets)))]
    resources += [Resource(qti.media_resource(name), "webcontent", (name,), href=name) for name in sorted(media)]

    quiz_deck = _quiz_deck(deck)
    quizzes = {}
    if quiz_deck is not None:
        assessments = qti.assessments(quiz_deck, lambda path: MEDIA_PREFIX + qti.media_name(path))
        quizzes = {a.sections[0].card.id: a for a in assessments}

    modules, weights = [], {}
    for card in deck.cards:
        ids = (deck.id, card.id)
        href = f"cards/{card.id}.html"
        package.add(
            href,
            page.render_page(
                deck,
                (dataclasses.replace(card, questions=()),),
                root="../",
                # links between cards would leave the LMS's navigation; the module shows the way
                related_href=lambda card_id: None,
                answer_key=False,
            ),
        )
        weights[href] = 1
        images = tuple(dict.fromkeys(qti.media_resource(qti.media_name(ref.path)) for ref in card.media))
        page_id = qti.identifier("page", *ids)
        resources.append(Resource(page_id, "webcontent", (href,), href=href, dependencies=(assets_id, *images)))
        items = [Item(qti.identifier("item", *ids, "page"), card.title, page_id)]

        assessment = quizzes.get(card.id)
        if assessment is not None:
            path = f"quizzes/{card.id}.xml"
            render_to(path, "assessment.xml.j2", assessment=assessment)
            shown = dict.fromkeys(qti.media_resource(name) for item in assessment.items for name in item.media)
            resources.append(Resource(assessment.ident, version.assessment_type, (path,), dependencies=tuple(shown)))
            title = ITEM_TEXT["quiz"].format(title=card.title)
            items.append(Item(qti.identifier("item", *ids, "quiz"), title, assessment.ident))

        for source in card.sources:
            if source.url is None:
                continue  # listed on the page; a web link needs somewhere to go
            link_id = qti.identifier("link", *ids, str(source.id))
            path = f"links/{card.id}-{source.id}.xml"
            render_to(path, "weblink.xml.j2", title=source.title, url=source.url)
            resources.append(Resource(link_id, version.weblink_type, (path,)))
            items.append(Item(qti.identifier("item", *ids, "source", str(source.id)), source.title, link_id))

        if launch_url is not None:
            lti_id = qti.identifier("lti", *ids)
            path = f"lti/{card.id}.xml"
            title = ITEM_TEXT["live"].format(title=card.title)
            render_to(path, "lti.xml.j2", title=title, description=card.subtitle, url=launch_url(card))
            resources.append(Resource(lti_id, LTI_TYPE, (path,)))
            items.append(Item(qti.identifier("item", *ids, "lti"), title, lti_id))

        modules.append(Module(qti.identifier("module", *ids), card.title, tuple(items)))

    render_to(
        "imsmanifest.xml",
        "imsmanifest.xml.j2",
        identifier=qti.identifier("manifest", deck.id),
        organization=qti.identifier("org", deck.id),
        root=qti.identifier("root", deck.id),
        deck=deck,
        description=render.plain_text(deck.description) if deck.description else None,
        keywords=list(dict.fromkeys(card.topic for card in deck.cards if card.topic)),
        modules=modules,
        resources=resources,
    )
    package.write(out, on_entry=lambda name: progress(weights.get(name, 0)))


_OPTIONS = ("lti_url", "templates")


@register("cc11", "IMS Common Cartridge 1.1: a module per card (Moodle, Canvas, Blackboard, ...)", ".imscc", _OPTIONS)
def write_cc11(
    deck: Deck, out: BinaryIO, *, progress: Progress, lti_url: str | None = None, templates: Path | None = None
) -> None:
    write_cartridge(deck, out, progress=progress, version=CC11, lti_url=lti_url, templates=templates)


@register("cc13", "IMS Common Cartridge 1.3: a module per card (Canvas, Brightspace, ...)", ".imscc", _OPTIONS)
def write_cc13(
    deck: Deck, out: BinaryIO, *, progress: Progress, lti_url: str | None = None, templates: Path | None = None
) -> None:
    write_cartridge(deck, out, progress=progress, version=CC13, lti_url=lti_url, templates=templates)
