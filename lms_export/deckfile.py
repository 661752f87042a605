"""The deck file structure: raw mappings (from JSON, YAML or any reader) to the model and back.

Every reader turns its input into the same raw structure, the one documented
in the README and in ``deck.schema.json``, together with the line each part
came from. :func:`build_deck` is then the single place where a deck is
checked: it reports every problem at once, each located by file, line, card,
question and field.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from lms_export import render
from lms_export.errors import LmsExportError, Problem
from lms_export.model import (
    DIFFICULTIES,
    QUESTION_TYPES,
    SHOW_RESULTS,
    Card,
    Choice,
    Creator,
    Deck,
    Essay,
    Feedback,
    Matching,
    MediaRef,
    MultipleAnswers,
    Numerical,
    Ordering,
    Pair,
    Question,
    ShortAnswer,
    SingleChoice,
    Source,
    TrueFalse,
    Video,
)

#: Where in the raw structure a value sits: keys and list indexes from the root.
Path_ = tuple[str | int, ...]
#: Line numbers (1-based) of the values a reader could locate.
Locations = Mapping[Path_, int]

IDENTIFIER = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

#: The LTI tool's quiz rules, set on the deck and overridden per card.
QUIZ_RULE_FIELDS = {"max_attempts", "show_results", "due"}
DECK_FIELDS = {"id", "title", "language", "description", "cards"} | QUIZ_RULE_FIELDS
CARD_FIELDS = {
    "id", "title", "subtitle", "topic", "difficulty", "creator", "created", "body",
    "sources", "video", "related", "questions",
} | QUIZ_RULE_FIELDS  # fmt: skip
QUESTION_FIELDS = {"id", "type", "title", "prompt", "points", "hint", "feedback", "shuffle"}
CHOICE_FIELDS = {"id", "text", "correct", "feedback"}
TYPE_FIELDS = {
    "single_choice": {"choices"},
    "multiple_answers": {"choices"},
    "true_false": {"answer"},
    "short_answer": {"answers", "case_sensitive"},
    "numerical": {"answer", "tolerance", "range"},
    "essay": set(),
    "matching": {"pairs", "distractors"},
    "ordering": {"items"},
}
_MISSING = object()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the deck file, as shipped in the package."""
    text = resources.files("lms_export").joinpath("deck.schema.json").read_text("utf-8")
    return json.loads(text)


