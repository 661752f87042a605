"""The tool attacked as an attacker would: invitations raced and leaked, logins flooded, pages framed.

Each test drives the running tool over HTTP (or its CLI, or its gunicorn
logger) the way the attack would, and checks that the attack gets nowhere
while the legitimate use still works.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from gunicorn.config import Config

import lms_export
from lms_export.cli import main
from lms_export.lti import catalog, server, store
from lms_export.lti.config import ToolSettings
from lti.conftest import DECK, RunningTool
from lti.platform import Browser, LaunchSpec, TestPlatform, form_of

# -- invitations ---------------------------------------------------------------------


@pytest.fixture
def unregistered(tmp_path: Path) -> Iterator[tuple[RunningTool, TestPlatform]]:
    platform = TestPlatform(product="moodle")
    tool = RunningTool(tmp_path / "tool.db", [DECK])
    yield tool, platform
    tool.stop()
    platform.stop()


def slow_registration(platform: TestPlatform, seconds: float) -> None:
    """The platform takes ``seconds`` to answer the tool's registration request, as a busy LMS may."""
    app = platform.served.app

    def slowed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["PATH_INFO"] == "/register":
            time.sleep(seconds)
        return app(environ, start_response)

    platform.served.app = slowed


def registration_form(tool: RunningTool, platform: TestPlatform, invite: str) -> tuple[str, dict[str, str]]:
    """What the platform's registration window posts back: the form of the tool's registration page."""
    page = requests.get(
        f"{tool.url}/lti/register/{invite}",
        params={
            "openid_configuration": platform.url("/.well-known/openid-configuration"),
            "registration_token": platform.registration_token,
        },
        timeout=10,
    )
    assert page.status_code == 200, page.text
    action, fields = form_of(page.text)
    return action, {name: values[0] for name, values in fields.items()}


def post_all_at_once(action: str, forms: list[dict[str, str]]) -> list[int]:
    """Post every form in its own thread, all released at the same instant; their status codes."""
    barrier = threading.Barrier(len(forms))

    def post(form: dict[str, str]) -> int:
        barrier.wait()
        return requests.post(action, data=form, timeout=30).status_code

    with ThreadPoolExecutor(len(forms)) as pool:
        return list(pool.map(post, forms))


def test_parallel_posts_of_one_invitation_register_one_platform(unregistered):
    tool, platform = unregistered
    slow_registration(platform, 1.0)
    action, form = registration_form(tool, platform, tool.store.create_invite(3600))

    statuses = post_all_at_once(action, [form] * 8)

    assert sorted(statuses) == [200] + [409] * 7
    assert len(platform.registrations) == 1  # the others never reached the platform
    assert len(tool.store.platforms()) == 1


def test_a_failed_registration_gives_the_invitation_back(unregistered):
    tool, platform = unregistered
    action, form = registration_form(tool, platform, tool.store.create_invite(3600))

    refused = requests.post(action, data={**form, "registration_token": "wrong"}, timeout=10)
    assert refused.status_code == 502 and tool.store.platforms() == []
    assert requests.post(action, data=form, timeout=10).status_code == 200
    assert requests.post(action, data=form, timeout=10).status_code == 403  # now it is spent
    assert len(tool.store.platforms()) == 1


def test_a_registration_that_outlives_its_claim_is_undone(unregistered, monkeypatch):
    tool, platform = unregistered
    monkeypatch.setattr(store, "INVITE_CLAIM_SECONDS", 0.3)
    slow_registration(platform, 1.0)
    action, form = registration_form(tool, platform, tool.store.create_invite(3600))

    def post(delay: float) -> int:
        time.sleep(delay)
        return requests.post(action, data=form, timeout=30).status_code

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(post, (0.0, 0.6))  # the second comes once the first's claim ran out

    assert (first, second) == (200, 409)
    assert len(platform.registrations) == 2
    assert len(tool.store.platforms()) == 1


def invite_lifetimes(db: Path) -> list[float]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT expires_at - created_at FROM invites ORDER BY rowid")]


def register_url(db: Path, *options: str) -> Any:
    return CliRunner().invoke(
        main, ["lti", "--db", str(db), "register-url", "--url", "https://cards.example.edu", *options]
    )


def test_invitations_last_a_day_unless_told_otherwise_and_never_beyond_30_days(tmp_path):
    db = tmp_path / "tool.db"
    for options in ((), ("--expires", "30m"), ("--expires", "7d"), ("--expires", "30d")):
        made = register_url(db, *options)
        assert made.exit_code == 0, made.output
    assert [round(seconds) for seconds in invite_lifetimes(db)] == [86400, 1800, 7 * 86400, 30 * 86400]
    for options in (("--expires", "31d"), ("--expires", "0h"), ("--expires", "soon"), ("--days", "7")):
        refused = register_url(db, *options)
        assert refused.exit_code == 2, (options, refused.output)
    assert len(invite_lifetimes(db)) == 4


