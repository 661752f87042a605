"""Assignment and Grade Services 2.0: access tokens, line items and scores.

Every call tells the outbox what to do next, by the exception it raises:
:class:`RetryLater` for what time may cure (the network, 429, 5xx),
:class:`Refused` for what it cannot (another 4xx, with the platform's own
message, for the instructor to read), :class:`Superseded` when the platform
already holds this score or a newer one (409: a retry after a lost answer).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jwt
import requests

from lms_export.lti.config import AGS
from lms_export.lti.outbound import Forbidden, Outbound
from lms_export.lti.store import Delivery, Platform, ToolKey

log = logging.getLogger("lms_export.lti")

SCORE = AGS + "score"
LINEITEM = AGS + "lineitem"
LINEITEM_READ = AGS + "lineitem.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
#: A token is renewed this long before it expires, so it never expires in flight.
TOKEN_MARGIN = 30.0
#: Pages of line items read before giving up on finding one.
MAX_PAGES = 20


class AgsError(Exception):
    """A call to the platform that did not succeed."""


class RetryLater(AgsError):
    """Time may cure it; ``delay`` is the platform's Retry-After, if it sent one."""

    def __init__(self, message: str, delay: float | None = None):
        super().__init__(message)
        self.delay = delay


class Refused(AgsError):
    """The platform said no, and asking again will not change its mind."""


class Superseded(AgsError):
    """The platform already holds this score or a newer one."""


class _Unauthorized(AgsError):
    pass


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def score_body(delivery: Delivery, canvas: bool) -> dict[str, Any]:
    """The score as AGS wants it; Canvas also gets its submission extension, so the grade shows as submitted."""
    body: dict[str, Any] = {
        "userId": delivery.user_id,
        "scoreGiven": delivery.score_given,
        "scoreMaximum": delivery.score_maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": iso(delivery.timestamp),
    }
    if canvas:
        body[CANVAS_SUBMISSION] = {
            "new_submission": True,
            "submission_type": "basic_lti_launch",
            "submission_data": delivery.submission_url,
            "submitted_at": iso(delivery.timestamp),
        }
    return body


