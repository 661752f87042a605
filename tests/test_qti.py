"""The QTI core shared by 1.2, 2.1 and 3.0."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, make_deck, raw_card, raw_question, write_long_quiz
from lxml import etree

from lms_export import qti, readers
from lms_export.cli import main
from lms_export.errors import ExportWarning, LmsExportError
from lms_export.exporters import formats
from lms_export.validation import Schemas, check_package


def test_identifiers_are_stable_ncnames_that_keep_distinct_ids_apart():
    first = qti.identifier("item", "deck", "a-b", "c")
    assert first == qti.identifier("item", "deck", "a-b", "c")
    assert first != qti.identifier("item", "deck", "a", "b-c")
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", qti.identifier("item", "1deck", "ü x", "."))


@pytest.mark.parametrize(
    "html",
    [
        "<p>plain &amp; simple</p>",
        '<p><a class="citation" href="https://e.org/?a=1&amp;b=2" title="t" rel="noopener">[2]</a></p>',
        '<p><img src="media/x.png"> <s>gone</s> <u>under</u> <del>old</del><br></p>',
        "text before <em>a tag</em> and after",
        '<ol start="3"><li>three</li></ol><!-- a comment -->',
    ],
)
def test_xhtml_is_well_formed_and_inside_the_qti_content_model(html):
    xhtml = str(qti.to_xhtml(html))
    root = etree.fromstring(f"<div>{xhtml}</div>")
    for element in root.iter():
        assert element.tag not in ("s", "u", "del")
        assert set(element.attrib) <= {"id", "class", "href", "src", "alt", "width", "height", "rowspan", "colspan"}
        if element.tag == "img":
            assert "alt" in element.attrib


def test_assessments_follow_the_cards_and_the_answer_keys():
    deck = readers.read(EXAMPLES / "every-type.yaml")
    quizzes = qti.assessments(deck)
    assert [a.title for a in quizzes] == ["Gradient descent", "Latent spaces"]
    first = quizzes[0].items[0]
    assert first.type == "single_choice" and first.points == 2
    assert [o.correct for o in first.options] == [True, False, False]
    assert first.options[0].feedback.plain == "Yes: the gradient points uphill."
    matching = quizzes[1].items[1]
    assert matching.type == "matching" and len(matching.options) == 4  # three targets and a distractor
    assert matching.pair_credit == pytest.approx(1.0)
    [whole] = qti.assessments(deck, one_quiz=True)
    assert [s.card.id for s in whole.sections] == ["gradient-descent", "latent-spaces"]
    assert whole.points == deck.cards[0].points + deck.cards[1].points


def test_cards_without_questions_are_left_out_with_a_warning():
    deck = make_deck(raw_card("empty"), raw_card("quiz", [raw_question("essay")]))
    with pytest.warns(ExportWarning, match="card empty has no questions"):
        assert [a.title for a in qti.assessments(deck)] == ["Card quiz"]
    with pytest.raises(LmsExportError, match="no questions"), pytest.warns(ExportWarning):
        qti.assessments(make_deck(raw_card("empty")))


def test_media_files_are_named_inside_the_package(tmp_path):
    deck = readers.read(EXAMPLES / "every-type.yaml")
    assert qti.media_files(deck) == {"media/media/latent-space.png": EXAMPLES / "media" / "latent-space.png"}


def test_matching_targets_and_ordering_items_are_never_shown_in_the_answers_order():
    deck = make_deck(
        raw_card(
            "c", [raw_question("ordering", items=["a", "b"]), raw_question("ordering", id="q2", items=["b", "a"])]
        ),
    )
    for item in qti.assessments(deck)[0].items:
        assert item.display_options != item.options
        assert sorted(o.ident for o in item.display_options) == sorted(o.ident for o in item.options)


def test_an_item_names_only_the_images_it_shows(tmp_path):
    (tmp_path / "a.png").write_bytes(b"png")
    (tmp_path / "b.png").write_bytes(b"png")
    from conftest import raw_deck

    from lms_export.deckfile import build_deck

    card = raw_card(
        "c", [raw_question("essay", prompt="![a](a.png)"), raw_question("single_choice")], body="![b](b.png)"
    )
    items = qti.assessments(build_deck(raw_deck(card), file="d", base_dir=tmp_path))[0].items
    assert [item.media for item in items] == [("media/a.png",), ()]


@pytest.mark.parametrize("output_format", ["qti21", "qti30"])
def test_a_long_quiz_in_parts_makes_the_package_it_makes_read_whole(tmp_path, output_format, schemas_dir):
    """QTI 2.1 and 3.0 share the item-file layout and its parts; the package is valid either way."""
    source = tmp_path / "long.txt"
    write_long_quiz(source, 700)
    streamed = tmp_path / "streamed.zip"
    result = CliRunner().invoke(main, ["convert", str(source), "--to", output_format, "-o", str(streamed)])
    assert result.exit_code == 0, result.output
    whole = io.BytesIO()
    formats()[output_format](readers.read(source), whole)
    assert streamed.read_bytes() == whole.getvalue()
    names = zipfile.ZipFile(streamed).namelist()
    assert len([n for n in names if n.startswith("items/")]) == 700 and names == sorted(names)
    report = check_package(streamed, Schemas(schemas_dir))
    assert report.ok, report.problems