def test_an_unhandled_error_logs_no_invitation(unregistered, monkeypatch, caplog):
    tool, platform = unregistered
    invite = tool.store.create_invite(3600)
    action, form = registration_form(tool, platform, invite)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("lms_export.lti.registration.register", crash)
    assert requests.post(action, data=form, timeout=10).status_code == 500
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records if r.name.startswith("lms_export"))
    assert "/lti/register/[redacted]" in logged  # (the test server's own access log is not the tool's)
    assert invite not in logged


def test_only_the_operators_cli_makes_invitations():
    package = Path(lms_export.__file__).parent
    makers = sorted(
        path.relative_to(package).as_posix() for path in package.rglob("*.py") if ".create_invite(" in path.read_text()
    )
    assert makers == ["lti/commands.py"]


def test_the_access_log_carries_no_invitation_and_no_query(tmp_path, monkeypatch, capsys):
    started: dict[str, Any] = {}
    monkeypatch.setattr(
        server, "_Server", lambda make_app, options: SimpleNamespace(run=lambda: started.update(options))
    )
    server.run(
        str(tmp_path / "tool.db"), catalog.load([DECK]), ToolSettings("https://cards.example.edu"), "127.0.0.1", 0
    )
    assert started["logger_class"] is server.AccessLogger
    config = Config()
    for name in ("accesslog", "access_log_format", "logger_class"):
        config.set(name, started[name])
    logger = config.logger_class(config)

    invitation, token = "Zm9yZ2V0LW1lLW5vdA_invitation", "platform-registration-secret"
    referer = f"https://cards.example.edu/lti/register/{invitation}?registration_token={token}"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/lti/register/{invitation}?registration_token={token}",
        "PATH_INFO": f"/lti/register/{invitation}",
        "QUERY_STRING": f"registration_token={token}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Moodle",
    }
    request = SimpleNamespace(headers=[("REFERER", referer), ("USER-AGENT", "Moodle")])
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("Content-Type", "text/html")])
    logger.access(response, request, environ, timedelta(milliseconds=20))

    [line] = capsys.readouterr().out.splitlines()
    assert invitation not in line and token not in line
    assert (
        '"POST /lti/register/[redacted] HTTP/1.1" 200 512 "https://cards.example.edu/lti/register/[redacted]"' in line
    )


# -- the anonymous login -------------------------------------------------------------


def states(tool: RunningTool) -> int:
    with sqlite3.connect(tool.store.path) as connection:
        return connection.execute("SELECT COUNT(*) FROM states").fetchone()[0]


