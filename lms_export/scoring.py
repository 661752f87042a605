"""How each question type is scored: one set of rules for every format.

The QTI exports write these rules as response processing, SCORM pages apply
them in the browser, and the LTI tool applies them on the server; all of them
read the rule from here so a learner's answer earns the same points anywhere.

- single choice, true/false, short answer, numerical, ordering: all or nothing;
- multiple answers: all or nothing, the selected set must equal the correct set
  (what Canvas and Moodle call "all or nothing" grading);
- matching: partial credit, ``points / len(pairs)`` per correctly matched pair;
- essay: graded by hand, never scored automatically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lms_export.model import (
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


def matches_short_answer(question: ShortAnswer, given: str) -> bool:
    """Surrounding white space never counts; case only when the question says so."""
    given = given.strip()
    if question.case_sensitive:
        return given in (a.strip() for a in question.answers)
    return given.casefold() in (a.strip().casefold() for a in question.answers)


def pair_credit(question: Matching) -> float:
    """The points one correctly matched pair earns."""
    return question.points / len(question.pairs)


def score(question: Question, response: Any) -> float | None:
    """Points earned by ``response``; None for a question graded by hand.

    Responses: a choice id (single choice), a list of choice ids (multiple
    answers), a bool (true/false), a string (short answer), a number or a
    numeric string (numerical), ``{left: right}`` (matching), the items in the
    learner's order (ordering). A malformed response earns nothing.
    """
    if isinstance(question, Essay):
        return None
    try:
        return _earned(question, response)
    except (TypeError, ValueError, AttributeError):
        return 0.0


def _earned(question: Question, response: Any) -> float:
    full, nothing = question.points, 0.0
    if isinstance(question, SingleChoice):
        return full if response == question.correct_choice.id else nothing
    if isinstance(question, MultipleAnswers):
        if isinstance(response, (str, bytes)) or not isinstance(response, Sequence | set | frozenset):
            return nothing
        return full if set(response) == {c.id for c in question.correct_choices} else nothing
    if isinstance(question, TrueFalse):
        return full if response is question.answer else nothing
    if isinstance(question, ShortAnswer):
        return full if isinstance(response, str) and matches_short_answer(question, response) else nothing
    if isinstance(question, Numerical):
        if isinstance(response, bool):
            return nothing
        value = float(str(response).strip().replace(",", ".")) if isinstance(response, str) else float(response)
        low, high = question.bounds
        return full if low <= value <= high else nothing
    if isinstance(question, Matching):
        if not isinstance(response, Mapping):
            return nothing
        right = sum(response.get(p.left) == p.right for p in question.pairs)
        return right * pair_credit(question)
    if isinstance(question, Ordering):
        return full if list(response) == list(question.items) else nothing
    raise TypeError(f"no scoring rule for {question.type}")
