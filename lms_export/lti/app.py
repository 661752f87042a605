"""The Flask application: the tool's endpoints, each a few lines over the modules that do the work.

=========================================  ==========================================================
``GET|POST /lti/login``                    OIDC login initiation (third-party initiated login)
``POST /lti/launch``                       the launch: a card (resource link) or the card picker (deep linking)
``GET /lti/jwks/<key_set_id>``             a registration's public keys (``/lti/jwks``: the pre-1.0 shared set)
``GET|POST /lti/register/<invitation>``    LTI Dynamic Registration 1.0
``POST /lti/deeplink``                     the picked cards, answered to the platform
``POST /lti/view``                         the card page again, for the same launch ("Try again")
``POST /lti/submit``                       the quiz's answers: scored, stored, grade queued
``POST /lti/grades/retry``                 an instructor sends failed grades again
``GET /lti/card/<id>``                     a card's target link URI (launched, never opened directly)
``GET /lti/config/canvas/<key_set_id>.json`` a Canvas registration's developer key JSON
``GET /lti/assets/<name>``                 the card pages' stylesheet and script, the tool's own
``GET /lti/media/<path>``                  the cards' images
``GET /lti/health``                        ``ok``, for a load balancer or a start-up script
=========================================  ==========================================================

Every refusal is a 4xx page saying what failed. Pages live in an LMS iframe,
so the cookies that bind a launch to its browser are ``Secure`` and
``SameSite=None`` whenever the tool's public URL is https.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, jsonify, request, send_file
from pylti1p3.exception import LtiException
from pylti1p3.roles import DesignerRole, TeacherRole, TeachingAssistantRole
from werkzeug.exceptions import HTTPException

from lms_export import page, templating
from lms_export.lti import config, deeplink, grading, keys, registration
from lms_export.lti.catalog import Catalog, gradable_points
from lms_export.lti.config import ToolSettings
from lms_export.lti.outbound import Outbound, OutboundPolicy
from lms_export.lti.outbox import Deliverer, DeliverySettings, Worker
from lms_export.lti.security import (
    DEEP_LINKING,
    LTI,
    RESOURCE_LINK,
    JwksCache,
    LaunchError,
    PlatformRegistration,
    ToolLaunch,
    ToolLogin,
)
from lms_export.lti.store import (
    FAILED,
    PENDING,
    AttemptLimitReached,
    GradeTarget,
    Launch,
    Platform,
    Store,
    digest,
)
from lms_export.model import Card, QuizRules

log = logging.getLogger("lms_export.lti")

BROWSER_COOKIE = "lms_export_browser"
#: A launch accepts submissions this long; after that the learner launches again from the LMS.
LAUNCH_SECONDS = 12 * 3600
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
ASSETS = {"lti.css", "lti.js"}
#: The states pylti1p3's login makes, and names its cookies after.
STATE = re.compile(r"state-[0-9a-f-]{36}")
#: The tool's own pages run its one script and load nothing from elsewhere but images.
PAGE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; base-uri 'none'"
#: The card page's policy, which it also states in a meta tag; only a header can say frame-ancestors.
CARD_PAGE_POLICY = f"{PAGE_POLICY}; frame-src {' '.join(page.VIDEO_HOSTS)}; form-action 'self'"
#: Canvas Cloud's issuers. Its courses are not framed from there but from each school's host under instructure.com.
CANVAS_CLOUD = frozenset(issuer for issuer, _ in config.CANVAS.values())


@dataclass
class Tool:
    """Everything one worker process needs; built once per process by :func:`create_app`'s caller."""

    store: Store
    catalog: Catalog
    settings: ToolSettings
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    http: Outbound = field(init=False)
    jwks: JwksCache = field(init=False)
    worker: Worker | None = None

    def __post_init__(self) -> None:
        self.http = Outbound(OutboundPolicy(self.settings.http_timeout, insecure_local=self.settings.insecure_local))
        self.jwks = JwksCache(self.http, self.settings.jwks_refetch_seconds)

    def start_delivery(self) -> Worker:
        """Start this process's outbox worker, under the same outbound rules with the delivery's own deadline."""
        policy = OutboundPolicy(self.delivery.timeout, insecure_local=self.settings.insecure_local)
        self.worker = Worker(Deliverer(self.store, self.delivery, Outbound(policy))).start()
        return self.worker


