"""The tool's public URL, its allow-list of target link URIs, and the platform presets."""

from __future__ import annotations

import pytest

from lms_export.errors import LmsExportError
from lms_export.lti.config import ToolSettings, canvas_preset, moodle_preset

CARDS = frozenset({"intro", "gradient-descent"})


def test_the_public_url_is_an_origin_and_https_off_this_machine():
    assert ToolSettings("https://cards.example.edu/").base_url == "https://cards.example.edu"
    assert ToolSettings("http://127.0.0.1:8000").https is False
    for bad in ("http://cards.example.edu", "https://cards.example.edu/tool", "ftp://x", "cards.example.edu"):
        with pytest.raises(LmsExportError):
            ToolSettings(bad)


@pytest.mark.parametrize(
    ("uri", "target"),
    [
        ("https://cards.example.edu/lti/launch", ""),
        ("https://cards.example.edu/lti/card/intro", "intro"),
        ("https://cards.example.edu/lti/card/unknown", None),
        ("https://cards.example.edu/lti/card/intro?next=https://evil.example", None),
        ("https://cards.example.edu/lti/card/intro#x", None),
        ("https://cards.example.edu/lti/launch/", None),
        ("https://evil.example/lti/launch", None),
        ("https://cards.example.edu.evil.example/lti/launch", None),
        ("http://cards.example.edu/lti/launch", None),
        ("//cards.example.edu/lti/launch", None),
        (None, None),
        (["https://cards.example.edu/lti/launch"], None),
    ],
)
def test_only_the_tools_own_launch_urls_are_targets(uri, target):
    assert ToolSettings("https://cards.example.edu").target(uri, CARDS) == target


def test_presets():
    assert canvas_preset("test")["issuer"] == "https://canvas.test.instructure.com"
    assert canvas_preset("test")["auth_login_url"] == "https://sso.test.canvaslms.com/api/lti/authorize_redirect"
    moodle = moodle_preset("https://school.edu/moodle/")
    assert moodle["issuer"] == "https://school.edu/moodle"
    assert moodle["auth_token_url"] == "https://school.edu/moodle/mod/lti/token.php"
    with pytest.raises(LmsExportError):
        moodle_preset("moodle.school.edu")


def test_a_cartridges_lti_link_is_a_card_address_the_tool_accepts(tmp_path):
    """The cartridge exporter and the tool agree on where a card lives (lms_export.launch)."""
    import io
    import zipfile

    from conftest import EXAMPLES
    from lxml import etree

    from lms_export import readers
    from lms_export.exporters import formats

    tool = "https://cards.example.edu"
    deck = readers.read(EXAMPLES / "guest-bridge.yaml")
    out = io.BytesIO()
    formats()["cc11"](deck, out, lti_url=tool)
    archive = zipfile.ZipFile(out)
    [link] = [n for n in archive.namelist() if n.startswith("lti/")]
    url = etree.fromstring(archive.read(link)).findtext("{*}launch_url")
    assert ToolSettings(tool).target(url, frozenset(c.id for c in deck.cards)) == "guest-bridge"
