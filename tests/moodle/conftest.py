"""A real Moodle 4.5 for the integration tests: started once per run through ``../shared/moodle/start-moodle``.

The tests drive Moodle as a teacher and a learner would: its own PHP
importers through ``moodle-php`` (the scripts in ``php/`` print JSON), its
REST API with the admin token, and its pages in Debian's Chromium through
Playwright (never a downloaded browser). Every test makes its own course or
category, so one Moodle serves the whole run, and the run after it.

Where ``../shared/moodle`` (or ``LMS_EXPORT_MOODLE``) is absent the tests skip
and say so; where it is present, a Moodle that does not start is an error.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import ROOT

MOODLE_SHARED = Path(os.environ.get("LMS_EXPORT_MOODLE", ROOT.parent / "shared" / "moodle"))
PHP = Path(__file__).resolve().parent / "php"
CHROMIUM = Path(os.environ.get("LMS_EXPORT_CHROMIUM", "/usr/bin/chromium"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.fspath).resolve().parents:
            item.add_marker(pytest.mark.moodle)


def parse_env(text: str) -> dict[str, str]:
    """The ``KEY='value'`` lines start-moodle prints (its moodle.env)."""
    env = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.isidentifier():
            env[name] = shlex.split(value)[0] if value else ""
    return env


@dataclass(frozen=True)
class Moodle:
    """The running Moodle: its settings (moodle.env), and ways to reach it."""

    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.env["MOODLE_URL"]

    @property
    def course_id(self) -> int:
        return int(self.env["MOODLE_COURSE_ID"])

    def php(self, script: str | Path, *args: str | Path) -> Any:
        """Run a PHP script inside Moodle (``php/NAME.php`` or a path); the JSON it prints."""
        path = Path(script) if Path(script).is_absolute() else PHP / script
        done = subprocess.run(
            [str(MOODLE_SHARED / "moodle-php"), str(path), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, **self.env},
        )
        if done.returncode != 0:
            raise AssertionError(
                f"{path.name} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        return json.loads(done.stdout) if done.stdout.strip() else None

    def rest(self, function: str, **params: Any) -> Any:
        """A web-service call with the admin token (REST, JSON)."""
        data = {"wstoken": self.env["MOODLE_TOKEN"], "wsfunction": function, "moodlewsrestformat": "json"}
        data.update(_flatten(params))
        answer = requests.post(self.env["MOODLE_REST_URL"], data=data, timeout=120).json()
        if isinstance(answer, dict) and answer.get("exception"):
            raise AssertionError(f"{function}: {answer.get('message')} ({answer.get('debuginfo', '')})")
        return answer

    def shared_file(self, source: Path) -> Path:
        """A copy of ``source`` that www-data (Moodle's user) can read, under Moodle's own tmp folder."""
        folder = Path(self.env["MOODLE_WORK"]) / "tmp" / f"lmsx-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True)
        target = folder / source.name
        target.write_bytes(source.read_bytes())
        os.chmod(folder, 0o755)
        os.chmod(target, 0o644)
        return target


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Moodle's REST form encoding: ``courses[0][fullname]=...``."""
    flat: dict[str, Any] = {}
    for name, value in params.items():
        key = f"{prefix}[{name}]" if prefix else str(name)
        if isinstance(value, dict):
            flat.update(_flatten(value, key))
        elif isinstance(value, list):
            flat.update(_flatten(dict(enumerate(value)), key))
        else:
            flat[key] = value
    return flat


@pytest.fixture(scope="session")
def moodle() -> Moodle:
    start = MOODLE_SHARED / "start-moodle"
    if not start.is_file():
        pytest.skip(f"no Moodle to test against: {start} is absent (set LMS_EXPORT_MOODLE)")
    done = subprocess.run([str(start)], capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise AssertionError(f"start-moodle failed:\n{done.stderr[-4000:]}")
    return Moodle(parse_env(done.stdout))


@pytest.fixture
def course(moodle: Moodle) -> Iterator[int]:
    """A fresh course of this test's own, with teacher1 and student1 enrolled; deleted afterwards."""
    name = f"lmsx-{uuid.uuid4().hex[:10]}"
    [created] = moodle.rest(
        "core_course_create_courses",
        courses=[{"fullname": name, "shortname": name, "categoryid": 1, "format": "topics", "numsections": 3}],
    )
    moodle.rest(
        "enrol_manual_enrol_users",
        enrolments=[
            {"roleid": 3, "userid": int(moodle.env["MOODLE_TEACHER_ID"]), "courseid": created["id"]},
            {"roleid": 5, "userid": int(moodle.env["MOODLE_STUDENT_ID"]), "courseid": created["id"]},
        ],
    )
    yield created["id"]
    moodle.rest("core_course_delete_courses", courseids=[created["id"]])


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium under Playwright, for Moodle's pages."""
    if not CHROMIUM.is_file():
        pytest.fail(f"Chromium not found at {CHROMIUM}: scripts/install-test-deps installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


def logged_in(chromium: Any, moodle: Moodle, user: str) -> Any:
    """A new browser page logged in to Moodle as ``teacher``, ``student`` or ``admin``; nothing from the internet."""
    context = chromium.new_context()
    context.route(lambda url: not url.startswith(("http://127.0.0.1", "data:", "blob:")), lambda route: route.abort())
    page = context.new_page()
    page.goto(moodle.url + "/login/index.php")
    page.fill("#username", moodle.env[f"MOODLE_{user.upper()}"])
    page.fill("#password", moodle.env[f"MOODLE_{user.upper()}_PASSWORD"])
    page.click("#loginbtn")
    page.wait_for_load_state()
    return page