def platform_message(response: requests.Response) -> str:
    """What the platform said, short enough for a log line (never for a page: it is the platform's text)."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for name in ("error_description", "message", "error", "errors", "reason"):
            if data.get(name):
                text = str(data[name])
                break
        else:
            text = response.text
    else:
        text = response.text
    text = " ".join(text.split()) or response.reason or ""
    return text[:300]


def retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _check(response: requests.Response, what: str) -> None:
    """Raise what the outbox should do about a failed answer: the status in the error, the body in the log."""
    if response.ok:
        return
    status = response.status_code
    log.warning("%s: the platform answered %s: %s", what, status, platform_message(response))
    message = _phrase(status)
    if status == 401:
        raise _Unauthorized(f"{what}: 401 {message}")
    if status == 429:
        raise RetryLater(f"{what}: 429 {message}", retry_after(response))
    if status >= 500 or status == 408:
        raise RetryLater(f"{what}: {status} {message}", retry_after(response))
    raise Refused(f"{what}: {status} {message}")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def with_path(url: str, *segments: str) -> str:
    """``url`` with path segments appended before its query (Moodle's line item URLs have one)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "".join("/" + s for s in segments)))


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float
    scopes: frozenset[str]


class TokenCache:
    """Access tokens by platform and scopes, kept until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[int, frozenset[str]], Token] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def get(self, platform_id: int, scopes: frozenset[str]) -> Token | None:
        token = self._tokens.get((platform_id, scopes))
        return token if token is not None and token.expires_at > time.time() else None

    def put(self, platform_id: int, scopes: frozenset[str], token: Token) -> None:
        with self._lock:
            self.fetches += 1
            self._tokens[(platform_id, scopes)] = token

    def drop(self, platform_id: int, scopes: frozenset[str]) -> None:
        with self._lock:
            self._tokens.pop((platform_id, scopes), None)


class AgsClient:
    """The AGS calls for one platform, limited to the scopes a launch granted."""

    def __init__(
        self,
        platform: Platform,
        key: ToolKey,
        granted: Iterable[str],
        tokens: TokenCache,
        http: Outbound,
    ):
        self.platform = platform
        self.key = key
        self.scopes = frozenset(granted) & {SCORE, LINEITEM, LINEITEM_READ}
        self.tokens = tokens
        self.http = http

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        """One request to this platform: only on its registration's hosts, and through the outbound guard."""
        if not self.platform.allows(url):
            raise Refused(f"{what}: {url} is not on the hosts of the registration {self.platform.name}")
        try:
            return self.http.request(method, url, **kwargs)
        except Forbidden as error:
            raise Refused(f"{what}: {error}") from None
        except requests.RequestException as error:
            raise RetryLater(f"{what}: {error}") from None

    def _assertion(self) -> str:
        """The signed JWT the client credentials grant authenticates the tool with."""
        now = int(time.time())
        claims = {
            "iss": self.platform.client_id,
            "sub": self.platform.client_id,
            "aud": self.platform.auth_audience or self.platform.auth_token_url,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.key.private_pem, algorithm="RS256", headers={"kid": self.key.kid})

    def token(self) -> Token:
        cached = self.tokens.get(self.platform.id, self.scopes)
        if cached is not None:
            return cached
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self._assertion(),
            "scope": " ".join(sorted(self.scopes)),
        }
        response = self._send("POST", self.platform.auth_token_url, "token", data=form)
        try:
            _check(response, "token")
        except _Unauthorized as error:
            raise Refused(str(error)) from None
        try:
            data = response.json()
            value = data["access_token"]
            lifetime = float(data.get("expires_in", 3600))
            granted = str(data.get("scope") or " ".join(self.scopes)).split()
        except (ValueError, KeyError, TypeError):
            log.warning("token: the platform's answer is not a token: %s", platform_message(response))
            raise RetryLater("token: the platform's answer is not a token") from None
        token = Token(value, time.time() + lifetime - min(TOKEN_MARGIN, lifetime / 2), frozenset(granted))
        self.tokens.put(self.platform.id, self.scopes, token)
        return token

    def _call(self, method: str, url: str, need: Iterable[str], what: str, **kwargs: Any) -> requests.Response:
        """One authorized request; a 401 drops the cached token and tries once with a new one."""
        need = set(need)
        extra = kwargs.pop("headers", {})
        for attempt in (1, 2):
            token = self.token()
            if not need & token.scopes:
                raise Refused(f"{what}: the platform did not grant the scope it needs ({' or '.join(sorted(need))})")
            headers = {"Authorization": f"Bearer {token.value}", **extra}
            response = self._send(method, url, what, headers=headers, **kwargs)
            try:
                _check(response, what)
            except _Unauthorized as error:
                self.tokens.drop(self.platform.id, self.scopes)
                if attempt == 2:
                    raise Refused(str(error)) from None
                continue
            return response
        raise AssertionError("unreachable")

    def post_score(self, lineitem_url: str, body: dict[str, Any]) -> None:
        if SCORE not in self.scopes:
            raise Refused("score: the launch did not grant the score scope")
        try:
            self._call(
                "POST",
                with_path(lineitem_url, "scores"),
                [SCORE],
                "score",
                json=body,
                headers={"Content-Type": SCORE_TYPE},
            )
        except Refused as error:
            if str(error).startswith("score: 409"):
                raise Superseded(str(error)) from None
            raise

    def find_line_item(self, lineitems_url: str, resource_link_id: str, resource_id: str) -> str | None:
        """The line item for a card placed at a resource link, if the platform has one."""
        url: str | None = with_query(lineitems_url, resource_link_id=resource_link_id, resource_id=resource_id)
        for _ in range(MAX_PAGES):
            if url is None:
                break
            response = self._call(
                "GET", url, [LINEITEM, LINEITEM_READ], "line items", headers={"Accept": CONTAINER_TYPE}
            )
            try:
                items = response.json()
            except ValueError:
                raise RetryLater("line items: the platform's answer is not JSON") from None
            for item in items if isinstance(items, list) else []:
                if (
                    isinstance(item, dict)
                    and item.get("resourceId") == resource_id
                    and item.get("resourceLinkId", resource_link_id) == resource_link_id
                    and isinstance(item.get("id"), str)
                ):
                    return item["id"]
            url = response.links.get("next", {}).get("url")
        return None

    def create_line_item(
        self, lineitems_url: str, resource_link_id: str, resource_id: str, label: str, maximum: float
    ) -> str:
        if LINEITEM not in self.scopes:
            raise Refused(
                "line items: no line item for this card, and the launch did not grant the scope to create one"
            )
        body = {"scoreMaximum": maximum, "label": label, "resourceId": resource_id, "resourceLinkId": resource_link_id}
        response = self._call(
            "POST", lineitems_url, [LINEITEM], "create line item", json=body, headers={"Content-Type": LINEITEM_TYPE}
        )
        try:
            created = response.json()["id"]
        except (ValueError, KeyError, TypeError):
            raise Refused("create line item: the platform's answer names no line item") from None
        if not isinstance(created, str):
            raise Refused("create line item: the platform's answer names no line item")
        return created