class _Builder:
    """Walks one raw deck, building the model and recording problems on the way."""

    def __init__(self, file: str, locations: Locations, base_dir: Path | None):
        self.file = file
        self.locations = locations
        self.base_dir = base_dir
        self.problems: list[Problem] = []
        self.card_id: str | None = None
        self.question_id: str | None = None
        self.scope: Path_ = ()
        #: Whether the deck has a due date, which a card's ``after_due`` may rely on.
        self.deck_due = False

    # -- reporting -------------------------------------------------------

    def problem(self, path: Path_, message: str) -> None:
        line = None
        for end in range(len(path), -1, -1):
            line = self.locations.get(path[:end])
            if line is not None:
                break
        relative = path[len(self.scope) :] if path[: len(self.scope)] == self.scope else path
        self.problems.append(
            Problem(
                message,
                file=self.file,
                line=line,
                card=self.card_id,
                question=self.question_id,
                field=_field_name(relative) or None,
            )
        )

    # -- typed access ----------------------------------------------------

    def mapping(self, value: Any, path: Path_, allowed: set[str], what: str) -> dict | None:
        if not isinstance(value, dict):
            self.problem(path, f"{what} must be a mapping, not {_kind(value)}")
            return None
        if not value.keys() <= allowed:
            for key in value.keys() - allowed:
                self.problem((*path, key), f"unknown field {key!r} in {what}")
        return value

    def get(self, m: dict, path: Path_, key: str, check: Callable, default: Any = _MISSING):
        """``m[key]`` passed through ``check``; a problem if missing and required."""
        value = m.get(key)
        if value is None:
            if default is _MISSING:
                self.problem((*path, key), "is required")
            return None if default is _MISSING else default
        try:
            return check(value)
        except _Invalid as invalid:
            self.problem((*path, key), str(invalid))
            return None if default is _MISSING else default

    def items(self, m: dict, path: Path_, key: str, required: bool = False) -> list:
        value = m.get(key)
        if value is None:
            if required:
                self.problem((*path, key), "is required")
            return []
        if not isinstance(value, list):
            self.problem((*path, key), f"must be a list, not {_kind(value)}")
            return []
        return value

    def each(self, m: dict, path: Path_, key: str, check: Callable, required: bool = False) -> list:
        """A list of scalars, each passed through ``check`` (None where it failed)."""
        values = []
        for i, value in enumerate(self.items(m, path, key, required)):
            try:
                values.append(check(value))
            except _Invalid as invalid:
                self.problem((*path, key, i), str(invalid))
                values.append(None)
        return values

    def unique(self, values: list, where: Callable[[int], Path_], what: str) -> None:
        """Report each repeated value at ``where(index)``; paths are only built for a repeat."""
        present = [v for v in values if v is not None]
        if len(set(present)) == len(present):
            return
        seen: set = set()
        for index, value in enumerate(values):
            if value is None:
                continue
            if value in seen:
                self.problem(where(index), f"duplicate {what} {value!r}")
            seen.add(value)

    # -- the deck --------------------------------------------------------

    def deck(self, raw: Any) -> Deck | None:
        m = self.mapping(raw, (), DECK_FIELDS, "the deck")
        if m is None:
            return None
        deck_id = self.get(m, (), "id", identifier)
        title = self.get(m, (), "title", text)
        language = self.get(m, (), "language", language_tag, "en")
        description = self.get(m, (), "description", text, None)
        rules = self.quiz_rules(m, (), deck_due=False)
        self.deck_due = m.get("due") is not None
        raw_cards = self.items(m, (), "cards", required=True)
        if "cards" in m and isinstance(m["cards"], list) and not raw_cards:
            self.problem(("cards",), "a deck needs at least one card")
        cards = [self.card(c, ("cards", i)) for i, c in enumerate(raw_cards)]
        self.unique([_raw_id(c) for c in raw_cards], lambda i: ("cards", i, "id"), "card id")
        if self.problems:
            return None
        return Deck(
            id=deck_id,
            title=title,
            language=language,
            description=description,
            max_attempts=rules["max_attempts"],
            show_results=rules["show_results"] or "always",
            due=rules["due"],
            cards=tuple(cards),
            base_dir=self.base_dir,
        )

    def card(self, raw: Any, path: Path_) -> Card | None:
        self.card_id, self.question_id, self.scope = _label(raw, path), None, path
        m = self.mapping(raw, path, CARD_FIELDS, "a card")
        if m is None:
            return None
        card_id = self.get(m, path, "id", identifier)
        sources = [self.source(s, (*path, "sources", i)) for i, s in enumerate(self.items(m, path, "sources"))]
        self.unique([s and s.id for s in sources], lambda i: (*path, "sources", i, "id"), "source id")
        raw_questions = self.items(m, path, "questions")
        questions = [self.question(q, (*path, "questions", i)) for i, q in enumerate(raw_questions)]
        self.card_id, self.question_id, self.scope = _label(raw, path), None, path
        self.unique([_raw_id(q) for q in raw_questions], lambda i: (*path, "questions", i, "id"), "question id")
        card = Card(
            id=card_id,
            title=self.get(m, path, "title", text),
            subtitle=self.get(m, path, "subtitle", text, None),
            topic=self.get(m, path, "topic", text, None),
            difficulty=self.get(m, path, "difficulty", one_of(DIFFICULTIES), None),
            creator=self.creator(m.get("creator"), (*path, "creator")),
            created=self.get(m, path, "created", timestamp, None),
            body=self.get(m, path, "body", text, ""),
            sources=tuple(s for s in sources if s is not None),
            video=self.video(m.get("video"), (*path, "video")),
            related=tuple(r for r in self.each(m, path, "related", identifier) if r is not None),
            **self.quiz_rules(m, path, deck_due=self.deck_due),
            questions=tuple(q for q in questions if q is not None),
        )
        return self.with_media(card, m, path)

    def quiz_rules(self, m: dict, path: Path_, deck_due: bool) -> dict[str, Any]:
        """A deck's or a card's quiz rules, None where unset; ``deck_due``: a card may rely on the deck's due.

        ``after_due`` without a due date would hide results for good, which
        is what ``never`` says: the author surely meant to give one.
        """
        rules = {
            "max_attempts": self.get(m, path, "max_attempts", attempt_limit, None),
            "show_results": self.get(m, path, "show_results", one_of(SHOW_RESULTS), None),
            "due": self.get(m, path, "due", timestamp, None),
        }
        if rules["show_results"] == "after_due" and m.get("due") is None and not deck_due:
            where = "the card or the deck" if path else "the deck"
            self.problem((*path, "show_results"), f"after_due shows results once a due date passes: give {where} a due")
        return rules

    def with_media(self, card: Card, m: dict, path: Path_) -> Card:
        """Check citations against the sources and collect the images the card shows."""
        known = {s.id for s in card.sources}
        media: dict[str, None] = {}
        for text_path, container, key in markdown_fields(m, path):
            value = container[key]
            if "[" not in value:  # neither a citation nor an image
                continue
            cited, images = render.references(value)
            for source_id in cited:
                if source_id not in known:
                    self.problem(text_path, f"cites [{source_id}] but the card has no source with id {source_id}")
            for image in images:
                media.setdefault(image, None)
                normalized = posixpath.normpath(image)
                if normalized.startswith("../") or normalized == "..":
                    self.problem(text_path, f"image path leaves the deck's folder: {image}")
                elif self.base_dir is not None and not (self.base_dir / image).is_file():
                    self.problem(text_path, f"image file not found: {image} (looked in {self.base_dir})")
        return dataclasses.replace(card, media=tuple(MediaRef(p) for p in media))

    def source(self, raw: Any, path: Path_) -> Source | None:
        m = self.mapping(raw, path, {"id", "title", "url"}, "a source")
        if m is None:
            return None
        source_id = self.get(m, path, "id", whole_number)
        title = self.get(m, path, "title", text)
        url = self.get(m, path, "url", web_url, None)
        return Source(source_id, title, url) if source_id is not None and title else None

    def creator(self, raw: Any, path: Path_) -> Creator | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return Creator(raw)
        m = self.mapping(raw, path, {"name", "handle"}, "the creator")
        if m is None:
            return None
        return Creator(self.get(m, path, "name", text), self.get(m, path, "handle", text, None))

    def video(self, raw: Any, path: Path_) -> Video | None:
        if raw is None:
            return None
        m = self.mapping(raw, path, {"url", "title"}, "the video")
        if m is None:
            return None
        return Video(self.get(m, path, "url", web_url), self.get(m, path, "title", text, None))

    # -- questions -------------------------------------------------------

    def question(self, raw: Any, path: Path_) -> Question | None:
        self.question_id, self.scope = _label(raw, path), path
        if not isinstance(raw, dict):
            self.problem(path, f"a question must be a mapping, not {_kind(raw)}")
            return None
        kind = raw.get("type")
        if kind not in QUESTION_TYPES:
            choices = ", ".join(QUESTION_TYPES)
            message = "is required" if kind is None else f"unknown question type {kind!r} (one of: {choices})"
            self.problem((*path, "type"), message)
            return None
        m = self.mapping(raw, path, QUESTION_FIELDS | TYPE_FIELDS[kind], f"a {kind} question")
        common = dict(
            id=self.get(m, path, "id", identifier),
            prompt=self.get(m, path, "prompt", text),
            title=self.get(m, path, "title", text, None),
            points=self.get(m, path, "points", non_negative, 1.0),
            hint=self.get(m, path, "hint", text, None),
            feedback=self.feedback(m.get("feedback"), (*path, "feedback")),
            shuffle=self.get(m, path, "shuffle", boolean, False),
        )
        specific = getattr(self, kind)(m, path)
        if specific is None or any(v is None for k, v in common.items() if k in ("id", "prompt")):
            return None
        return QUESTION_TYPES[kind](**common, **specific)

    def feedback(self, raw: Any, path: Path_) -> Feedback:
        if raw is None:
            return Feedback()
        if isinstance(raw, str):
            return Feedback(general=raw)
        m = self.mapping(raw, path, {"correct", "incorrect", "general"}, "feedback")
        if m is None:
            return Feedback()
        return Feedback(**{k: self.get(m, path, k, text, None) for k in ("correct", "incorrect", "general")})

    def choices(self, m: dict, path: Path_) -> list[Choice] | None:
        raw_choices = self.items(m, path, "choices", required=True)
        if not isinstance(m.get("choices"), list):
            return None
        if len(raw_choices) < 2:
            self.problem((*path, "choices"), f"needs at least two choices, found {len(raw_choices)}")
        choices = []
        for i, raw in enumerate(raw_choices):
            choice = _well_formed_choice(raw, i)
            if choice is None:
                choice = self.choice(raw, (*path, "choices", i), i)
            if choice is not None:
                choices.append(choice)
        self.unique([c.id for c in choices], lambda i: (*path, "choices", i, "id"), "choice id")
        return choices if len(choices) == len(raw_choices) else None

    def choice(self, raw: Any, path: Path_, index: int) -> Choice | None:
        """A choice checked field by field, reporting each problem."""
        c = self.mapping(raw, path, CHOICE_FIELDS, "a choice")
        if c is None:
            return None
        return Choice(
            id=self.get(c, path, "id", identifier) if "id" in c else _letter(index),
            text=self.get(c, path, "text", text) or "",
            correct=self.get(c, path, "correct", boolean, False),
            feedback=self.get(c, path, "feedback", text, None),
        )

    def single_choice(self, m: dict, path: Path_) -> dict | None:
        choices = self.choices(m, path)
        if choices is None:
            return None
        correct = sum(c.correct for c in choices)
        if correct != 1:
            self.problem(
                (*path, "choices"), f"a single_choice question needs exactly one correct choice, found {correct}"
            )
            return None
        return {"choices": tuple(choices)}

    def multiple_answers(self, m: dict, path: Path_) -> dict | None:
        choices = self.choices(m, path)
        if choices is None:
            return None
        if not any(c.correct for c in choices):
            self.problem((*path, "choices"), "a multiple_answers question needs at least one correct choice")
            return None
        return {"choices": tuple(choices)}

    def true_false(self, m: dict, path: Path_) -> dict | None:
        answer = self.get(m, path, "answer", boolean)
        return None if answer is None else {"answer": answer}

    def short_answer(self, m: dict, path: Path_) -> dict | None:
        answers = self.each(m, path, "answers", text, required=True)
        if "answers" in m and not answers:
            self.problem((*path, "answers"), "needs at least one accepted answer")
        case_sensitive = self.get(m, path, "case_sensitive", boolean, False)
        if not answers or None in answers:
            return None
        return {"answers": tuple(answers), "case_sensitive": case_sensitive}

    def numerical(self, m: dict, path: Path_) -> dict | None:
        answer = self.get(m, path, "answer", number, None)
        tolerance = self.get(m, path, "tolerance", non_negative, 0.0)
        bounds = self.get(m, path, "range", interval, None)
        if m.get("answer") is None and m.get("range") is None:
            self.problem(
                (*path, "answer"), "a numerical question needs an answer (with an optional tolerance) or a range"
            )
            return None
        if m.get("answer") is not None and m.get("range") is not None:
            self.problem((*path, "range"), "give either answer (with tolerance) or range, not both")
            return None
        if m.get("range") is not None and m.get("tolerance") is not None:
            self.problem((*path, "tolerance"), "tolerance applies to answer, not to range")
            return None
        if answer is None and bounds is None:
            return None
        return {"answer": answer, "tolerance": tolerance, "range": bounds}

    def essay(self, m: dict, path: Path_) -> dict:
        return {}

    def matching(self, m: dict, path: Path_) -> dict | None:
        pairs = []
        for i, raw in enumerate(self.items(m, path, "pairs", required=True)):
            ppath = (*path, "pairs", i)
            p = self.mapping(raw, ppath, {"left", "right"}, "a pair")
            if p is not None:
                pairs.append(Pair(self.get(p, ppath, "left", text), self.get(p, ppath, "right", text)))
        distractors = self.each(m, path, "distractors", text)
        if "pairs" in m and not pairs:
            self.problem((*path, "pairs"), "needs at least one pair")
        self.unique([p.left for p in pairs], lambda i: (*path, "pairs", i, "left"), "left side")
        if not pairs or any(None in (p.left, p.right) for p in pairs) or None in distractors:
            return None
        return {"pairs": tuple(pairs), "distractors": tuple(distractors)}

    def ordering(self, m: dict, path: Path_) -> dict | None:
        items = self.each(m, path, "items", text, required=True)
        if "items" in m and len(items) < 2:
            self.problem((*path, "items"), f"needs at least two items to order, found {len(items)}")
            return None
        self.unique(items, lambda i: (*path, "items", i), "item")
        if not items or None in items:
            return None
        return {"items": tuple(items)}


