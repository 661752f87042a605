"""The launch checks of the 1EdTech Security Framework, on top of pylti1p3.

pylti1p3 2.0.0 finds the registration, the deployment and the message
validators, and builds the OIDC redirect; this module makes the checks it
misses or makes too weakly:

- the state is bound to the browser (a cookie the login sets) and used once,
  even across workers: it is deleted from the database as it is read;
- the nonce must be the one issued with that state, and is recorded as used
  in the database every worker shares, so a replayed id_token is refused;
- aud must contain the client id and, when it has several values, azp must
  name it; iss must be the registration's;
- exp and iat are checked with a small leeway;
- RS256 only, whatever the token header or the platform's JWKS says;
- the kid is looked up in the platform's JWKS, cached per process, and fetched
  again (once, at most every few seconds) only for a kid not in the cache;
  pylti1p3 would fetch the JWKS on every launch;
- message_type is one the tool handles, version is 1.3.0, roles is a list,
  resource_link.id is present on a resource link launch;
- target_link_uri is on the tool's own allow-list and is the one the login
  was for.

Every failure is a :class:`LaunchError` naming the check, which the app turns
into a 4xx page: a forged or broken launch never reaches a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from jwt.algorithms import RSAAlgorithm
from pylti1p3.contrib.flask import FlaskCookieService, FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.registration import Registration
from pylti1p3.session import SessionService
from pylti1p3.tool_config import ToolConfAbstract

from lms_export.lti import keys
from lms_export.lti.config import LAUNCH, ToolSettings
from lms_export.lti.outbound import Outbound
from lms_export.lti.store import IssuedState, Platform, Store, ToolKey, digest

log = logging.getLogger("lms_export.lti")

ALGORITHM = "RS256"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
MESSAGE_TYPES = (RESOURCE_LINK, DEEP_LINKING)


class LaunchError(Exception):
    """A launch refused, and the check that refused it."""

    def __init__(self, check: str, message: str, status: int = 400):
        super().__init__(f"{check}: {message}")
        self.check = check
        self.message = message
        self.status = status


# -- the platforms' keys -------------------------------------------------------


@dataclass
class _KeySet:
    keys: dict[str, Any]
    fetched_at: float


@dataclass
class JwksCache:
    """Platform public keys by registration, JWKS URL and kid, shared by every launch a process validates.

    A fetch holds a lock of its own registration and URL only, under the
    outbound guard's deadline and size cap: one slow or hostile platform
    never delays another's launches.
    """

    http: Outbound
    refetch_seconds: float = 10.0
    fetches: int = 0
    _sets: dict[tuple[int, str], _KeySet] = field(default_factory=dict)
    _locks: dict[tuple[int, str], threading.Lock] = field(default_factory=dict)
    _locks_lock: threading.Lock = field(default_factory=threading.Lock)

    def key(self, platform: Platform, kid: object) -> Any:
        if not isinstance(kid, str) or not kid:
            raise LaunchError("kid", "the id_token header names no key (kid)")
        where = (platform.id, platform.key_set_url)
        known = self._sets.get(where)
        if known is not None and kid in known.keys:
            return known.keys[kid]
        with self._lock(where):
            known = self._sets.get(where)
            if known is None or (kid not in known.keys and time.time() - known.fetched_at >= self.refetch_seconds):
                known = self._fetch(where)
        if kid not in known.keys:
            raise LaunchError("kid", f"no RS256 key {kid!r} in the platform's JWKS ({platform.key_set_url})")
        return known.keys[kid]

    def _lock(self, where: tuple[int, str]) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(where, threading.Lock())

    def _fetch(self, where: tuple[int, str]) -> _KeySet:
        url = where[1]
        self.fetches += 1
        try:
            response = self.http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            listed = response.json()["keys"]
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            log.warning("JWKS of %s not read: %s", url, error)
            raise LaunchError("kid", f"the platform's JWKS could not be read from {url}") from None
        found = {}
        for jwk in listed if isinstance(listed, list) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("alg", ALGORITHM) != ALGORITHM:
                continue
            if jwk.get("use", "sig") != "sig" or not isinstance(jwk.get("kid"), str):
                continue
            try:
                found[jwk["kid"]] = RSAAlgorithm.from_jwk(jwk)
            except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
                continue
        known = _KeySet(found, time.time())
        self._sets[where] = known
        return known


# -- registrations from the database -------------------------------------------


class PlatformRegistration(Registration):
    """pylti1p3's registration, knowing which platform row it came from."""

    def __init__(self, platform: Platform, store: Store):
        self.platform = platform
        key = keys.signing_key(store, platform)
        self.set_issuer(platform.issuer).set_client_id(platform.client_id)
        self.set_auth_login_url(platform.auth_login_url).set_auth_token_url(platform.auth_token_url)
        self.set_key_set_url(platform.key_set_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)
        self.set_tool_private_key(key.private_pem).set_tool_public_key(_public_pem(key.kid, key.private_pem))


