"""The tool killed with ``kill -9`` under gunicorn (two workers) and started again: no grade lost or doubled."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lms_export.lti.config import ToolSettings
from lms_export.lti.store import DELIVERED, PENDING, SUPERSEDED, Store
from lti.conftest import DECK, wait_for
from lti.platform import Browser, LaunchSpec, TestPlatform
from lti.test_end_to_end import RIGHT_GRADIENT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX only")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """``lms-export serve`` in its own process group, so one signal reaches the master and its workers."""

    def __init__(self, db: Path, port: int, log: Path):
        self.db, self.port, self.log = db, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [sys.executable, "-c", "from lms_export.cli import main; main()", "serve"]
        command += ["--deck", str(DECK), "--db", str(self.db), "--port", str(self.port), "--workers", "2"]
        command += ["--insecure-local"]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/lti/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError(f"the tool did not start:\n{self.log.read_text()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, sig)
        self.process.wait(15)
        self.process = None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Gunicorn, TestPlatform]]:
    platform = TestPlatform()
    tool = Gunicorn(tmp_path / "tool.db", free_port(), tmp_path / "gunicorn.log")
    platform.register_with(Store(tool.db), ToolSettings(tool.url), name="moodle")
    yield tool, platform
    if tool.process is not None:
        tool.kill(signal.SIGTERM)
    platform.stop()


def submit(tool: Gunicorn, platform: TestPlatform, user: str) -> None:
    item = platform.line_items.get(platform.url("/lineitems/1")) or platform.add_line_item(
        {"label": "Gradient descent", "scoreMaximum": 7, "resourceId": "gradient-descent"}
    )
    spec = LaunchSpec(
        tool.url + "/lti/card/gradient-descent",
        user_id=user,
        ags={"lineitems_url": platform.url("/lineitems"), "lineitem_url": item["id"]},
    )
    browser = Browser()
    answer = browser.submit(browser.launch(platform, spec), RIGHT_GRADIENT)
    assert answer.status_code == 200 and "Submitted" in answer.text


def statuses(db: Path) -> list[str]:
    store = Store(db)
    try:
        return [row["status"] for row in store._read("SELECT status FROM outbox ORDER BY id")]
    finally:
        store.close()


def test_a_grade_in_flight_when_the_tool_is_killed_arrives_exactly_once(served):
    tool, platform = served
    tool.start()
    platform.faults.append("stall")
    submit(tool, platform, "inflight")
    assert platform.stalled.wait(15), "the score post never reached the platform"
    tool.kill()  # mid-delivery: the platform holds the post, the tool never hears back
    platform.release.set()
    wait_for(lambda: platform.scores_for("inflight"), what="the platform to keep the stalled score")
    assert statuses(tool.db) == [PENDING]
    tool.start()
    wait_for(lambda: statuses(tool.db) != [PENDING], timeout=30, what="the restarted tool to settle the grade")
    assert statuses(tool.db) == [SUPERSEDED]  # sent again, and the platform said it already had it
    assert len(platform.score_posts) == 2
    [received] = platform.scores_for("inflight")
    assert received.body["scoreGiven"] == 7


def test_grades_waiting_when_the_tool_is_killed_are_delivered_after_restart(served):
    tool, platform = served
    tool.start()
    platform.faults.extend([503, 503])
    submit(tool, platform, "first")
    submit(tool, platform, "second")
    wait_for(lambda: len(platform.score_posts) == 2, what="both first tries refused")
    tool.kill()
    assert statuses(tool.db) == [PENDING, PENDING]
    tool.start()
    wait_for(lambda: statuses(tool.db) == [DELIVERED, DELIVERED], timeout=40, what="both grades delivered")
    assert sorted(r.body["userId"] for r in platform.received) == ["first", "second"]
    assert len(platform.score_posts) == 4
