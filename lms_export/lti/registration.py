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

import logging
from typing import Any
from urllib.parse import urlsplit

import requests

from lms_export.errors import LmsExportError
from lms_export.lti import keys
from lms_export.lti.config import DESCRIPTION, LAUNCH, LOGIN, SCOPES, TITLE, ToolSettings
from lms_export.lti.outbound import Forbidden, Outbound
from lms_export.lti.store import Platform, Store, host_of, new_key_set_id

log = logging.getLogger("lms_export.lti")

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"


class RegistrationError(Exception):
    """The registration could not be made; ``status`` is the page's HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def _url(value: object, what: str, http: Outbound) -> str:
    if not isinstance(value, str):
        raise RegistrationError(f"the platform's configuration has no {what}")
    try:
        http.policy.check_url(value)
    except Forbidden as error:
        raise RegistrationError(f"the platform's {what}: {error}") from None
    return value


def platform_configuration(url: str, http: Outbound) -> dict[str, Any]:
    """The platform's OpenID configuration, checked for what a registration needs.

    Every endpoint must be on the issuer's host, and the issuer on the host
    of the configuration URL: a registration cannot name another platform's
    token endpoint (an operator who must allow another host registers the
    platform with ``lms-export lti platform add --allow-host``).
    """
    _url(url, "openid_configuration URL", http)
    try:
        response = http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        config = response.json()
    except Forbidden as error:
        raise RegistrationError(f"the platform's configuration is not read: {error}") from None
    except requests.RequestException as error:
        log.warning("registration: the configuration at %s could not be read: %s", url, error)
        raise RegistrationError("the platform's configuration could not be read", 502) from None
    except ValueError:
        raise RegistrationError("the platform's configuration is not JSON", 502) from None
    if not isinstance(config, dict):
        raise RegistrationError("the platform's configuration is not a JSON object", 502)
    issuer = _url(config.get("issuer"), "issuer", http)
    if host_of(issuer) != host_of(url):
        raise RegistrationError(f"the issuer {issuer} is not on the host of the configuration URL")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint"):
        if host_of(_url(config.get(name), name, http)) != host_of(issuer):
            raise RegistrationError(f"the platform's {name} is not on the issuer's host ({host_of(issuer)})")
    audience = config.get("authorization_server")
    if audience is not None and (not isinstance(audience, str) or host_of(audience) != host_of(issuer)):
        raise RegistrationError(f"the platform's authorization_server is not on the issuer's host ({host_of(issuer)})")
    algorithms = config.get("id_token_signing_alg_values_supported", ["RS256"])
    if not isinstance(algorithms, list) or "RS256" not in algorithms:
        raise RegistrationError("the platform does not sign id_tokens with RS256")
    return config


def product(config: dict[str, Any]) -> str:
    """``canvas``, ``moodle`` or ``lti``: which presets and extensions apply."""
    platform = config.get(PLATFORM_CONFIGURATION)
    code = str(platform.get("product_family_code", "")).lower() if isinstance(platform, dict) else ""
    return code if code in ("canvas", "moodle") else "lti"


def client_metadata(settings: ToolSettings, config: dict[str, Any], key_set_id: str) -> dict[str, Any]:
    """What the tool registers: its endpoints, its key set for this registration alone, scopes and Deep Linking."""
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
        "jwks_uri": settings.jwks_url(key_set_id),
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
    http: Outbound,
) -> Platform:
    """Register the tool with the platform and store the registration it answers with, with a key pair of its own."""
    config = platform_configuration(openid_configuration, http)
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    key_set_id = new_key_set_id()
    try:
        response = http.post(
            config["registration_endpoint"], json=client_metadata(settings, config, key_set_id), headers=headers
        )
    except Forbidden as error:
        raise RegistrationError(f"the platform's registration endpoint is not called: {error}") from None
    except requests.RequestException as error:
        log.warning("registration: the registration endpoint did not answer: %s", error)
        raise RegistrationError("the platform's registration endpoint did not answer", 502) from None
    if not response.ok:
        log.warning("registration refused: %s %s", response.status_code, " ".join(response.text.split())[:300])
        raise RegistrationError(f"the platform refused the registration ({response.status_code})", 502)
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
            key=keys.generate(),
            key_set_id=key_set_id,
        )
    except LmsExportError as error:
        raise RegistrationError(str(error), 409) from None