def flood_logins(url: str, count: int, keep_cookies: bool = False) -> list[int]:
    """``count`` logins from one address, eight at a time; without cookies, as a script would send them."""

    def client(share: int) -> list[int]:
        session = requests.Session()
        codes = []
        for _ in range(share):
            if not keep_cookies:
                session.cookies.clear()
            codes.append(session.get(url, allow_redirects=False, timeout=10).status_code)
        return codes

    with ThreadPoolExecutor(8) as pool:
        return [code for codes in pool.map(client, [count // 8] * 8) for code in codes]


def test_anonymous_logins_cannot_grow_the_states_table(tool, platform):
    spec = LaunchSpec(tool.card_url("gradient-descent"))
    codes = flood_logins(platform.login_url(spec), 2000)

    assert codes == [302] * 2000
    assert states(tool) <= store.STATES_PER_CLIENT
    learner = Browser()
    page = learner.launch(platform, LaunchSpec(tool.card_url("gradient-descent"), user_id="after-the-flood"))
    assert page.status_code == 200 and 'action="' + tool.url + "/lti/submit" in page.text


def test_one_browser_holds_a_few_states_and_its_newest_launches(tool, platform):
    learner = Browser()
    for n in range(3 * store.STATES_PER_BROWSER):
        spec = LaunchSpec(tool.card_url("gradient-descent"), user_id=f"u{n}")
        assert learner.session.get(platform.login_url(spec), allow_redirects=False).status_code == 302
    assert states(tool) == store.STATES_PER_BROWSER
    page = learner.launch(platform, LaunchSpec(tool.card_url("gradient-descent")))
    assert page.status_code == 200, page.text


def test_logins_past_the_global_cap_are_refused_until_states_expire(tool, platform, monkeypatch):
    monkeypatch.setattr(store, "STATES_MAX", 30)
    codes = flood_logins(platform.login_url(LaunchSpec(tool.card_url("gradient-descent"))), 40)
    assert sorted(codes) == [302] * 30 + [429] * 10
    assert states(tool) == 30

    with sqlite3.connect(tool.store.path) as connection:
        connection.execute("UPDATE states SET created_at = created_at - ?", (store.STATE_SECONDS + 1,))
    page = Browser().launch(platform, LaunchSpec(tool.card_url("gradient-descent")))
    assert page.status_code == 200, page.text
    assert states(tool) == 0  # the expired ones went when the login came, its own when the launch took it


# -- headers -------------------------------------------------------------------------


def frame_ancestors(response: requests.Response) -> list[str]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().partition(" ")[::2] for part in policy.split(";"))
    assert "frame-ancestors" in directives, f"{response.url}: no frame-ancestors in {policy!r}"
    return directives["frame-ancestors"].split()


def origin(url: str) -> str:
    return "{0.scheme}://{0.netloc}".format(urlsplit(url))


@pytest.fixture
def responses(tool: RunningTool, platform: TestPlatform) -> dict[str, requests.Response]:
    """One response of each kind the tool gives, to a learner who launched a card."""
    learner = Browser()
    card = learner.launch(platform, LaunchSpec(tool.card_url("gradient-descent")))
    image = re.search(r'<img src="([^"]+)"', card.text)
    assert image, "the card shows no image"
    get = learner.session.get
    return {
        "card page": card,
        "redirect": get(platform.login_url(LaunchSpec(tool.card_url("gradient-descent"))), allow_redirects=False),
        "refusal": get(tool.card_url("gradient-descent")),
        "not found": get(tool.url + "/lti/nothing-here"),
        "registration refused": get(tool.url + "/lti/register/made-up"),
        "json": get(platform.tool_jwks_url),
        "asset": get(tool.url + "/lti/assets/lti.css"),
        "media": get(image.group(1)),
        "health": get(tool.url + "/lti/health"),
    }


def test_every_response_forbids_sniffing_and_referrers(responses):
    assert {kind: r.status_code for kind, r in responses.items()} == {
        "card page": 200,
        "redirect": 302,
        "refusal": 400,
        "not found": 404,
        "registration refused": 403,
        "json": 200,
        "asset": 200,
        "media": 200,
        "health": 200,
    }
    for kind, response in responses.items():
        assert response.headers.get("X-Content-Type-Options") == "nosniff", kind
        assert response.headers.get("Referrer-Policy") == "no-referrer", kind


def test_pages_may_be_framed_by_the_registered_platforms_alone(tool, platform, responses):
    pages = {kind: r for kind, r in responses.items() if r.headers["Content-Type"].startswith("text/html")}
    assert set(pages) == {"card page", "redirect", "refusal", "not found", "registration refused"}
    for kind, response in pages.items():
        assert frame_ancestors(response) == [origin(platform.issuer)], kind
    card_policy = responses["card page"].headers["Content-Security-Policy"]
    assert "script-src 'self'" in card_policy and "default-src 'none'" in card_policy

    tool.store.add_platform(
        name="campus",
        kind="moodle",
        issuer="https://moodle.example.edu/lms",
        client_id="campus-client",
        auth_login_url="https://moodle.example.edu/lms/mod/lti/auth.php",
        auth_token_url="https://moodle.example.edu/lms/mod/lti/token.php",
        key_set_url="https://moodle.example.edu/lms/mod/lti/certs.php",
    )
    tool.store.add_platform(
        name="canvas",
        kind="canvas",
        issuer="https://canvas.instructure.com",
        client_id="10000000000001",
        auth_login_url="https://canvas.instructure.com/api/lti/authorize_redirect",
        auth_token_url="https://canvas.instructure.com/login/oauth2/token",
        key_set_url="https://canvas.instructure.com/api/lti/security/jwks",
    )
    assert sorted(frame_ancestors(requests.get(tool.url + "/lti/nothing-here", timeout=10))) == sorted(
        [
            origin(platform.issuer),
            "https://moodle.example.edu",
            "https://canvas.instructure.com",
            "https://*.instructure.com",  # Canvas Cloud frames courses from each school's own host
        ]
    )
    tool.store.update_platform("canvas", hosts=["canvas.school.edu"])  # a self-hosted Canvas frames from its host
    assert "https://canvas.school.edu:443" in frame_ancestors(requests.get(tool.url + "/lti/nothing-here", timeout=10))


def test_the_platform_registering_itself_may_frame_the_registration_page(unregistered):
    tool, platform = unregistered
    page = requests.get(
        f"{tool.url}/lti/register/{tool.store.create_invite(3600)}",
        params={"openid_configuration": platform.url("/.well-known/openid-configuration"), "registration_token": "t"},
        timeout=10,
    )
    assert page.status_code == 200
    assert frame_ancestors(page) == [origin(platform.issuer)]
    assert frame_ancestors(requests.get(tool.url + "/lti/nothing-here", timeout=10)) == ["'none'"]
