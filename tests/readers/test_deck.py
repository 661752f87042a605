"""JSON and YAML deck files: safe parsing and line numbers."""

from __future__ import annotations

import json

import pytest
from conftest import raw_card, raw_deck, raw_question

from lms_export.errors import LmsExportError
from lms_export.readers import deck


def problem(text: str, file: str = "d.yaml"):
    with pytest.raises(LmsExportError) as raised:
        deck.read(text, file=file)
    return raised.value.problems[0]


def test_json_and_yaml_carry_the_same_structure():
    raw = raw_deck(raw_card("c", [raw_question("numerical"), raw_question("matching")]))
    import yaml

    assert deck.read(json.dumps(raw), file="d.json") == deck.read(yaml.safe_dump(raw), file="d.yaml")


def test_json_errors_carry_the_line_of_the_value():
    raw = raw_deck(raw_card("c", [raw_question("true_false", answer="maybe")]))
    text = json.dumps(raw, indent=2)
    found = problem(text, "d.json")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if '"answer": "maybe"' in line]
    assert found.field == "answer" and [found.line] == lines


@pytest.mark.parametrize(
    "text, message, line",
    [
        ('{"id": "a", "id": "b"}', "duplicate key 'id'", None),
        ("id: a\nid: b\n", "duplicate key 'id'", 2),
        ("base: &b {id: x}\nother: *b\n", "anchors and aliases are not supported", 1),
        (
            "id: !!python/object/apply:os.system [ls]\n",
            "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
            1,
        ),
        ("id: !!python/name:os.system x\n", "could not determine a constructor", 1),
        ('{"points": Infinity}', "Infinity is not a number", None),
        ("- just\n- a list\n", "the deck must be a mapping, not a list", 1),
    ],
)
def test_unsafe_or_ambiguous_input_is_refused(text, message, line):
    found = problem(text)
    assert message in found.message and found.line == line


def test_yaml_timestamps_and_json_strings_give_the_same_aware_datetime():
    from_yaml = deck.read(
        "id: d\ntitle: T\ncards:\n- {id: c, title: C, created: 2026-06-01T06:20:00Z}\n", file="d.yaml"
    )
    from_json = deck.read(json.dumps(raw_deck(raw_card("c", created="2026-06-01T06:20:00+00:00"))), file="d.json")
    assert from_yaml.cards[0].created == from_json.cards[0].created
    assert from_yaml.cards[0].created.utcoffset().total_seconds() == 0
