"""Markdown to safe HTML: the one rendering every exporter uses.

Card text is CommonMark (markdown-it-py) with tables, strikethrough, ``$math$``
and numbered citations ``[2]``. Whatever the author wrote, the result passes
through nh3's allow-list, so no card can put script or broken markup into a
package, an LMS page or the LTI tool.

Math is written for MathJax, which Canvas and Moodle both run on question and
page text: inline ``$x$`` becomes ``\\(x\\)`` and display ``$$x$$`` stays
``$$x$$``; the TeX is HTML-escaped, never interpreted here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Iterable
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import nh3

from lms_export.model import Source

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_inline import StateInline

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p",
    "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}

#: Rewrites a local media path (as written in Markdown) to its URL in a package.
MediaUrl = Callable[[str], str]

_CITATION = re.compile(r"\[(\d{1,6})\](?![(\[:])")
_UNESCAPED_CITATION = re.compile(r"(?<!\\)" + _CITATION.pattern)
#: Text with none of these characters renders to itself: no parser needed.
_MARKDOWN_SYNTAX = re.compile(r"[\\`*_\[\]<>!&#|~$\n\r\t]|^\s|^[-+=>\d]|\s$|  ")
#: In text read as HTML, what could begin markup: any ``<``, an ``&`` a character reference could follow.
_HTML_MARKUP = re.compile(r"<|&(?=[A-Za-z0-9#])")


def _citation_rule(state: StateInline, silent: bool) -> bool:
    match = _CITATION.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"id": int(match.group(1))}
    state.pos = match.end()
    return True


def _render_citation(self, tokens, idx, options, env) -> str:
    source_id = tokens[idx].meta["id"]
    source = env.get("sources", {}).get(source_id)
    href = source.url if source is not None and source.url else f"#source-{source_id}"
    title = f' title="{html.escape(source.title)}"' if source is not None else ""
    return f'<a class="citation" href="{html.escape(href)}"{title}>[{source_id}]</a>'


def _render_math_inline(self, tokens, idx, options, env) -> str:
    return f'<span class="math">\\({html.escape(tokens[idx].content)}\\)</span>'


def _render_math_display(self, tokens, idx, options, env) -> str:
    return f'<span class="math">$${html.escape(tokens[idx].content)}$$</span>'


def _render_math_block(self, tokens, idx, options, env) -> str:
    return f'<div class="math">$${html.escape(tokens[idx].content)}$$</div>\n'


def _render_image(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    src = token.attrGet("src") or ""
    if is_local_path(src) and env.get("media_url") is not None:
        token.attrSet("src", env["media_url"](src))
    return self.image(tokens, idx, options, env)


@cache
def _parser() -> MarkdownIt:
    """The one parser, built on first use: most card texts take the fast path and never need it."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=False, double_inline=True)
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.add_render_rule("citation", _render_citation)
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_inline_double", _render_math_display)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("math_block_label", _render_math_block)
    md.add_render_rule("image", _render_image)
    return md


def is_local_path(url: str) -> bool:
    """True for a path into the author's files, not a URL on the web."""
    return bool(url) and not re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*:|/|#)", url)


def sanitize(fragment: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def to_html(
    text: str | None,
    sources: Iterable[Source] = (),
    media_url: MediaUrl | None = None,
    inline: bool = False,
) -> str:
    """Render card Markdown to sanitized HTML.

    ``sources`` resolves ``[n]`` citations to the source's URL;
    ``media_url`` rewrites local image paths for the package being built.
    ``inline`` drops the paragraph wrapper, for short texts such as choices.
    """
    if not text:
        return ""
    if not _MARKDOWN_SYNTAX.search(text):
        # Plain words: no markup, and none of & < > (they count as syntax), so nothing to escape.
        return text if inline else f"<p>{text}</p>"
    sources_key = tuple(sources)
    return _render(text, sources_key, media_url, inline)


@lru_cache(maxsize=4096)
def _render(text: str, sources: tuple[Source, ...], media_url: MediaUrl | None, inline: bool) -> str:
    env = {"sources": {s.id: s for s in sources}, "media_url": media_url}
    if inline:
        md = _parser()
        tokens = md.parseInline(text, env)
        rendered = md.renderer.render(tokens[0].children or [], md.options, env)
    else:
        rendered = _parser().render(text, env)
    return sanitize(rendered).strip()


def plain_text(text: str | None) -> str:
    """What a Markdown text shows, as characters: for titles, names and labels.

    Tags are dropped and entities decoded, as a reader sees the rendered text:
    ``<b>bold</b>`` gives ``bold``, while ``&lt;b&gt;`` gives the three
    characters ``<b>``, which the author wrote to be seen. Text with no
    Markdown syntax (``&`` and ``<`` count as syntax) is its own plain text.

    The result is text, not HTML: it is escaped wherever it is written. The
    templates' autoescaping does that for fields read as plain text, which
    QTI and manifest titles, QTI 1.2's ``text/plain`` labels and LTI Deep
    Linking titles are; a field its consumer reads as HTML takes
    :func:`plain_text_as_html` instead, so ``<b>`` is shown there, never obeyed.
    """
    if not text:
        return ""
    if not _MARKDOWN_SYNTAX.search(text):
        return text
    return html.unescape(nh3.clean(to_html(text, inline=True), tags=set())).strip()


def plain_text_as_html(text: str | None) -> str:
    """:func:`plain_text` for a field its consumer reads as HTML, showing the same characters there.

    Moodle reads question and category names that way (its importer strips
    tags, ``format_string`` shows them as HTML), so the characters ``<b>``
    must reach it as ``&lt;b>``. Only what HTML could read as markup is
    escaped: ``<``, and ``&`` where a character reference could begin
    (``&lt;``, ``&copy``, ``&#60``). A lone ``&`` or ``>`` is text to any
    HTML reader and stays as written, so ``Q & A`` is the same in the file as
    in the LMS.
    """
    return _HTML_MARKUP.sub(lambda m: "&lt;" if m[0] == "<" else "&amp;", plain_text(text))


def _walk(tokens) -> Iterable:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def references(text: str | None) -> tuple[list[int], list[str]]:
    """The source ids a text cites and the local image paths it shows.

    Found by the same parser that renders, so a ``[2]`` inside a code span
    is not a citation here either.
    """
    if not text or not _MARKDOWN_SYNTAX.search(text):
        return [], []
    citations: list[int] = []
    images: list[str] = []
    for token in _walk(_parser().parse(text, {})):
        if token.type == "citation":
            citations.append(token.meta["id"])
        elif token.type == "image":
            src = token.attrGet("src") or ""
            if is_local_path(src):
                images.append(src)
    return citations, images


def escape_citations(text: str, keep: Collection[int] = ()) -> tuple[str, set[int]]:
    """``text`` with every ``[n]`` citation not in ``keep`` turned into visible ``\\[n\\]``.

    For inputs whose ``[n]`` cannot be a citation (a text2qti quiz has no
    sources; a copied card page lost them): the author's text survives as
    written instead of failing the missing-source check. Returns the new text
    and the numbers it escaped.
    """
    escaped = set(references(text)[0]) - set(keep)
    if not escaped:
        return text, escaped
    return _UNESCAPED_CITATION.sub(lambda m: rf"\[{m[1]}\]" if int(m[1]) in escaped else m[0], text), escaped
