"""Moodle XML question banks: valid, and meaning what the deck says, by Moodle's arithmetic.

The output is read back with the safe parser, and the tests check what
Moodle's importer (question/format/xml/format.php) would take from it: the
type, answers, fractions, tolerances, feedback, hints and categories. The
fractions are checked the way Moodle grades them, against lms_export.scoring.
"""

from __future__ import annotations

import base64
import io
import itertools
import re
from decimal import Decimal

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, make_deck, raw_card, raw_deck, raw_question
from lxml import etree, html

from lms_export import readers, scoring
from lms_export.cli import main
from lms_export.deckfile import build_deck
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.exporters import formats
from lms_export.exporters.moodlexml import GRADES, cdata, correct_shares
from lms_export.model import Deck
from lms_export.validation import Schemas, safe_parser

EVERY_TYPE = EXAMPLES / "every-type.yaml"
#: Text no input may use to break the XML or smuggle in markup.
NASTY = "Is <script>alert('x')</script> & \"quoted\" 'single' ]]> <!-- not a comment --> ünïcødé 🙂 end"
#: NASTY as plain text, the way names and matching answers show it: tags and comments gone.
NASTY_PLAIN = "Is  & \"quoted\" 'single' ]]>  ünïcødé 🙂 end"
#: Every grade Moodle's importer accepts, as a fraction (question_bank::fraction_options_full).
MOODLE_FRACTIONS = {
    sign * f
    for f in (1.0, 0.9, 0.8333333, 0.8, 0.75, 0.7, 0.6666667, 0.6, 0.5, 0.4, 0.3333333, 0.3, 0.25, 0.2,
              0.1666667, 0.1428571, 0.125, 0.1111111, 0.1, 0.05, 0.0)
    for sign in (1, -1)
}  # fmt: skip
#: question_state::graded_state_for_fraction: above this Moodle marks an answer right.
MOODLE_RIGHT = 0.999999


def convert(deck: Deck, **options) -> bytes:
    out = io.BytesIO()
    formats()["moodlexml"](deck, out, **options)
    return out.getvalue()


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, safe_parser())


def questions(root: etree._Element) -> dict[str, etree._Element]:
    """The real questions (not categories), by name."""
    return {q.findtext("name/text"): q for q in root.iterfind("question") if q.get("type") != "category"}


def categories(root: etree._Element) -> list[str]:
    return [q.findtext("category/text") for q in root.iterfind("question[@type='category']")]


def field(element: etree._Element, path: str) -> str | None:
    """The text of a Moodle text field (``path/text``), trimmed as Moodle's importer trims it."""
    found = element.find(path)
    return None if found is None else (found.findtext("text") or "").strip()


def answers(question: etree._Element) -> list[tuple[str, str, str | None]]:
    """(text, fraction, feedback) of every answer."""
    return [(a.findtext("text").strip(), a.get("fraction"), field(a, "feedback")) for a in question.iterfind("answer")]


def split_category_path(path: str) -> list[str]:
    """Moodle's qformat_default::split_category_path: ``//`` is a ``/`` inside a name."""
    return [name.replace("//", "/").strip() for name in re.split(r"(?<!/)/(?!/)", path)]


def moodle_multichoice_grade(fractions: list[str]) -> float:
    """What Moodle gives a multiple-answer selection: the sum of its fractions, kept within 0..1."""
    return min(max(0.0, sum(float(f) for f in fractions) / 100), 1.0)


def moodle_accepts_grade(fraction: str) -> bool:
    """match_grade_options(..., 'error'): within 0.00001 of a grade Moodle offers, or the import stops."""
    return any(abs(float(fraction) / 100 - option) < 0.00001 for option in MOODLE_FRACTIONS)


def moodle_numerical_accepts(answer: str, tolerance: str, value: float) -> bool:
    """qtype_numerical_answer::get_tolerance_interval, nominal: the tolerance plus PHP's float slack."""
    middle, spread = float(answer), float(tolerance)
    spread += 1e-14 * max(abs(spread), abs(middle), 1e-14)
    return middle - spread <= value <= middle + spread


