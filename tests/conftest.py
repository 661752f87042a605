"""Shared paths and deck builders for the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lms_export.deckfile import build_deck
from lms_export.model import Deck

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The official XSDs; CI has them beside the clone, as ../shared/schemas.
SCHEMAS = Path(os.environ.get("LMS_EXPORT_SCHEMAS", ROOT.parent / "shared" / "schemas"))


def raw_question(kind: str = "single_choice", **fields) -> dict:
    """A valid raw question of the given type; ``fields`` override or add."""
    answer_keys = {
        "single_choice": {
            "choices": [{"id": "a", "text": "Right", "correct": True}, {"id": "b", "text": "Wrong"}],
        },
        "multiple_answers": {
            "choices": [
                {"id": "a", "text": "Right", "correct": True},
                {"id": "b", "text": "Also right", "correct": True},
                {"id": "c", "text": "Wrong"},
            ],
        },
        "true_false": {"answer": True},
        "short_answer": {"answers": ["latent space"]},
        "numerical": {"answer": 3.14, "tolerance": 0.01},
        "essay": {},
        "matching": {"pairs": [{"left": "VAE", "right": "encoder + decoder"}, {"left": "GAN", "right": "two nets"}]},
        "ordering": {"items": ["first", "second", "third"]},
    }
    return {"id": f"q-{kind}", "type": kind, "prompt": f"A {kind} question", **answer_keys[kind], **fields}


def raw_card(card_id: str = "c1", questions: list[dict] | None = None, **fields) -> dict:
    return {"id": card_id, "title": f"Card {card_id}", "questions": questions or [], **fields}


def raw_deck(*cards: dict, **fields) -> dict:
    return {"id": "deck", "title": "A deck", "cards": list(cards) or [raw_card()], **fields}


def make_deck(*cards: dict, **fields) -> Deck:
    return build_deck(raw_deck(*cards, **fields), file="test-deck")


@pytest.fixture
def schemas_dir() -> Path:
    if not SCHEMAS.is_dir():
        pytest.skip(f"official schemas not found at {SCHEMAS} (set LMS_EXPORT_SCHEMAS)")
    return SCHEMAS


def write_long_quiz(path, questions: int, broken: tuple[int, ...] = ()) -> None:
    """A text2qti quiz long enough to be read in several parts; ``broken`` questions have two correct choices."""
    with path.open("w", encoding="utf-8") as out:
        out.write("Quiz title: Long quiz\nShuffle answers: true\n\n")
        for n in range(1, questions + 1):
            out.write(
                f"{n}.  Question {n} with *emphasis* and [3]\n*a) Right {n}\n{'*' if n in broken else ''}b) Wrong\n"
            )
            out.write(f"... Feedback on question {n}\n\n" if n % 3 else "\n")
