"""Each launch check, against the lti1p3platform-based platform and forged id_tokens.

A forged launch goes through the tool's real login (so it has a genuine
state, nonce and cookie) and then posts an id_token the test made, valid in
every way but one: the tool must refuse it with a 4xx that names the check,
and store no launch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl

import jwt
import pytest
import yaml
from conftest import make_deck, raw_card, raw_question

from lms_export.lti.app import BROWSER_COOKIE, Tool, create_app
from lms_export.lti.catalog import Catalog
from lms_export.lti.config import ToolSettings
from lms_export.lti.security import LaunchError, client_id_of
from lms_export.lti.store import Store
from lti.conftest import DECK, RunningTool
from lti.platform import LTI, Browser, LaunchSpec, TestPlatform, private_key_pem, public_key_pem

OTHER_KEY = private_key_pem()


def launches(tool: RunningTool) -> int:
    return tool.store._read("SELECT COUNT(*) FROM launches")[0][0]


def forge(tool: RunningTool, platform: TestPlatform, *, key: str | None = None, headers=None, **overrides):
    """Log in for real, then post an id_token built from ``overrides``; the tool's answer."""
    browser = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    login = browser.login(platform, spec)
    claims = platform.claims(spec, login.nonce, **overrides)
    return browser.post_id_token(login, platform.sign(claims, key=key, headers=headers))


def refused(response, check: str) -> None:
    assert 400 <= response.status_code < 500, response.text[:500]
    assert f"<strong>{check}</strong>" in response.text, response.text[:800]


def test_a_genuine_launch_is_accepted_and_stored(tool, platform):
    response = forge(tool, platform)
    assert response.status_code == 200, response.text[:500]
    assert "Gradient descent" in response.text
    stored = tool.store._read("SELECT user_id, card_id, message_type FROM launches")
    assert [tuple(r) for r in stored] == [("learner-1", "gradient-descent", "LtiResourceLinkRequest")]