def every_type_deck() -> Deck:
    """One card with every question type, every kind of feedback and a hint, from the shared builders."""
    feedback = {"correct": "Well done & right.", "incorrect": "Not quite <yet>.", "general": "In general: $x^2$."}
    return make_deck(
        raw_card(
            "c1",
            [
                raw_question(
                    "single_choice",
                    points=2,
                    hint="Think *twice*.",
                    feedback=feedback,
                    shuffle=True,
                    choices=[
                        {"id": "a", "text": "Right", "correct": True, "feedback": "Yes, a."},
                        {"id": "b", "text": "Wrong", "feedback": "No, not b."},
                    ],
                ),
                raw_question("multiple_answers", feedback=feedback, hint="More than one."),
                raw_question("true_false", answer=False, feedback=feedback),
                raw_question("short_answer", answers=["latent space", "a*b"], case_sensitive=True, feedback=feedback),
                raw_question("numerical", feedback=feedback, hint="Pi."),
                raw_question("essay", points=5, feedback={"general": "A model answer."}),
                raw_question("matching", distractors=["a decoy"], feedback=feedback, shuffle=True),
                raw_question("ordering", feedback=feedback),
            ],
        )
    )


# -- the file as a whole -------------------------------------------------------


@pytest.mark.parametrize("deck", [readers.read(EVERY_TYPE), every_type_deck()], ids=["example", "builders"])
def test_the_output_is_valid_against_the_moodlexml_schema(schemas_dir, deck):
    schemas = Schemas(schemas_dir)
    data = convert(deck)
    assert schemas.errors("moodlexml", etree.ElementTree(parse(data)), "questions.xml") == []
    # the schema can fail: a fraction Moodle cannot read is caught
    broken = data.replace(b'fraction="100"', b'fraction="all"', 1)
    assert schemas.errors("moodlexml", etree.ElementTree(parse(broken)), "questions.xml")


def test_every_question_type_becomes_a_moodle_type():
    found = questions(parse(convert(every_type_deck())))
    assert {name.split(": ")[1]: q.get("type") for name, q in found.items()} == {
        "q-single_choice": "multichoice",
        "q-multiple_answers": "multichoice",
        "q-true_false": "truefalse",
        "q-short_answer": "shortanswer",
        "q-numerical": "numerical",
        "q-essay": "essay",
        "q-matching": "matching",
        "q-ordering": "ordering",
    }


def test_a_category_per_deck_then_per_card_holds_the_cards_questions():
    deck = make_deck(
        raw_card("c1", [raw_question("essay")], title="Intro / basics"),
        raw_card("c2", [raw_question("true_false")], title="/Edges/"),
        title="A/B & C",
        description="All *about* it.",
    )
    root = parse(convert(deck))
    assert [split_category_path(path) for path in categories(root)] == [
        ["$course$", "top", "A/B & C"],
        ["$course$", "top", "A/B & C", "Intro / basics"],
        ["$course$", "top", "A/B & C", "/Edges/"],
    ]
    # the questions follow the category they belong in
    kinds = [(q.get("type"), q.findtext("name/text")) for q in root.iterfind("question")]
    assert [k for k, _ in kinds] == ["category", "category", "essay", "category", "truefalse"]
    assert field(root.find("question"), "info") == "<p>All <em>about</em> it.</p>"


def test_cards_without_questions_are_left_out_with_a_warning_and_an_empty_deck_is_an_error():
    deck = make_deck(raw_card("empty"), raw_card("quiz", [raw_question("essay")]))
    with pytest.warns(ExportWarning, match="card empty has no questions"):
        root = parse(convert(deck))
    assert [split_category_path(p)[-1] for p in categories(root)] == ["A deck", "Card quiz"]
    with pytest.raises(LmsExportError, match="no questions"):
        convert(make_deck(raw_card("empty")))


