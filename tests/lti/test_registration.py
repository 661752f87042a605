"""LTI Dynamic Registration 1.0 against the test platform, then a launch and a grade on what it registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lms_export.lti.config import ToolSettings
from lms_export.lti.outbound import Outbound
from lms_export.lti.registration import RegistrationError, client_metadata, platform_configuration
from lti.conftest import DECK, RunningTool, wait_for
from lti.platform import Browser, LaunchSpec, TestPlatform, form_of
from lti.test_end_to_end import RIGHT_GRADIENT


@pytest.fixture
def unregistered(tmp_path: Path) -> Iterator[tuple[RunningTool, TestPlatform]]:
    platform = TestPlatform(product="moodle")
    tool = RunningTool(tmp_path / "tool.db", [DECK])
    yield tool, platform
    tool.stop()
    platform.stop()


def start(browser: Browser, tool: RunningTool, platform: TestPlatform, invite: str, token: str | None = None):
    """What the platform does: open the tool's registration URL with its configuration and a token."""
    return browser.session.get(
        f"{tool.url}/lti/register/{invite}",
        params={
            "openid_configuration": platform.url("/.well-known/openid-configuration"),
            "registration_token": token or platform.registration_token,
        },
    )


def test_a_platform_registers_the_tool_and_then_launches_and_grades(unregistered):
    tool, platform = unregistered
    invite = tool.store.create_invite(3600)
    browser = Browser()
    confirm = start(browser, tool, platform, invite)
    assert confirm.status_code == 200
    action, fields = form_of(confirm.text)
    done = browser.session.post(action, data={k: v[0] for k, v in fields.items()})
    assert done.status_code == 200, done.text
    assert "data-lti-close" in done.text and platform.client_id in done.text

    [sent] = platform.registrations
    assert sent["initiate_login_uri"] == tool.url + "/lti/login"
    assert sent["redirect_uris"] == [tool.url + "/lti/launch"]
    [registered] = tool.store.platforms()
    assert sent["jwks_uri"] == tool.url + f"/lti/jwks/{registered.key_set_id}"  # its own key set, for it alone
    assert tool.store.keys_of(registered) != []
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert sent["grant_types"] == ["implicit", "client_credentials"]
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
    configuration = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert configuration["domain"] == tool.url.removeprefix("http://")
    assert configuration["messages"] == [
        {"type": "LtiDeepLinkingRequest", "target_link_uri": tool.url + "/lti/launch", "label": "lms-export cards"}
    ]

    assert (registered.kind, registered.issuer, registered.client_id) == ("moodle", platform.issuer, platform.client_id)
    assert (registered.auth_login_url, registered.auth_token_url, registered.key_set_url) == (
        platform.url("/auth"),
        platform.url("/token"),
        platform.url("/jwks"),
    )
    assert tool.store.deployments(registered.id) == ["dr-deployment-1"]
    assert start(browser, tool, platform, invite).status_code == 403  # the invitation is spent

    item = platform.add_line_item({"label": "Gradient descent", "scoreMaximum": 7, "resourceId": "gradient-descent"})
    spec = LaunchSpec(
        tool.card_url("gradient-descent"),
        user_id="after-registration",
        ags={"lineitems_url": platform.url("/lineitems"), "lineitem_url": item["id"]},
    )
    learner = Browser()
    learner.submit(learner.launch(platform, spec), RIGHT_GRADIENT)
    wait_for(lambda: platform.scores_for("after-registration"))
    assert platform.scores_for("after-registration")[0].body["scoreGiven"] == 7


def test_registration_needs_a_live_invitation(unregistered):
    tool, platform = unregistered
    assert start(Browser(), tool, platform, "made-up").status_code == 403
    expired = tool.store.create_invite(-1)
    assert start(Browser(), tool, platform, expired).status_code == 403
    assert platform.registrations == [] and tool.store.platforms() == []


def test_a_refused_registration_token_is_reported(unregistered):
    tool, platform = unregistered
    browser = Browser()
    action, fields = form_of(start(browser, tool, platform, tool.store.create_invite(3600), token="wrong").text)
    answer = browser.session.post(action, data={k: v[0] for k, v in fields.items()})
    assert answer.status_code == 502
    assert "refused the registration (401)" in answer.text
    assert "invalid registration token" not in answer.text  # the platform's words are logged, not shown
    assert tool.store.platforms() == []


def test_the_issuer_must_be_on_the_configuration_urls_host(unregistered):
    tool, platform = unregistered
    platform.issuer = "http://127.0.0.1:1"
    browser = Browser()
    action, fields = form_of(start(browser, tool, platform, tool.store.create_invite(3600)).text)
    answer = browser.session.post(action, data={k: v[0] for k, v in fields.items()})
    assert answer.status_code == 400
    assert "is not on the host of the configuration URL" in answer.text
    assert platform.registrations == []


def test_a_configuration_over_plain_http_is_refused():
    with pytest.raises(RegistrationError, match="only https"):
        platform_configuration("http://moodle.example.edu/mod/lti/openid-configuration.php", Outbound())


def test_canvas_gets_its_placements_and_only_supported_scopes():
    settings = ToolSettings("https://cards.example.edu")
    config = {
        "scopes_supported": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {"product_family_code": "canvas"},
    }
    metadata = client_metadata(settings, config, "key-set-1")
    assert metadata["jwks_uri"] == "https://cards.example.edu/lti/jwks/key-set-1"
    assert metadata["scope"] == "https://purl.imsglobal.org/spec/lti-ags/scope/score"
    [message] = metadata["https://purl.imsglobal.org/spec/lti-tool-configuration"]["messages"]
    assert message["placements"] == ["link_selection", "assignment_selection"]