FORGERIES = {
    # name: (claims overrides, the check the tool must name)
    "wrong issuer": ({"iss": "https://evil.example"}, "iss"),
    "no issuer": ({"iss": None}, "iss"),
    "another client's audience": ({"aud": "someone-else", "azp": None}, "aud"),
    "several audiences, no azp": ({"aud": ["tool-client", "other"], "azp": None}, "azp"),
    "azp not among the audiences": ({"azp": "other"}, "azp"),
    "expired": ({"exp": int(time.time()) - 120}, "exp"),
    "issued in the future": ({"iat": int(time.time()) + 600}, "iat"),
    "no exp": ({"exp": None}, "exp"),
    "no deployment": ({LTI + "deployment_id": None}, "deployment_id"),
    "unsupported message type": ({LTI + "message_type": "LtiSubmissionReviewRequest"}, "message_type"),
    "LTI 1.1 version": ({LTI + "version": "1.1.0"}, "version"),
    "no roles": ({LTI + "roles": None}, "roles"),
    "roles not a list": ({LTI + "roles": "Learner"}, "roles"),
    "no resource link id": ({LTI + "resource_link": {"title": "x"}}, "resource_link.id"),
    "no user": ({"sub": None}, "sub"),
    "target off the allow-list": ({LTI + "target_link_uri": "https://evil.example/steal"}, "target_link_uri"),
    "target not the login's": ({LTI + "target_link_uri": "TOOL/lti/card/latent-spaces"}, "target_link_uri"),
    "nonce not issued with the state": ({"nonce": "made-up"}, "nonce"),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_a_forged_claim_is_refused(tool, platform, name):
    overrides, check = FORGERIES[name]
    overrides = {k: v.replace("TOOL", tool.url) if isinstance(v, str) else v for k, v in overrides.items()}
    refused(forge(tool, platform, **overrides), check)
    assert launches(tool) == 0


def test_a_token_signed_by_another_key_under_the_platforms_kid_is_refused(tool, platform):
    refused(forge(tool, platform, key=OTHER_KEY), "signature")


def test_an_unknown_kid_is_refused_after_one_fresh_look_at_the_jwks(tool, platform):
    forge(tool, platform)  # fills the cache
    fetched = tool.tool.jwks.fetches
    response = forge(tool, platform, key=OTHER_KEY, headers={"kid": "not-a-platform-key"})
    refused(response, "kid")
    assert tool.tool.jwks.fetches == fetched + 1


def test_the_jwks_is_cached_and_fetched_again_for_a_rotated_key(tool, platform):
    for _ in range(3):
        assert forge(tool, platform).status_code == 200
    assert tool.tool.jwks.fetches == 1
    platform.rotate_key()
    assert forge(tool, platform).status_code == 200
    assert tool.tool.jwks.fetches == 2


def test_the_refetch_for_unknown_kids_is_rate_limited(tmp_path, platform):
    tool = RunningTool(tmp_path / "tool.db", [DECK], jwks_refetch_seconds=60)
    tool.register(platform)
    try:
        assert forge(tool, platform).status_code == 200
        for _ in range(3):
            refused(forge(tool, platform, key=OTHER_KEY, headers={"kid": "unknown"}), "kid")
        assert tool.tool.jwks.fetches == 1
    finally:
        tool.stop()


def unsigned_token(claims: dict, alg: str, secret: bytes, kid: str) -> str:
    """A token PyJWT would refuse to make: alg none, or HS256 keyed with the platform's public key."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    head = part({"alg": alg, "typ": "JWT", "kid": kid}) + "." + part(claims)
    if alg == "none":
        return head + "."
    mac = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["HS256", "none", "RS512"])
def test_only_rs256_is_accepted(tool, platform, alg):
    browser = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    login = browser.login(platform, spec)
    claims = platform.claims(spec, login.nonce)
    if alg == "RS512":
        token = jwt.encode(claims, platform.signing_key, algorithm="RS512", headers={"kid": platform.kid})
    else:  # HS256: the classic confusion, the platform's public key used as an HMAC secret
        token = unsigned_token(claims, alg, public_key_pem(platform.signing_key).encode(), platform.kid)
    refused(browser.post_id_token(login, token), "alg")
    assert launches(tool) == 0


def test_exp_and_iat_are_checked_with_a_small_leeway(tool, platform):
    now = int(time.time())
    assert forge(tool, platform, exp=now - 10, iat=now - 310).status_code == 200
    assert forge(tool, platform, iat=now + 10).status_code == 200
    refused(forge(tool, platform, exp=now - 45), "exp")


def test_several_audiences_are_accepted_when_azp_names_the_tool(tool, platform):
    assert forge(tool, platform, aud=["other", platform.client_id], azp=platform.client_id).status_code == 200


def test_junk_instead_of_an_id_token_is_a_4xx(tool, platform):
    browser = Browser()
    login = browser.login(platform, LaunchSpec(tool.card_url("gradient-descent")))
    for junk in ("not-a-jwt", "a.b.c", "e30.W10.x"):
        response = browser.post_id_token(login, junk)
        assert 400 <= response.status_code < 500, response.text[:300]


def test_a_missing_id_token_is_a_4xx(tool, platform):
    browser = Browser()
    login = browser.login(platform, LaunchSpec(tool.card_url("gradient-descent")))
    response = browser.session.post(login.redirect_uri, data={"state": login.state})
    refused(response, "id_token")


# -- state and nonce -------------------------------------------------------------


def test_the_state_works_once(tool, platform):
    browser = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    login = browser.login(platform, spec)
    token = platform.sign(platform.claims(spec, login.nonce))
    assert browser.post_id_token(login, token).status_code == 200
    refused(browser.post_id_token(login, token), "state")
    assert launches(tool) == 1


def test_the_state_is_bound_to_the_browser_that_logged_in(tool, platform):
    victim = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    login = victim.login(platform, spec)
    token = platform.sign(platform.claims(spec, login.nonce))
    attacker = Browser()
    refused(attacker.post_id_token(login, token), "state")
    assert launches(tool) == 0


def test_an_unknown_or_expired_state_is_refused(tool, platform):
    browser = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    login = browser.login(platform, spec)
    token = platform.sign(platform.claims(spec, login.nonce))
    refused(browser.post_id_token(login, token, state="state-made-up"), "state")
    stale = tool.store._db()
    stale.execute("UPDATE states SET created_at = created_at - 3600")
    refused(browser.post_id_token(login, token), "state")


def test_a_replayed_id_token_is_refused_by_the_shared_nonce_store(tool, platform):
    # The id_token's nonce is spent in the database; even a state that carries
    # the same nonce (as a second worker could see) does not make it usable again.
    browser = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    login = browser.login(platform, spec)
    token = platform.sign(platform.claims(spec, login.nonce))
    assert browser.post_id_token(login, token).status_code == 200
    platform_id = tool.store.platforms()[0].id
    cookie = browser.session.cookies[BROWSER_COOKIE]
    tool.store.issue_state("state-replay", login.nonce, cookie, platform_id, spec.target_link_uri)
    browser.session.cookies.set("lti1p3-state-replay", "state-replay")
    refused(browser.post_id_token(login, token, state="state-replay"), "nonce")
    assert tool.store._read("SELECT COUNT(*) FROM nonces WHERE nonce = ?", login.nonce)[0][0] == 1


def test_a_replay_with_a_fresh_login_is_refused(tool, platform):
    browser = Browser()
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    first = browser.login(platform, spec)
    token = platform.sign(platform.claims(spec, first.nonce))
    assert browser.post_id_token(first, token).status_code == 200
    second = browser.login(platform, spec)
    refused(browser.post_id_token(second, token), "nonce")


def test_the_login_refuses_a_target_off_the_allow_list(tool, platform):
    spec = LaunchSpec("https://evil.example/phish")
    answer = Browser().session.get(platform.login_url(spec), allow_redirects=False)
    refused(answer, "target_link_uri")
    assert "Location" not in answer.headers


def test_the_login_refuses_an_unknown_issuer(tool):
    answer = Browser().session.get(
        tool.url + "/lti/login",
        params={"iss": "https://nobody.example", "login_hint": "u", "target_link_uri": tool.url + "/lti/launch"},
        allow_redirects=False,
    )
    refused(answer, "login")


def test_the_login_works_by_post_too(tool, platform):
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    url = platform.login_url(spec)
    base, _, query = url.partition("?")
    answer = Browser().session.post(base, data=dict(parse_qsl(query)), allow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(platform.url("/auth"))


# -- cookies, submissions and sanitizing --------------------------------------------


def test_cookies_are_secure_and_same_site_none_over_https(tmp_path):
    store = Store(tmp_path / "tool.db")
    store.add_platform(
        name="canvas",
        kind="canvas",
        issuer="https://canvas.instructure.com",
        client_id="10000000000042",
        auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
        auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
        key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
        hosts=["sso.canvaslms.com"],
    )
    settings = ToolSettings("https://cards.example.edu")
    client = create_app(Tool(store, Catalog([]), settings)).test_client()
    answer = client.get(
        "/lti/login",
        query_string={
            "iss": "https://canvas.instructure.com",
            "login_hint": "42",
            "client_id": "10000000000042",
            "target_link_uri": "https://cards.example.edu/lti/launch",
        },
    )
    assert answer.status_code == 302
    cookies = answer.headers.getlist("Set-Cookie")
    assert len(cookies) == 2  # pylti1p3's state cookie and the tool's browser cookie
    for cookie in cookies:
        assert "Secure" in cookie and "SameSite=None" in cookie and "HttpOnly" in cookie


def test_a_learner_submits_only_for_their_own_launch(tool, platform):
    alice, mallory = Browser(), Browser()
    page = alice.launch(platform, LaunchSpec(tool.card_url("gradient-descent"), user_id="alice"))
    mallory.launch(platform, LaunchSpec(tool.card_url("gradient-descent"), user_id="mallory"))
    answer = mallory.submit(page, {"q1": "0"})  # Alice's launch id, Mallory's browser
    assert answer.status_code == 403
    assert tool.store.attempts() == []
    unknown = mallory.session.post(tool.url + "/lti/submit", data={"launch": "made-up", "q1": "0"})
    assert unknown.status_code == 404


def test_card_html_is_sanitized(tmp_path, platform):
    evil = raw_card(
        "evil",
        body='Hello <script>alert("body")</script> <img src="x.png" onerror="alert(1)"> [link](javascript:alert(2))',
        questions=[raw_question("single_choice", prompt='<iframe src="https://evil.example"></iframe>Pick')],
    )
    make_deck(evil)  # valid input: the danger is in the text, not the shape
    deck_file = tmp_path / "evil.yaml"
    deck_file.write_text(yaml.safe_dump({"id": "deck", "title": "A deck", "cards": [evil]}))
    tool = RunningTool(tmp_path / "tool.db", [deck_file])
    tool.register(platform)
    try:
        page = Browser().launch(platform, LaunchSpec(tool.card_url("evil"))).text
    finally:
        tool.stop()
    assert "Hello" in page and "Pick" in page
    for dangerous in ("<script>alert", "onerror", 'href="javascript:', "<iframe"):
        assert dangerous not in page


def test_client_id_of_reads_aud_and_azp():
    assert client_id_of({"aud": "a"}) == "a"
    assert client_id_of({"aud": ["a"]}) == "a"
    assert client_id_of({"aud": ["a", "b"], "azp": "b"}) == "b"
    for body in ({"aud": 5}, {"aud": []}, {"aud": ["a", "b"]}, {"aud": "a", "azp": "b"}):
        with pytest.raises(LaunchError):
            client_id_of(body)


JUNK_CLAIMS = [
    {"iss": 5},
    {"aud": 5},
    {"aud": [5, "x"]},
    {"sub": 5},
    {"exp": "soon"},
    {"iat": "now"},
    {"nonce": 5},
    {LTI + "deployment_id": 5},
    {LTI + "resource_link": "link"},
    {LTI + "roles": [1, 2]},
    {LTI + "target_link_uri": 5},
    {LTI + "custom": "card"},
    {LTI + "message_type": "LtiDeepLinkingRequest"},
    {
        LTI + "message_type": "LtiDeepLinkingRequest",
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": "x",
    },
]


@pytest.mark.parametrize("claims", JUNK_CLAIMS, ids=[str(sorted(c)) for c in JUNK_CLAIMS])
def test_claims_of_the_wrong_type_are_a_4xx_never_a_500(tool, platform, claims):
    response = forge(tool, platform, **claims)
    if claims == {LTI + "custom": "card"}:  # a card launch needs no custom claim: this one is fine
        assert response.status_code == 200
        return
    assert 400 <= response.status_code < 500, response.text[:500]
    assert launches(tool) == 0
