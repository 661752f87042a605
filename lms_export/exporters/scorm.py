"""SCORM 1.2 and SCORM 2004 4th Edition: each card a lesson that reports its quiz.

A package holds one SCO per card, in deck order (``--single-sco``: the whole
deck as one page), each the card page of :mod:`lms_export.page` with its quiz;
the stylesheet and the run-time script are one shared asset resource, the
images another file of each card that shows them::

    imsmanifest.xml
    cards/<card id>.html         (index.html with --single-sco)
    assets/lms-export.css
    assets/lms-export-runtime.js
    media/...

The pass mark (``--pass-score``, percent) is SCORM 1.2's ``adlcp:masteryscore``
and, in 2004, the minimum normalized measure of the primary objective, which
the LMS then satisfies by measure. The manifests are templates in
``templates/scorm/<version>/``. What the run time reports about each question
(interaction id, type, correct responses, weighting) is prepared here, in each
version's own vocabulary; the learner's side is the script's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from lms_export import page, qti, render, templating
from lms_export.errors import LmsExportError, Problem, warn
from lms_export.exporters import Progress, register
from lms_export.model import (
    Card,
    Deck,
    Matching,
    MultipleAnswers,
    Numerical,
    Ordering,
    ShortAnswer,
    SingleChoice,
    TrueFalse,
)
from lms_export.package import Package

DEFAULT_PASS_SCORE = 80.0
#: cmi.interactions.n.type for each question type.
INTERACTION_TYPES = {
    SingleChoice.type: "choice",
    MultipleAnswers.type: "choice",
    TrueFalse.type: "true-false",
    ShortAnswer.type: "fill-in",
    Numerical.type: "numeric",
    Matching.type: "matching",
    Ordering.type: "sequencing",
}
_DECIMAL = re.compile(r"-?\d{1,10}(\.\d{1,18})?")


@dataclass(frozen=True)
class Version:
    """What differs between the two SCORM versions a package is written for."""

    name: str  # as the run time knows it: "1.2" or "2004"
    format: str  # the output format, and the template folder
    #: separators in response patterns: between answers, inside a matched pair
    separator: str
    pair: str


SCORM12 = Version("1.2", "scorm12", ",", ".")
SCORM2004 = Version("2004", "scorm2004", "[,]", "[.]")


def interaction_id(card: Card, question_id: str) -> str:
    """A stable interaction id that both versions accept: letters, digits and ``_`` only.

    SCORM 1.2 says CMIIdentifier is alphanumeric, and some LMSs (older
    Moodle among them) accept nothing else.
    """
    return re.sub(r"[^A-Za-z0-9_]", "_", qti.identifier("q", card.id, question_id))


def _tokens(places: Sequence[int]) -> list[str]:
    return [page.ALPHABET[p] for p in places]


def _patterns(view: page.QuestionView, version: Version) -> list[str]:
    """The correct responses of a question as ``cmi.interactions.n.correct_responses.n.pattern``."""
    q, key, sep = view.question, view.key, version.separator
    old = version is SCORM12
    if isinstance(q, TrueFalse):
        return [("t" if q.answer else "f") if old else ("true" if q.answer else "false")]
    if isinstance(q, SingleChoice):
        return _tokens([key["answer"]])
    if isinstance(q, MultipleAnswers):
        choices = sep.join(_tokens(key["answer"]))
        return ["{" + choices + "}" if old else choices]
    if isinstance(q, ShortAnswer):
        answers = [a.strip() for a in q.answers]
        if old:
            return [a[:255] for a in answers]
        case = "{case_matters=%s}" % ("true" if q.case_sensitive else "false")
        return [case + a.replace("[,]", ",")[:250] for a in answers]
    if isinstance(q, Numerical):
        low, high = q.bounds
        values = [q.answer if q.answer is not None else (low + high) / 2] if old else [low, high]
        texts = [templating.number(v) for v in values]
        # a bound a CMIDecimal cannot hold (1e20, say) is left out rather than written wrong
        return ["[:]".join(texts)] if all(_DECIMAL.fullmatch(t) for t in texts) else []
    if isinstance(q, Matching):
        return [sep.join(f"{page.ALPHABET[i]}{version.pair}{page.ALPHABET[t]}" for i, t in enumerate(key["answer"]))]
    if isinstance(q, Ordering):
        return [sep.join(_tokens(key["answer"]))]
    raise TypeError(f"no SCORM interaction for {q.type}")


def _reporting(version: Version) -> page.Reporting:
    """Each scored question's interaction data, for the run time to report as the learner answers."""

    def report(questions: Sequence[page.QuestionView]) -> list[dict[str, Any]]:
        total = sum(q.points for q in questions)
        reports = []
        for view in questions:
            data: dict[str, Any] = {
                "id": interaction_id(view.card, view.question.id),
                "type": INTERACTION_TYPES[view.type],
                "patterns": _patterns(view, version),
            }
            if version is SCORM12:
                # 1.2 weighting is a CMIDecimal of -100..100 in practice: the question's share of the score
                data["weighting"] = templating.number(round(view.points / total * 100, 2)) if total else "0"
            else:
                data["weighting"] = templating.number(view.points)
                description = render.plain_text(view.question.prompt)
                # a leading "{" would open a language tag
                data["description"] = (" " + description if description.startswith("{") else description)[:250]
            reports.append(data)
        return reports

    return report


