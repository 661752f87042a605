"""A card as a web page with its quiz: a SCORM SCO, a page of the preview site.

The page is plain HTML and CSS with one small script of ours
(``templates/page/lms-export-runtime.js``): it works opened from a folder
with no LMS at all, inside any LMS frame, and requests nothing outside the
package. All text is rendered here by :func:`lms_export.render.to_html`, so
what reaches the page has passed the sanitizer.

The quiz travels as data. The template renders each question's controls from
its public half (prompt, choices, hint); the answer key (the right answers and
the feedback they unlock) is a separate JSON block the script reads to score
in the browser by the rules of :mod:`lms_export.scoring`. A page rendered with
``answer_key=False`` carries no part of the key, for a tool that scores on a
server: that is why matching targets and ordering items are shown in an order
of their own, and identified by their place on the page rather than in the
answer. A page given a :class:`Submission` is such a page, whose quiz is a
form posting every answer by its control's name (the question's id on the
page, ``<id>-left<n>`` for matching) to the server, which scores it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from markupsafe import Markup

from lms_export import qti, render, templating
from lms_export.errors import LmsExportError, Problem
from lms_export.model import (
    Card,
    Deck,
    Matching,
    MultipleAnswers,
    Numerical,
    Ordering,
    Question,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)
from lms_export.presentation import shown_order

#: How the run time, suspend data and SCORM responses name the options of a
#: question: one character each, because SCORM 1.2 allows no more.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ASSET_FOLDER = "assets"
STYLESHEET = "lms-export.css"
RUNTIME = "lms-export-runtime.js"
#: Players whose embed the page may load, once the learner asks for it.
VIDEO_HOSTS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")

#: Every word the page and its script show the learner, in one place to translate.
UI_TEXT = {
    "difficulty": "Difficulty",
    "topic": "Topic",
    "creator": "By",
    "sources": "Sources",
    "video": "Video",
    "watch": "Watch the video",
    "play": "Play the video here",
    "related": "Related cards",
    "quiz": "Check your understanding",
    "question": "Question {n}",
    "points": "{points} pts",
    "answer": "Your answer",
    "true": "True",
    "false": "False",
    "show_hint": "Show hint",
    "check": "Check answer",
    "move_up": "Move up",
    "move_down": "Move down",
    "choose": "Choose…",
    "reflect": "To think about",
    "reflect_note": "Not scored here: think it through, or discuss it in class.",
    "score": "Your score",
    "no_script": "Checking answers needs JavaScript.",
    "start": "Answer the questions to see your score.",
    "need_answer": "Choose an answer first.",
    "need_all": "Match every item first.",
    "need_text": "Type an answer first.",
    "need_number": "Enter a number, such as 0.5.",
    "correct": "Correct.",
    "partly": "Partly correct.",
    "incorrect": "Not quite.",
    "earned": "{earned} / {points} pts.",
    "moved": "{item}: now {position} of {count}.",
    "progress": "Answered {answered} of {count}. Points so far: {earned} of {points}.",
    "final": "Your score: {earned} / {points} pts, {percent} %.",
    "passed": "Pass mark {pass} %: passed.",
    "failed": "Pass mark {pass} %: not passed yet.",
    "submit": "Submit answers",
}


def asset_files() -> dict[str, Path]:
    """The stylesheet and the run-time script, by their name in a package or site."""
    folder = templating.builtin_folder("page")
    return {f"{ASSET_FOLDER}/{name}": folder / name for name in (STYLESHEET, RUNTIME)}


# -- questions -----------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """Something the learner picks, matches or orders; named by its place, as ``ALPHABET[place]``."""

    html: Markup
    plain: str


@dataclass(frozen=True)
class QuestionView:
    """One question as the page shows it, and its answer key for the run time.

    ``options`` are the choices in the author's order (the script shuffles
    them per learner when the question asks), or the matching targets and the
    ordering items in the page's own order; ``lefts`` are the matching sides
    to match. Options are referred to by their place in ``options``.
    """

    question: Question
    card: Card
    dom_id: str
    number: int
    prompt: Markup
    hint: Markup | None
    options: tuple[Option, ...] = ()
    lefts: tuple[Option, ...] = ()
    key: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.question.type

    @property
    def points(self) -> float:
        return self.question.points

    @property
    def auto_scored(self) -> bool:
        return self.question.auto_scored

    def public(self) -> dict[str, Any]:
        """What the script needs besides the key: no part of the answer."""
        data: dict[str, Any] = {"id": self.dom_id, "type": self.type, "points": self.points}
        if self.question.shuffle and isinstance(self.question, (SingleChoice, MultipleAnswers)):
            data["shuffle"] = True
        return data


def question_view(
    card: Card, question: Question, dom_id: str, number: int, media_url: render.MediaUrl | None
) -> QuestionView:
    """The page's view of one question: rendered text, options and the answer key."""

    def html(markdown: str | None, inline: bool = False) -> Markup:
        return Markup(render.to_html(markdown, card.sources, media_url, inline))

    def option(markdown: str) -> Option:
        return Option(html(markdown, inline=True), render.plain_text(markdown))

    feedback = question.feedback
    key: dict[str, Any] = {
        "feedback": {
            "correct": html(feedback.correct),
            "incorrect": html(feedback.incorrect),
            "general": html(feedback.general),
        }
    }
    options: tuple[Option, ...] = ()
    lefts: tuple[Option, ...] = ()
    if isinstance(question, (SingleChoice, MultipleAnswers)):
        options = tuple(option(c.text) for c in question.choices)
        right = [i for i, c in enumerate(question.choices) if c.correct]
        key["answer"] = right[0] if isinstance(question, SingleChoice) else right
        key["choices"] = [html(c.feedback) for c in question.choices]
    elif isinstance(question, TrueFalse):
        key["answer"] = question.answer
    elif isinstance(question, ShortAnswer):
        key["answers"] = list(question.answers)
        key["caseSensitive"] = question.case_sensitive
    elif isinstance(question, Numerical):
        key["bounds"] = list(question.bounds)
    elif isinstance(question, Matching):
        lefts = tuple(option(p.left) for p in question.pairs)
        targets = question.targets
        order = shown_order(len(targets), card.id, question.id, "targets")
        options = tuple(option(targets[i]) for i in order)
        place_of = {targets[i]: place for place, i in enumerate(order)}
        key["answer"] = [place_of[p.right] for p in question.pairs]
    elif isinstance(question, Ordering):  # the deck file keeps the items unique
        order = shown_order(len(question.items), card.id, question.id, "items")
        options = tuple(option(question.items[i]) for i in order)
        key["answer"] = sorted(range(len(order)), key=order.__getitem__)
    if max(len(options), len(lefts)) > len(ALPHABET):
        raise LmsExportError(
            Problem(
                f"more than {len(ALPHABET)} options; a quiz page names each by one character",
                card=card.id,
                question=question.id,
            )
        )
    return QuestionView(
        question=question,
        card=card,
        dom_id=dom_id,
        number=number,
        prompt=html(question.prompt),
        hint=html(question.hint) if question.hint else None,
        options=options,
        lefts=lefts,
        key=key,
    )


