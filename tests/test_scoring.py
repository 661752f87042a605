"""The one set of scoring rules every format applies."""

from __future__ import annotations

import pytest
from conftest import make_deck, raw_card, raw_question

from lms_export.scoring import score


def question(kind: str, **fields):
    return make_deck(raw_card("c", [raw_question(kind, **fields)])).cards[0].questions[0]


@pytest.mark.parametrize(
    "kind, fields, response, expected",
    [
        ("single_choice", {"points": 2}, "a", 2.0),
        ("single_choice", {"points": 2}, "b", 0.0),
        ("single_choice", {}, None, 0.0),
        ("multiple_answers", {}, ["b", "a"], 1.0),
        ("multiple_answers", {}, ["a"], 0.0),
        ("multiple_answers", {}, ["a", "b", "c"], 0.0),
        ("multiple_answers", {}, "ab", 0.0),
        ("true_false", {}, True, 1.0),
        ("true_false", {}, "true", 0.0),
        ("true_false", {"answer": False}, False, 1.0),
        ("short_answer", {}, "  Latent Space ", 1.0),
        ("short_answer", {"case_sensitive": True}, "Latent Space", 0.0),
        ("short_answer", {"case_sensitive": True}, "latent space", 1.0),
        ("short_answer", {}, "latent", 0.0),
        ("numerical", {}, 3.145, 1.0),
        ("numerical", {}, "3,135", 1.0),
        ("numerical", {}, 3.16, 0.0),
        ("numerical", {}, "pi", 0.0),
        ("numerical", {"answer": None, "tolerance": None, "range": [1, 2]}, 2, 1.0),
        ("numerical", {"answer": None, "tolerance": None, "range": [1, 2]}, 2.01, 0.0),
        ("numerical", {"answer": 5, "tolerance": None}, 5, 1.0),
        ("numerical", {"answer": 5, "tolerance": None}, 5.0001, 0.0),
        ("matching", {"points": 4}, {"VAE": "encoder + decoder", "GAN": "two nets"}, 4.0),
        ("matching", {"points": 4}, {"VAE": "encoder + decoder", "GAN": "encoder + decoder"}, 2.0),
        ("matching", {"points": 4}, ["VAE"], 0.0),
        ("ordering", {}, ["first", "second", "third"], 1.0),
        ("ordering", {}, ["second", "first", "third"], 0.0),
    ],
)
def test_rules(kind, fields, response, expected):
    assert score(question(kind, **fields), response) == pytest.approx(expected)


def test_essays_are_graded_by_hand():
    assert score(question("essay"), "anything") is None
