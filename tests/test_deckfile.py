"""The deck checker: every rule reports file, line, card, question and field."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import EXAMPLES, FIXTURES, make_deck, raw_card, raw_deck, raw_question

from lms_export import readers
from lms_export.deckfile import build_deck, deck_to_dict, json_schema, merge_decks
from lms_export.errors import LmsExportError
from lms_export.model import Matching, MultipleAnswers, Numerical, ShortAnswer, SingleChoice, TrueFalse

BAD = FIXTURES / "bad"


def problems_of(path) -> list[str]:
    with pytest.raises(LmsExportError) as raised:
        readers.read(path)
    return [str(p) for p in raised.value.problems]


# One row per bad-input case the issue names: the file, then what the one
# (or first) message must say, location included.
BAD_CASES = [
    ("malformed.json", "malformed.json:5: malformed JSON"),
    ("malformed.yaml", "malformed.yaml:6: malformed YAML"),
    ("wrong-types.yaml", "wrong-types.yaml:11, card c, question q1, field points: must be a finite number, not 'lots'"),
    ("missing-fields.yaml", "missing-fields.yaml:1, field id: is required"),
    ("duplicate-ids.json", "duplicate-ids.json:8, card c, field questions[1].id: duplicate question id 'q1'"),
    (
        "no-correct-choice.yaml",
        "no-correct-choice.yaml:11, card c, question pick, field choices: "
        "a single_choice question needs exactly one correct choice, found 0",
    ),
    (
        "two-correct-choices.yaml",
        "two-correct-choices.yaml:11, card c, question pick, field choices: "
        "a single_choice question needs exactly one correct choice, found 2",
    ),
    (
        "numerical-without-answer.yaml",
        "numerical-without-answer.yaml:7, card c, question how-many, field answer: a numerical question needs an answer",
    ),
    (
        "unknown-type.yaml",
        "unknown-type.yaml:8, card c, question drag, field type: unknown question type 'drag_and_drop'",
    ),
    (
        "missing-source.yaml",
        "missing-source.yaml:6, card c, field body: cites [4] but the card has no source with id 4",
    ),
    ("invalid-utf8.yaml", "invalid-utf8.yaml:2: not valid UTF-8 (byte 0xe9"),
    ("empty.yaml", "empty.yaml: file is empty"),
    ("blank.json", "blank.json: file is empty"),
]


@pytest.mark.parametrize("name, expected", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_is_reported_with_its_location(name, expected):
    found = problems_of(BAD / name)
    assert any(expected in message for message in found), found


def test_every_problem_is_reported_at_once():
    found = problems_of(BAD / "wrong-types.yaml")
    assert len(found) == 4, found
    assert any("field difficulty" in m for m in found)
    assert any("field shuffle: must be true or false" in m for m in found)
    assert any("field choices: must be a list, not text" in m for m in found)
    found = problems_of(BAD / "duplicate-ids.json")
    assert any("duplicate-ids.json:10, card c, field id: duplicate card id 'c'" in m for m in found), found


def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as out:
        out.write(b"id: d\ntitle: T\ncards:\n")
        out.write(b"# padding\n" * (5 * 1024 * 1024))  # 50 MiB
    assert big.stat().st_size >= 50 * 2**20
    assert problems_of(big) == [f"{big}: file is 50.0 MiB; the limit is 32 MiB"]


@pytest.mark.parametrize(
    "question, field, message",
    [
        (raw_question("multiple_answers", choices=[{"text": "a"}, {"text": "b"}]), "choices", "at least one correct"),
        (raw_question("single_choice", choices=[{"text": "a", "correct": True}]), "choices", "at least two choices"),
        (
            raw_question("numerical", range=[2, 1], answer=None, tolerance=None),
            "range",
            "low end 2 is above high end 1",
        ),
        (raw_question("numerical", range=[1, 2]), "range", "not both"),
        (raw_question("short_answer", answers=[]), "answers", "at least one accepted answer"),
        (raw_question("ordering", items=["only"]), "items", "at least two items"),
        (raw_question("ordering", items=["x", "x"]), "items[1]", "duplicate item 'x'"),
        (
            raw_question("matching", pairs=[{"left": "a", "right": "b"}, {"left": "a", "right": "c"}]),
            "pairs[1].left",
            "duplicate left side",
        ),
        (raw_question("essay", points=-1), "points", "must not be negative"),
        (raw_question("essay", id="has space"), "id", "is not an identifier"),
        (raw_question("true_false", answer=None), "answer", "is required"),
        (raw_question("essay", prompt="bell \x07 here"), "prompt", "control character U+0007"),
        (
            raw_question("single_choice", choices=[{"text": "ok", "correct": True}, {"text": "nul \x00"}]),
            "choices[1].text",
            "control character U+0000",
        ),
        (
            raw_question(
                "single_choice", choices=[{"id": "a", "text": "x", "correct": True}, {"id": "a", "text": "y"}]
            ),
            "choices[1].id",
            "duplicate choice id",
        ),
    ],
)
def test_question_rules(question, field, message):
    with pytest.raises(LmsExportError) as raised:
        make_deck(raw_card("c", [question]))
    [problem] = raised.value.problems
    assert (problem.card, problem.question, problem.field) == ("c", question["id"], field)
    assert message in problem.message


def test_every_question_type_builds_with_its_answer_key():
    kinds = [
        "single_choice",
        "multiple_answers",
        "true_false",
        "short_answer",
        "numerical",
        "essay",
        "matching",
        "ordering",
    ]
    deck = make_deck(raw_card("c", [raw_question(k) for k in kinds]))
    questions = {q.type: q for q in deck.cards[0].questions}
    assert list(questions) == kinds
    assert isinstance(questions["single_choice"], SingleChoice) and questions["single_choice"].correct_choice.id == "a"
    assert isinstance(questions["multiple_answers"], MultipleAnswers)
    assert [c.id for c in questions["multiple_answers"].correct_choices] == ["a", "b"]
    assert isinstance(questions["true_false"], TrueFalse) and questions["true_false"].answer is True
    assert isinstance(questions["short_answer"], ShortAnswer) and questions["short_answer"].answers == ("latent space",)
    assert isinstance(questions["numerical"], Numerical) and questions["numerical"].bounds == pytest.approx(
        (3.13, 3.15)
    )
    assert isinstance(questions["matching"], Matching) and questions["matching"].pairs[1].right == "two nets"
    assert deck.cards[0].points == len(kinds)


def test_defaults_fill_what_the_contract_leaves_optional():
    deck = make_deck(
        raw_card("c", [raw_question("single_choice", choices=[{"text": "x", "correct": True}, {"text": "y"}])])
    )
    question = deck.cards[0].questions[0]
    assert [c.id for c in question.choices] == ["a", "b"]
    assert (question.points, question.shuffle, question.hint, bool(question.feedback)) == (1.0, False, None, False)
    assert deck.language == "en"


def test_the_example_decks_round_trip_through_the_normalized_form():
    for name in ("every-type.yaml", "guest-bridge.yaml"):
        deck = readers.read(EXAMPLES / name)
        again = build_deck(json.loads(json.dumps(deck_to_dict(deck))), file=name, base_dir=deck.base_dir)
        assert again == deck


def test_the_shipped_json_schema_accepts_the_examples_and_rejects_bad_decks():
    validator = jsonschema.Draft202012Validator(json_schema())
    for name in ("every-type.yaml", "guest-bridge.yaml"):
        validator.validate(deck_to_dict(readers.read(EXAMPLES / name)))
    bad = raw_deck(
        raw_card(
            "c",
            [raw_question("single_choice", choices=[{"text": "a", "correct": True}, {"text": "b", "correct": True}])],
        )
    )
    assert not validator.is_valid(bad)
    assert not validator.is_valid(raw_deck(raw_card("c", [raw_question("numerical", answer=None, tolerance=None)])))
    assert not validator.is_valid(raw_deck(raw_card("c", [{**raw_question("essay"), "typo": 1}])))
    assert validator.is_valid(
        raw_deck(raw_card("c", [raw_question(k) for k in ("matching", "ordering", "short_answer")]))
    )


def test_media_are_collected_and_missing_files_named(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.png").write_bytes(b"png")
    card = raw_card(
        "c",
        [raw_question("essay", prompt="Look: ![a](img/a.png) and ![web](https://e.org/x.png)")],
        body="![b](img/b.png)",
    )
    with pytest.raises(LmsExportError) as raised:
        build_deck(raw_deck(card), file="d.yaml", base_dir=tmp_path)
    [problem] = raised.value.problems
    assert problem.card == "c" and problem.field == "body" and "image file not found: img/b.png" in problem.message
    (tmp_path / "img" / "b.png").write_bytes(b"png")
    deck = build_deck(raw_deck(card), file="d.yaml", base_dir=tmp_path)
    assert [m.path for m in deck.cards[0].media] == ["img/b.png", "img/a.png"]


def test_merging_decks_refuses_a_card_id_twice():
    one, two = make_deck(raw_card("a")), make_deck(raw_card("b"))
    assert [c.id for c in merge_decks([one, two]).cards] == ["a", "b"]
    with pytest.raises(LmsExportError, match="duplicate card id 'a'"):
        merge_decks([one, one])