def test_the_same_deck_gives_the_same_bytes():
    assert convert(readers.read(EVERY_TYPE)) == convert(readers.read(EVERY_TYPE))


def test_progress_counts_every_card():
    done = []
    formats()["moodlexml"](readers.read(EVERY_TYPE), io.BytesIO(), progress=done.append)
    assert sum(done) == 2


# -- what every question carries -----------------------------------------------


def test_grade_penalty_general_feedback_and_hints():
    found = questions(parse(convert(every_type_deck())))
    single = found["Card c1: q-single_choice"]
    assert single.findtext("defaultgrade") == "2" and found["Card c1: q-essay"].findtext("defaultgrade") == "5"
    assert {q.findtext("penalty") for q in found.values()} == {"0"}
    assert field(single, "questiontext") == "<p>A single_choice question</p>"
    assert field(single, "generalfeedback") == '<p>In general: <span class="math">\\(x^2\\)</span>.</p>'
    assert [field(h, ".") for h in single.iterfind("hint")] == ["<p>Think <em>twice</em>.</p>"]
    assert [field(h, ".") for h in found["Card c1: q-numerical"].iterfind("hint")] == ["<p>Pi.</p>"]
    assert found["Card c1: q-true_false"].find("hint") is None
    idnumbers = [q.findtext("idnumber") for q in found.values()]
    assert len(set(idnumbers)) == len(idnumbers) and all(idnumbers)


def test_single_choice_is_multichoice_with_one_right_answer_and_every_feedback():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-single_choice"]
    assert (q.findtext("single"), q.findtext("shuffleanswers")) == ("true", "true")
    assert answers(q) == [("Right", "100", "<p>Yes, a.</p>"), ("Wrong", "0", "<p>No, not b.</p>")]
    assert field(q, "correctfeedback") == "<p>Well done &amp; right.</p>"
    assert field(q, "incorrectfeedback") == field(q, "partiallycorrectfeedback") == "<p>Not quite .</p>"


def test_multiple_answers_share_100_percent_and_penalise_wrong_answers():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-multiple_answers"]
    assert (q.findtext("single"), q.findtext("shuffleanswers")) == ("false", "false")
    assert [(text, fraction) for text, fraction, _ in answers(q)] == [
        ("Right", "50"),
        ("Also right", "50"),
        ("Wrong", "-100"),
    ]
    assert field(q, "correctfeedback") == "<p>Well done &amp; right.</p>"
    assert field(q, "incorrectfeedback") == "<p>Not quite .</p>"


def selections(choice_ids: list[str], correct: list[str]) -> list[tuple[str, ...]]:
    """Every selection for a few choices; for many, the telling ones."""
    if len(choice_ids) <= 9:
        return [s for n in range(len(choice_ids) + 1) for s in itertools.combinations(choice_ids, n)]
    wrong = [c for c in choice_ids if c not in correct]
    return [
        tuple(correct),
        *[(*correct, w) for w in wrong],
        tuple(correct[1:]),
        (correct[0],),
        (correct[0], wrong[0]),
        tuple(wrong),
    ]


