"""Launch, answer, grade, deliver: the tool against the lti1p3platform-based platform.

Every test asserts on what the platform received (the score's values, the
line item it created, the content items of a deep linking response), not
only on status codes.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime

import jwt
import lxml.html

from lms_export.lti.store import DELIVERED, FAILED
from lti.conftest import DECK, RunningTool, wait_for
from lti.platform import INSTRUCTOR, Browser, LaunchSpec, TestPlatform, form_of

RIGHT_GRADIENT = {"q1": "0", "q2": ["0", "1"], "q3": "true", "q4": " Learning Rate ", "q5": "0,8", "q6": "0.1"}


def with_line_item(platform: TestPlatform, card_id: str = "gradient-descent", maximum: float = 7) -> str:
    item = platform.add_line_item({"label": card_id, "scoreMaximum": maximum, "resourceId": card_id})
    return item["id"]


def graded_spec(tool: RunningTool, platform: TestPlatform, card_id: str = "gradient-descent", **fields) -> LaunchSpec:
    ags = {"lineitems_url": platform.url("/lineitems"), "lineitem_url": with_line_item(platform, card_id)}
    return LaunchSpec(tool.card_url(card_id), ags=ags, **fields)


def places(page_html: str) -> dict[str, dict[str, str]]:
    """For each control of the page, the text of each option and the value the form sends for it."""
    document = lxml.html.fromstring(page_html)
    found: dict[str, dict[str, str]] = {}
    for select in document.iter("select"):
        found[select.get("name")] = {o.text_content(): o.get("value") for o in select.iter("option") if o.get("value")}
    for li in document.xpath("//ol[@class='order']/li"):
        hidden = li.xpath("./input[@type='hidden']")[0]
        found.setdefault(hidden.get("name"), {})[li.xpath("./span[@class='item']")[0].text_content()] = hidden.get(
            "value"
        )
    return found


def test_a_learner_launches_answers_and_the_platform_gets_the_score(tool, platform):
    spec = graded_spec(tool, platform, user_id="ada")
    browser = Browser()
    page = browser.launch(platform, spec)
    assert page.status_code == 200
    document = lxml.html.fromstring(page.text)
    assert document.get_element_by_id("lms-export-key", None) is None  # the page carries no answer key
    quiz = json.loads(document.get_element_by_id("lms-export-quiz").text)
    assert {name for q in quiz["questions"] for name in q} <= {"id", "type", "points", "shuffle"}
    wrong = {**RIGHT_GRADIENT, "q1": "1", "q4": "step"}  # 2 + 1 points lost
    result = browser.submit(page, wrong)
    assert result.status_code == 200
    assert "Your score: 4 / 7 pts." in result.text
    wait_for(lambda: platform.scores_for("ada"), what="the score at the platform")
    [received] = platform.scores_for("ada")
    assert received.line_item == spec.ags["lineitem_url"]
    body = received.body
    assert body["userId"] == "ada"
    assert body["scoreGiven"] == 4 and body["scoreMaximum"] == 7
    assert body["activityProgress"] == "Completed" and body["gradingProgress"] == "FullyGraded"
    assert abs(datetime.fromisoformat(body["timestamp"]).timestamp() - datetime.now().timestamp()) < 60
    assert "https://canvas.instructure.com/lti/submission" not in body
    [attempt] = tool.store.attempts("ada")
    assert (attempt["score"], attempt["maximum"], attempt["card_id"]) == (4, 7, "gradient-descent")
    wait_for(lambda: tool.store.deliveries([DELIVERED]), what="the delivery recorded")


def test_the_score_is_the_servers_whatever_the_browser_says(tool, platform):
    spec = graded_spec(tool, platform, user_id="eve")
    browser = Browser()
    page = browser.launch(platform, spec)
    browser.submit(page, {"q1": "1", "score": "7", "scoreGiven": "7", "q2": ["0", "1", "2"], "q3": "maybe"})
    wait_for(lambda: platform.scores_for("eve"))
    assert platform.scores_for("eve")[0].body["scoreGiven"] == 0


def test_matching_and_ordering_are_read_by_their_places_on_the_page(tool, platform):
    spec = graded_spec(tool, platform, "latent-spaces", user_id="grace")
    browser = Browser()
    page = browser.launch(platform, spec)
    controls = places(page.text)
    matching = {
        "q1-left0": controls["q1-left0"]["encoder + decoder"],
        "q1-left1": controls["q1-left1"]["generator + discriminator"],
        "q1-left2": controls["q1-left2"]["a single linear layer"],  # the distractor: one pair wrong
    }
    steps = ["Sample noise in the latent space", "Denoise step by step", "Decode the latent to pixels"]
    ordering = [controls["q2"][step] for step in steps]
    result = browser.submit(page, {**matching, "q2": ordering})
    assert "Your score: 3 / 4 pts." in result.text  # 2 of 3 pairs (2 points) + the order (1); the essay is not scored
    wait_for(lambda: platform.scores_for("grace"))
    body = platform.scores_for("grace")[0].body
    assert (body["scoreGiven"], body["scoreMaximum"]) == (3, 4)


def test_the_line_item_is_created_when_the_launch_gives_only_the_container(tool, platform):
    spec = LaunchSpec(
        tool.card_url("gradient-descent"), user_id="u1", ags={"lineitems_url": platform.url("/lineitems")}
    )
    for user in ("u1", "u2"):
        browser = Browser()
        spec.user_id = user
        browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
    wait_for(lambda: len(platform.received) == 2, what="both scores")
    [item] = platform.line_items.values()
    assert item == {
        "id": platform.url("/lineitems/1"),
        "label": "Gradient descent",
        "scoreMaximum": 7,
        "resourceId": "gradient-descent",
        "resourceLinkId": "link-1",
    }
    assert {r.line_item for r in platform.received} == {item["id"]}


def test_an_existing_line_item_is_found_not_created_again(tool, platform):
    existing = platform.add_line_item(
        {"label": "Old", "scoreMaximum": 7, "resourceId": "gradient-descent", "resourceLinkId": "link-1"}
    )
    platform.add_line_item(
        {"label": "Other", "scoreMaximum": 4, "resourceId": "latent-spaces", "resourceLinkId": "link-1"}
    )
    spec = LaunchSpec(tool.card_url("gradient-descent"), ags={"lineitems_url": platform.url("/lineitems")})
    browser = Browser()
    browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
    wait_for(lambda: platform.received)
    assert platform.received[0].line_item == existing["id"]
    assert len(platform.line_items) == 2


def test_without_the_scope_to_create_a_line_item_the_grade_fails_with_a_reason(tool, platform):
    ags = {"lineitems_url": platform.url("/lineitems"), "allow_creating_lineitems": False}
    browser = Browser()
    browser.submit(browser.launch(platform, LaunchSpec(tool.card_url("gradient-descent"), ags=ags)), RIGHT_GRADIENT)
    wait_for(lambda: tool.store.deliveries([FAILED]), what="the failed delivery")
    [failed] = tool.store.deliveries([FAILED])
    assert "did not grant the scope to create one" in failed.last_error
    assert platform.received == [] and platform.line_items == {}


def test_only_the_granted_scopes_are_requested(tool, platform):
    spec = graded_spec(tool, platform)
    spec.ags["allow_creating_lineitems"] = False
    browser = Browser()
    browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
    wait_for(lambda: platform.received)
    [request] = platform.token_requests
    assert sorted(request["scope"].split()) == [
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    ]
    assertion = jwt.decode(request["client_assertion"], options={"verify_signature": False})
    assert assertion["iss"] == assertion["sub"] == platform.client_id
    assert assertion["aud"] == platform.url("/token")


def test_a_link_without_a_score_scope_records_the_attempt_and_sends_nothing(tool, platform):
    spec = LaunchSpec(tool.card_url("gradient-descent"))  # no AGS claim at all
    browser = Browser()
    result = browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
    assert "does not record grades" in result.text
    assert len(tool.store.attempts()) == 1
    assert tool.store.deliveries([DELIVERED, FAILED, "pending"]) == []


def test_the_access_token_is_reused_until_it_expires(tool, platform):
    spec = graded_spec(tool, platform)
    for user in ("a", "b", "c"):
        spec.user_id = user
        browser = Browser()
        browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
        wait_for(lambda user=user: platform.scores_for(user))
    assert len(platform.token_requests) == 1


def test_scores_of_one_learner_are_a_second_apart_and_the_last_one_wins(tool, platform):
    spec = graded_spec(tool, platform, user_id="quick")
    browser = Browser()
    page = browser.launch(platform, spec)
    browser.submit(page, {"q1": "1"})
    browser.submit(page, RIGHT_GRADIENT)
    browser.submit(page, {**RIGHT_GRADIENT, "q1": "2"})
    wait_for(lambda: len(platform.scores_for("quick")) == 3, what="three scores")
    stamps = [datetime.fromisoformat(r.body["timestamp"]).timestamp() for r in platform.scores_for("quick")]
    assert all(later - earlier >= 1 for earlier, later in itertools.pairwise(stamps))
    assert [r.body["scoreGiven"] for r in platform.scores_for("quick")] == [0, 7, 5]
    assert len(platform.score_posts) == 3  # none refused with 409


def test_canvas_gets_its_submission_extension(tmp_path):
    canvas = TestPlatform(product="canvas")
    tool = RunningTool(tmp_path / "tool.db", [DECK])
    tool.register(canvas)
    try:
        spec = graded_spec(tool, canvas, user_id="c1")
        browser = Browser()
        browser.submit(browser.launch(canvas, spec), RIGHT_GRADIENT)
        wait_for(lambda: canvas.received)
        body = canvas.received[0].body
        extension = body["https://canvas.instructure.com/lti/submission"]
        assert extension == {
            "new_submission": True,
            "submission_type": "basic_lti_launch",
            "submission_data": tool.card_url("gradient-descent"),
            "submitted_at": body["timestamp"],
        }
    finally:
        tool.stop()
        canvas.stop()


# -- deep linking ------------------------------------------------------------------


def test_deep_linking_places_one_graded_link_per_picked_card(tool, platform):
    instructor = Browser()
    spec = LaunchSpec(tool.url + "/lti/launch", user_id="teacher", roles=[INSTRUCTOR], deep_linking=True)
    picker = instructor.launch(platform, spec)
    assert picker.status_code == 200
    assert 'value="gradient-descent"' in picker.text and 'value="latent-spaces"' in picker.text
    action, fields = form_of(picker.text)
    answer = instructor.session.post(action, data={**fields, "card": ["gradient-descent", "latent-spaces"]})
    assert answer.status_code == 200
    return_url, response_fields = form_of(answer.text)
    assert return_url == platform.url("/deep_link_return")
    delivered = instructor.session.post(return_url, data={k: v[0] for k, v in response_fields.items()})
    assert delivered.status_code == 200, delivered.text
    [items] = platform.deep_link_responses
    assert items == [
        {
            "type": "ltiResourceLink",
            "title": "Gradient descent",
            "url": tool.card_url("gradient-descent"),
            "custom": {},
            "lineItem": {"scoreMaximum": 7, "label": "Gradient descent", "resourceId": "gradient-descent"},
        },
        {
            "type": "ltiResourceLink",
            "title": "Latent spaces",
            "url": tool.card_url("latent-spaces"),
            "custom": {},
            "lineItem": {"scoreMaximum": 4, "label": "Latent spaces", "resourceId": "latent-spaces"},
        },
    ]
    response = jwt.decode(response_fields["JWT"][0], options={"verify_signature": False})
    assert response["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == {"opaque": "kept by the tool"}
    assert response["aud"] == [platform.issuer] and response["iss"] == platform.client_id
    again = instructor.session.post(action, data={**fields, "card": ["gradient-descent"]})
    assert again.status_code == 409


def test_a_link_placed_by_deep_linking_grades_into_its_line_item(tool, platform):
    instructor = Browser()
    picker = instructor.launch(
        platform, LaunchSpec(tool.url + "/lti/launch", roles=[INSTRUCTOR], deep_linking=True, user_id="t")
    )
    action, fields = form_of(picker.text)
    return_url, response_fields = form_of(
        instructor.session.post(action, data={**fields, "card": "latent-spaces"}).text
    )
    instructor.session.post(return_url, data={k: v[0] for k, v in response_fields.items()})
    [item] = platform.line_items.values()
    spec = LaunchSpec(
        tool.card_url("latent-spaces"),
        user_id="learner",
        ags={"lineitems_url": platform.url("/lineitems"), "lineitem_url": item["id"]},
    )
    learner = Browser()
    learner.submit(learner.launch(platform, spec), {})
    wait_for(lambda: platform.received)
    assert platform.received[0].line_item == item["id"]
    assert platform.received[0].body["scoreMaximum"] == item["scoreMaximum"] == 4


def test_the_picker_refuses_an_empty_or_unknown_choice(tool, platform):
    instructor = Browser()
    picker = instructor.launch(
        platform, LaunchSpec(tool.url + "/lti/launch", roles=[INSTRUCTOR], deep_linking=True, user_id="t")
    )
    action, fields = form_of(picker.text)
    assert instructor.session.post(action, data=fields).status_code == 400
    assert instructor.session.post(action, data={**fields, "card": "no-such-card"}).status_code == 400
    assert platform.deep_link_responses == []


# -- instructors see failed grades -----------------------------------------------------


def test_an_instructor_sees_refused_grades_and_never_the_platforms_words(tool, platform):
    spec = graded_spec(tool, platform, user_id="late")
    platform.faults.append(400)
    learner = Browser()
    learner.submit(learner.launch(platform, spec), RIGHT_GRADIENT)
    wait_for(lambda: tool.store.deliveries([FAILED]))
    teacher = Browser()
    spec.user_id, spec.roles = "teacher", [INSTRUCTOR]
    view = teacher.launch(platform, spec)
    assert view.status_code == 200
    assert "late" in view.text and "score: 400 Bad Request" in view.text
    assert "injected" not in view.text  # a remote answer's body is only logged: never echoed into a page
    action, fields = form_of(view.text)
    retried = teacher.session.post(action, data={k: v[0] for k, v in fields.items()})
    assert retried.status_code == 200
    wait_for(lambda: platform.scores_for("late"), what="the grade sent again")
    assert platform.scores_for("late")[0].body["scoreGiven"] == 7


def test_the_card_pages_stylesheet_script_and_images_are_served(tool, platform):
    browser = Browser()
    page = lxml.html.fromstring(browser.launch(platform, LaunchSpec(tool.card_url("gradient-descent"))).text)
    urls = page.xpath("//link[@rel='stylesheet']/@href | //script/@src | //img/@src")
    assert len(urls) == 3 and all(url.startswith(tool.url + "/lti/") for url in urls)
    for url in urls:
        assert browser.session.get(url).status_code == 200, url
    assert browser.session.get(tool.url + "/lti/media/media/nothing.png").status_code == 404


def test_try_again_shows_the_card_to_the_same_browser_only(tool, platform):
    browser = Browser()
    result = browser.submit(browser.launch(platform, LaunchSpec(tool.card_url("gradient-descent"))), {"q1": "1"})
    action, fields = form_of(result.text)
    assert action == tool.url + "/lti/view"
    again = browser.session.post(action, data={k: v[0] for k, v in fields.items()})
    assert again.status_code == 200 and 'name="q1"' in again.text
    assert Browser().session.post(action, data={k: v[0] for k, v in fields.items()}).status_code == 403


def test_the_tools_jwks_config_and_card_urls(tool):
    session = Browser().session
    [registered] = tool.store.platforms()
    jwks = session.get(tool.settings.jwks_url(registered.key_set_id))
    [key] = jwks.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and "d" not in key
    assert jwks.headers["Cache-Control"] == "max-age=300"
    assert session.get(tool.url + "/lti/jwks").json() == {"keys": []}  # no registration from before 1.0 here
    assert session.get(tool.url + "/lti/jwks/made-up").status_code == 404
    config = session.get(tool.url + f"/lti/config/canvas/{registered.key_set_id}.json").json()
    assert config["public_jwk_url"] == tool.settings.jwks_url(registered.key_set_id)
    assert session.get(tool.url + "/lti/config/canvas/made-up.json").status_code == 404
    opened = session.get(tool.card_url("gradient-descent"))
    assert opened.status_code == 400 and "opens from a course in the LMS" in opened.text
