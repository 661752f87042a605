"""One platform can never reach another's gradebook or credentials: attacks by a rogue registration.

The victim is a university's platform registered with the tool; the rogue is
whoever holds an invitation, or a platform whose launches lie. Both are
lti1p3platform-based platforms on 127.0.0.1 (on different ports, so on
different hosts for the tool), and listeners stand in for internal services.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
import requests

from lms_export.lti import keys
from lms_export.lti.outbox import Deliverer
from lms_export.lti.store import FAILED, MIGRATIONS, GradeTarget, host_of
from lti.conftest import DECK, FAST, LOCAL, RunningTool, wait_for
from lti.listeners import Listener, answer_with, drip
from lti.platform import LTI, Browser, LaunchSpec, TestPlatform, form_of
from lti.test_end_to_end import RIGHT_GRADIENT
from lti.test_registration import start


@pytest.fixture
def rogue():
    served = TestPlatform(client_id="tool-client")  # the victim's client id: it is in every id_token
    yield served
    served.stop()


@pytest.fixture
def internal():
    """A service on the tool's own network that no platform may make the tool call."""
    listener = Listener(answer_with("200 OK", {"Content-Type": "application/json"}, b'{"keys": []}'))
    yield listener
    listener.stop()


def register_by_invitation(tool: RunningTool, platform: TestPlatform) -> requests.Response:
    browser = Browser()
    action, fields = form_of(start(browser, tool, platform, tool.store.create_invite(3600)).text)
    return browser.session.post(action, data={k: v[0] for k, v in fields.items()})


def graded_launch(tool: RunningTool, platform: TestPlatform, user: str, **ags) -> None:
    """A learner launches a card with AGS, answers right and submits."""
    item = platform.add_line_item({"label": "Gradient descent", "scoreMaximum": 7, "resourceId": "gradient-descent"})
    ags = {"lineitems_url": platform.url("/lineitems"), "lineitem_url": item["id"], **ags}
    spec = LaunchSpec(tool.card_url("gradient-descent"), user_id=user, ags=ags)
    learner = Browser()
    learner.submit(learner.launch(platform, spec), RIGHT_GRADIENT)


# -- 1. a rogue registration never gets a credential valid at the victim -------------------


@pytest.mark.parametrize("lie", ["token_endpoint", "authorization_server"])
def test_a_registration_naming_another_platforms_token_endpoint_is_refused(tool, platform, rogue, lie):
    rogue.openid_overrides = {lie: platform.url("/token"), "client_id": platform.client_id}
    answer = register_by_invitation(tool, rogue)
    assert answer.status_code == 400 and "not on the issuer&#39;s host" in answer.text
    assert [p.name for p in tool.store.platforms()] == ["test"]
    assert platform.token_requests == []


def test_an_assertion_the_tool_signs_for_a_rogue_is_worthless_at_the_victim(tool, platform, rogue):
    """Even where an operator allowed the victim's host for the rogue, the rogue's keys are not the victim's."""
    tool.register(rogue, name="rogue", auth_audience=platform.url("/token"), hosts=[host_of(platform.issuer)])
    graded_launch(tool, rogue, "mallory")
    wait_for(lambda: rogue.scores_for("mallory"), what="the rogue's grade")
    [stolen] = rogue.token_requests
    assert stolen["client_assertion"]
    replayed = requests.post(platform.url("/token"), data=stolen, timeout=5)
    assert replayed.status_code == 400 and "access_token" not in replayed.text
    # and the tool's key sets are apart: the rogue's signing key is not in the victim's
    victim, rogue_registration = tool.store.platform_named("test"), tool.store.platform_named("rogue")
    victim_kids = {k.kid for k in tool.store.keys_of(victim)}
    assert keys.signing_key(tool.store, rogue_registration).kid not in victim_kids


def test_the_same_issuer_and_client_id_cannot_be_registered_twice(tool, platform):
    with pytest.raises(Exception, match="already registered"):
        tool.register(platform, name="again")


