"""Fault tests: the score endpoint fails, times out or is refused; every grade arrives exactly once."""

from __future__ import annotations

import os
import threading

import pytest
import requests
from click.testing import CliRunner

from lms_export.cli import main
from lms_export.lti.outbound import Outbound, OutboundPolicy
from lms_export.lti.outbox import Deliverer, DeliverySettings, backoff
from lms_export.lti.store import DELIVERED, FAILED, PENDING, SUPERSEDED
from lti.conftest import DECK, FAST, LOCAL, RunningTool, wait_for
from lti.platform import Browser, LaunchSpec, TestPlatform
from lti.test_end_to_end import RIGHT_GRADIENT, graded_spec


def submit(tool: RunningTool, platform: TestPlatform, user: str, spec: LaunchSpec | None = None) -> None:
    spec = spec or graded_spec(tool, platform)
    spec.user_id = user
    browser = Browser()
    answer = browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
    assert answer.status_code == 200 and "Submitted" in answer.text


def status(tool: RunningTool) -> list[str]:
    return [row["status"] for row in tool.store._read("SELECT status FROM outbox ORDER BY id")]


def test_5xx_answers_are_retried_until_the_platform_is_back(tool, platform):
    platform.faults.extend([500, 503, 502, 500])
    submit(tool, platform, "ada")
    wait_for(lambda: status(tool) == [DELIVERED], what="the delivery")
    assert len(platform.scores_for("ada")) == 1
    assert len(platform.score_posts) == 5
    [row] = tool.store._read("SELECT tries, last_error FROM outbox")
    assert row["tries"] == 5 and row["last_error"] is None


def test_429_is_retried_after_the_platforms_delay(tool, platform):
    platform.faults.append(429)
    submit(tool, platform, "bob")
    wait_for(lambda: status(tool) == [DELIVERED])
    assert len(platform.scores_for("bob")) == 1 and len(platform.score_posts) == 2


def test_a_timed_out_post_that_the_platform_kept_is_not_stored_twice(tool, platform):
    platform.hang_seconds = FAST.timeout + 0.5
    platform.faults.append("hang")
    submit(tool, platform, "cy")
    wait_for(lambda: status(tool)[0] in (DELIVERED, SUPERSEDED), what="the delivery settled")
    wait_for(lambda: len(platform.score_posts) == 2 and platform.scores_for("cy"), what="the hung post done")
    threading.Event().wait(FAST.timeout)  # the hung request finishes recording, or refusing, now
    assert len(platform.scores_for("cy")) == 1
    assert platform.scores_for("cy")[0].body["scoreGiven"] == 7


def test_other_4xx_fail_with_the_platforms_message_until_retried(tool, platform):
    platform.faults.append(403)
    submit(tool, platform, "dee")
    wait_for(lambda: status(tool) == [FAILED])
    [failed] = tool.store.deliveries([FAILED])
    assert failed.last_error == "score: 403 Forbidden"  # the platform's own words go to the log only
    assert platform.received == []
    runner = CliRunner()
    listed = runner.invoke(main, ["lti", "--db", str(tool.store.path), "grades"])
    assert listed.exit_code == 0
    assert "failed" in listed.output and "user dee card gradient-descent 7/7" in listed.output
    assert "score: 403 Forbidden" in listed.output and "injected" not in listed.output
    retried = runner.invoke(main, ["lti", "--db", str(tool.store.path), "grades", "--retry", "--insecure-local"])
    assert retried.exit_code == 0, retried.output
    wait_for(lambda: status(tool) == [DELIVERED])
    assert len(platform.scores_for("dee")) == 1


class FlakyNetwork(Outbound):
    """A network that drops the first ``failures`` requests."""

    def __init__(self, failures: int):
        super().__init__(OutboundPolicy(FAST.timeout, insecure_local=True))
        self.failures = failures

    def request(self, method, url, *args, **kwargs):
        if self.failures > 0:
            self.failures -= 1
            raise requests.ConnectionError(f"connection to {url} refused")
        return super().request(method, url, *args, **kwargs)


def test_network_errors_are_retried_with_backoff(tmp_path, platform):
    tool = RunningTool(tmp_path / "tool.db", [DECK], deliver=False)
    tool.register(platform)
    try:
        submit(tool, platform, "eve")
        deliverer = Deliverer(tool.store, FAST, FlakyNetwork(2))
        assert [outcome for _, outcome in deliverer.run_once()] == ["retry"]
        [row] = tool.store.deliveries([PENDING])
        assert row.last_error.startswith("token: connection to") and row.tries == 1
        assert row.next_try_at > row.created_at
        wait_for(lambda: [o for _, o in deliverer.run_once()] == ["retry"])
        wait_for(lambda: [o for _, o in deliverer.run_once()] == [DELIVERED])
        assert len(platform.scores_for("eve")) == 1
    finally:
        tool.stop()


def test_concurrent_workers_deliver_each_grade_once(tmp_path, platform):
    tool = RunningTool(tmp_path / "tool.db", [DECK], deliver=False)
    tool.register(platform)
    try:
        spec = graded_spec(tool, platform)
        users = [f"learner-{n}" for n in range(12)]
        for user in users:
            submit(tool, platform, user, spec)
        platform.faults.extend([500, 429, 503])

        def work() -> None:
            deliverer = Deliverer(tool.store, FAST, LOCAL)
            while tool.store.deliveries([PENDING]):
                deliverer.run_once(limit=3)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(r.body["userId"] for r in platform.received) == sorted(users)
        assert len(platform.score_posts) == len(users) + 3
        assert set(status(tool)) == {DELIVERED}
    finally:
        tool.stop()


def test_backoff_doubles_up_to_the_cap_and_honours_retry_after():
    settings = DeliverySettings(backoff=2, backoff_cap=60)
    assert 1.6 <= backoff(0, settings) <= 2.4
    assert 6.4 <= backoff(2, settings) <= 9.6
    assert 48 <= backoff(10, settings) <= 72
    assert backoff(0, settings, asked=30) == 30
    assert backoff(0, settings, asked=3600) == 60


def test_leases_of_dead_processes_are_released_and_live_ones_kept(tool, platform):
    submit(tool, platform, "fay")
    tool.tool.worker.stop()
    tool.tool.worker = None
    host = Deliverer(tool.store).owner.rpartition(":")[0]
    tool.store._db().execute(
        "UPDATE outbox SET status = ?, lease_owner = ?, lease_until = 1e12", (PENDING, f"{host}:{os.getppid()}")
    )
    assert Deliverer(tool.store).release_dead_leases() == 0
    assert Deliverer(tool.store).run_once() == []
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    tool.store._db().execute("UPDATE outbox SET lease_owner = ?", (f"{host}:{dead}",))
    assert Deliverer(tool.store).release_dead_leases() == 1
    assert tool.store._read("SELECT lease_owner FROM outbox")[0][0] is None


@pytest.mark.parametrize("fault", [500, 429, "hang"])
def test_every_grade_arrives_exactly_once_through_faults(tool, platform, fault):
    platform.hang_seconds = FAST.timeout + 0.3
    spec = graded_spec(tool, platform)
    for n in range(4):
        platform.faults.append(fault)
        submit(tool, platform, f"p{n}", spec)
    wait_for(lambda: all(s in (DELIVERED, SUPERSEDED) for s in status(tool)) and len(status(tool)) == 4)
    wait_for(lambda: len(platform.received) == 4)
    threading.Event().wait(FAST.timeout)
    assert sorted(r.body["userId"] for r in platform.received) == ["p0", "p1", "p2", "p3"]