@lru_cache(maxsize=16)
def _public_pem(kid: str, private_pem: str) -> str:
    """Loading an RSA key costs milliseconds; a launch should not pay it again."""
    return keys.public_pem(ToolKey(kid, private_pem, {}, 0.0, None))


class ToolConf(ToolConfAbstract):
    """pylti1p3's tool configuration, read from the database: many client ids per issuer."""

    def __init__(self, store: Store):
        super().__init__()
        self.store = store

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> PlatformRegistration | None:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> PlatformRegistration | None:
        platform = self.store.find_platform(iss, client_id)
        return PlatformRegistration(platform, self.store) if platform else None

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Deployment | None:
        platform = self.store.find_platform(iss, client_id)
        if platform is None or not isinstance(deployment_id, str):
            return None
        if not self.store.has_deployment(platform.id, deployment_id):
            return None
        return Deployment().set_deployment_id(deployment_id)


class _DatabaseSession(SessionService):
    """pylti1p3 keeps states and nonces in a Flask session; this tool keeps them in its database.

    The login records the state and nonce itself (:meth:`ToolLogin.redirect_response`)
    and the launch checks them (:class:`ToolLaunch`), so pylti1p3's session
    hooks have nothing to do.
    """

    def save_nonce(self, nonce: str) -> None:
        pass

    def save_state_params(self, state: str, params: dict[str, object]) -> None:
        pass

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        pass

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False

    def save_launch_data(self, key: str, jwt_body: Any) -> None:
        pass


def flask_request(settings: ToolSettings) -> FlaskRequest:
    """The current request for pylti1p3, secure when the tool's public URL is https (a proxy ends TLS)."""
    return FlaskRequest(request_is_secure=settings.https)


# -- the OIDC login ------------------------------------------------------------


class ToolLogin(FlaskOIDCLogin):
    """Third-party initiated login: pylti1p3 builds the redirect, the database records the state."""

    def __init__(self, store: Store, settings: ToolSettings, card_ids: frozenset[str], browser: str):
        request = flask_request(settings)
        super().__init__(request, ToolConf(store), _DatabaseSession(request), FlaskCookieService(request))
        self.store = store
        self.settings = settings
        self.card_ids = card_ids
        self.browser = browser

    def redirect_response(self, client: str) -> Any:
        """The redirect to the platform's authorization endpoint, with the state cookie set.

        ``client`` is the address the login came from: the store bounds the
        states each address holds, and refuses (429) once too many are live.
        """
        target = self._get_request_param("target_link_uri")
        if self.settings.target(target, self.card_ids) is None:
            raise LaunchError("target_link_uri", f"{target!r} is not one of this tool's launch URLs")
        try:
            redirect = self.get_redirect_object(self.settings.url(LAUNCH))
        except (OIDCException, LtiException) as error:
            raise LaunchError("login", str(error)) from None
        query = parse_qs(urlsplit(redirect.get_redirect_url()).query)
        platform = self._registration.platform
        state, nonce = query["state"][0], query["nonce"][0]
        if not self.store.issue_state(state, nonce, self.browser, platform.id, target, client=client):
            raise LaunchError("login", "too many logins are in progress; try again in a few minutes", 429)
        return redirect.do_redirect()


# -- the launch ----------------------------------------------------------------