def build_deck(
    raw: Any,
    *,
    file: str,
    locations: Locations | None = None,
    base_dir: Path | None = None,
) -> Deck:
    """Check a raw deck and build the model; raise with every problem found."""
    builder = _Builder(file, locations or {}, base_dir)
    deck = builder.deck(raw)
    if builder.problems or deck is None:
        raise LmsExportError(builder.problems or [Problem("not a deck", file=file)])
    return deck


def merge_decks(decks: list[Deck]) -> Deck:
    """One deck from several inputs: the first names it, the cards follow in order."""
    if len(decks) == 1:
        return decks[0]
    seen: dict[str, str] = {}
    problems = []
    for deck in decks:
        for card in deck.cards:
            if card.id in seen:
                problems.append(
                    Problem(
                        f"duplicate card id {card.id!r}, already in deck {seen[card.id]!r}", card=card.id, field="id"
                    )
                )
            seen[card.id] = deck.id
    if problems:
        raise LmsExportError(problems)
    first = decks[0]
    rules: dict[str, Any] = {"max_attempts": first.max_attempts, "show_results": first.show_results, "due": first.due}
    cards = tuple(c for d in decks for c in d.cards)
    if len({(d.max_attempts, d.show_results, d.due) for d in decks}) > 1:
        # The first deck names the merged one, but its rules are not the others': each card keeps its deck's.
        rules = {}
        cards = tuple(_with_rules_of(d, c) for d in decks for c in d.cards)
    return Deck(
        id=first.id,
        title=first.title,
        language=first.language,
        description=first.description,
        **rules,
        cards=cards,
        base_dir=first.base_dir,
    )


