"""Card pages: accessible markup, safe content, a separable answer key, and the preview site."""

from __future__ import annotations

import itertools
import json

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, make_deck, raw_card, raw_question

from lms_export import readers
from lms_export.cli import main
from lms_export.errors import LmsExportError
from lms_export.page import embed_url, json_block, render_page

EVERY_TYPE = EXAMPLES / "every-type.yaml"


def render(deck, cards=None, **options) -> lxml.html.HtmlElement:
    options.setdefault("related_href", lambda card_id: f"{card_id}.html")
    html = "".join(render_page(deck, cards or deck.cards[:1], root="../", **options)())
    return lxml.html.fromstring(html)


def data(document, block: str):
    element = document.get_element_by_id(block, None)
    return None if element is None else json.loads(element.text)


@pytest.fixture(scope="module")
def deck():
    return readers.read(EVERY_TYPE)


@pytest.mark.parametrize("whole_deck", [False, True], ids=["a card", "the whole deck"])
def test_the_page_is_accessible_markup(deck, whole_deck):
    document = render(deck, deck.cards if whole_deck else deck.cards[:1])
    assert document.get("lang") == "en"
    assert document.findtext(".//title") == ("Every question type" if whole_deck else "Gradient descent")
    levels = [int(h.tag[1]) for h in document.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), "no heading level is skipped"
    labelled = {label.get("for") for label in document.iter("label")}
    for control in document.iter("input", "select", "textarea"):
        assert control.get("id") in labelled or any(a.tag == "label" for a in control.iterancestors()), control.attrib
    assert all(f.find("legend") is not None for f in document.iter("fieldset"))
    assert all((b.text_content() or "").strip() for b in document.iter("button"))
    assert all(img.get("alt") for img in document.iter("img"))
    assert document.find(".//main") is not None


def test_nothing_on_the_page_can_run_but_the_run_time(deck):
    nasty = "<script>alert(1)</script><img src=x onerror=alert(2)> [evil](javascript:alert(3))"
    question = raw_question("single_choice", prompt=nasty, hint=nasty, feedback={"general": nasty + "</script><!--"})
    document = render(make_deck(raw_card("x", [question], body=nasty, title="</title><script>alert(4)</script>")))
    scripts = [(s.get("src"), s.get("type")) for s in document.iter("script")]
    assert scripts == [
        ("../assets/lms-export-runtime.js", None),
        (None, "application/json"),
        (None, "application/json"),
    ]
    assert not [a for e in document.iter() if isinstance(e.tag, str) for a in e.attrib if a.startswith("on")]
    assert not [a.get("href") for a in document.iter("a") if (a.get("href") or "").startswith("javascript")]
    assert "script-src 'self'" in document.find(".//meta[@http-equiv='Content-Security-Policy']").get("content")
    [key] = data(document, "lms-export-key")
    assert "alert(1)" not in key["feedback"]["general"] and "<script" not in key["feedback"]["general"]


