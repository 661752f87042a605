"""A card page's answers, read from the posted form and scored on the server.

The page the learner saw carries no answer key (``page.render_page(...,
answer_key=False)``): it names each option by its place on the page. This
module maps those places back to choices, targets and items through the same
question views the page was rendered from, and scores them by
:func:`lms_export.scoring.score`. Nothing the browser says about a score is
read, and an answer that names no option on the page earns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from markupsafe import Markup

from lms_export import page, scoring
from lms_export.lti.catalog import gradable_points
from lms_export.model import (
    Card,
    Matching,
    MultipleAnswers,
    Ordering,
    Question,
    SingleChoice,
    TrueFalse,
)

#: Longest answer text kept; the page's own inputs allow far less.
MAX_TEXT = 1000


class Form(Protocol):
    """What the tool reads of a posted form (werkzeug's MultiDict has it)."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class Result:
    question: Question
    response: Any
    earned: float
    feedback: Markup

    @property
    def points(self) -> float:
        return self.question.points


@dataclass(frozen=True)
class Graded:
    results: tuple[Result, ...]
    maximum: float

    @property
    def score(self) -> float:
        return sum(r.earned for r in self.results)

    def answers(self) -> dict[str, Any]:
        """The responses by question id, as stored with the attempt."""
        return {r.question.id: r.response for r in self.results}


def question_views(card: Card) -> list[page.QuestionView]:
    """The scored questions as the card's page shows them: ``q1``, ``q2``, ... in card order."""
    scored = [q for q in card.questions if q.auto_scored]
    return [page.question_view(card, q, f"q{n}", n, None) for n, q in enumerate(scored, 1)]


def _place(value: str | None, count: int) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    place = int(value)
    return place if place < count else None


def read_response(view: page.QuestionView, form: Form) -> Any:
    """The learner's answer to one question in :func:`scoring.score`'s shape; None when there is none."""
    question = view.question
    values = [v[:MAX_TEXT] for v in form.getlist(view.dom_id)]
    first = values[0] if values else None
    if isinstance(question, SingleChoice):
        place = _place(first, len(question.choices))
        return None if place is None else question.choices[place].id
    if isinstance(question, MultipleAnswers):
        places = [_place(v, len(question.choices)) for v in values]
        return sorted({question.choices[p].id for p in places if p is not None})
    if isinstance(question, TrueFalse):
        return {"true": True, "false": False}.get(first or "")
    if isinstance(question, Matching):
        # The key gives each pair's target by its place; a place that is no pair's target is a distractor.
        right_at = {place: pair.right for place, pair in zip(view.key["answer"], question.pairs, strict=True)}
        chosen = {}
        for index, pair in enumerate(question.pairs):
            place = _place((form.getlist(f"{view.dom_id}-left{index}") or [None])[0], len(view.options))
            if place is not None:
                chosen[pair.left] = right_at.get(place, "")
        return chosen
    if isinstance(question, Ordering):
        # key["answer"][i] is the place of the author's i-th item; invert it to read places back as items.
        item_at = {place: question.items[i] for i, place in enumerate(view.key["answer"])}
        places = [_place(v, len(view.options)) for v in values]
        if sorted(p for p in places if p is not None) != list(range(len(question.items))):
            return None
        return [item_at[p] for p in places if p is not None]
    return first  # short answer and numerical: the text as typed


def _feedback(view: page.QuestionView, earned: float) -> Markup:
    texts = view.key["feedback"]
    verdict = texts["correct"] if earned >= view.question.points else texts["incorrect"]
    return Markup("").join(t for t in (verdict, texts["general"]) if t)


def grade(card: Card, form: Form) -> Graded:
    """Score every automatically scored question of ``card`` from the posted answers."""
    results = []
    for view in question_views(card):
        response = read_response(view, form)
        earned = 0.0 if response is None else scoring.score(view.question, response) or 0.0
        results.append(Result(view.question, response, earned, _feedback(view, earned)))
    return Graded(tuple(results), gradable_points(card))