def _with_rules_of(deck: Deck, card: Card) -> Card:
    """``card`` with the quiz rules it has in ``deck`` written on it, so it keeps them in any deck."""
    rules = deck.quiz_rules(card)
    return dataclasses.replace(card, max_attempts=rules.max_attempts, show_results=rules.show_results, due=rules.due)


def join_parts(parts: list[Deck]) -> Deck:
    """One deck from the parts a long input is read in: a card split over parts is one card again.

    Parts come in order; the first names the deck. Consecutive parts with the
    same card id are that card's runs of questions, and their bodies its text.
    """
    if len(parts) == 1:
        return parts[0]
    runs: list[list[Card]] = []
    for card in (c for part in parts for c in part.cards):
        if runs and runs[-1][0].id == card.id:
            runs[-1].append(card)
        else:
            runs.append([card])
    cards = [
        dataclasses.replace(
            run[0],
            body="\n\n".join(c.body for c in run if c.body),
            questions=tuple(q for c in run for q in c.questions),
            media=tuple(dict.fromkeys(m for c in run for m in c.media)),
        )
        for run in runs
    ]
    return dataclasses.replace(parts[0], cards=tuple(cards))


# -- model back to the file structure ----------------------------------------


def deck_to_dict(deck: Deck) -> dict[str, Any]:
    """The normalized deck file: every default left out, fields in contract order."""
    return _compact(
        {
            "id": deck.id,
            "title": deck.title,
            "language": deck.language,
            "description": deck.description,
            "max_attempts": deck.max_attempts,
            "show_results": deck.show_results if deck.show_results != "always" else None,
            "due": _iso(deck.due),
            "cards": [_card_to_dict(c) for c in deck.cards],
        }
    )


