"""LTI Dynamic Registration 1.0: an administrator pastes one URL into Moodle or Canvas.

pylti1p3 has no dynamic registration, so the exchange is here:

1. the platform opens ``/lti/register/<invitation>`` with ``openid_configuration``
   and ``registration_token``; the invitation (``lms-export lti register-url``)
   keeps strangers from registering platforms with the tool;
2. the tool reads the platform's OpenID configuration and checks that its
   issuer is on the same host as the configuration URL, as the spec requires;
3. the tool posts its client metadata to the platform's registration endpoint
   with the registration token, and stores the client id and deployment id the
   platform answers with;
4. the page tells the platform it may close the registration window.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from lms_export.errors import LmsExportError
from lms_export.launch import is_loopback
from lms_export.lti.config import DESCRIPTION, JWKS, LAUNCH, LOGIN, SCOPES, TITLE, ToolSettings
from lms_export.lti.store import Platform, Store

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
#: How long an invitation URL stays good.
INVITE_SECONDS = 7 * 86400


class RegistrationError(Exception):
    """The registration could not be made; ``status`` is the page's HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _secure_url(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise RegistrationError(f"the platform's configuration has no {what}")
    parts = urlsplit(value)
    if parts.netloc and (parts.scheme == "https" or (parts.scheme == "http" and is_loopback(value))):
        return value
    raise RegistrationError(f"the platform's {what} is not an https URL: {value!r}")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def platform_configuration(url: str, session: requests.Session, timeout: float) -> dict[str, Any]:
    """The platform's OpenID configuration, checked for what a registration needs."""
    _secure_url(url, "openid_configuration URL")
    try:
        response = session.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        config = response.json()
    except requests.RequestException as error:
        raise RegistrationError(f"the platform's configuration could not be read from {url}: {error}", 502) from None
    except ValueError:
        raise RegistrationError(f"the platform's configuration at {url} is not JSON", 502) from None
    if not isinstance(config, dict):
        raise RegistrationError(f"the platform's configuration at {url} is not a JSON object", 502)
    issuer = _secure_url(config.get("issuer"), "issuer")
    if _origin(issuer) != _origin(url):
        raise RegistrationError(f"the issuer {issuer} is not on the host of the configuration URL {url}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        _secure_url(config.get(name), name)
    algorithms = config.get("id_token_signing_alg_values_supported", ["RS256"])
    if not isinstance(algorithms, list) or "RS256" not in algorithms:
        raise RegistrationError("the platform does not sign id_tokens with RS256")
    return config


def product(config: dict[str, Any]) -> str:
    """``canvas``, ``moodle`` or ``lti``: which presets and extensions apply."""
    platform = config.get(PLATFORM_CONFIGURATION)
    code = str(platform.get("product_family_code", "")).lower() if isinstance(platform, dict) else ""
    return code if code in ("canvas", "moodle") else "lti"


def client_metadata(settings: ToolSettings, config: dict[str, Any]) -> dict[str, Any]:
    """What the tool registers: its endpoints, keys, scopes and Deep Linking message."""
    supported = config.get("scopes_supported")
    scopes = [s for s in SCOPES if not isinstance(supported, list) or s in supported]
    message: dict[str, Any] = {"type": "LtiDeepLinkingRequest", "target_link_uri": settings.url(LAUNCH), "label": TITLE}
    if product(config) == "canvas":
        message["placements"] = ["link_selection", "assignment_selection"]
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": settings.url(LOGIN),
        "redirect_uris": [settings.url(LAUNCH)],
        "client_name": TITLE,
        "jwks_uri": settings.url(JWKS),
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: {
            "domain": settings.domain,
            "description": DESCRIPTION,
            "target_link_uri": settings.url(LAUNCH),
            "claims": ["iss", "sub", "name"],
            "messages": [message],
        },
    }


def register(
    store: Store,
    settings: ToolSettings,
    openid_configuration: str,
    registration_token: str | None,
    session: requests.Session,
) -> Platform:
    """Register the tool with the platform and store the registration it answers with."""
    config = platform_configuration(openid_configuration, session, settings.http_timeout)
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        response = session.post(
            config["registration_endpoint"],
            json=client_metadata(settings, config),
            headers=headers,
            timeout=settings.http_timeout,
        )
    except requests.RequestException as error:
        raise RegistrationError(f"the platform's registration endpoint did not answer: {error}", 502) from None
    if not response.ok:
        raise RegistrationError(
            f"the platform refused the registration: {response.status_code} {response.text[:300]}", 502
        )
    try:
        answer = response.json()
        client_id = answer["client_id"]
    except (ValueError, KeyError, TypeError):
        raise RegistrationError("the platform's answer names no client_id", 502) from None
    tool = answer.get(TOOL_CONFIGURATION) if isinstance(answer, dict) else None
    deployment = tool.get("deployment_id") if isinstance(tool, dict) else None
    kind = product(config)
    try:
        return store.add_platform(
            name=f"{kind}-{urlsplit(config['issuer']).netloc}-{client_id}",
            kind=kind,
            issuer=config["issuer"],
            client_id=str(client_id),
            auth_login_url=config["authorization_endpoint"],
            auth_token_url=config["token_endpoint"],
            key_set_url=config["jwks_uri"],
            auth_audience=config.get("authorization_server") or None,
            deployments=[str(deployment)] if deployment else [],
        )
    except LmsExportError as error:
        raise RegistrationError(str(error), 409) from None
