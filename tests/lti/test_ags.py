"""The AGS client: tokens, scopes, URLs, and how each answer of the platform is read."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from lms_export.lti import keys
from lms_export.lti.ags import (
    LINEITEM,
    LINEITEM_READ,
    SCORE,
    AgsClient,
    Refused,
    RetryLater,
    Superseded,
    TokenCache,
    platform_message,
    retry_after,
    with_path,
    with_query,
)
from lms_export.lti.outbound import Outbound, OutboundPolicy
from lms_export.lti.store import Platform, Store, ToolKey
from lti.conftest import tool_key
from lti.platform import TestPlatform

SCORE_BODY = {
    "userId": "u",
    "scoreGiven": 1,
    "scoreMaximum": 2,
    "activityProgress": "Completed",
    "gradingProgress": "FullyGraded",
    "timestamp": "2026-01-01T00:00:00+00:00",
}


@pytest.fixture
def client(tmp_path: Path, platform: TestPlatform):
    """An AGS client for the test platform, whose tool JWKS is served from a small app."""
    from lms_export.lti.app import Tool, create_app
    from lms_export.lti.catalog import Catalog
    from lms_export.lti.config import ToolSettings
    from lti.platform import ServedApp

    served = ServedApp()
    store = Store(tmp_path / "tool.db")
    settings = ToolSettings(served.url, insecure_local=True)
    served.app = create_app(Tool(store, Catalog([]), settings))
    registered = platform.register_with(store, settings, name="p", key=tool_key(0))
    http = Outbound(OutboundPolicy(2, insecure_local=True))

    def make(scopes=(SCORE, LINEITEM), tokens=None) -> AgsClient:
        return AgsClient(registered, keys.signing_key(store, registered), scopes, tokens or TokenCache(), http)

    yield make
    served.stop()


def test_a_token_is_fetched_once_and_reused(client, platform):
    tokens = TokenCache()
    item = platform.add_line_item({"label": "x", "scoreMaximum": 2})["id"]
    for second in range(3):
        client(tokens=tokens).post_score(item, {**SCORE_BODY, "timestamp": f"2026-01-01T00:00:0{second}+00:00"})
    assert tokens.fetches == 1 and len(platform.token_requests) == 1
    assert len(platform.received) == 3


def test_a_401_renews_the_token_once(client, platform):
    item = platform.add_line_item({"label": "x", "scoreMaximum": 2})["id"]
    platform.faults.append(401)
    client().post_score(item, SCORE_BODY)
    assert len(platform.token_requests) == 2 and len(platform.received) == 1
    platform.faults.extend([401, 401])
    with pytest.raises(Refused, match="401"):
        client().post_score(item, {**SCORE_BODY, "timestamp": "2026-01-01T00:00:09+00:00"})


def test_a_409_means_the_platform_already_has_the_score(client, platform):
    item = platform.add_line_item({"label": "x", "scoreMaximum": 2})["id"]
    client().post_score(item, SCORE_BODY)
    with pytest.raises(Superseded):
        client().post_score(item, SCORE_BODY)


def test_scopes_not_granted_are_never_asked_for(client, platform):
    with pytest.raises(Refused, match="did not grant the score scope"):
        client(scopes=(LINEITEM_READ,)).post_score("https://x/lineitems/1", SCORE_BODY)
    assert platform.token_requests == []
    client(scopes=(SCORE, "https://example.com/other-scope")).token()
    assert platform.token_requests[0]["scope"] == SCORE


def test_line_items_are_found_by_resource_and_link(client, platform):
    platform.add_line_item({"label": "a", "scoreMaximum": 1, "resourceId": "card", "resourceLinkId": "other-link"})
    wanted = platform.add_line_item({"label": "b", "scoreMaximum": 1, "resourceId": "card", "resourceLinkId": "rl"})
    ags = client()
    assert ags.find_line_item(platform.url("/lineitems"), "rl", "card") == wanted["id"]
    assert ags.find_line_item(platform.url("/lineitems"), "rl", "another-card") is None
    created = ags.create_line_item(platform.url("/lineitems"), "rl", "another-card", "Another", 3)
    assert platform.line_items[created] == {
        "id": created,
        "label": "Another",
        "scoreMaximum": 3,
        "resourceId": "another-card",
        "resourceLinkId": "rl",
    }


def test_a_token_endpoint_that_refuses_the_tool_is_reported_by_status_and_its_words_logged(client, platform, caplog):
    platform.tool_jwks_url = "http://127.0.0.1:9/jwks"  # the platform cannot check the tool's signature
    with pytest.raises(Refused, match=r"token: 400 Bad Request$"):
        client().token()
    assert "Error during fetch URL" in caplog.text  # for the operator's log, never for a page


def test_an_unreachable_platform_is_retried(tmp_path):
    local = "http://127.0.0.1:9"
    nowhere = Platform(1, "x", "lti", local, "c", local + "/a", local + "/token", local + "/j", None, "ks")
    key = ToolKey(*tool_key(0), created_at=0.0, retired_at=None)
    http = Outbound(OutboundPolicy(1, insecure_local=True))
    with pytest.raises(RetryLater, match="ConnectionError"):
        AgsClient(nowhere, key, [SCORE], TokenCache(), http).token()


def test_urls_keep_their_query():
    moodle = "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1"
    assert (
        with_path(moodle, "scores")
        == "https://moodle.example.edu/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1"
    )
    assert (
        with_path("https://canvas/api/lti/courses/1/line_items/7/", "scores")
        == "https://canvas/api/lti/courses/1/line_items/7/scores"
    )
    assert (
        with_query("https://m/lineitems?type_id=1", resource_id="c 1")
        == "https://m/lineitems?type_id=1&resource_id=c+1"
    )


def response(status: int, body: str = "", headers: dict | None = None) -> requests.Response:
    answer = requests.Response()
    answer.status_code = status
    answer._content = body.encode()
    answer.headers.update(headers or {})
    return answer


def test_the_platforms_message_is_read_from_json_or_text():
    assert platform_message(response(400, '{"error": "invalid_grant", "error_description": "bad kid"}')) == "bad kid"
    assert platform_message(response(422, '{"errors": {"type": "no_user"}}')) == "{'type': 'no_user'}"
    assert platform_message(response(403, "  User not\n enrolled  ")) == "User not enrolled"
    assert len(platform_message(response(500, "x" * 1000))) == 300


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after(response(429, headers={"Retry-After": "7"})) == 7
    assert retry_after(response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0
    assert retry_after(response(429)) is None