def test_json_blocks_cannot_end_their_script_element():
    text = str(json_block({"x": "</script><!-- & -->"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><!-- & -->"}


def test_the_answer_key_is_a_separate_block_and_can_be_left_out(deck):
    card = deck.cards[0]
    with_key = render(deck, (card,))
    without = render(deck, (card,), answer_key=False)
    assert data(with_key, "lms-export-quiz") == data(without, "lms-export-quiz")
    assert data(without, "lms-export-key") is None and data(with_key, "lms-export-key") is not None
    assert {k for q in data(without, "lms-export-quiz")["questions"] for k in q} <= {"id", "type", "points", "shuffle"}
    page = lxml.html.tostring(without, encoding="unicode")
    for secret in ("Yes: the gradient points uphill.", "Right, downhill on the loss.", "step size", "0.799", "0.801"):
        assert secret not in page
    assert not [e for e in without.iter() if "correct" in (e.get("class") or "") + (e.get("value") or "")]


def test_matching_targets_and_ordering_items_never_show_the_answer(deck):
    document = render(deck, deck.cards[1:])
    matching, ordering = data(document, "lms-export-key")
    assert matching["answer"] != [0, 1, 2], "targets are not listed pair by pair"
    assert ordering["answer"] != [0, 1, 2], "items are not listed in the right order"


def test_essays_are_shown_to_think_about_and_left_out_of_the_quiz(deck):
    document = render(deck, deck.cards[1:])
    assert [q["type"] for q in data(document, "lms-export-quiz")["questions"]] == ["matching", "ordering"]
    reflection = document.get_element_by_id("reflect1")
    assert "diffusion in a latent space is cheaper" in reflection.text_content()
    assert reflection.find(".//input") is None and reflection.find(".//textarea") is None


@pytest.mark.parametrize(
    ("url", "embed"),
    [
        ("https://www.youtube.com/watch?v=IHZwWFHWa-w", "https://www.youtube-nocookie.com/embed/IHZwWFHWa-w"),
        ("https://youtu.be/IHZwWFHWa-w?t=3", "https://www.youtube-nocookie.com/embed/IHZwWFHWa-w"),
        ("https://m.youtube.com/shorts/IHZwWFHWa-w", "https://www.youtube-nocookie.com/embed/IHZwWFHWa-w"),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871"),
        ("https://www.youtube.com/@WelchLabsVideo", None),
        ("https://www.youtube.com/watch?v=not-an-id", None),
        ("https://example.org/video.mp4", None),
    ],
)
def test_only_known_players_are_embedded(url, embed):
    assert embed_url(url) == embed


def test_a_video_is_a_link_first_and_an_embed_only_on_request(deck):
    document = render(deck)
    assert document.find(".//iframe") is None
    assert document.find(".//section[@class='video']//a").get("href") == "https://www.youtube.com/watch?v=IHZwWFHWa-w"
    assert document.find(".//div[@class='player']").get("data-embed").startswith("https://www.youtube-nocookie.com/")


def test_related_cards_link_as_the_page_allows(deck):
    bridge = readers.read(EXAMPLES / "guest-bridge.yaml")
    outside = render(bridge).find(".//section[@class='related']")
    assert [li.text_content() for li in outside.iter("li")] == ["feedforward-mnist", "backpropagation"]
    assert outside.find(".//a") is None, "cards outside the deck are named, not linked"
    linked = render(deck).find(".//section[@class='related']//a")
    assert (linked.text, linked.get("href")) == ("Latent spaces", "latent-spaces.html")
    quiet = render(deck, related_href=lambda card_id: None).find(".//section[@class='related']")
    assert quiet.find(".//a") is None and quiet.text_content().strip().endswith("Latent spaces")


def test_citations_on_a_page_of_several_cards_point_at_their_own_sources():
    cards = [raw_card(c, body="As shown [1].", sources=[{"id": 1, "title": f"Source of {c}"}]) for c in ("a", "b")]
    document = render(make_deck(*cards), make_deck(*cards).cards)
    for card in ("a", "b"):
        article = document.get_element_by_id(f"card-{card}")
        href = article.find(".//a[@class='citation']").get("href")
        assert href == f"#card-{card}-source-1"
        assert document.get_element_by_id(href[1:]).text_content() == f"Source of {card}"


def test_a_question_with_more_options_than_one_character_can_name_is_refused():
    choices = [{"id": f"c{i}", "text": f"Choice {i}", "correct": i == 0} for i in range(37)]
    deck = make_deck(raw_card("many", [raw_question("single_choice", choices=choices)]))
    with pytest.raises(LmsExportError, match="more than 36 options"):
        render(deck)


def test_preview_writes_a_site_that_opens_from_the_folder(tmp_path):
    site = tmp_path / "site"
    result = CliRunner().invoke(main, ["preview", str(EVERY_TYPE), "-o", str(site)])
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert files == [
        "assets/lms-export-runtime.js",
        "assets/lms-export.css",
        "cards/gradient-descent.html",
        "cards/latent-spaces.html",
        "index.html",
        "media/media/latent-space.png",
    ]
    index = lxml.html.fromstring((site / "index.html").read_bytes())
    assert [a.get("href") for a in index.iter("a")] == ["cards/gradient-descent.html", "cards/latent-spaces.html"]
    card = lxml.html.fromstring((site / "cards" / "gradient-descent.html").read_bytes())
    assert data(card, "lms-export-quiz")["scorm"] is None
    assert card.find(".//img").get("src") == "../media/media/latent-space.png"
    again = CliRunner().invoke(main, ["preview", str(EVERY_TYPE), "-o", str(site)])
    assert again.exit_code == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_preview_leaves_the_folder_as_it_was(tmp_path):
    (tmp_path / "deck.yaml").write_text(
        "id: d\ntitle: D\ncards:\n  - id: c\n    title: C\n    body: '![x](missing.png)'\n", encoding="utf-8"
    )
    site = tmp_path / "site"
    site.mkdir()
    (site / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["preview", str(tmp_path / "deck.yaml"), "-o", str(site)])
    assert result.exit_code == 1 and "missing.png" in result.output
    assert [p.name for p in site.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.yaml", "site"]
