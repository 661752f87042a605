"""Text a deck writes as an HTML entity stays text in every output.

In Markdown, ``&lt;script&gt;`` shows the characters ``<script>``: every
output must show those characters and never make them a tag. Whether a
field is right depends on how its consumer reads it, so each is read that way:

- plain-text fields (QTI and manifest titles and descriptions, QTI 1.2's
  ``text/plain`` labels) as XML: their value is the characters themselves;
- fields read as HTML (Moodle's question and category names and matching
  answers, which Moodle shows through ``format_string``; every ``html`` text)
  as HTML: no element, and the text content is the characters;
- the card pages as HTML documents: no script but the page's own.
"""

from __future__ import annotations

import io
import json
import zipfile

import lxml.html
import pytest
from conftest import make_deck, raw_card, raw_question
from lxml import etree

from lms_export.exporters import formats
from lms_export.validation import safe_parser

#: Markdown for the characters <script>alert(1)</script>, beside a real (harmless) tag.
MARKDOWN = "Escaping &lt;script&gt;alert(1)&lt;/script&gt; in <b>HTML</b>"
#: What a reader sees of MARKDOWN when it is rendered.
SHOWN = "Escaping <script>alert(1)</script> in HTML"
#: Common Cartridge has no matching question and says so; that warning is tested with the cartridges.
pytestmark = pytest.mark.filterwarnings("ignore:.*Common Cartridge has no matching question")

PACKAGES = ["qti12", "qti21", "qti30", "cc11", "cc13", "scorm12", "scorm2004"]
#: The element a QTI version writes a question as; its ``title`` is plain text.
ITEM_ELEMENTS = {"item", "assessmentItem", "qti-assessment-item"}


def entity_deck():
    """The Markdown in every title, name and text a consumer shows."""
    titled = raw_question(
        "single_choice",
        title=MARKDOWN,
        prompt=MARKDOWN,
        choices=[{"id": "a", "text": MARKDOWN, "correct": True}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}],
    )
    matching = raw_question("matching", pairs=[{"left": "L", "right": MARKDOWN}, {"left": "M", "right": "two"}])
    card = raw_card("c1", [titled, matching], title=MARKDOWN, subtitle=MARKDOWN)
    return make_deck(card, title=MARKDOWN, description=MARKDOWN)


def convert(output_format: str) -> bytes:
    out = io.BytesIO()
    formats()[output_format](entity_deck(), out)
    return out.getvalue()


def package(output_format: str) -> tuple[dict[str, etree._Element], dict[str, lxml.html.HtmlElement]]:
    """The package's XML files and HTML pages, parsed."""
    archive = zipfile.ZipFile(io.BytesIO(convert(output_format)))
    xml, pages = {}, {}
    for name in archive.namelist():
        if name.endswith(".xml"):
            xml[name] = etree.fromstring(archive.read(name), safe_parser())
        elif name.endswith(".html"):
            pages[name] = lxml.html.document_fromstring(archive.read(name))
    return xml, pages


def local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def words(element: etree._Element) -> str:
    return "".join(element.itertext()).strip()


def read_as_html(text: str) -> lxml.html.HtmlElement:
    """A field's text as an HTML consumer parses it, inside a ``div``."""
    return lxml.html.fragment_fromstring(text, create_parent="div")


def assert_shown_as_text(html_text: str, shown: str = SHOWN) -> None:
    """Read as HTML, ``html_text`` has no element and shows ``shown``."""
    fragment = read_as_html(html_text)
    assert [e.tag for e in fragment.iterdescendants()] == [], html_text
    assert fragment.text_content() == shown


def assert_no_script(root: etree._Element) -> None:
    """No script element in the XML, nor in any HTML its text fields carry."""
    assert [e for e in root.iter() if local(e) == "script"] == []
    for text in html_texts(root):
        assert not read_as_html(text).xpath("//script"), text