# -- 2. grade service URLs from a launch only on the registration's hosts ---------------------


def test_grade_service_urls_off_the_registrations_hosts_are_never_called(tool, platform, internal, caplog):
    graded_launch(tool, platform, "eve", lineitem_url=internal.url + "/lineitems/1", lineitems_url=internal.url)
    time.sleep(0.5)  # what the outbox would have done by now
    assert internal.accepted == 0
    assert tool.store.deliveries() == []
    assert "not on the registration's hosts" in caplog.text


def test_the_outbox_refuses_a_grade_url_off_the_registrations_hosts(tmp_path, platform, internal):
    """Defence in depth: a delivery that names another host (an older database, say) is failed, not sent."""
    tool = RunningTool(tmp_path / "tool.db", [DECK], deliver=False)
    registered = tool.register(platform)
    try:
        launch_id = tool.store.save_launch(
            platform_id=registered.id, deployment_id="deployment-1", user_id="u", browser="b",
            message_type="LtiResourceLinkRequest", card_id="gradient-descent", claims={},
        )  # fmt: skip
        scopes = ("https://purl.imsglobal.org/spec/lti-ags/scope/score",)
        target = GradeTarget(internal.url + "/lineitems/1", None, "link-1", "gradient-descent", "G", 7, scopes)
        tool.store.record_attempt(tool.store.launch(launch_id), {}, 7, 7, target)
        [(_, outcome)] = Deliverer(tool.store, FAST, LOCAL).run_once()
        assert outcome == FAILED
        [failed] = tool.store.deliveries([FAILED])
        assert "is not on the hosts of the registration" in failed.last_error
        assert internal.accepted == 0
    finally:
        tool.stop()


# -- 5. the outbound guard, as the running tool meets it -------------------------------------


def test_a_registration_cannot_make_the_tool_call_an_internal_service(tmp_path, internal):
    """Without --insecure-local, neither plain http nor a loopback address is ever called."""
    tool = RunningTool(tmp_path / "tool.db", [DECK], insecure_local=False)
    try:
        for url in (internal.url + "/config", f"https://127.0.0.1:{internal.port}/config"):
            browser = Browser()
            invite = tool.store.create_invite(3600)
            confirm = browser.session.get(f"{tool.url}/lti/register/{invite}", params={"openid_configuration": url})
            action, fields = form_of(confirm.text)
            answer = browser.session.post(action, data={k: v[0] for k, v in fields.items()})
            assert 400 <= answer.status_code < 500, answer.text
        assert internal.accepted == 0
        assert tool.store.platforms() == []
    finally:
        tool.stop()


def test_a_dripping_configuration_holds_a_worker_no_longer_than_the_deadline(tmp_path):
    slow = Listener(drip(0.2))
    tool = RunningTool(tmp_path / "tool.db", [DECK], http_timeout=1.0)
    try:
        browser = Browser()
        invite = tool.store.create_invite(3600)
        params = {"openid_configuration": slow.url + "/.well-known/openid-configuration"}
        action, fields = form_of(browser.session.get(f"{tool.url}/lti/register/{invite}", params=params).text)
        started = time.monotonic()
        answer = browser.session.post(action, data={k: v[0] for k, v in fields.items()})
        assert answer.status_code == 502
        assert time.monotonic() - started < 2.5
    finally:
        tool.stop()
        slow.stop()


# -- 6. one slow platform never delays another's launches ------------------------------------


