"""A card's quiz rules in the tool: attempts per launch, and when a learner sees how each question went.

A learner who may submit without end, and sees each question's verdict every
time, can find every answer by trying them in turn; ``max_attempts`` and
``show_results`` let an instructor close that path.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from conftest import raw_card, raw_deck, raw_question

from lms_export.lti.store import DELIVERED, FAILED, PENDING
from lti.conftest import RunningTool, wait_for
from lti.platform import Browser, LaunchSpec, TestPlatform, form_of

RIGHT_FEEDBACK = "Yes: descent goes against the gradient."
GENERAL_FEEDBACK = "The gradient points uphill."
WRONG_FEEDBACK = "Think about the sign of the step."
#: q1 right (its first choice), q2 wrong: one verdict of each kind, with its feedback.
HALF_RIGHT = {"q1": "0", "q2": "false"}


def quiz_card(card_id: str = "quiz", **rules) -> dict:
    """A card of two questions worth a point each, with feedback on either verdict."""
    return raw_card(
        card_id,
        [
            raw_question(
                "single_choice", id="direction", feedback={"correct": RIGHT_FEEDBACK, "general": GENERAL_FEEDBACK}
            ),
            raw_question("true_false", id="sign", feedback={"incorrect": WRONG_FEEDBACK}),
        ],
        **rules,
    )


@pytest.fixture
def serve(tmp_path: Path, platform: TestPlatform) -> Iterator[Callable[..., RunningTool]]:
    """Start the tool on a deck made of ``cards`` and the deck's ``rules``, registered with the platform."""
    started: list[RunningTool] = []

    def start(*cards: dict, **rules) -> RunningTool:
        deck = tmp_path / "deck.json"
        deck.write_text(json.dumps(raw_deck(*cards, **rules)))
        running = RunningTool(tmp_path / "tool.db", [deck])
        running.register(platform)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def graded_launch(tool: RunningTool, platform: TestPlatform, user_id: str, card_id: str = "quiz") -> LaunchSpec:
    item = platform.add_line_item({"label": card_id, "scoreMaximum": 2, "resourceId": card_id})
    ags = {"lineitems_url": platform.url("/lineitems"), "lineitem_url": item["id"]}
    return LaunchSpec(tool.card_url(card_id), user_id=user_id, ags=ags)


def test_a_learner_gets_max_attempts_scored_tries_and_the_next_is_refused(serve, platform):
    tool = serve(quiz_card(), max_attempts=2)
    browser = Browser()
    page = browser.launch(platform, graded_launch(tool, platform, "ada"))
    submit_url, quiz_fields = form_of(page.text)
    first = browser.submit(page, {"q1": "1"})
    assert first.status_code == 200 and "You have 1 attempt left." in first.text
    view_url, view_fields = form_of(first.text)  # "Try again"
    again = browser.session.post(view_url, data=view_fields)
    assert again.status_code == 200 and 'name="q1"' in again.text
    second = browser.submit(again, HALF_RIGHT)
    assert second.status_code == 200 and "Your score: 1 / 2 pts." in second.text
    assert "You have used all your attempts." in second.text and "Try again" not in second.text
    third = browser.session.post(submit_url, data={"launch": quiz_fields["launch"], "q1": "0", "q2": "true"})
    assert third.status_code == 403 and "you have used the 2 attempts this quiz allows" in third.text
    refused_view = browser.session.post(view_url, data=view_fields)
    assert refused_view.status_code == 403 and 'name="q1"' not in refused_view.text
    assert [a["score"] for a in tool.store.attempts("ada")] == [0, 1]
    wait_for(lambda: len(tool.store.deliveries([DELIVERED])) == 2, what="both grades delivered")
    assert len(tool.store.deliveries([DELIVERED, PENDING, FAILED])) == 2  # none queued for the refused try
    assert [r.body["scoreGiven"] for r in platform.scores_for("ada")] == [0, 1]


def test_launching_again_gives_no_fresh_attempts(serve, platform):
    """The limit is the learner's at the card, whatever launch: opening the card again is no way around it."""
    tool = serve(quiz_card(max_attempts=1))
    browser = Browser()
    spec = graded_launch(tool, platform, "brute")
    assert browser.submit(browser.launch(platform, spec), {"q1": "0"}).status_code == 200
    relaunched = browser.launch(platform, spec)
    assert relaunched.status_code == 200
    refused = browser.submit(relaunched, {"q1": "1"})
    assert refused.status_code == 403 and "you have used the 1 attempt this quiz allows" in refused.text
    assert len(tool.store.attempts("brute")) == 1


def test_parallel_submissions_cannot_pass_the_limit_together(serve, platform):
    tool = serve(quiz_card(max_attempts=1))
    browser = Browser()
    page = browser.launch(platform, graded_launch(tool, platform, "racer"))
    submit_url, fields = form_of(page.text)
    start = threading.Barrier(8)
    statuses: list[int] = []

    def submit() -> None:
        session = requests.Session()  # one per thread: the learner's cookies, in eight tabs at once
        session.cookies.update(browser.session.cookies)
        start.wait()
        statuses.append(
            session.post(submit_url, data={"launch": fields["launch"], **HALF_RIGHT}, timeout=30).status_code
        )

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [403] * 7
    assert len(tool.store.attempts("racer")) == 1
    assert len(tool.store.deliveries([DELIVERED, PENDING, FAILED])) == 1


@pytest.mark.parametrize("shown", ["always", "never"])
def test_show_results_never_shows_the_score_without_verdicts_or_feedback(serve, platform, shown):
    tool = serve(quiz_card(show_results=shown))
    browser = Browser()
    result = browser.submit(browser.launch(platform, LaunchSpec(tool.card_url("quiz"))), HALF_RIGHT)
    assert result.status_code == 200 and "Your score: 1 / 2 pts." in result.text
    per_question = [RIGHT_FEEDBACK, GENERAL_FEEDBACK, WRONG_FEEDBACK, "Correct", "Not quite", "1 / 1 pts."]
    if shown == "always":
        assert all(text in result.text for text in per_question)
    else:
        assert [text for text in per_question if text in result.text] == []
        assert "This quiz does not show each question's result." in result.text
    assert "Try again" in result.text  # no limit set: as many tries as the learner likes


def test_after_due_hides_results_until_the_due_date_then_shows_them(serve, platform):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    tomorrow, an_hour_ago = now + timedelta(days=1), now - timedelta(hours=1)
    tool = serve(
        quiz_card("not-yet", due=tomorrow.isoformat()),
        quiz_card("past-due"),
        show_results="after_due",
        due=an_hour_ago.isoformat(),
    )
    browser = Browser()
    hidden = browser.submit(browser.launch(platform, LaunchSpec(tool.card_url("not-yet"))), HALF_RIGHT)
    assert "Your score: 1 / 2 pts." in hidden.text
    assert RIGHT_FEEDBACK not in hidden.text and WRONG_FEEDBACK not in hidden.text and "Not quite" not in hidden.text
    assert f"shown for answers submitted after {tomorrow:%Y-%m-%d %H:%M} UTC" in hidden.text
    shown = browser.submit(browser.launch(platform, LaunchSpec(tool.card_url("past-due"))), HALF_RIGHT)
    assert "Your score: 1 / 2 pts." in shown.text
    assert RIGHT_FEEDBACK in shown.text and WRONG_FEEDBACK in shown.text and "Not quite" in shown.text
    assert "submitted after" not in shown.text
