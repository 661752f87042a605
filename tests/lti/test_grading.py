"""Answers read from the posted form by their place on the page, and scored by lms_export.scoring."""

from __future__ import annotations

import lxml.html
import pytest
from conftest import make_deck, raw_card, raw_question
from werkzeug.datastructures import MultiDict

from lms_export import page
from lms_export.lti import grading

CARD = raw_card(
    "every",
    questions=[
        raw_question("single_choice", id="single"),
        raw_question("multiple_answers", id="multiple"),
        raw_question("true_false", id="tf"),
        raw_question("short_answer", id="short"),
        raw_question("numerical", id="number"),
        raw_question("essay", id="essay"),
        raw_question("matching", id="match", points=2, distractors=["one net"]),
        raw_question("ordering", id="order"),
    ],
)


@pytest.fixture(scope="module")
def deck():
    return make_deck(CARD)


@pytest.fixture(scope="module")
def card(deck):
    return deck.cards[0]


@pytest.fixture(scope="module")
def controls(deck, card):
    """The page's form: each control's name, and for selects and lists, option text -> value sent."""
    submission = page.Submission("https://tool/lti/submit", {"launch": "L"})
    html = "".join(page.render_page(deck, (card,), root="/", related_href=lambda _: None, submission=submission)())
    document = lxml.html.fromstring(html)
    found: dict[str, dict[str, str]] = {}
    for element in document.xpath("//form//input | //form//select"):
        name = element.get("name")
        if element.tag == "select":
            found[name] = {o.text_content(): o.get("value") for o in element.iter("option") if o.get("value")}
        elif element.getparent().tag == "li" and element.get("type") == "hidden":
            found.setdefault(name, {})[element.getparent().xpath("./span[@class='item']")[0].text_content()] = (
                element.get("value")
            )
        else:
            found.setdefault(name, {})[element.get("value") or ""] = element.get("value") or ""
    return found


def test_the_page_names_every_control_the_way_grading_reads_it(controls, card):
    names = {v.dom_id for v in grading.question_views(card)}
    assert names == {"q1", "q2", "q3", "q4", "q5", "q6", "q7"}
    assert set(controls) == names - {"q6"} | {"q6-left0", "q6-left1", "launch"}
    assert controls["launch"] == {"L": "L"}


def test_right_answers_earn_every_point(card, controls):
    order = controls["q7"]
    form = MultiDict(
        [
            ("q1", "0"),
            ("q2", "1"),
            ("q2", "0"),
            ("q3", "true"),
            ("q4", "  Latent Space "),
            ("q5", "3,14"),
            ("q6-left0", controls["q6-left0"]["encoder + decoder"]),
            ("q6-left1", controls["q6-left1"]["two nets"]),
            *[("q7", order[item]) for item in ("first", "second", "third")],
        ]
    )
    graded = grading.grade(card, form)
    assert [r.earned for r in graded.results] == [1, 1, 1, 1, 1, 2, 1]
    assert graded.score == graded.maximum == 8  # the essay's point is not the gradebook's
    assert graded.answers() == {
        "single": "a",
        "multiple": ["a", "b"],
        "tf": True,
        "short": "  Latent Space ",
        "number": "3,14",
        "match": {"VAE": "encoder + decoder", "GAN": "two nets"},
        "order": ["first", "second", "third"],
    }


def test_wrong_missing_and_malformed_answers_earn_nothing(card, controls):
    form = MultiDict(
        [
            ("q1", "1"),
            ("q2", "0"),
            ("q3", "yes"),
            ("q5", "pi"),
            ("q6-left0", controls["q6-left0"]["one net"]),
            ("q6-left1", "99"),
            ("q7", "0"),
            ("q7", "0"),
            ("q7", "1"),
        ]
    )
    graded = grading.grade(card, form)
    assert graded.score == 0
    answers = graded.answers()
    assert answers["tf"] is None and answers["short"] is None and answers["order"] is None
    assert answers["match"] == {"VAE": ""}


def test_a_matching_answer_earns_per_pair(card, controls):
    form = MultiDict(
        [("q6-left0", controls["q6-left0"]["encoder + decoder"]), ("q6-left1", controls["q6-left1"]["one net"])]
    )
    [match] = [r for r in grading.grade(card, form).results if r.question.id == "match"]
    assert match.earned == 1


@pytest.mark.parametrize("value", ["-1", "7", "١", "0x1", " 0", "a"])
def test_a_place_that_is_no_option_earns_nothing(card, value):
    graded = grading.grade(card, MultiDict([("q1", value)]))
    assert graded.results[0].response is None and graded.results[0].earned == 0


def test_feedback_follows_the_verdict():
    deck = make_deck(
        raw_card(
            "c",
            questions=[raw_question("true_false", feedback={"correct": "Yes!", "incorrect": "No.", "general": "Why."})],
        )
    )
    right = grading.grade(deck.cards[0], MultiDict([("q1", "true")])).results[0].feedback
    wrong = grading.grade(deck.cards[0], MultiDict([("q1", "false")])).results[0].feedback
    assert "Yes!" in right and "Why." in right and "No." not in right
    assert "No." in wrong and "Why." in wrong
