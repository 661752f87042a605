"""The order answers are first shown in: fixed, never the answer's, the same in every format."""

from __future__ import annotations

from conftest import make_deck, raw_card, raw_question

from lms_export import page, qti
from lms_export.presentation import shown_order


def test_the_order_is_fixed_and_never_the_authors():
    for n in range(2, 12):
        order = shown_order(n, "card", "question", "items")
        assert order != list(range(n)) and sorted(order) == list(range(n))
        assert order == shown_order(n, "card", "question", "items")
    assert shown_order(1, "c", "q", "items") == [0]


def test_qti_and_the_page_show_matching_targets_in_the_same_order():
    pairs = [{"left": f"L{i}", "right": f"R{i}"} for i in range(5)]
    deck = make_deck(raw_card("c", [raw_question("matching", pairs=pairs, distractors=["D"])]))
    card = deck.cards[0]
    [item] = qti.assessments(deck)[0].items
    view = page.question_view(card, card.questions[0], "q1", 1, None)
    assert [o.text.plain for o in item.display_options] == [o.plain for o in view.options]
