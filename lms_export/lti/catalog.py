"""The cards the tool serves: every deck given to ``lms-export serve``, found by card id.

A resource link names its card by id alone (``/lti/card/<id>``), so ids must
be unique across all the decks served: a clash is refused at start, not
discovered when a learner lands on the wrong card.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from lms_export import qti, readers
from lms_export.errors import LmsExportError, Problem
from lms_export.model import Card, Deck


def gradable_points(card: Card) -> float:
    """What a card's quiz is worth to the gradebook: its automatically scored questions.

    Essays are shown to think about and never scored, as on the SCORM and
    preview pages, so their points would be a maximum nobody can reach.
    """
    return sum(q.points for q in card.questions if q.auto_scored)


class Catalog:
    def __init__(self, decks: Sequence[Deck]):
        self.decks = tuple(decks)
        self._cards: dict[str, tuple[Deck, Card]] = {}
        problems = []
        for deck in self.decks:
            for card in deck.cards:
                if card.id in self._cards:
                    other = self._cards[card.id][0]
                    problems.append(Problem(f"card id also used in deck {other.id!r}", card=card.id))
                self._cards[card.id] = (deck, card)
        if problems:
            raise LmsExportError(problems)
        self.card_ids = frozenset(self._cards)
        self.media: dict[str, Path] = {}
        for deck in self.decks:
            self.media.update(qti.media_files(deck))

    def card(self, card_id: str | None) -> Card | None:
        entry = self._cards.get(card_id or "")
        return entry[1] if entry else None

    def deck_of(self, card_id: str) -> Deck:
        return self._cards[card_id][0]


def load(paths: Iterable[Path | str]) -> Catalog:
    """Read every deck file; every problem of every file is reported together."""
    decks, problems = [], []
    for path in paths:
        try:
            decks.append(readers.read(Path(path)))
        except LmsExportError as error:
            problems.extend(error.problems)
    if problems:
        raise LmsExportError(problems)
    return Catalog(decks)