def _card_to_dict(card: Card) -> dict[str, Any]:
    return _compact(
        {
            "id": card.id,
            "title": card.title,
            "subtitle": card.subtitle,
            "topic": card.topic,
            "difficulty": card.difficulty,
            "creator": card.creator and {"name": card.creator.name, "handle": card.creator.handle},
            "created": _iso(card.created),
            "body": card.body,
            "sources": [{"id": s.id, "title": s.title, "url": s.url} for s in card.sources],
            "video": card.video and {"url": card.video.url, "title": card.video.title},
            "related": list(card.related),
            "max_attempts": card.max_attempts,
            "show_results": card.show_results,
            "due": _iso(card.due),
            "questions": [_question_to_dict(q) for q in card.questions],
        }
    )


def _question_to_dict(q: Question) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": q.id,
        "type": q.type,
        "title": q.title,
        "prompt": q.prompt,
        "points": _plain_number(q.points) if q.points != 1 else None,
        "hint": q.hint,
        "shuffle": q.shuffle or None,
    }
    if isinstance(q, (SingleChoice, MultipleAnswers)):
        out["choices"] = [
            {"id": c.id, "text": c.text, "correct": c.correct or None, "feedback": c.feedback} for c in q.choices
        ]
    elif isinstance(q, TrueFalse):
        out["answer"] = q.answer
    elif isinstance(q, ShortAnswer):
        out["answers"] = list(q.answers)
        out["case_sensitive"] = q.case_sensitive or None
    elif isinstance(q, Numerical):
        if q.range is not None:
            out["range"] = [_plain_number(v) for v in q.range]
        else:
            out["answer"] = _plain_number(q.answer)
            out["tolerance"] = _plain_number(q.tolerance) or None
    elif isinstance(q, Matching):
        out["pairs"] = [{"left": p.left, "right": p.right} for p in q.pairs]
        out["distractors"] = list(q.distractors)
    elif isinstance(q, Ordering):
        out["items"] = list(q.items)
    else:
        assert isinstance(q, Essay), q
    out["feedback"] = {"correct": q.feedback.correct, "incorrect": q.feedback.incorrect, "general": q.feedback.general}
    return _compact(out)