@pytest.mark.parametrize("right", [1, 2, 3, 4, 6, 7, 9, 11, 13, 20])
def test_multiple_answers_score_in_moodle_as_lms_export_scores_them(right):
    """All correct chosen: full marks; any wrong one chosen: nothing, as in lms_export.scoring.

    The one difference Moodle cannot avoid: some (not all) of the correct
    answers and no wrong one earn partial credit in Moodle, nothing here.
    """
    choices = [{"id": f"r{i}", "text": f"Right {i}", "correct": True} for i in range(right)]
    choices += [{"id": f"w{i}", "text": f"Wrong {i}"} for i in range(2)]
    deck = make_deck(raw_card("c1", [raw_question("multiple_answers", choices=choices)]))
    [q] = questions(parse(convert(deck))).values()
    fraction = {text.replace("Right ", "r").replace("Wrong ", "w"): f for text, f, _ in answers(q)}
    assert all(moodle_accepts_grade(f) for f in fraction.values())
    question = deck.cards[0].questions[0]
    correct = [c["id"] for c in choices if c.get("correct")]
    for selected in selections([c["id"] for c in choices], correct):
        moodle = moodle_multichoice_grade([fraction[c] for c in selected])
        ours = scoring.score(question, list(selected)) / question.points
        if ours == 1:
            assert moodle > MOODLE_RIGHT, selected
        elif any(c.startswith("w") for c in selected):
            assert moodle == 0, selected
        else:  # some of the correct answers and no wrong one
            assert ours == 0 and (moodle == 0) == (not selected), selected


def test_correct_shares_use_moodles_grades_and_never_pass_100_percent():
    for count in range(1, 21):
        shares = correct_shares(count)
        assert len(shares) == count and set(shares) <= set(GRADES)
        assert Decimal("99.9999") < sum(shares) <= 100
    assert correct_shares(4) == (Decimal(25),) * 4
    assert correct_shares(6) == (Decimal(20),) * 4 + (Decimal(10),) * 2  # 6 x 16.66667 would pass 100
    assert correct_shares(21) is None


def test_more_correct_answers_than_moodle_can_share_leave_the_question_out_with_a_warning():
    choices = [{"id": f"r{i}", "text": f"Right {i}", "correct": True} for i in range(21)]
    deck = make_deck(raw_card("c1", [raw_question("multiple_answers", choices=choices), raw_question("essay")]))
    with pytest.warns(ExportWarning, match="question q-multiple_answers.*21 correct answers"):
        found = questions(parse(convert(deck)))
    assert list(found) == ["Card c1: q-essay"]


def test_true_false_names_its_answers_and_gives_each_its_feedback():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-true_false"]
    # the answer is false: choosing false is right
    assert answers(q) == [("true", "0", "<p>Not quite .</p>"), ("false", "100", "<p>Well done &amp; right.</p>")]


def test_short_answers_are_all_worth_100_with_case_and_a_catch_all_for_feedback():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-short_answer"]
    assert q.findtext("usecase") == "1"
    assert answers(q) == [
        ("latent space", "100", "<p>Well done &amp; right.</p>"),
        ("a\\*b", "100", "<p>Well done &amp; right.</p>"),  # a literal star, not Moodle's wildcard
        ("*", "0", "<p>Not quite .</p>"),
    ]
    plain = make_deck(raw_card("c1", [raw_question("short_answer")]))
    [q] = questions(parse(convert(plain))).values()
    assert q.findtext("usecase") == "0" and answers(q) == [("latent space", "100", None)]


def test_numerical_answers_carry_their_tolerance_and_a_range_becomes_midpoint_and_half_width():
    deck = make_deck(
        raw_card(
            "c1",
            [
                raw_question("numerical", id="exact", answer=3.14, tolerance=1e-7),
                raw_question("numerical", id="range", answer=None, tolerance=None, range=[0.0001, 0.5]),
                raw_question("numerical", id="big", answer=1e20, tolerance=0),
            ],
        )
    )
    found = questions(parse(convert(deck)))

    def answer(name):
        [a] = found[f"Card c1: {name}"].iterfind("answer")
        return a.findtext("text"), a.findtext("tolerance")

    assert answer("exact") == ("3.14", "0.0000001")
    assert answer("big") == ("100000000000000000000", "0")
    middle, half = answer("range")
    assert (middle, half) == ("0.25005", "0.24995")
    assert Decimal(middle) - Decimal(half) == Decimal("0.0001") and Decimal(middle) + Decimal(half) == Decimal("0.5")
    question = deck.cards[0].questions[1]
    for value in (0.0001, 0.25, 0.5, 0.00009, 0.50001):
        assert moodle_numerical_accepts(middle, half, value) == (scoring.score(question, value) == 1), value