class Refusal(Exception):
    """A request refused with a page that says why."""

    def __init__(self, status: int, message: str, check: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.status, self.message, self.check, self.hint = status, message, check, hint


def is_instructor(claims: dict[str, Any]) -> bool:
    """Instructors, teaching assistants and content developers of the course see the grades."""
    return any(role(claims).check() for role in (TeacherRole, TeachingAssistantRole, DesignerRole))


def grade_target(launch: Launch, card: Card, settings: ToolSettings, platform: Platform) -> GradeTarget | None:
    """Where this launch's grades go; None when the platform gave no way to post a score.

    The grade service URLs come from the launch, and are kept only on the
    registration's own hosts: a bearer token is never sent anywhere else.
    """
    endpoint = launch.claims.get(AGS_ENDPOINT)
    if not isinstance(endpoint, dict) or gradable_points(card) <= 0:
        return None
    scopes = [s for s in endpoint.get("scope") or [] if isinstance(s, str)]
    lineitem, lineitems = (endpoint.get(name) for name in ("lineitem", "lineitems"))
    for name, url in (("lineitem", lineitem), ("lineitems", lineitems)):
        if url is not None and not platform.allows(url):
            log.warning("launch from %s: its %s URL %r is not on the registration's hosts", platform.name, name, url)
    lineitem, lineitems = (u if platform.allows(u) else None for u in (lineitem, lineitems))
    if not (lineitem or lineitems) or config.AGS + "score" not in scopes:
        return None
    return GradeTarget(
        lineitem_url=lineitem,
        lineitems_url=lineitems,
        resource_link_id=launch.claims[LTI + "resource_link"]["id"],
        card_id=card.id,
        label=deeplink.label(card, platform.kind),
        score_maximum=gradable_points(card),
        scopes=tuple(scopes),
        submission_url=settings.card_url(card.id),
    )


def create_app(tool: Tool) -> Flask:
    """The tool as a WSGI application."""
    app = _ToolFlask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    store, catalog, settings = tool.store, tool.catalog, tool.settings
    templates = templating.environment("lti")
    assets = settings.url(config.ASSETS)

    def render(template: str, status: int = 200, form_action: str = "'self'", **context: Any) -> Response:
        html = templates.get_template(template).render(assets=assets, title=config.TITLE, **context)
        response = Response(html, status, mimetype="text/html")
        response.headers["Content-Security-Policy"] = f"{PAGE_POLICY}; form-action {form_action}"
        return response

    def set_browser_cookie(response: Response, value: str) -> None:
        response.set_cookie(
            BROWSER_COOKIE,
            value,
            max_age=30 * 86400,
            path="/lti/",
            httponly=True,
            secure=settings.https,
            samesite="None" if settings.https else "Lax",
        )

    def browser() -> str | None:
        return request.cookies.get(BROWSER_COOKIE)

    def own_launch(message_type: str) -> Launch:
        """The launch a form names, if this browser made it: a learner submits only for their own launch."""
        launch = store.launch(request.form.get("launch", ""))
        if launch is None:
            raise Refusal(404, "no such launch", "launch", "Open the card again from your course.")
        cookie = browser()
        if cookie is None or digest(cookie) != launch.browser:
            raise Refusal(403, "this launch was made by another browser or learner", "launch")
        if launch.message_type != message_type:
            raise Refusal(400, f"this launch is a {launch.message_type}, not a {message_type}", "launch")
        if time.time() - launch.created_at > LAUNCH_SECONDS:
            raise Refusal(403, "this launch has expired", "launch", "Open the card again from your course.")
        return launch

    def registered(launch: Launch) -> Platform:
        platform = store.platform(launch.platform_id)
        if platform is None:
            raise Refusal(403, "the platform of this launch is no longer registered with the tool", "platform")
        return platform

    def launch_card(launch: Launch) -> Card:
        card = catalog.card(launch.card_id)
        if card is None:
            raise Refusal(
                404, "this link names no card this tool serves", "card", "Ask your instructor to choose the card again."
            )
        return card

    def card_page(launch: Launch, card: Card) -> Response:
        produce = page.render_page(
            catalog.deck_of(card.id),
            (card,),
            root=settings.url("/lti/"),
            related_href=lambda card_id: None,
            submission=page.Submission(settings.url(config.SUBMIT), {"launch": launch.id}),
        )
        return Response(produce(), mimetype="text/html")

    def instructor_page(launch: Launch, card: Card) -> Response:
        link = launch.claims.get(LTI + "resource_link", {}).get("id")
        waiting = [
            d
            for d in store.deliveries((PENDING, FAILED), platform_id=launch.platform_id)
            if d.card_id == card.id and d.resource_link_id == link
        ]
        return render(
            "instructor.html.j2",
            card=card,
            deliveries=waiting,
            launch_id=launch.id,
            retry=settings.url("/lti/grades/retry"),
            view=settings.url("/lti/view"),
        )

    @app.errorhandler(Refusal)
    def refused(error: Refusal) -> Response:
        return render(
            "error.html.j2",
            error.status,
            heading="Not possible",
            check=error.check,
            message=error.message,
            hint=error.hint,
        )

    @app.errorhandler(LaunchError)
    def launch_refused(error: LaunchError) -> Response:
        log.info("launch refused: %s", error)
        return render(
            "error.html.j2",
            error.status,
            heading="This launch was refused",
            check=error.check,
            message=error.message,
            hint=_COOKIE_HINT if error.check == "state" else _LAUNCH_HINT,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        return render(
            "error.html.j2", error.code or 500, heading=error.name, check=None, message=error.description, hint=None
        )

    @app.route(config.LOGIN, methods=["GET", "POST"])
    def login() -> Response:
        value = browser() or secrets.token_urlsafe(24)
        # The peer's own address: X-Forwarded-For is whatever the client chose to write.
        response = ToolLogin(store, settings, catalog.card_ids, value).redirect_response(request.remote_addr or "")
        set_browser_cookie(response, value)
        return response

    @app.post(config.LAUNCH)
    def launch() -> Response:
        try:
            response = launched()
        except LaunchError as error:
            response = launch_refused(error)
        except Refusal as error:
            response = refused(error)
        # pylti1p3's state cookie has done its work, used or not: a browser that launches
        # often would otherwise pile them up until its requests are too large to serve.
        state = request.form.get("state", "")
        if STATE.fullmatch(state):
            response.delete_cookie(f"lti1p3-{state}", path="/", secure=settings.https, httponly=True)
        return response

    def launched() -> Response:
        message = ToolLaunch(store, settings, tool.jwks, catalog.card_ids, browser())
        try:
            message.validate()
        except (LtiException, ValueError, TypeError, KeyError, AttributeError) as error:
            raise LaunchError("id_token", f"could not be read ({error})") from None
        stored = store.launch(message.launch_id)
        assert stored is not None
        if stored.message_type == DEEP_LINKING:
            return render(
                "picker.html.j2",
                decks=catalog.decks,
                launch_id=stored.id,
                action=settings.url(config.DEEP_LINK),
                multiple=deeplink.deep_link_settings(stored).get("accept_multiple", True) not in (False, "false"),
                graded=True,
                points=gradable_points,
            )
        card = launch_card(stored)
        return instructor_page(stored, card) if is_instructor(stored.claims) else card_page(stored, card)

    @app.post(config.DEEP_LINK)
    def deep_link() -> Response:
        launch = own_launch(DEEP_LINKING)
        chosen = [catalog.card(card_id) for card_id in request.form.getlist("card")]
        cards = [card for card in chosen if card is not None]
        if not cards or len(cards) != len(chosen):
            raise Refusal(400, "choose at least one card from the list", "card")
        if not store.answer_launch(launch.id):
            raise Refusal(409, "these cards were already sent to the course", "launch")
        token = deeplink.response_jwt(PlatformRegistration(registered(launch), store), launch, settings, cards)
        return_url = deeplink.deep_link_settings(launch).get("deep_link_return_url")
        return render(
            "autopost.html.j2",
            form_action=_origin(return_url),
            heading="Adding the cards",
            action=return_url,
            fields={"JWT": token},
        )

    def quiz_rules(card: Card) -> QuizRules:
        return catalog.deck_of(card.id).quiz_rules(card)

    def attempts_left(launch: Launch, rules: QuizRules) -> int | None:
        """What the launch may still submit; None when the card sets no limit."""
        if rules.max_attempts is None:
            return None
        return max(rules.max_attempts - store.attempt_count(launch), 0)

    @app.post("/lti/view")
    def view() -> Response:
        launch = own_launch(RESOURCE_LINK)
        card = launch_card(launch)
        rules = quiz_rules(card)
        if attempts_left(launch, rules) == 0:
            raise _attempts_used(rules)
        return card_page(launch, card)

    @app.post(config.SUBMIT)
    def submit() -> Response:
        launch = own_launch(RESOURCE_LINK)
        card = launch_card(launch)
        rules = quiz_rules(card)
        graded = grading.grade(card, request.form)
        target = grade_target(launch, card, settings, registered(launch))
        try:
            store.record_attempt(
                launch, graded.answers(), graded.score, graded.maximum, target, max_attempts=rules.max_attempts
            )
        except AttemptLimitReached:
            raise _attempts_used(rules) from None
        if target is not None and tool.worker is not None:
            tool.worker.wake()
        return render(
            "submitted.html.j2",
            card=card,
            graded=graded,
            sent=target is not None,
            launch_id=launch.id,
            again=settings.url("/lti/view"),
            results_shown=rules.results_shown(datetime.now(timezone.utc)),
            results_due=_utc(rules.due) if rules.show_results == "after_due" else None,
            attempts_left=attempts_left(launch, rules),
        )

    @app.post("/lti/grades/retry")
    def retry_grades() -> Response:
        launch = own_launch(RESOURCE_LINK)
        if not is_instructor(launch.claims):
            raise Refusal(403, "only instructors can send grades again", "roles")
        card = launch_card(launch)
        link = launch.claims[LTI + "resource_link"]["id"]
        failed = [
            d.id
            for d in store.deliveries((FAILED,), platform_id=launch.platform_id)
            if d.card_id == card.id and d.resource_link_id == link
        ]
        if failed:
            store.retry_now(failed)
            if tool.worker is not None:
                tool.worker.wake()
        return instructor_page(launch, card)

    @app.get(config.CARD + "<card_id>")
    def card_url(card_id: str) -> Response:
        raise Refusal(400, "a card opens from a course in the LMS, through LTI", "launch")

    def key_set(published: list[Any]) -> Response:
        response = jsonify(keys.jwks(published))
        response.cache_control.max_age = 300
        return response

    @app.get(config.JWKS)
    def shared_jwks() -> Response:
        """The one key set of registrations made before per-registration keys, for their LMSs."""
        return key_set(store.shared_jwks_keys())

    @app.get(config.JWKS + "/<key_set_id>")
    def jwks(key_set_id: str) -> Response:
        platform = store.platform_by_key_set(key_set_id)
        if platform is None:
            abort(404)
        return key_set(store.keys_of(platform))

    @app.get(config.CANVAS_CONFIG + "/<key_set_id>.json")
    def canvas_json(key_set_id: str) -> Response:
        """A Canvas registration's developer key JSON, for Canvas's "Enter URL" (its key set URL is the secret)."""
        if store.platform_by_key_set(key_set_id) is None:
            abort(404)
        return jsonify(config.canvas_config(settings, key_set_id))

    def frame_ancestors() -> str:
        """The LMSs that may frame the tool's pages: those registered, and one registering itself right now."""
        urls = [
            url
            for platform in store.platforms()
            for url in (platform.issuer, platform.auth_login_url, *platform.origins_allowed())
        ]
        return " ".join(_framers([*urls, g.get("registering", "")])) or "'none'"

    @app.get(config.REGISTER + "/<invite>")
    def register_start(invite: str) -> Response:
        # The platform being registered shows this page in a frame before it is registered.
        g.registering = openid = request.args.get("openid_configuration", "")
        if not store.invite_valid(invite):
            raise Refusal(403, "this registration URL is unknown, used or expired", "invitation", _INVITE_HINT)
        if not openid:
            raise Refusal(400, "open this URL from the LMS's tool registration page", "openid_configuration")
        return render(
            "register.html.j2",
            openid_configuration=openid,
            registration_token=request.args.get("registration_token", ""),
            action=settings.url(f"{config.REGISTER}/{invite}"),
        )

    @app.post(config.REGISTER + "/<invite>")
    def register_finish(invite: str) -> Response:
        """Register the platform under a claim on the invitation, which one request at a time can hold.

        The claim is taken before the tool calls the platform, so of parallel
        posts exactly one registers; the others are refused while it runs. A
        failed registration gives the invitation back, so the administrator's
        URL still works; a successful one spends it.
        """
        g.registering = openid = request.form.get("openid_configuration", "")
        if not store.claim_invite(invite):
            if store.invite_valid(invite):
                raise Refusal(409, "a registration with this URL is in progress", "invitation", _IN_PROGRESS_HINT)
            raise Refusal(403, "this registration URL is unknown, used or expired", "invitation", _INVITE_HINT)
        try:
            platform = registration.register(
                store, settings, openid, request.form.get("registration_token") or None, tool.http
            )
        except registration.RegistrationError as error:
            store.release_invite(invite)
            raise Refusal(error.status, str(error), "registration") from None
        except BaseException:
            store.release_invite(invite)
            raise
        if not store.use_invite(invite):
            # This attempt outlived its claim, and another one registered with the invitation meanwhile.
            store.remove_platform(platform.name, force=True)
            raise Refusal(409, "this registration URL was used by another registration", "invitation", _INVITE_HINT)
        return render("registered.html.j2", platform=platform, deployments=store.deployments(platform.id))

    @app.get(config.ASSETS + "<name>")
    def asset(name: str) -> Response:
        if name in ASSETS:
            return send_file(templating.builtin_folder("lti") / name, max_age=3600)
        files = page.asset_files()
        if f"{page.ASSET_FOLDER}/{name}" not in files:
            abort(404)
        return send_file(files[f"{page.ASSET_FOLDER}/{name}"], max_age=3600)

    @app.get(config.MEDIA + "<path:name>")
    def media(name: str) -> Response:
        source = catalog.media.get(f"media/{name}")
        if source is None:
            abort(404)
        return send_file(source, max_age=3600)

    @app.get("/lti/health")
    def health() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.after_request
    def headers(response: Response) -> Response:
        """What every response says to the browser: errors, redirects, JSON and files included.

        Every page may be framed only by the LMSs that use the tool (a page
        with its own policy gets frame-ancestors added, the card page gets
        the whole policy), no URL of the tool travels on in a Referer, since
        a registration URL carries secrets, and no file is sniffed into
        another type.
        """
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            policy = response.headers.get("Content-Security-Policy", CARD_PAGE_POLICY)
            response.headers["Content-Security-Policy"] = f"{policy}; frame-ancestors {frame_ancestors()}"
        return response

    return app


_LAUNCH_HINT = "Open the card again from your course; if this keeps happening, tell the tool's administrator."
_COOKIE_HINT = (
    "Open the card again from your course. If your browser blocks cookies in pages embedded in other sites,"
    " allow them for this site, or have the card open in a new window."
)
_INVITE_HINT = "Ask the tool's administrator for a new one (lms-export lti register-url)."
_IN_PROGRESS_HINT = "Wait for it to finish; if it fails, this URL works again."


def _attempts_used(rules: QuizRules) -> Refusal:
    """The refusal of a submission, or of another try, once the launch has used every attempt."""
    count = rules.max_attempts
    return Refusal(403, f"you have used the {count} attempt{'s' if count != 1 else ''} this quiz allows", "attempts")


def _utc(moment: datetime | None) -> str | None:
    return moment and moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _origin(url: object) -> str:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise Refusal(400, "the platform gave no deep linking return URL", "deep_link_return_url")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


#: A host name or IPv6 address: nothing that could end a CSP source or directive gets into the policy.
_HOST = re.compile(r"[a-z0-9.-]+|[0-9a-f:.]+")


class _ToolFlask(Flask):
    """Flask, logging an unhandled exception's path without the invitation a registration URL carries."""

    def log_exception(self, exc_info: Any) -> None:
        self.logger.error(
            "Exception on %s [%s]", config.redact_invitations(request.path), request.method, exc_info=exc_info
        )


def _framers(urls: Iterable[str]) -> list[str]:
    """CSP sources for the origins of ``urls`` (scheme, host and port, nothing else from a URL gets in).

    A Canvas Cloud issuer also brings ``https://*.instructure.com``, the
    hosts its courses are framed from.
    """
    sources = set()
    for url in urls:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            continue
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
            continue
        origin = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}"
        sources.add(origin if port is None else f"{origin}:{port}")
        if origin in CANVAS_CLOUD:
            sources.add("https://*.instructure.com")
    return sorted(sources)
