"""The LTI tool's quiz rules in deck files: max_attempts, show_results and due, on the deck and per card."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import make_deck, raw_card, raw_deck, raw_question

from lms_export import readers
from lms_export.cli import main
from lms_export.deckfile import build_deck, deck_to_dict, json_schema, merge_decks
from lms_export.errors import LmsExportError
from lms_export.model import QuizRules

DUE = datetime(2026, 7, 1, 23, 59, tzinfo=timezone.utc)


def problems(raw: dict) -> list:
    with pytest.raises(LmsExportError) as raised:
        build_deck(raw, file="test-deck")
    return raised.value.problems


def test_a_card_takes_the_decks_rules_and_overrides_them_one_at_a_time():
    deck = make_deck(
        raw_card("inherits"),
        raw_card("more-tries", max_attempts=5),
        raw_card("shows", show_results="always"),
        raw_card("own-due", show_results="after_due", due="2026-08-01T12:00:00+02:00"),
        max_attempts=2,
        show_results="never",
        due="2026-07-01T23:59:00Z",
    )
    rules = {card.id: deck.quiz_rules(card) for card in deck.cards}
    assert rules == {
        "inherits": QuizRules(2, "never", DUE),
        "more-tries": QuizRules(5, "never", DUE),
        "shows": QuizRules(2, "always", DUE),
        "own-due": QuizRules(2, "after_due", datetime(2026, 8, 1, 10, 0, tzinfo=timezone.utc)),
    }


def test_without_rules_a_quiz_is_unlimited_and_shows_its_results():
    deck = make_deck(raw_card("c"))
    assert (deck.max_attempts, deck.show_results, deck.due) == (None, "always", None)
    assert deck.quiz_rules(deck.cards[0]) == QuizRules(None, "always", None)


def test_results_are_shown_always_never_or_once_the_due_date_has_passed():
    now = datetime.now(timezone.utc)
    assert QuizRules(show_results="always").results_shown(now)
    assert not QuizRules(show_results="never").results_shown(now)
    assert not QuizRules(show_results="after_due", due=now + timedelta(hours=1)).results_shown(now)
    assert QuizRules(show_results="after_due", due=now - timedelta(hours=1)).results_shown(now)
    deck = make_deck(raw_card("c", show_results="after_due", due=DUE.date()))  # a YAML date: midnight UTC
    assert deck.cards[0].due == datetime(2026, 7, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("max_attempts", 0, "must be a whole number of attempts, 1 or more, not 0"),
        ("max_attempts", -2, "must be a whole number of attempts, 1 or more, not -2"),
        ("max_attempts", 1.5, "must be a whole number of attempts, 1 or more, not 1.5"),
        ("max_attempts", "3", "must be a whole number of attempts, 1 or more, not '3'"),
        ("max_attempts", True, "must be a whole number of attempts, 1 or more, not True"),
        ("show_results", "sometimes", "must be one of always, after_due, never, not 'sometimes'"),
        ("show_results", False, "must be one of always, after_due, never, not False"),
        ("due", "next week", "must be an ISO 8601 date-time such as 2026-06-01T06:20:00Z, not 'next week'"),
        ("due", ["2026-07-01"], "must be an ISO 8601 date-time, not a list"),
    ],
)
def test_bad_rules_are_reported_on_the_deck_and_on_the_card(field, value, message):
    [on_deck] = problems(raw_deck(raw_card("c"), **{field: value}))
    assert (on_deck.card, on_deck.question, on_deck.field, on_deck.message) == (None, None, field, message)
    [on_card] = problems(raw_deck(raw_card("c", **{field: value})))
    assert (on_card.card, on_card.question, on_card.field, on_card.message) == ("c", None, field, message)


def test_after_due_needs_a_due_date_on_the_deck_or_for_a_card_on_either():
    [deck_problem] = problems(raw_deck(raw_card("c", due="2026-07-01T00:00:00Z"), show_results="after_due"))
    assert (deck_problem.card, deck_problem.field) == (None, "show_results")
    assert deck_problem.message == "after_due shows results once a due date passes: give the deck a due"
    [card_problem] = problems(raw_deck(raw_card("c", show_results="after_due")))
    assert (card_problem.card, card_problem.field) == ("c", "show_results")
    assert card_problem.message == "after_due shows results once a due date passes: give the card or the deck a due"
    make_deck(raw_card("c", show_results="after_due"), due="2026-07-01T00:00:00Z")  # the deck's due will do


def test_problems_in_a_deck_file_name_their_line(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "id: d\n"
        "title: Deck\n"
        "show_results: after_due\n"
        "cards:\n"
        "  - id: c\n"
        "    title: Card\n"
        "    max_attempts: 0\n"
        "    due: soon\n"
    )
    with pytest.raises(LmsExportError) as raised:
        readers.read(path)
    assert sorted(str(p) for p in raised.value.problems) == [
        f"{path}:3, field show_results: after_due shows results once a due date passes: give the deck a due",
        f"{path}:7, card c, field max_attempts: must be a whole number of attempts, 1 or more, not 0",
        f"{path}:8, card c, field due: must be an ISO 8601 date-time such as 2026-06-01T06:20:00Z, not 'soon'",
    ]


def test_the_normalized_deck_keeps_the_rules_and_leaves_the_defaults_out(tmp_path):
    raw = raw_deck(
        raw_card("c1", [raw_question("true_false")], show_results="always", max_attempts=1),
        raw_card("c2", [raw_question("true_false")], show_results="after_due", due="2026-07-01T23:59:00+00:00"),
        show_results="always",
        max_attempts=3,
    )
    deck = build_deck(raw, file="d.json")
    normalized = deck_to_dict(deck)
    assert list(normalized) == ["id", "title", "language", "max_attempts", "cards"]
    assert {k: normalized["cards"][0][k] for k in ("max_attempts", "show_results")} == {
        "max_attempts": 1,
        "show_results": "always",  # on a card, always is not a default: it overrides the deck
    }
    assert list(normalized["cards"][1]) == ["id", "title", "show_results", "due", "questions"]
    assert normalized["cards"][1]["due"] == "2026-07-01T23:59:00Z"
    assert build_deck(normalized, file="again.json") == deck
    plain = deck_to_dict(make_deck(raw_card("c1", [raw_question("true_false")])))
    assert not {"max_attempts", "show_results", "due"} & (set(plain) | set(plain["cards"][0]))
    (tmp_path / "d.json").write_text(json.dumps(raw))
    as_yaml = CliRunner().invoke(main, ["convert", str(tmp_path / "d.json"), "--to", "yaml", "-o", "-"])
    assert as_yaml.exit_code == 0, as_yaml.output
    assert yaml.safe_load(as_yaml.stdout) == normalized


def test_merged_decks_keep_each_cards_rules():
    strict = make_deck(raw_card("a"), max_attempts=1, show_results="never")
    open_deck = make_deck(raw_card("b"), raw_card("c", max_attempts=4))
    merged = merge_decks([strict, open_deck])
    assert [merged.quiz_rules(card) for card in merged.cards] == [
        QuizRules(1, "never", None),
        QuizRules(None, "always", None),
        QuizRules(4, "always", None),
    ]
    same = merge_decks([strict, make_deck(raw_card("d"), max_attempts=1, show_results="never")])
    assert (same.max_attempts, same.show_results) == (1, "never")
    assert all(card.max_attempts is None for card in same.cards)


@pytest.mark.parametrize("fmt", ["qti12", "qti21", "moodlexml", "scorm12", "cc13"])
def test_the_packages_ignore_the_rules(tmp_path, fmt):
    questions = [raw_question("single_choice", feedback="Because.")]
    plain = raw_deck(raw_card("c", questions))
    ruled = raw_deck(raw_card("c", questions, max_attempts=1), show_results="after_due", due="2026-07-01T00:00:00Z")
    outputs = []
    for name, raw in (("plain", plain), ("ruled", ruled)):
        (tmp_path / f"{name}.json").write_text(json.dumps(raw))
        out = tmp_path / f"{name}.out"
        result = CliRunner().invoke(main, ["convert", str(tmp_path / f"{name}.json"), "--to", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_the_json_schema_knows_the_rules():
    validator = jsonschema.Draft202012Validator(json_schema())
    good = raw_deck(
        raw_card("c", show_results="after_due", due="2026-07-01T00:00:00Z", max_attempts=2),
        max_attempts=1,
        show_results="never",
        due="2026-07-01T00:00:00Z",
    )
    assert validator.is_valid(good)
    assert not validator.is_valid(raw_deck(raw_card("c"), max_attempts=0))
    assert not validator.is_valid(raw_deck(raw_card("c", max_attempts=1.5)))
    assert not validator.is_valid(raw_deck(raw_card("c", show_results="sometimes")))
    assert not validator.is_valid(raw_deck(raw_card("c"), show_results="after_due"))
