"""The content items a deep linking response carries, and what it echoes back."""

from __future__ import annotations

import jwt
from conftest import make_deck, raw_card, raw_question

from lms_export.lti import deeplink, keys
from lms_export.lti.config import ToolSettings
from lms_export.lti.security import PlatformRegistration
from lms_export.lti.store import Launch, Store

SETTINGS = ToolSettings("https://cards.example.edu")
DECK = make_deck(
    raw_card("quiz", title="A *quiz*", questions=[raw_question("single_choice", points=2.5), raw_question("essay")]),
    raw_card("reading", title="Only reading", questions=[raw_question("essay")]),
)


def test_a_card_with_points_gets_a_line_item_and_one_without_does_not():
    quiz, reading = (deeplink.resource(SETTINGS, card).to_dict() for card in DECK.cards)
    assert quiz["url"] == "https://cards.example.edu/lti/card/quiz"
    assert quiz["title"] == "A quiz"
    assert quiz["lineItem"] == {"scoreMaximum": 2.5, "label": "A quiz", "resourceId": "quiz"}
    assert "lineItem" not in reading


def test_a_title_showing_markup_reaches_each_platform_as_text():
    [card] = make_deck(raw_card("c", title="Escaping &lt;script&gt;alert(1)&lt;/script&gt; *now*")).cards
    assert deeplink.label(card, "canvas") == "Escaping <script>alert(1)</script> now"
    assert deeplink.label(card, "moodle") == "Escaping &lt;script>alert(1)&lt;/script> now"  # Moodle reads HTML


def launch(settings: dict) -> Launch:
    claims = {deeplink.SETTINGS: settings}
    return Launch("L", 1, "deployment-9", "teacher", "b", "LtiDeepLinkingRequest", None, claims, 0.0, None)


def test_the_response_is_signed_by_the_tool_and_echoes_data_only_when_given(tmp_path):
    store = Store(tmp_path / "tool.db")
    lms = "https://lms.example"
    platform = store.add_platform(
        name="p", kind="moodle", issuer=lms, client_id="client-7",
        auth_login_url=lms + "/a", auth_token_url=lms + "/t", key_set_url=lms + "/k",
    )  # fmt: skip
    registration = PlatformRegistration(platform, store)
    key = keys.signing_key(store, platform)
    with_data = deeplink.response_jwt(registration, launch({"data": "xyz"}), SETTINGS, DECK.cards[:1])
    header = jwt.get_unverified_header(with_data)
    assert header["kid"] == key.kid and header["alg"] == "RS256"
    body = jwt.decode(
        with_data,
        jwt.PyJWK(key.public_jwk).key,
        algorithms=["RS256"],
        audience="https://lms.example",
    )
    assert body["iss"] == "client-7"
    assert body["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-9"
    assert body["https://purl.imsglobal.org/spec/lti/claim/message_type"] == "LtiDeepLinkingResponse"
    assert body["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "xyz"
    without = jwt.decode(
        deeplink.response_jwt(registration, launch({}), SETTINGS, DECK.cards), options={"verify_signature": False}
    )
    assert deeplink.DATA not in without
    assert [item["url"] for item in without["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]] == [
        "https://cards.example.edu/lti/card/quiz",
        "https://cards.example.edu/lti/card/reading",
    ]