# -- cards ---------------------------------------------------------------------


def embed_url(url: str) -> str | None:
    """The player address of a YouTube or Vimeo video, for an embed; None for anything else."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    path = [p for p in parts.path.split("/") if p]
    video = None
    if host in ("youtube.com", "youtube-nocookie.com"):
        if path == ["watch"]:
            video = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(path) == 2 and path[0] in ("embed", "shorts", "live"):
            video = path[1]
        if video and len(video) == 11 and all(c.isascii() and (c.isalnum() or c in "-_") for c in video):
            return f"{VIDEO_HOSTS[0]}/embed/{video}"
    elif host == "youtu.be" and len(path) == 1:
        return embed_url(f"https://www.youtube.com/embed/{path[0]}")
    elif host in ("vimeo.com", "player.vimeo.com"):
        digits = path[-1] if path else ""
        if digits.isascii() and digits.isdigit() and (len(path) == 1 or path[:1] == ["video"]):
            return f"{VIDEO_HOSTS[1]}/video/{digits}"
    return None


@dataclass(frozen=True)
class Related:
    """A related card: its title (its id when the deck lacks it), linked where the page can reach it."""

    label: str
    href: str | None


@dataclass(frozen=True)
class CardView:
    """One card as the page shows it; ``anchor`` prefixes its ids on a page of several cards."""

    card: Card
    anchor: str
    body: Markup
    source_ids: dict[int, str]
    related: tuple[Related, ...]
    questions: tuple[QuestionView, ...]
    embed: str | None

    @property
    def scored(self) -> tuple[QuestionView, ...]:
        return tuple(q for q in self.questions if q.auto_scored)


#: Where a related card links to on this page, given its id; None: shown, not linked.
RelatedHref = Callable[[str], str | None]


def _card_views(
    deck: Deck, cards: Sequence[Card], media_url: render.MediaUrl, related_href: RelatedHref
) -> list[CardView]:
    views = []
    scored = reflections = 0
    several = len(cards) > 1
    for card in cards:
        anchor = f"card-{card.id}"
        body = render.to_html(card.body, card.sources, media_url)
        source_ids = {s.id: f"{anchor}-source-{s.id}" if several else f"source-{s.id}" for s in card.sources}
        if several:  # citations without a URL point at the source list: this card's, not the first card's
            body = body.replace('href="#source-', f'href="#{anchor}-source-')
        questions = []
        for question in card.questions:
            if question.auto_scored:
                scored += 1
                dom_id, number = f"q{scored}", scored
            else:
                reflections += 1
                dom_id, number = f"reflect{reflections}", reflections
            questions.append(question_view(card, question, dom_id, number, media_url))
        related = tuple(
            Related(deck.card(r).title if deck.card(r) else r, related_href(r) if deck.card(r) else None)
            for r in card.related
        )
        embed = embed_url(card.video.url) if card.video else None
        views.append(CardView(card, anchor, Markup(body), source_ids, related, tuple(questions), embed))
    return views


# -- the page ------------------------------------------------------------------


def json_block(data: Any) -> Markup:
    """JSON that can sit inside ``<script type="application/json">``: no ``</script>``, no comment opener."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e"))


