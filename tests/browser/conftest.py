"""Headless Chromium, a local web server and a test LMS for the browser tests.

They need Debian's ``chromium`` (never a browser a test tool downloads), the
``playwright`` package to drive it, and scorm-again from npm (``npm ci`` at
the top of the checkout) to play the LMS. Without them the tests skip and say
what is missing, except when the ``CI`` variable is set: then they fail, so CI
never passes by skipping them.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import ROOT

from lms_export.exporters import formats
from lms_export.model import Deck

CHROMIUM = Path(os.environ.get("LMS_EXPORT_CHROMIUM", "/usr/bin/chromium"))
SCORM_AGAIN = ROOT / "node_modules" / "scorm-again" / "dist"
HERE = Path(__file__).resolve().parent
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    if not (SCORM_AGAIN / "scorm12.js").is_file():
        return f"scorm-again is missing from {SCORM_AGAIN} (npm ci)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    """A folder served on 127.0.0.1: the test LMS, scorm-again, and the packages under test."""

    root: Path
    url: str
    _count: int = 0

    def unpack(self, data: bytes) -> str:
        """Unzip a package into the site; returns its folder, relative to the site."""
        self._count += 1
        folder = f"pkg{self._count}"
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(self.root / folder)
        return folder

    def package(self, deck: Deck, output_format: str, **options: Any) -> str:
        out = io.BytesIO()
        formats()[output_format](deck, out, **options)
        return self.unpack(out.getvalue())


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    for name in ("harness.html", "harness.js"):
        shutil.copyfile(HERE / name, root / name)
    if SCORM_AGAIN.is_dir():
        (root / "scorm-again").symlink_to(SCORM_AGAIN, target_is_directory=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(root, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join()


@dataclass
class Watch:
    """What a browser context did that a test may forbid: console errors and requests leaving the machine."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture
def context(browser):
    """A fresh browser context that records console errors and refuses every request off 127.0.0.1."""
    watch = Watch()
    ctx = browser.new_context(viewport={"width": 1000, "height": 900})

    def route(r):
        url = r.request.url
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname != "127.0.0.1":
            watch.outside.append(url)
            r.abort()
        else:
            r.continue_()

    ctx.route("**/*", route)
    ctx.on("page", lambda p: _watch_page(p, watch))
    ctx.watch = watch
    yield ctx
    ctx.close()


def _watch_page(page, watch: Watch) -> None:
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watch.errors.append(str(e)))


def preload_script(data: dict) -> str:
    """The init script that hands the test LMS its starting CMI data."""
    return f"window.lmsPreload = {json.dumps(data)};"


class Launch:
    """One launch of a SCO in the test LMS, and a learner's hands on its quiz."""

    def __init__(self, page, version: str):
        self.page = page
        self.version = version
        self.frame = page.frame_locator("#sco")

    def section(self, question: str):
        return self.frame.locator(f"#{question}")

    def choose(self, question: str, *labels: str) -> None:
        for label in labels:
            self.section(question).get_by_label(label, exact=True).check()

    def type(self, question: str, text: str) -> None:
        self.section(question).get_by_label("Your answer", exact=True).fill(text)

    def match(self, question: str, pairs: dict[str, str]) -> None:
        for left, right in pairs.items():
            self.section(question).get_by_label(left, exact=True).select_option(label=right)

    def targets(self, question: str) -> list[str]:
        """The labels of a matching question's targets, in the order of the page."""
        return self.section(question).locator("select").first.locator("option").all_inner_texts()[1:]

    def items(self, question: str) -> list[str]:
        """The items of an ordering question, as the list shows them now."""
        return [t.strip() for t in self.section(question).locator(".order .item").all_inner_texts()]

    def order(self, question: str, wanted: list[str]) -> None:
        """Put the items in the wanted order with the "Move up" buttons, as a learner would."""
        for position, item in enumerate(wanted):
            while self.items(question).index(item) > position:
                self.section(question).locator("li", has_text=item).get_by_role("button", name="Move up").click()

    def check(self, question: str) -> None:
        self.section(question).get_by_role("button", name="Check answer").click()

    def feedback(self, question: str) -> str:
        return self.section(question).locator(".feedback").inner_text()

    def score_line(self) -> str:
        return self.frame.locator("#lms-export-score").inner_text()

    def leave(self) -> None:
        """Navigate the LMS frame away, as a learner closing the lesson does, and wait for the finish."""
        self.page.evaluate("document.getElementById('sco').src = 'about:blank'")
        finish = "LMSFinish" if self.version == "1.2" else "Terminate"
        self.page.wait_for_function(f"window.lms.calls.some(c => c.name === '{finish}')")

    def calls(self) -> list[dict]:
        return self.page.evaluate("window.lms.calls")

    def cmi(self) -> dict:
        return json.loads(self.page.evaluate("window.lmsApi.renderCMIToJSONString()"))["cmi"]

    def errors(self) -> list[str]:
        return self.page.evaluate("window.lms.errors")


@pytest.fixture
def launch(context, site):
    """Open a SCO in the test LMS: ``launch("1.2", "pkg1/cards/x.html", preload)``."""

    def open_sco(version: str, sco: str, preload: dict | None = None) -> Launch:
        page = context.new_page()
        page.add_init_script(preload_script(preload or {}))
        page.goto(f"{site.url}/harness.html?version={version}&sco=/{sco}")
        page.frame_locator("#sco").locator("main").wait_for()
        page.wait_for_function("window.lms.calls.some(c => /Commit$/.test(c.name))")
        return Launch(page, version)

    return open_sco
