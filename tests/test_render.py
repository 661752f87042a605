"""Markdown rendering: safe whatever the input, citations and math intact."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from lms_export.model import Source
from lms_export.render import plain_text, plain_text_as_html, references, to_html

SOURCES = [Source(2, 'Welch Labs: "Diffusion" <video>', "https://example.org/welch?a=1&b=2")]


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        '<svg onload="alert(1)"><circle/></svg>',
        "<style>body{display:none}</style>text",
        '<p style="background:url(javascript:alert(1))">x</p>',
        "</p></div></body><script>alert(1)</script>",
        "$x</span><script>alert(1)</script>$",
    ],
)
def test_no_input_reaches_the_output_as_script(markdown):
    tree = lxml_html.fragment_fromstring(to_html(markdown, SOURCES), create_parent="div")
    for element in tree.iter():
        assert element.tag not in ("script", "iframe", "svg", "style", "object", "embed")
        for name, value in element.attrib.items():
            assert not name.startswith("on") and name != "style", (name, value)
            assert "javascript:" not in value.lower()


def test_citations_link_to_their_source():
    out = to_html("Latents [2].", SOURCES)
    link = lxml_html.fragment_fromstring(out).find(".//a")
    assert link.get("href") == "https://example.org/welch?a=1&b=2"
    assert link.get("title") == SOURCES[0].title and link.text == "[2]"
    assert 'href="#source-7"' in to_html("Unknown [7].", SOURCES)


def test_citation_like_text_in_code_is_not_a_citation():
    assert references("`a[2]` and [3] and [link](http://x)") == ([3], [])


def test_math_is_written_for_mathjax():
    assert to_html("Energy $E = mc^2$ and $a<b$.") == (
        '<p>Energy <span class="math">\\(E = mc^2\\)</span> and <span class="math">\\(a&lt;b\\)</span>.</p>'
    )
    assert '<div class="math">$$\n\\int_0^1 x\\,dx\n$$</div>' in to_html("$$\n\\int_0^1 x\\,dx\n$$")


def test_local_images_are_found_and_rewritten_for_the_package():
    assert references("![a](img/a.png) ![b](https://e.org/b.png)") == ([], ["img/a.png"])
    out = to_html("![a](img/a.png)", media_url=lambda path: f"$IMS-CC-FILEBASE$/{path}")
    assert 'src="$IMS-CC-FILEBASE$/img/a.png"' in out


@pytest.mark.parametrize("text", ["What is 2+3?", "Plain words, commas; and colons: fine.", "A & B", "x < y"])
def test_the_fast_path_renders_like_the_parser(text):
    from lms_export.render import _render

    assert to_html(text) == _render(text, (), None, False)


def test_inline_rendering_and_plain_text():
    assert to_html("*em* text", inline=True) == "<em>em</em> text"
    assert plain_text("**Bold** <i>x</i> & y") == "Bold x & y"


@pytest.mark.parametrize(
    ("markdown", "shown"),
    [
        ("Escaping &lt;script&gt; in HTML", "Escaping <script> in HTML"),  # written to be seen, so seen
        ("&lt;b&gt;", "<b>"),
        ("`<b>`", "<b>"),
        ("<b>bold</b> and <script>alert(1)</script>gone", "bold and gone"),
        ("AT&amp;T, &copy; &#60;", "AT&T, © <"),
        ("&amp;lt;", "&lt;"),  # the characters &lt;, not <
        ("Tom & Jerry > Bugs", "Tom & Jerry > Bugs"),
        ("Plain words", "Plain words"),
    ],
)
def test_plain_text_is_the_characters_the_rendered_markdown_shows(markdown, shown):
    assert plain_text(markdown) == shown
    rendered = lxml_html.fragment_fromstring(to_html(markdown, inline=True), create_parent="div")
    assert rendered.text_content() == shown


@pytest.mark.parametrize(
    ("markdown", "written"),
    [
        ("Escaping &lt;script&gt; in HTML", "Escaping &lt;script> in HTML"),
        ("&lt;b&gt; <b>bold</b>", "&lt;b> bold"),
        ("&amp;lt; &amp;copy &amp;#60", "&amp;lt; &amp;copy &amp;#60"),
        ("Q & A > R&D ]]>", "Q & A > R&amp;D ]]>"),
        ("Plain words", "Plain words"),
    ],
)
def test_plain_text_as_html_shows_the_same_characters_when_read_as_html(markdown, written):
    assert plain_text_as_html(markdown) == written
    read = lxml_html.fragment_fromstring(written, create_parent="div")
    assert len(read) == 0 and read.text_content() == plain_text(markdown)