def html_texts(root: etree._Element) -> list[str]:
    """The texts a consumer reads as HTML: QTI 1.2's ``text/html`` mattext, Moodle's ``format="html"`` texts."""
    return [
        (e.text or "") if local(e) == "mattext" else e.findtext("text", "")
        for e in root.iter()
        if (local(e) == "mattext" and e.get("texttype") == "text/html") or e.get("format") == "html"
    ]


# -- Moodle XML: names are read as HTML -------------------------------------------


def test_moodle_names_categories_and_answers_show_the_characters_and_hold_no_tag():
    root = etree.fromstring(convert("moodlexml"), safe_parser())
    assert_no_script(root)
    questions = [q for q in root.iterfind("question") if q.get("type") != "category"]
    names = [q.findtext("name/text") for q in questions]
    assert_shown_as_text(names[0])
    assert_shown_as_text(names[1], f"{SHOWN}: q-matching")  # an untitled question is named after its card
    for path in [q.findtext("category/text") for q in root.iterfind("question[@type='category']")]:
        # Moodle splits a path at "/" and reads a doubled "//" as a "/" in a name
        deck, *card = path.removeprefix("$course$/top/").replace("//", "\0").split("/")
        for name in (deck, *card):
            assert_shown_as_text(name.replace("\0", "/"))
    [answer, _] = [s.findtext("answer/text") for s in questions[1].iterfind("subquestion")]
    assert_shown_as_text(answer)
    [choice, *_] = [a.findtext("text") for a in questions[0].iterfind("answer")]
    assert read_as_html(choice).text_content() == SHOWN


# -- packages: titles are plain text, text fields HTML -------------------------------


@pytest.mark.parametrize("output_format", PACKAGES)
def test_no_output_holds_a_script_element(output_format):
    xml, pages = package(output_format)
    for root in xml.values():
        assert_no_script(root)
    for name, page in pages.items():
        scripts = page.iter("script")
        assert all(s.get("src") or s.get("type") == "application/json" for s in scripts), name
        for data in page.xpath("//script[@type='application/json']/text()"):
            json.loads(data)  # data the page's script reads, never run


@pytest.mark.parametrize("output_format", [f for f in PACKAGES if not f.startswith("scorm")])
def test_a_question_title_shows_the_characters_as_plain_text(output_format):
    xml, _ = package(output_format)
    items = [e for root in xml.values() for e in root.iter() if local(e) in ITEM_ELEMENTS]
    assert SHOWN in [item.get("title") for item in items]


@pytest.mark.parametrize("output_format", ["qti21", "qti30"])
def test_a_choice_shows_the_characters_as_text_and_keeps_its_tag(output_format):
    xml, _ = package(output_format)
    choices = [e for root in xml.values() for e in root.iter() if local(e) in ("simpleChoice", "qti-simple-choice")]
    [choice] = [c for c in choices if words(c) == SHOWN]
    assert [local(e) for e in choice.iterdescendants()] == ["b"]


@pytest.mark.parametrize("output_format", ["qti12", "cc11", "cc13"])
def test_a_qti12_choice_read_as_html_shows_the_characters(output_format):
    xml, _ = package(output_format)
    shown = [read_as_html(text).text_content() for root in xml.values() for text in html_texts(root)]
    assert SHOWN in shown


def test_a_canvas_matching_label_is_plain_text_showing_the_characters():
    xml, _ = package("qti12")
    labels = [e.text for root in xml.values() for e in root.iter() if e.get("texttype") == "text/plain"]
    assert SHOWN in labels


@pytest.mark.parametrize("output_format", ["cc11", "cc13", "scorm12", "scorm2004"])
def test_a_manifest_description_shows_the_characters_as_plain_text(output_format):
    xml, _ = package(output_format)
    descriptions = [words(e) for e in xml["imsmanifest.xml"].iter() if local(e) == "description"]
    assert descriptions == [SHOWN]
