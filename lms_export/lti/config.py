"""Where the tool lives, the platforms it knows presets for, and the Canvas developer key JSON.

Every URL the tool hands to a platform is built here from one public base
URL, so the allow-list of target link URIs, the Canvas JSON, the dynamic
registration request and the routes can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lms_export import launch
from lms_export.errors import LmsExportError

LOGIN = "/lti/login"
LAUNCH = "/lti/launch"
JWKS = "/lti/jwks"
REGISTER = "/lti/register"
CARD = launch.CARD_PATH
SUBMIT = "/lti/submit"
DEEP_LINK = "/lti/deeplink"
ASSETS = "/lti/assets/"
MEDIA = "/lti/media/"
CANVAS_CONFIG = "/lti/config/canvas"

TITLE = "lms-export cards"
DESCRIPTION = "Learning cards with a quiz, graded by the tool and sent to the gradebook."

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
#: What the tool asks platforms for: find or create line items, and post scores.
SCOPES = (AGS + "lineitem", AGS + "lineitem.readonly", AGS + "score")

#: Canvas Cloud by environment: its issuer, and the host of its OIDC, token and JWKS endpoints.
CANVAS = {
    "production": ("https://canvas.instructure.com", "https://sso.canvaslms.com"),
    "beta": ("https://canvas.beta.instructure.com", "https://sso.beta.canvaslms.com"),
    "test": ("https://canvas.test.instructure.com", "https://sso.test.canvaslms.com"),
}


#: A dynamic registration URL's invitation, a credential that must not reach a log.
_INVITATION = re.compile(r"(" + REGISTER + r"/)[^/?#\s\"]+")


def redact_invitations(text: str) -> str:
    """``text`` with every invitation of a registration URL replaced, for logs."""
    return _INVITATION.sub(r"\1[redacted]", text)


def canvas_preset(environment: str = "production", host: str | None = None) -> dict[str, Any]:
    """Canvas Cloud's endpoints; ``host`` for a self-hosted Canvas, which serves them itself.

    Canvas's issuer is not the host of its endpoints, so the preset allows
    that host by name (a Canvas Cloud school's own host, where its grade
    services live, the operator adds with ``--allow-host``).
    """
    issuer, sso = CANVAS[environment]
    if host is not None:
        sso = _origin(host)
    return {
        "kind": "canvas",
        "issuer": issuer,
        "auth_login_url": f"{sso}/api/lti/authorize_redirect",
        "auth_token_url": f"{sso}/login/oauth2/token",
        "key_set_url": f"{sso}/api/lti/security/jwks",
        "hosts": [sso],
    }


def moodle_preset(site: str) -> dict[str, str]:
    """A Moodle site's endpoints: its issuer is the site URL itself."""
    site = site.rstrip("/")
    _origin(site)
    return {
        "kind": "moodle",
        "issuer": site,
        "auth_login_url": f"{site}/mod/lti/auth.php",
        "auth_token_url": f"{site}/mod/lti/token.php",
        "key_set_url": f"{site}/mod/lti/certs.php",
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LmsExportError(f"{url}: not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class ToolSettings:
    """How the tool is reached and how strict its clock is.

    ``base_url`` is the public address (``https://cards.example.edu``): the
    one the platforms see, which behind a reverse proxy is not the address
    gunicorn listens on.
    """

    base_url: str
    #: Seconds of clock difference accepted on exp and iat.
    leeway: float = 30.0
    #: A platform's JWKS is fetched again for an unknown kid at most this often.
    jwks_refetch_seconds: float = 10.0
    #: Deadline of every exchange the tool has with a platform, all of it.
    http_timeout: float = 10.0
    #: ``serve --insecure-local``: the tool may call plain http and loopback addresses (tests, local trials).
    insecure_local: bool = False

    def __post_init__(self) -> None:
        try:
            origin = launch.tool_origin(self.base_url)
        except LmsExportError as error:
            raise LmsExportError(f"--url {error.problems[0].message}") from None
        object.__setattr__(self, "base_url", origin)

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        return self.base_url + path

    def jwks_url(self, key_set_id: str) -> str:
        """A registration's own key set URL, given to that platform alone."""
        return self.url(f"{JWKS}/{key_set_id}")

    def card_url(self, card_id: str) -> str:
        return launch.card_url(self.base_url, card_id)

    def target(self, uri: object, card_ids: frozenset[str] | set[str]) -> str | None:
        """What a target link URI asks for ("" for the tool itself, else a card id); None when off the allow-list.

        Only the launch URL and the URL of a card the tool serves are
        allowed, exactly: no other host, path, query or fragment.
        """
        if not isinstance(uri, str):
            return None
        if uri == self.url(LAUNCH):
            return ""
        prefix = self.url(CARD)
        if uri.startswith(prefix) and uri[len(prefix) :] in card_ids:
            return uri[len(prefix) :]
        return None


def canvas_config(settings: ToolSettings, key_set_id: str, privacy: str = "name_only") -> dict[str, Any]:
    """The developer key JSON Canvas accepts under Admin > Developer Keys > + LTI Key > Paste JSON.

    ``key_set_id`` names the registration whose keys Canvas will trust: each
    Canvas gets its own key set URL.

    Deep Linking is offered in link selection (modules) and in assignment
    selection, where the picked cards become graded assignments.
    """
    placements = [
        {
            "placement": placement,
            "message_type": "LtiDeepLinkingRequest",
            "target_link_uri": settings.url(LAUNCH),
            "text": TITLE,
        }
        for placement in ("link_selection", "assignment_selection")
    ]
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "oidc_initiation_url": settings.url(LOGIN),
        "target_link_uri": settings.url(LAUNCH),
        "redirect_uris": [settings.url(LAUNCH)],
        "scopes": list(SCOPES),
        "extensions": [
            {
                "domain": settings.domain,
                "tool_id": "lms-export",
                "platform": "canvas.instructure.com",
                "privacy_level": privacy,
                "settings": {"text": TITLE, "placements": placements},
            }
        ],
        "public_jwk_url": settings.jwks_url(key_set_id),
        "custom_fields": {},
    }