def test_numerical_feedback_goes_on_the_answer_and_on_any_other_answer():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-numerical"]
    assert [(a.findtext("text"), a.get("fraction"), a.findtext("tolerance")) for a in q.iterfind("answer")] == [
        ("3.14", "100", "0.01"),
        ("*", "0", "0"),
    ]
    assert [feedback for *_, feedback in answers(q)] == ["<p>Well done &amp; right.</p>", "<p>Not quite .</p>"]


def test_essays_keep_general_feedback_and_warn_about_what_moodle_essays_lack():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-essay"]
    assert field(q, "generalfeedback") == "<p>A model answer.</p>"
    assert q.findtext("responseformat") == "editor" and q.find("answer") is None
    deck = make_deck(raw_card("c1", [raw_question("essay", hint="Think.", feedback={"correct": "Good."})]))
    with pytest.warns(ExportWarning, match="question q-essay: a Moodle essay has no hint or right/wrong feedback"):
        [q] = questions(parse(convert(deck))).values()
    assert q.find("hint") is None and q.find("correctfeedback") is None


def test_matching_pairs_become_subquestions_and_distractors_empty_ones():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-matching"]
    assert q.findtext("shuffleanswers") == "true"
    assert [(field(s, "."), s.findtext("answer/text")) for s in q.iterfind("subquestion")] == [
        ("VAE", "encoder + decoder"),
        ("GAN", "two nets"),
        ("", "a decoy"),
    ]
    assert field(q, "correctfeedback") == "<p>Well done &amp; right.</p>"
    assert field(q, "incorrectfeedback") == field(q, "partiallycorrectfeedback") == "<p>Not quite .</p>"


def test_ordering_lists_the_items_in_order_graded_all_or_nothing():
    q = questions(parse(convert(every_type_deck())))["Card c1: q-ordering"]
    assert [(text, fraction) for text, fraction, _ in answers(q)] == [("first", "1"), ("second", "2"), ("third", "3")]
    assert (q.findtext("gradingtype"), q.findtext("selecttype")) == ("ALL_OR_NOTHING", "ALL")
    assert q.findtext("selectcount") == "3"
    assert field(q, "correctfeedback") == "<p>Well done &amp; right.</p>"


# -- images and hostile text ---------------------------------------------------


def test_images_are_embedded_in_the_text_that_shows_them(tmp_path):
    png = b"\x89PNG\r\n\x1a\n not really a picture"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "figure.png").write_bytes(png)
    (tmp_path / "top.png").write_bytes(b"top")
    image = "![a figure](media/figure.png)"
    question = raw_question(
        "single_choice",
        prompt=f"Look: {image} and again {image}",
        hint="See ![top](top.png)",
        choices=[{"id": "a", "text": f"This {image}", "correct": True}, {"id": "b", "text": "That"}],
        feedback={"general": f"As shown: {image}"},
    )
    deck = build_deck(raw_deck(raw_card("c1", [question])), file="deck.yaml", base_dir=tmp_path)
    [q] = questions(parse(convert(deck))).values()
    for path in ("questiontext", "generalfeedback", "answer"):
        element = q.find(path)
        [file] = element.findall("file")  # once per text, however often the text shows it
        assert (file.get("name"), file.get("path"), file.get("encoding")) == ("figure.png", "/media/", "base64")
        assert base64.b64decode(file.text) == png
        images = html.fragment_fromstring(element.findtext("text"), create_parent="div").iter("img")
        assert {img.get("src") for img in images} == {"@@PLUGINFILE@@/media/figure.png"}
    [file] = q.find("hint").findall("file")
    assert (file.get("name"), file.get("path"), base64.b64decode(file.text)) == ("top.png", "/", b"top")
    assert "@@PLUGINFILE@@/top.png" in field(q, "hint")
    assert q.find("answer[2]/file") is None


