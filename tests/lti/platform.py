"""A small LTI 1.3 platform for the tests, built on lti1p3platform and served on 127.0.0.1.

lti1p3platform implements the platform side (launch messages, the access
token grant, Deep Linking response checks, the AGS service plumbing) as
abstract classes; this module fills them in with an in-memory gradebook and a
Flask app, adds LTI Dynamic Registration (which lti1p3platform lacks), and
lets a test break the score endpoint on purpose (500, 429, a hang, a stall
until released) to watch the tool deliver every grade exactly once.

A :class:`Browser` plays the learner's browser: it follows the tool's
redirect to the platform and posts the auto-submitted launch form back.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, request
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.lineitem import TLineItem
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, TPage
from werkzeug.serving import make_server

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@functools.cache
def platform_key(n: int) -> str:
    """The n-th platform key of this test run: made once, as a platform keeps its keys."""
    return private_key_pem()


def public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class ServedApp:
    """A WSGI app on a free port of 127.0.0.1, in a thread, until :meth:`stop`."""

    def __init__(self, app: Any = None):
        self.app = app
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _dispatch(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- lti1p3platform's abstract classes, filled in -----------------------------


class FlaskPlatformRequest(Request):
    def build_metadata(self, req: Any) -> TRequest:
        return {
            "method": req.method,
            "form_data": req.form.to_dict(),
            "get_data": req.args.to_dict(),
            "headers": dict(req.headers),
            "content_type": req.content_type,
            "path": req.path,
            "json": req.get_json(silent=True),
        }


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self.platform: TestPlatform = kwargs["platform"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self.platform.registration()

    def get_jwks(self) -> dict[str, Any]:
        return {"keys": [Registration.get_jwk(public_key_pem(pem)) for pem in self.platform.keys]}


class PlatformLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class PlatformLaunch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, req: Request, conf: PlatformConf, spec: LaunchSpec):
        super().__init__(req, conf)
        self.spec = spec

    def validate_preflight_response(self, preflight_response: dict[str, Any]) -> None:
        super().validate_preflight_response(preflight_response)
        # A real platform sends the id_token only to a redirect URI registered for the tool.
        if preflight_response.get("redirect_uri") not in self._platform_config.platform.redirect_uris:
            raise ValueError(f"redirect_uri {preflight_response.get('redirect_uri')} is not registered")

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        spec = self.spec
        self.set_launch_url(spec.target_link_uri)
        self.set_user_data(spec.user_id, spec.roles, full_name=spec.name)
        self.set_launch_context_claim("course-1", context_title="Course 1")
        if spec.deep_linking:
            self.set_dl(
                self.platform.url("/deep_link_return"),
                title="Pick cards",
                accept_types={"ltiResourceLink"},
                extra_data={"opaque": "kept by the tool"},
            )
        else:
            self.set_resource_link_claim(spec.resource_link_id, title="A card")
            if spec.ags:
                self.set_ags(**spec.ags)
        if spec.extra_claims:
            self.set_extra_claims(spec.extra_claims)

    @property
    def platform(self) -> TestPlatform:
        return self._platform_config.platform

    def generate_launch_request(self) -> Any:
        # lti1p3platform sends a deep linking request only to a separate deep link URL;
        # the tool takes both at one redirect URI, so the message type is set here.
        if not self.spec.deep_linking:
            return super().generate_launch_request()
        message, state = self.get_launch_data()
        message[LTI + "message_type"] = "LtiDeepLinkingRequest"
        message.update(self._deep_linking_launch_data or {})
        assert self._registration is not None
        return {"state": state, "id_token": self._registration.platform_encode_and_sign(message, expiration=300)}

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{launch_data[name]}">' for name in ("id_token", "state")
        )
        return f'<form method="post" action="{launch_data["launch_url"]}">{fields}</form>'


class PlatformAgs(AssignmentsGradesService):
    """The gradebook behind the AGS endpoints."""

    def __init__(self, req: Request, conf: PlatformConf):
        super().__init__(req, conf, conf.platform.url("/lineitems"))
        self.platform: TestPlatform = conf.platform

    def find_lineitems(
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> TPage:
        items = [
            item
            for item in self.platform.line_items.values()
            if (resource_link_id is None or item.get("resourceLinkId") == resource_link_id)
            and (resource_id is None or item.get("resourceId") == resource_id)
        ]
        return {"content": items, "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> TLineItem:
        try:
            return self.platform.line_items[self.platform.url(f"/lineitems/{line_item_id}")]
        except KeyError:
            raise LineItemNotFoundException from None

    def create_lineitem(self, creation_data: TLineItem) -> TLineItem:
        return self.platform.add_line_item(dict(creation_data))

    def update_lineitem(self, update_data: TLineItem) -> TLineItem:
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str | None = None
    ) -> TPage:
        raise NotImplementedError

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        return self.platform.record_score(self.find_lineitem(line_item_id)["id"], score)


# -- the platform ----------------------------------------------------------------


@dataclass
class LaunchSpec:
    """One launch the platform will make: who, which link, which services."""

    target_link_uri: str
    user_id: str = "learner-1"
    roles: list[str] = field(default_factory=lambda: [LEARNER])
    name: str = "Ada Learner"
    resource_link_id: str = "link-1"
    deep_linking: bool = False
    #: lti1p3platform's set_ags arguments; None: no AGS claim.
    ags: dict[str, Any] | None = None
    extra_claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class Received:
    """A score the gradebook accepted."""

    line_item: str
    body: dict[str, Any]


class TestPlatform:
    """An LMS: one tool registration, a gradebook, and switches to make it misbehave."""

    __test__ = False

    def __init__(self, product: str = "moodle", client_id: str = "tool-client", deployment_id: str = "deployment-1"):
        self.product = product
        self.client_id = client_id
        self.deployment_id = deployment_id
        self.keys = [platform_key(0)]
        self.signing_key = self.keys[0]
        self.tool_login_url = ""
        self.tool_jwks_url = ""
        self.redirect_uris: list[str] = []
        self.line_items: dict[str, dict[str, Any]] = {}
        self.received: list[Received] = []
        self.score_posts: list[dict[str, Any]] = []
        self.token_requests: list[dict[str, Any]] = []
        self.deep_link_responses: list[list[dict[str, Any]]] = []
        self.registrations: list[dict[str, Any]] = []
        self.registration_token = secrets.token_urlsafe(12)
        #: What this platform's OpenID configuration says differently (a rogue's lies).
        self.openid_overrides: dict[str, Any] = {}
        #: What the next score posts meet, in order: a status code, "hang" (answer after
        #: ``hang_seconds``, score recorded), or "stall" (wait for ``release``, score recorded).
        self.faults: deque[int | str] = deque()
        self.hang_seconds = 3.0
        self.release = threading.Event()
        self.stalled = threading.Event()
        self._specs: dict[str, LaunchSpec] = {}
        self._lock = threading.Lock()
        self.served = ServedApp(self._app())
        self.issuer = self.served.url

    def url(self, path: str) -> str:
        return self.served.url + path

    def stop(self) -> None:
        self.release.set()
        self.served.stop()

    def connect(self, tool_url: str, tool_jwks_url: str) -> None:
        """Register the tool the way an administrator would, by hand."""
        self.tool_login_url = tool_url + "/lti/login"
        self.tool_jwks_url = tool_jwks_url
        self.redirect_uris = [tool_url + "/lti/launch"]

    def register_with(self, store: Any, settings: Any, name: str = "test", **options: Any) -> Any:
        """Both sides of a manual registration: this platform in the tool's store, the tool in this platform."""
        registered = store.add_platform(
            name=name,
            kind=self.product,
            issuer=self.issuer,
            client_id=self.client_id,
            auth_login_url=self.url("/auth"),
            auth_token_url=self.url("/token"),
            key_set_url=self.url("/jwks"),
            deployments=[self.deployment_id],
            **options,
        )
        self.connect(settings.base_url, settings.jwks_url(registered.key_set_id))
        return registered

    def registration(self) -> Registration:
        platform_key = self.signing_key
        return (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_oidc_login_url(self.tool_login_url)
            .set_tool_key_set_url(self.tool_jwks_url)
            .set_platform_public_key(public_key_pem(platform_key))
            .set_platform_private_key(platform_key)
        )

    def conf(self) -> PlatformConf:
        conf = PlatformConf(platform=self)
        conf.get_registration()
        return conf

    @property
    def kid(self) -> str:
        return Registration.get_jwk(public_key_pem(self.signing_key))["kid"]

    def rotate_key(self) -> None:
        self.signing_key = platform_key(len(self.keys))
        self.keys.append(self.signing_key)

    def sign(self, claims: dict[str, Any], key: str | None = None, headers: dict[str, Any] | None = None) -> str:
        """An id_token as the platform would sign it (or a forger, with another key, header or claim types)."""
        payload = json.dumps(claims).encode()  # signed as given: PyJWT's encode would refuse claims of odd types
        return jwt.api_jws.encode(
            payload, key or self.signing_key, algorithm="RS256", headers=headers or {"kid": self.kid}
        )

    # -- launches -----------------------------------------------------------

    def login_url(self, spec: LaunchSpec) -> str:
        """The third-party initiated login the platform sends the browser to."""
        hint = secrets.token_urlsafe(8)
        self._specs[hint] = spec
        login = PlatformLogin(None, self.conf())
        login.set_lti_message_hint(hint=hint)
        login.set_launch_url(spec.target_link_uri)
        return login.prepare_preflight_url(spec.user_id)

    def claims(self, spec: LaunchSpec, issued_nonce: str, /, **overrides: Any) -> dict[str, Any]:
        """A valid launch body for ``spec``, for tests that forge one part of it."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "azp": self.client_id,
            "sub": spec.user_id,
            "iat": now,
            "exp": now + 300,
            "nonce": issued_nonce,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": spec.target_link_uri,
            LTI + "roles": spec.roles,
            LTI + "resource_link": {"id": spec.resource_link_id},
        }
        body.update(overrides)
        return {name: value for name, value in body.items() if value is not None}

    # -- the gradebook ------------------------------------------------------

    def add_line_item(self, data: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            item = {**data, "id": self.url(f"/lineitems/{len(self.line_items) + 1}")}
            self.line_items[item["id"]] = item
        return item

    def record_score(self, line_item: str, score: dict[str, Any]) -> UpdateScoreStatus:
        """Keep a score unless one as new or newer is there: what AGS asks, and Moodle's 409."""
        stamp = datetime.fromisoformat(score["timestamp"])
        with self._lock:
            for earlier in self.received:
                same = earlier.line_item == line_item and earlier.body["userId"] == score["userId"]
                if same and datetime.fromisoformat(earlier.body["timestamp"]) >= stamp:
                    return UpdateScoreStatus.OLD_TIMESTAMP
            self.received.append(Received(line_item, score))
        return UpdateScoreStatus.SUCCESS

    def scores_for(self, user_id: str) -> list[Received]:
        return [r for r in self.received if r.body["userId"] == user_id]

    # -- the HTTP side --------------------------------------------------------

    def _app(self) -> Flask:
        app = Flask("test-platform")

        def reply(result: Any) -> Response:
            if result.code >= 400:
                return jsonify({"error": result.message}), result.code
            body = result.result
            if isinstance(body, dict) and "content" in body:
                body = body["content"]
            return Response(json.dumps(body), result.code, mimetype=result.media_type)

        @app.get("/auth")
        def authorize() -> Any:
            params = request.args.to_dict()
            spec = self._specs.pop(params.get("lti_message_hint", ""), None)
            if spec is None or params.get("login_hint") != spec.user_id:
                return "unknown launch", 400
            launch = PlatformLaunch(FlaskPlatformRequest(request), self.conf(), spec)
            try:
                return launch.lti_launch()
            except Exception as error:  # a refused authorization request
                return f"authorization refused: {type(error).__name__}: {error}", 400

        @app.post("/token")
        def token() -> Any:
            self.token_requests.append(request.form.to_dict())
            try:
                return jsonify(self.conf().get_access_token(request.form.to_dict()))
            except Exception as error:
                return jsonify({"error": "invalid_client", "error_description": str(error)}), 400

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(self.conf().get_jwks())

        @app.route("/lineitems", methods=["GET", "POST"])
        def line_items() -> Any:
            service = PlatformAgs(FlaskPlatformRequest(request), self.conf())
            if request.method == "POST":
                return reply(service.handle_resp(service.handle_create_lineitem))
            return reply(service.handle_resp(service.handle_get_lineitems))

        @app.post("/lineitems/<int:item>/scores")
        def scores(item: int) -> Any:
            self.score_posts.append(request.get_json(silent=True) or {})
            fault = self.faults.popleft() if self.faults else None
            if isinstance(fault, int):
                headers = {"Retry-After": "0"} if fault == 429 else {}
                return jsonify({"error": f"injected {fault}"}), fault, headers
            if fault == "hang":
                time.sleep(self.hang_seconds)
            if fault == "stall":
                self.stalled.set()
                self.release.wait(30)
            service = PlatformAgs(FlaskPlatformRequest(request), self.conf())
            if request.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                return jsonify({"error": "wrong content type"}), 415
            return reply(service.handle_resp(service.handle_update_score, line_item_id=str(item)))

        @app.post("/deep_link_return")
        def deep_link_return() -> Any:
            try:
                items = self.conf().validate_deeplinking_resp(request.form.to_dict())
            except Exception as error:
                return f"deep linking response refused: {error}", 400
            self.deep_link_responses.append(items)
            for item in items:
                if "lineItem" in item:
                    self.add_line_item({**item["lineItem"], "resourceLinkId": f"dl-{len(self.line_items) + 1}"})
            return "cards added"

        @app.get("/.well-known/openid-configuration")
        def openid_configuration() -> Any:
            return jsonify(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": self.url("/auth"),
                    "token_endpoint": self.url("/token"),
                    "jwks_uri": self.url("/jwks"),
                    "registration_endpoint": self.url("/register"),
                    "scopes_supported": [
                        "openid",
                        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                    ],
                    "response_types_supported": ["id_token"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "claims_supported": ["iss", "sub", "name"],
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": self.product,
                        "version": "1.0",
                        "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
                    },
                    **self.openid_overrides,
                }
            )

        @app.post("/register")
        def register() -> Any:
            if request.headers.get("Authorization") != f"Bearer {self.registration_token}":
                return jsonify({"error": "invalid registration token"}), 401
            body = request.get_json(silent=True) or {}
            self.registrations.append(body)
            tool = body.get("https://purl.imsglobal.org/spec/lti-tool-configuration", {})
            if body.get("token_endpoint_auth_method") != "private_key_jwt" or not tool.get("target_link_uri"):
                return jsonify({"error": "invalid_client_metadata"}), 400
            self.client_id = self.openid_overrides.get("client_id", "dr-" + secrets.token_hex(4))
            self.deployment_id = "dr-deployment-1"
            self.tool_login_url = body["initiate_login_uri"]
            self.tool_jwks_url = body["jwks_uri"]
            self.redirect_uris = body["redirect_uris"]
            answer = {**body, "client_id": self.client_id}
            answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = {
                **tool,
                "deployment_id": self.deployment_id,
            }
            return jsonify(answer)

        return app