def _compact(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty mappings, recursively."""
    if isinstance(value, dict):
        kept = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment and moment.isoformat().replace("+00:00", "Z")


def _plain_number(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


# -- field checks: each returns the clean value or raises _Invalid ------------


class _Invalid(ValueError):
    pass


#: Characters no XML 1.0 document can carry (C0 controls but tab and newlines, lone surrogates, U+FFFE/F).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid(f"must be text, not {_kind(value)}")
    value = str(value)
    if not value.strip():
        raise _Invalid("must not be empty")
    bad = NOT_XML.search(value)
    if bad is not None:
        raise _Invalid(f"contains the control character U+{ord(bad.group()):04X}, which no LMS format can carry")
    return value


def identifier(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Invalid(f"must be an identifier, not {_kind(value)}")
    value = str(value)
    if not IDENTIFIER.match(value):
        raise _Invalid(f"{value!r} is not an identifier: use 1 to 128 letters, digits, '-', '_' or '.'")
    return value


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {value!r}")
    return value


def number(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value != value
        or value in (float("inf"), float("-inf"))
    ):
        raise _Invalid(f"must be a finite number, not {value!r}")
    return float(value)


def non_negative(value: Any) -> float:
    value = number(value)
    if value < 0:
        raise _Invalid(f"must not be negative, got {_plain_number(value)}")
    return value


def whole_number(value: Any) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Invalid(f"must be a whole number, the n that [n] cites, not {value!r}")
    return value


def attempt_limit(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(f"must be a whole number of attempts, 1 or more, not {value!r}")
    return value


def interval(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise _Invalid(f"must be a list of two numbers [low, high], not {value!r}")
    low, high = number(value[0]), number(value[1])
    if low > high:
        raise _Invalid(f"low end {_plain_number(low)} is above high end {_plain_number(high)}")
    return (low, high)


def one_of(allowed: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in allowed:
            raise _Invalid(f"must be one of {', '.join(allowed)}, not {value!r}")
        return value.lower()

    return check


def language_tag(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$", value):
        raise _Invalid(f"must be a BCP 47 language tag such as en or pt-BR, not {value!r}")
    return value


def web_url(value: Any) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://[^\s<>\"]+$", value):
        raise _Invalid(f"must be an http(s) URL, not {value!r}")
    return value


def timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Invalid(f"must be an ISO 8601 date-time such as 2026-06-01T06:20:00Z, not {value!r}") from None
    else:
        raise _Invalid(f"must be an ISO 8601 date-time, not {_kind(value)}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


# -- helpers -----------------------------------------------------------------


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", type(None): "nothing"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _well_formed_choice(raw: Any, index: int) -> Choice | None:
    """The choice, when every field is already what :meth:`_Builder.choice` would accept; else None.

    Large decks are almost all well-formed choices; this spares them the
    field-by-field checks, which run (and explain) whenever anything is off.
    """
    if type(raw) is not dict or not raw.keys() <= CHOICE_FIELDS:
        return None
    choice_id, body = raw.get("id"), raw.get("text")
    correct, feedback = raw.get("correct", False), raw.get("feedback")
    if type(body) is not str or not body.strip() or type(correct) is not bool or NOT_XML.search(body):
        return None
    if choice_id is None:
        choice_id = _letter(index)
    elif type(choice_id) is not str or not IDENTIFIER.match(choice_id):
        return None
    if feedback is not None and (type(feedback) is not str or not feedback.strip() or NOT_XML.search(feedback)):
        return None
    return Choice(choice_id, body, correct, feedback)


def _raw_id(raw: Any) -> str | None:
    """A raw card's or question's id as text, where it has a usable one."""
    return str(raw["id"]) if _has_id(raw) else None


def _has_id(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("id"), (str, int)) and not isinstance(raw.get("id"), bool)


def _label(raw: Any, path: Path_) -> str:
    """How errors name a card or question: its id, or its position when it has none."""
    if _has_id(raw):
        return str(raw["id"])
    return f"#{path[-1] + 1}"


def _field_name(path: Path_) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def markdown_fields(card: dict, path: Path_ = ()) -> Iterator[tuple[Path_, dict, str]]:
    """Every Markdown text of a raw card, as (path, mapping, key): where citations and images may be.

    Readers rewrite texts through it; the checker reads them.
    """
    if isinstance(card.get("body"), str):
        yield (*path, "body"), card, "body"
    for i, q in enumerate(card.get("questions") or []):
        if not isinstance(q, dict):
            continue
        qpath = (*path, "questions", i)
        for key in ("prompt", "hint", "feedback"):
            if isinstance(q.get(key), str):
                yield (*qpath, key), q, key
        if isinstance(q.get("feedback"), dict):
            for key, value in q["feedback"].items():
                if isinstance(value, str):
                    yield (*qpath, "feedback", key), q["feedback"], key
        for j, choice in enumerate(q.get("choices") or []):
            if isinstance(choice, dict):
                for key in ("text", "feedback"):
                    if isinstance(choice.get(key), str):
                        yield (*qpath, "choices", j, key), choice, key