def test_an_image_where_the_deck_does_not_check_images_is_not_embedded_and_says_so():
    deck = make_deck(raw_card("c1", [raw_question("ordering", items=["![x](missing.png)", "second"])]))
    with pytest.warns(ExportWarning, match="image missing.png is not embedded"):
        [q] = questions(parse(convert(deck))).values()
    assert q.find(".//file") is None


def test_hostile_text_stays_well_formed_and_the_script_is_gone():
    question = raw_question(
        "single_choice",
        title=NASTY,
        prompt=NASTY,
        hint=NASTY,
        choices=[{"id": "a", "text": NASTY, "correct": True, "feedback": NASTY}, {"id": "b", "text": "x ]]> y"}],
        feedback={"correct": NASTY, "incorrect": NASTY, "general": NASTY},
    )
    short = raw_question("short_answer", answers=["a]]>b", "<!-- & -->"], feedback={"incorrect": NASTY})
    matching = raw_question("matching", pairs=[{"left": NASTY, "right": "R ]]> & <b>"}], distractors=[NASTY])
    deck = make_deck(raw_card("c1", [question, short, matching], title=NASTY), title=NASTY)
    data = convert(deck)
    root = parse(data)  # well-formed, and nothing in it is an entity or a DTD
    assert b"alert" not in data
    assert b"]]]]><![CDATA[>" in data  # a ]]> in the text, split across two CDATA sections as Moodle does
    by_type = {q.get("type"): q for q in questions(root).values()}
    q = by_type["multichoice"]
    assert q.findtext("name/text") == NASTY_PLAIN
    for element in root.iterfind(".//*[@format='html']/text"):
        fragment = html.fragment_fromstring(element.text or "", create_parent="div")
        assert not [e for e in fragment.iter() if e.tag == "script" or e.tag is etree.Comment]
    assert field(q, "questiontext") == "<p>Is  &amp; \"quoted\" 'single' ]]&gt;  ünïcødé 🙂 end</p>"
    assert [text for text, *_ in answers(by_type["shortanswer"])] == ["a]]>b", "<!-- & -->", "*"]
    subquestions = by_type["matching"].findall("subquestion")
    assert [s.findtext("answer/text") for s in subquestions] == ["R ]]> &", NASTY_PLAIN]
    assert [split_category_path(path)[-1] for path in categories(root)] == [NASTY_PLAIN, NASTY_PLAIN]


@pytest.mark.parametrize("text", ["plain", "a < b", "]]>", "x]]>y]]>z", "]]]]>", "", "\x00 \ud800 ok"])
def test_cdata_round_trips_any_text(text):
    root = parse(f"<text>{cdata(text)}</text>".encode())
    assert (root.text or "") == text.replace("\x00", "").replace("\ud800", "")


# -- the command ---------------------------------------------------------------


def test_the_cli_converts_the_example(tmp_path):
    out = tmp_path / "q.xml"
    result = CliRunner().invoke(main, ["convert", str(EVERY_TYPE), "--to", "moodlexml", "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = parse(out.read_bytes())
    assert root.tag == "quiz" and len(questions(root)) == 9


def test_a_templates_folder_replaces_built_in_templates(tmp_path):
    (tmp_path / "moodlexml").mkdir()
    (tmp_path / "moodlexml" / "essay.xml.j2").write_text(
        '{% extends "question.xml.j2" %}{% block answers %}    <responsefieldlines>3</responsefieldlines>\n'
        "{% endblock %}"
    )
    out = tmp_path / "q.xml"
    args = ["convert", str(EVERY_TYPE), "--to", "moodlexml", "-o", str(out), "--templates", str(tmp_path)]
    assert CliRunner().invoke(main, args).exit_code == 0
    found = questions(parse(out.read_bytes()))
    assert found["Latent spaces: explain"].findtext("responsefieldlines") == "3"
    assert found["Update direction"].findtext("single") == "true"  # the other templates are the built-in ones