# -- the learner's browser -------------------------------------------------------


def form_of(html: str) -> tuple[str, dict[str, list[str]]]:
    """The first form of a page: its action and hidden fields (what a browser would post)."""
    action = re.search(r'<form[^>]*action="([^"]*)"', html)
    assert action, f"no form in: {html[:300]}"
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html):
        fields.setdefault(unescape(name), []).append(unescape(value))
    return unescape(action.group(1)), fields


@dataclass
class Login:
    """What the tool's login answered: where it sends the browser, with which state and nonce."""

    state: str
    nonce: str
    redirect_uri: str


class Browser:
    """A learner's browser: a cookie jar that follows redirects and posts launch forms."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def launch(self, platform: TestPlatform, spec: LaunchSpec) -> requests.Response:
        """The whole launch: login at the tool, authorization at the platform, the id_token posted back."""
        answer = self.session.get(platform.login_url(spec), timeout=10)
        assert answer.status_code == 200, answer.text
        action, fields = form_of(answer.text)
        return self.session.post(action, data=fields, timeout=10)

    def login(self, platform: TestPlatform, spec: LaunchSpec) -> Login:
        """Only the tool's login, for a test that then posts an id_token of its own making."""
        answer = self.session.get(platform.login_url(spec), allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        return Login(query["state"][0], query["nonce"][0], query["redirect_uri"][0])

    def post_id_token(self, login: Login, id_token: str, state: str | None = None) -> requests.Response:
        return self.session.post(
            login.redirect_uri, data={"id_token": id_token, "state": state or login.state}, timeout=10
        )

    def submit(self, page: requests.Response, answers: dict[str, str | list[str]]) -> requests.Response:
        """Post the card page's quiz form with ``answers`` (control name -> value or values)."""
        action, fields = form_of(page.text)
        data = {name: values for name, values in fields.items() if name == "launch"}
        data.update(answers)
        return self.session.post(action, data=data, timeout=10)