def test_a_slow_key_set_never_delays_another_platforms_first_launch(tmp_path, platform):
    slow_keys = Listener(drip(0.2))
    slow = TestPlatform(client_id="slow-client")
    tool = RunningTool(tmp_path / "tool.db", [DECK], http_timeout=3.0)
    try:
        tool.register(platform)
        registered = tool.register(slow, name="slow", hosts=[f"127.0.0.1:{slow_keys.port}"])
        tool.store._db().execute(
            "UPDATE platforms SET key_set_url = ? WHERE id = ?", (slow_keys.url + "/jwks", registered.id)
        )
        stalled = threading.Thread(target=lambda: Browser().launch(slow, LaunchSpec(tool.card_url("gradient-descent"))))
        stalled.start()
        wait_for(lambda: slow_keys.accepted, what="the slow key set's fetch")
        started = time.monotonic()
        answer = Browser().launch(platform, LaunchSpec(tool.card_url("gradient-descent")))
        assert answer.status_code == 200
        assert time.monotonic() - started < 1.5
        stalled.join(10)
    finally:
        tool.stop()
        slow.stop()
        slow_keys.stop()


# -- 11. deployments as Canvas makes them -------------------------------------------------------


def test_a_new_deployment_is_recorded_on_its_first_valid_launch(tool, platform):
    platform.deployment_id = "course-2-deployment"
    answer = Browser().launch(platform, LaunchSpec(tool.card_url("gradient-descent")))
    assert answer.status_code == 200, answer.text[:300]
    registered = tool.store.platform_named("test")
    assert tool.store.deployments(registered.id) == ["course-2-deployment", "deployment-1"]


def test_a_forged_launch_records_no_deployment(tool, platform):
    from lti.test_security import OTHER_KEY, forge

    answer = forge(tool, platform, key=OTHER_KEY, **{LTI + "deployment_id": "forged-deployment"})
    assert answer.status_code == 400
    assert tool.store.deployments(tool.store.platform_named("test").id) == ["deployment-1"]


def test_listed_deployments_refuse_an_unknown_one(tmp_path, platform):
    tool = RunningTool(tmp_path / "tool.db", [DECK])
    tool.register(platform, deployments_policy="listed")
    try:
        platform.deployment_id = "not-deployed"
        answer = Browser().launch(platform, LaunchSpec(tool.card_url("gradient-descent")))
        assert answer.status_code == 400 and "<strong>deployment_id</strong>" in answer.text
    finally:
        tool.stop()


# -- migration: a registration made before per-registration keys keeps working ----------------


def test_a_database_from_before_per_registration_keys_keeps_working(tmp_path, platform):
    db = tmp_path / "old.db"
    connection = sqlite3.connect(db)
    connection.executescript(MIGRATIONS[0])
    kid, pem, public = keys.generate()
    connection.execute("INSERT INTO keys VALUES (?, ?, ?, ?, NULL)", (kid, pem, json.dumps(public), 1.0))
    connection.execute(
        "INSERT INTO platforms (name, kind, issuer, client_id, auth_login_url, auth_token_url, key_set_url,"
        " auth_audience, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 1.0)",
        ("old", "moodle", platform.issuer, platform.client_id, platform.url("/auth"), platform.url("/token"),
         platform.url("/jwks")),
    )  # fmt: skip
    connection.execute("INSERT INTO deployments VALUES (1, ?)", (platform.deployment_id,))
    connection.commit()
    connection.close()

    tool = RunningTool(db, [DECK])
    try:
        platform.connect(tool.url, tool.url + "/lti/jwks")  # as its LMS was configured before
        assert [k["kid"] for k in requests.get(tool.url + "/lti/jwks", timeout=5).json()["keys"]] == [kid]
        graded_launch(tool, platform, "old-learner")
        wait_for(lambda: platform.scores_for("old-learner"), what="the grade of a registration made before")
        assert platform.scores_for("old-learner")[0].body["scoreGiven"] == 7
        # a registration made now gets its own key, published only at its own URL
        newcomer = TestPlatform(client_id="new-client")
        try:
            added = tool.register(newcomer, name="new")
            assert keys.signing_key(tool.store, added).kid != kid
            assert [k["kid"] for k in requests.get(tool.url + "/lti/jwks", timeout=5).json()["keys"]] == [kid]
        finally:
            newcomer.stop()
    finally:
        tool.stop()
