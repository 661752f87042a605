"""Where the lms-export LTI tool serves a card: the address a cartridge links to and the tool answers.

A Common Cartridge's LTI links and the tool's own routes must agree, so both
read them from here. This sits outside ``lms_export.lti`` because exporters
never depend on the web app.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from lms_export.errors import LmsExportError

#: A card's address in the tool is this path followed by the card's id.
CARD_PATH = "/lti/card/"


def is_loopback(url: str) -> bool:
    """True for a URL on this machine, the one place plain http is accepted."""
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def tool_origin(url: str) -> str:
    """The tool's public origin (``https://cards.example.edu``), or an error saying what is wrong with ``url``.

    LMSs refuse to launch a tool over plain http; only a tool on this machine
    (tests, a first try) may use it.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise LmsExportError(f"{url}: give the tool's origin, such as https://cards.example.edu")
    if parts.scheme == "http" and not is_loopback(url):
        raise LmsExportError(f"{url}: LMSs require https (http only on 127.0.0.1)")
    return f"{parts.scheme}://{parts.netloc}"


def card_url(origin: str, card_id: str) -> str:
    """Where the tool at ``origin`` launches the card ``card_id``."""
    return origin + CARD_PATH + quote(card_id, safe="")