def state_version(questions: Sequence[QuestionView]) -> str:
    """A short digest of the quiz's shape, so saved answers are never restored into a changed quiz."""
    shape = json.dumps([(q.question.id, q.type, len(q.options), len(q.lefts)) for q in questions])
    return hashlib.blake2b(shape.encode(), digest_size=4).hexdigest()


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return templating.environment("page")


@dataclass(frozen=True)
class Submission:
    """Where a page without an answer key posts its answers, and the hidden fields it posts with them."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)


#: SCORM run-time data for each scored question of a page (see :mod:`lms_export.exporters.scorm`).
Reporting = Callable[[Sequence[QuestionView]], list[dict[str, Any]]]


def render_page(
    deck: Deck,
    cards: Sequence[Card],
    *,
    root: str,
    related_href: RelatedHref,
    scorm: str | None = None,
    reporting: Reporting | None = None,
    pass_score: float = 80.0,
    answer_key: bool = True,
    submission: Submission | None = None,
) -> Callable[[], Iterator[str]]:
    """A producer of the page showing ``cards``: one card, or a whole deck as one page.

    ``root`` leads from the page to the top of the package or site (``../``
    from ``cards/``); ``scorm`` is ``"1.2"`` or ``"2004"`` when the page
    reports to an LMS, with ``reporting`` giving each scored question's
    interaction data; ``pass_score`` (percent) is shown where no LMS says
    otherwise. With ``submission`` the quiz is a form posted to a server
    that scores it, and the page carries no answer key. The page is built when
    the producer runs, so a package of a thousand pages never holds them all.
    """

    def produce() -> Iterator[str]:
        views = _card_views(deck, cards, lambda path: root + qti.media_name(path), related_href)
        scored = [q for view in views for q in view.scored]
        quiz: dict[str, Any] = {
            "scorm": scorm,
            "passScore": pass_score,
            "version": state_version(scored),
            "text": UI_TEXT,
            "questions": [q.public() for q in scored],
        }
        if reporting is not None:
            for data, report in zip(quiz["questions"], reporting(scored), strict=True):
                data["report"] = report
        single = len(cards) == 1
        yield from templating.render_stream(
            _environment(),
            "page.html.j2",
            lang=deck.language,
            title=cards[0].title if single else deck.title,
            deck=deck,
            cards=views,
            heading=1 if single else 2,
            root=root,
            text=UI_TEXT,
            video_hosts=" ".join(VIDEO_HOSTS),
            has_quiz=bool(scored),
            quiz=json_block(quiz),
            key=json_block([q.key for q in scored]) if answer_key and submission is None else None,
            submission=submission,
            stylesheet=f"{root}{ASSET_FOLDER}/{STYLESHEET}",
            runtime=f"{root}{ASSET_FOLDER}/{RUNTIME}",
        )()

    return produce


def render_index(deck: Deck, card_href: Callable[[Card], str]) -> Callable[[], Iterator[str]]:
    """A producer of the preview site's front page: the deck and a link to each card."""
    description = Markup(render.to_html(deck.description)) if deck.description else None
    return templating.render_stream(
        _environment(),
        "index.html.j2",
        lang=deck.language,
        deck=deck,
        description=description,
        card_href=card_href,
        stylesheet=f"{ASSET_FOLDER}/{STYLESHEET}",
    )