@dataclass(frozen=True)
class Sco:
    """One item of the organization and the resource it launches."""

    item: str
    resource: str
    title: str
    href: str
    files: tuple[str, ...]
    #: The pass mark in the version's terms; None where there is nothing to score.
    mastery: str | None


def _scored_points(cards: Sequence[Card]) -> float:
    return sum(q.points for card in cards for q in card.questions if q.auto_scored)


def _keywords(deck: Deck) -> list[str]:
    return list(dict.fromkeys(card.topic for card in deck.cards if card.topic))


def write_scorm(
    deck: Deck, out: BinaryIO, *, progress: Progress, version: Version, single_sco: bool, pass_score: float
) -> None:
    """Write the package: media, shared assets, a page per SCO, then the manifest."""
    if not 0 <= pass_score <= 100:
        raise LmsExportError(Problem(f"the pass score is a percentage from 0 to 100, not {pass_score:g}"))
    essays = sum(1 for card in deck.cards for q in card.questions if not q.auto_scored)
    if essays:
        warn(f"{essays} essay question(s) are shown to think about, not scored: a SCORM page scores in the browser")
    package = Package()
    for name, path in qti.media_files(deck).items():
        package.add_file(name, path)
    assets = page.asset_files()
    for name, path in assets.items():
        package.add_file(name, path)
    mastery = (
        templating.number(round(pass_score, 2)) if version is SCORM12 else templating.number(round(pass_score / 100, 4))
    )
    groups = [tuple(deck.cards)] if single_sco else [(card,) for card in deck.cards]
    scos, weights = [], {}
    for cards in groups:
        href = "index.html" if single_sco else f"cards/{cards[0].id}.html"
        package.add(
            href,
            page.render_page(
                deck,
                cards,
                root="" if single_sco else "../",
                # between SCOs the LMS navigates: a link would leave the SCO without finishing it
                related_href=(lambda card_id: f"#card-{card_id}") if single_sco else (lambda card_id: None),
                scorm=version.name,
                reporting=_reporting(version),
                pass_score=pass_score,
            ),
        )
        weights[href] = len(cards)
        images = dict.fromkeys(qti.media_name(ref.path) for card in cards for ref in card.media)
        ids = (deck.id,) if single_sco else (deck.id, cards[0].id)
        scos.append(
            Sco(
                item=qti.identifier("item", *ids),
                resource=qti.identifier("sco", *ids),
                title=(deck.title if single_sco else cards[0].title)[:200],
                href=href,
                files=(href, *images),
                mastery=mastery if _scored_points(cards) > 0 else None,
            )
        )
    env = templating.environment(f"scorm/{version.format}")
    package.add(
        "imsmanifest.xml",
        templating.render_stream(
            env,
            "imsmanifest.xml.j2",
            identifier=qti.identifier("manifest", deck.id),
            organization=qti.identifier("org", deck.id),
            assets_id=qti.identifier("assets", deck.id),
            deck=deck,
            description=render.plain_text(deck.description) if deck.description else None,
            keywords=_keywords(deck),
            scos=scos,
            assets=sorted(assets),
        ),
    )
    package.write(out, on_entry=lambda name: progress(weights.get(name, 0)))


_OPTIONS = ("single_sco", "pass_score")


@register(
    "scorm12", "SCORM 1.2 package: a lesson (SCO) per card with its quiz (Moodle, Blackboard, ...)", ".zip", _OPTIONS
)
def write_scorm12(
    deck: Deck, out: BinaryIO, *, progress: Progress, single_sco: bool = False, pass_score: float = DEFAULT_PASS_SCORE
) -> None:
    write_scorm(deck, out, progress=progress, version=SCORM12, single_sco=single_sco, pass_score=pass_score)


@register("scorm2004", "SCORM 2004 4th Edition package: a lesson (SCO) per card with its quiz", ".zip", _OPTIONS)
def write_scorm2004(
    deck: Deck, out: BinaryIO, *, progress: Progress, single_sco: bool = False, pass_score: float = DEFAULT_PASS_SCORE
) -> None:
    write_scorm(deck, out, progress=progress, version=SCORM2004, single_sco=single_sco, pass_score=pass_score)