def client_id_of(body: dict[str, Any]) -> str:
    """The client id a token is for: its only audience, or azp when aud has several values."""
    aud, azp = body.get("aud"), body.get("azp")
    if isinstance(aud, str) and aud:
        audiences = [aud]
    elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        audiences = aud
    else:
        raise LaunchError("aud", "missing, or not a string or a list of strings")
    if azp is not None and azp not in audiences:
        raise LaunchError("azp", f"{azp!r} is not among the audiences")
    if len(audiences) > 1:
        if azp is None:
            raise LaunchError("azp", "aud has several values, so azp must name the tool's client id")
        return azp
    return audiences[0]


def check_message(body: dict[str, Any]) -> str:
    """The LTI claims every launch must carry; returns the message type."""
    message_type = body.get(LTI + "message_type")
    if message_type not in MESSAGE_TYPES:
        raise LaunchError(
            "message_type", f"{message_type!r} is not a launch this tool handles ({', '.join(MESSAGE_TYPES)})"
        )
    if body.get(LTI + "version") != "1.3.0":
        raise LaunchError("version", f"{body.get(LTI + 'version')!r}: only LTI 1.3.0 is supported")
    roles = body.get(LTI + "roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise LaunchError("roles", "missing or not a list of role URIs")
    if not isinstance(body.get("sub"), str) or not body["sub"]:
        raise LaunchError("sub", "the launch names no user")
    if message_type == RESOURCE_LINK:
        link = body.get(LTI + "resource_link")
        if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
            raise LaunchError("resource_link.id", "missing from a resource link launch")
    return message_type


class ToolLaunch(FlaskMessageLaunch):
    """One launch, validated by pylti1p3 and by this module's checks, then stored.

    After :meth:`validate`, ``launch_id`` names the stored launch and
    ``target`` is what the target link URI asked for ("" or a card id).
    """

    def __init__(
        self, store: Store, settings: ToolSettings, jwks: JwksCache, card_ids: frozenset[str], browser: str | None
    ):
        request = flask_request(settings)
        super().__init__(request, ToolConf(store), _DatabaseSession(request), FlaskCookieService(request))
        self.store = store
        self.settings = settings
        self.jwks = jwks
        self.card_ids = card_ids
        self.browser = browser
        self.issued: IssuedState | None = None
        self.launch_id = ""
        self.target = ""

    def validate(self) -> ToolLaunch:
        """Every check, each relying only on those before it; the first failure is reported."""
        self._validated = True
        try:
            self.validate_state()
            _pylti("id_token", self.validate_jwt_format)
            self._check_header()
            self.validate_registration()
            self.validate_jwt_signature()
            self.validate_nonce()
            self.validate_deployment()
            self.validate_message()
            self.save_launch_data()
        except BaseException:
            self._validated = False
            raise
        return self

    def validate_state(self) -> ToolLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LaunchError("state", "missing")
        self.issued = self.store.take_state(state)
        if self.issued is None:
            raise LaunchError("state", "unknown, expired or already used")
        if (
            not self.browser
            or digest(self.browser) != self.issued.browser
            or self._cookie_service.get_cookie(state) != state
        ):
            raise LaunchError("state", "issued to another browser: its cookie is missing or different")
        return self

    def _check_header(self) -> None:
        header = self._jwt.get("header")
        if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
            alg = header.get("alg") if isinstance(header, dict) else None
            raise LaunchError("alg", f"{alg!r}: only RS256 is accepted")
        if not isinstance(self._jwt.get("body"), dict):
            raise LaunchError("id_token", "its payload is not a JSON object")

    def get_client_id(self) -> str:
        return client_id_of(self._jwt["body"])

    def validate_registration(self) -> ToolLaunch:
        iss = self._jwt["body"].get("iss")
        if not isinstance(iss, str) or not iss:
            raise LaunchError("iss", "missing")
        client_id = self.get_client_id()
        try:
            super().validate_registration()
        except LtiException:
            if any(p.issuer == iss for p in self.store.platforms()):
                raise LaunchError("aud", f"{client_id!r} is not this tool's client id at {iss}") from None
            raise LaunchError("iss", f"no platform registered with issuer {iss}") from None
        assert self.issued is not None
        if self._registration.platform.id != self.issued.platform_id:
            raise LaunchError("iss", "the id_token comes from another registration than the login")
        return self

    def validate_jwt_signature(self) -> ToolLaunch:
        registration = self._registration
        key = self.jwks.key(registration.platform, self._jwt["header"].get("kid"))
        try:
            jwt.decode(
                self._get_id_token(),
                key,
                algorithms=[ALGORITHM],
                audience=registration.get_client_id(),
                issuer=registration.get_issuer(),
                leeway=self.settings.leeway,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise LaunchError("exp", "the id_token has expired") from None
        except jwt.ImmatureSignatureError:
            raise LaunchError("iat", "the id_token is issued in the future") from None
        except jwt.InvalidIssuedAtError:
            raise LaunchError("iat", "not a time") from None
        except jwt.InvalidAudienceError:
            raise LaunchError("aud", "the id_token is not for this tool's client id") from None
        except jwt.InvalidIssuerError:
            raise LaunchError("iss", "not the registration's issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise LaunchError(error.claim, "missing from the id_token") from None
        except jwt.InvalidSignatureError:
            raise LaunchError("signature", "the id_token's signature does not verify") from None
        except jwt.InvalidTokenError as error:
            raise LaunchError("id_token", str(error)) from None
        return self

    def validate_deployment(self) -> ToolLaunch:
        deployment_id = self._jwt["body"].get(LTI + "deployment_id")
        if not isinstance(deployment_id, str) or not deployment_id:
            raise LaunchError("deployment_id", "missing")
        if len(deployment_id) > 255:
            raise LaunchError("deployment_id", "longer than 255 characters")
        platform = self._registration.platform
        if platform.deployments_policy == "auto" and not self.store.has_deployment(platform.id, deployment_id):
            # Canvas makes a new deployment id each time the tool is installed in a course or
            # sub-account; the id_token that names it is the platform's own, signature checked.
            self.store.add_deployment(platform.id, deployment_id)
            log.info("platform %s: deployment %s recorded on its first launch", platform.name, deployment_id)
        try:
            super().validate_deployment()
        except LtiException:
            raise LaunchError("deployment_id", f"{deployment_id!r} is not a deployment of this platform") from None
        return self

    def validate_nonce(self) -> ToolLaunch:
        nonce = self._jwt["body"].get("nonce")
        assert self.issued is not None
        if not isinstance(nonce, str) or not nonce:
            raise LaunchError("nonce", "missing")
        if nonce != self.issued.nonce:
            raise LaunchError("nonce", "not the nonce issued with this state")
        if not self.store.use_nonce(nonce):
            raise LaunchError("nonce", "already used: this id_token was replayed")
        return self

    def validate_message(self) -> ToolLaunch:
        body = self._jwt["body"]
        check_message(body)
        target = body.get(LTI + "target_link_uri")
        asked = self.settings.target(target, self.card_ids)
        if asked is None:
            raise LaunchError("target_link_uri", f"{target!r} is not one of this tool's launch URLs")
        assert self.issued is not None
        if target != self.issued.target_link_uri:
            raise LaunchError("target_link_uri", "not the one the login was for")
        self.target = asked
        _pylti("message", super().validate_message)
        return self

    def save_launch_data(self) -> ToolLaunch:
        body = self._jwt["body"]
        assert self.browser is not None
        custom = body.get(LTI + "custom")
        card = self.target or (custom.get("card") if isinstance(custom, dict) else None)
        self.launch_id = self.store.save_launch(
            platform_id=self._registration.platform.id,
            deployment_id=body[LTI + "deployment_id"],
            user_id=body["sub"],
            browser=self.browser,
            message_type=body[LTI + "message_type"],
            card_id=card if isinstance(card, str) and card in self.card_ids else None,
            claims=body,
        )
        return self


def _pylti(check: str, step: Any) -> None:
    """Run one of pylti1p3's own checks, its failure reported under ``check``."""
    try:
        step()
    except LtiException as error:
        raise LaunchError(check, str(error)) from None
