"""``lms-export serve`` and ``lms-export lti ...``: run the tool, and manage what it knows.

Every command works on the tool's database (``--db``, or ``LMS_EXPORT_DB``),
so an administrator registers platforms and reads failed grades while the
tool runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lms_export.console import reporting
from lms_export.errors import LmsExportError

DB = click.option(
    "--db",
    envvar="LMS_EXPORT_DB",
    default="lms-export.db",
    show_default=True,
    help="The tool's SQLite database: a file, or sqlite:///FILE (env LMS_EXPORT_DB).",
)
URL = click.option(
    "--url",
    "public_url",
    envvar="LMS_EXPORT_URL",
    help="The tool's public origin, as platforms reach it, e.g. https://cards.example.edu (env LMS_EXPORT_URL).",
)


def _store(db: str) -> Any:
    from lms_export.lti.store import Store, db_path

    return Store(db_path(db))


def _settings(public_url: str | None) -> Any:
    from lms_export.lti.config import ToolSettings

    if not public_url:
        raise click.UsageError("--url is required: the tool's public origin, such as https://cards.example.edu")
    return ToolSettings(public_url)


@click.command()
@click.option(
    "--deck",
    "decks",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A deck file to serve; repeat for several.",
)
@DB
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@URL
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option(
    "--insecure-local",
    is_flag=True,
    help="For tests and local trials only: call platforms over plain http and on loopback addresses.",
)
def serve(
    decks: tuple[Path, ...], db: str, host: str, port: int, public_url: str | None, workers: int, insecure_local: bool
) -> None:
    """Run the LTI 1.3 tool: launch cards from Canvas and Moodle, grade on the server.

    Without --url the tool is reachable only as http://HOST:PORT, which
    platforms accept on 127.0.0.1 alone; behind a reverse proxy that ends
    TLS, give the public https origin. The tool calls platforms over https
    on public addresses only, unless --insecure-local.
    """
    from lms_export.lti import catalog, server
    from lms_export.lti.config import ToolSettings
    from lms_export.lti.store import db_path

    with reporting():
        settings = ToolSettings(public_url or f"http://{host}:{port}", insecure_local=insecure_local)
        if insecure_local:
            click.secho(
                "WARNING: --insecure-local: the tool calls plain http and loopback addresses."
                " Never use it where platforms are not your own test systems.",
                err=True,
                fg="red",
                bold=True,
            )
        served = catalog.load(decks)
        click.echo(f"serving {len(served.card_ids)} card(s) at {settings.base_url} (database {db})", err=True)
        server.run(str(db_path(db)), served, settings, host, port, workers)


@click.group()
@DB
@click.pass_context
def lti(ctx: click.Context, db: str) -> None:
    """Manage the LTI tool: platforms, deployments, keys, the Canvas JSON, grades."""
    ctx.obj = db


@lti.group()
def platform() -> None:
    """Platforms (LMS registrations) the tool accepts launches from."""


@platform.command("add")
@click.argument("name")
@click.option("--preset", type=click.Choice(["canvas", "moodle", "custom"]), required=True, help="Which LMS.")
@click.option(
    "--client-id",
    default="",
    help="The client id the LMS gave the tool (later with `platform update`, for a Canvas key made from our JSON).",
)
@click.option("--deployment", "deployments", multiple=True, help="A deployment id; repeat for several.")
@click.option(
    "--deployments",
    "deployments_policy",
    type=click.Choice(["auto", "listed"]),
    default="auto",
    show_default=True,
    help="auto: a new deployment id is accepted on its first valid launch (Canvas makes one per course);"
    " listed: only those added.",
)
@click.option(
    "--allow-host",
    "hosts",
    multiple=True,
    help="A host (host or host:port) the platform's endpoints or grade services may be on besides the issuer's;"
    " repeat for several.",
)
@click.option(
    "--environment",
    type=click.Choice(["production", "beta", "test"]),
    default="production",
    show_default=True,
    help="Canvas Cloud environment.",
)
@click.option("--canvas-host", help="Canvas: a self-hosted Canvas's URL, which serves its own endpoints.")
@click.option("--site", help="Moodle: the site URL (the issuer), e.g. https://moodle.example.edu.")
@click.option("--issuer", help="Custom, or to override a preset.")
@click.option("--auth-login-url", help="OIDC authorization endpoint (custom, or override).")
@click.option("--auth-token-url", help="OAuth2 token endpoint (custom, or override).")
@click.option("--key-set-url", help="The platform's JWKS URL (custom, or override).")
@click.option("--auth-audience", help="aud of the tool's token requests, when not the token URL.")
@URL
@click.pass_obj
def platform_add(
    db: str,
    name: str,
    preset: str,
    client_id: str,
    deployments: tuple[str, ...],
    deployments_policy: str,
    hosts: tuple[str, ...],
    public_url: str | None,
    **options: Any,
) -> None:
    """Register a platform: Canvas (Cloud or self-hosted), Moodle, or any LTI 1.3 platform.

    The tool makes a key pair for this registration alone; give the LMS its
    key set URL (shown here and by ``lms-export lti platform list``).
    """
    from lms_export.lti import config, keys

    with reporting():
        values: dict[str, Any] = {"kind": "lti"}
        if preset == "canvas":
            values = config.canvas_preset(options["environment"], options["canvas_host"])
        elif preset == "moodle":
            if not options["site"]:
                raise click.UsageError("--preset moodle needs --site, the Moodle site URL")
            values = config.moodle_preset(options["site"])
        for field in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
            values[field] = options[field] or values.get(field)
            if not values[field]:
                raise click.UsageError(f"--{field.replace('_', '-')} is required with --preset custom")
        values["hosts"] = [*values.get("hosts", ()), *hosts]
        added = _store(db).add_platform(
            name=name,
            client_id=client_id,
            auth_audience=options["auth_audience"],
            deployments=deployments,
            deployments_policy=deployments_policy,
            key=keys.generate(),
            **values,
        )
        client = added.client_id or "not yet given (lms-export lti platform update NAME --client-id ID)"
        click.echo(f"added {added.name}: {added.issuer}, client id {client}", err=True)
        click.echo(f"its key set URL (the LMS's tool public keyset URL): {_key_set_url(added, public_url)}", err=True)


@platform.command("list")
@URL
@click.pass_obj
def platform_list(db: str, public_url: str | None) -> None:
    """List the registered platforms with their endpoints, hosts, deployments and key set URL."""
    from lms_export.lti.store import host_of

    with reporting():
        store = _store(db)
        for p in store.platforms():
            click.echo(f"{p.name} ({p.kind})")
            click.echo(f"  issuer       {p.issuer}")
            click.echo(f"  client id    {p.client_id}")
            listed = ", ".join(store.deployments(p.id))
            if p.deployments_policy == "auto":
                click.echo(f"  deployments  {listed or '(none yet)'}; new ones accepted on their first launch")
            else:
                click.echo(f"  deployments  {listed or '(none: launches are refused)'}; only these")
            click.echo(f"  login        {p.auth_login_url}")
            click.echo(f"  token        {p.auth_token_url}")
            click.echo(f"  jwks         {p.key_set_url}")
            click.echo(f"  hosts        {', '.join([host_of(p.issuer), *p.hosts])}")
            click.echo(f"  tool keys    {_key_set_url(p, public_url)}")


@platform.command("update")
@click.argument("name")
@click.option(
    "--allow-host",
    "hosts",
    multiple=True,
    help="The hosts allowed besides the issuer's, all of them (replaces the list); repeat for several.",
)
@click.option("--no-hosts", is_flag=True, help="Allow the issuer's host only.")
@click.option("--client-id", help="The client id the LMS gave the tool.")
@click.option("--deployments", "deployments_policy", type=click.Choice(["auto", "listed"]), help="Deployment policy.")
@click.pass_obj
def platform_update(
    db: str, name: str, hosts: tuple[str, ...], no_hosts: bool, client_id: str | None, deployments_policy: str | None
) -> None:
    """Change a platform's client id, allowed hosts or deployment policy."""
    with reporting():
        updated = _store(db).update_platform(
            name,
            client_id=client_id,
            hosts=hosts if hosts or no_hosts else None,
            deployments_policy=deployments_policy,
        )
        click.echo(
            f"{updated.name}: hosts {', '.join(updated.hosts) or '(the issuer only)'};"
            f" deployments {updated.deployments_policy}",
            err=True,
        )


def _key_set_url(platform: Any, public_url: str | None) -> str:
    from lms_export.lti.config import JWKS, ToolSettings

    if public_url:
        return ToolSettings(public_url).jwks_url(platform.key_set_id)
    return f"{JWKS}/{platform.key_set_id} (on the tool's --url)"


def _platform_named(store: Any, name: str) -> Any:
    found = store.platform_named(name)
    if found is None:
        raise LmsExportError(f"no platform named {name!r} (lms-export lti platform list)")
    return found


@platform.command("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Also drop its grades not yet delivered.")
@click.pass_obj
def platform_remove(db: str, name: str, force: bool) -> None:
    """Forget a platform (refused while grades for it wait, unless --force)."""
    with reporting():
        _store(db).remove_platform(name, force)
        click.echo(f"removed {name}", err=True)


@lti.group()
def deployment() -> None:
    """Deployments: the tool's installations within a platform."""


@deployment.command("add")
@click.argument("platform_name", metavar="PLATFORM")
@click.argument("deployment_id")
@click.pass_obj
def deployment_add(db: str, platform_name: str, deployment_id: str) -> None:
    """Accept launches from DEPLOYMENT_ID of PLATFORM."""
    with reporting():
        store = _store(db)
        store.add_deployment(_platform_named(store, platform_name).id, deployment_id)
        click.echo(f"added deployment {deployment_id} to {platform_name}", err=True)


@lti.group("keys")
def keys_group() -> None:
    """The tool's signing keys: one key set per platform (its JWKS URL)."""


PLATFORM = click.option(
    "--platform",
    "platform_name",
    metavar="NAME",
    help="The platform whose keys; without it, the shared set of platforms registered before per-platform keys.",
)


def _key_owner(store: Any, platform_name: str | None) -> Any:
    if platform_name is not None:
        return _platform_named(store, platform_name)
    if not any(p.shared_jwks for p in store.platforms()):
        raise click.UsageError("--platform NAME is required: each platform has its own keys")
    return None


@keys_group.command("rotate")
@PLATFORM
@click.pass_obj
def keys_rotate(db: str, platform_name: str | None) -> None:
    """Make a new RSA key the platform's signing key; older keys stay published until retired."""
    from lms_export.lti import keys

    with reporting():
        store = _store(db)
        key = keys.rotate(store, _key_owner(store, platform_name))
        click.echo(key.kid)
        click.echo("the previous keys stay published until: lms-export lti keys retire KID", err=True)


@keys_group.command("list")
@PLATFORM
@click.pass_obj
def keys_list(db: str, platform_name: str | None) -> None:
    """List a platform's keys, newest (the signing key) first."""
    from datetime import datetime

    with reporting():
        store = _store(db)
        for n, key in enumerate(store.keys_of(_key_owner(store, platform_name), include_retired=True)):
            state = "retired" if key.retired_at else ("signing" if n == 0 else "published")
            made = datetime.fromtimestamp(key.created_at).isoformat(timespec="seconds")
            click.echo(f"{key.kid}  {state:<9}  made {made}")


@keys_group.command("retire")
@click.argument("kid")
@PLATFORM
@click.pass_obj
def keys_retire(db: str, kid: str, platform_name: str | None) -> None:
    """Take an old key out of a platform's key set."""
    with reporting():
        store = _store(db)
        store.retire_key(kid, _key_owner(store, platform_name))
        click.echo(f"retired {kid}", err=True)


@lti.group("config")
def config_group() -> None:
    """Configuration to paste into an LMS."""


@config_group.command("canvas")
@URL
@click.option(
    "--privacy",
    type=click.Choice(["anonymous", "name_only", "email_only", "public"]),
    default="name_only",
    show_default=True,
    help="What Canvas tells the tool about users (names help instructors read failed grades).",
)
@click.option("--platform", "platform_name", metavar="NAME", required=True, help="The Canvas platform registered.")
@click.pass_obj
def config_canvas(db: str, public_url: str | None, privacy: str, platform_name: str) -> None:
    """Print a Canvas platform's developer key JSON (Admin > Developer Keys > + LTI Key > Paste JSON).

    The JSON names that platform's own key set URL, so register the Canvas
    first, without its client id (``lms-export lti platform add NAME --preset
    canvas``), paste this JSON into Canvas, then give the platform the client
    id Canvas shows (``lms-export lti platform update NAME --client-id ID``).
    """
    from lms_export.lti.config import canvas_config

    with reporting():
        platform = _platform_named(_store(db), platform_name)
        click.echo(json.dumps(canvas_config(_settings(public_url), platform.key_set_id, privacy), indent=2))


#: Seconds in each unit an invitation's lifetime may be given in.
_UNITS = {"m": 60, "h": 3600, "d": 86400}
#: An invitation is a credential: it should not outlive the task it was made for.
INVITE_MAX_SECONDS = 30 * 86400


def _expires(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """``30m``, ``24h`` or ``7d`` in seconds: more than none, at most 30 days."""
    number, unit = value.strip().lower()[:-1], value.strip().lower()[-1:]
    if not number.isdigit() or unit not in _UNITS:
        raise click.BadParameter(f"{value!r} is not a duration such as 30m, 24h or 7d")
    seconds = int(number) * _UNITS[unit]
    if not 0 < seconds <= INVITE_MAX_SECONDS:
        raise click.BadParameter(f"{value}: an invitation lasts more than 0 and at most 30 days (30d)")
    return seconds


@lti.command("register-url")
@URL
@click.option(
    "--expires",
    default="24h",
    show_default=True,
    metavar="DURATION",
    callback=_expires,
    help="How long the URL works: 30m, 24h, 7d; at most 30d.",
)
@click.pass_obj
def register_url(db: str, public_url: str | None, expires: int) -> None:
    """Print a one-time URL an administrator pastes into Moodle or Canvas (dynamic registration).

    Only this command makes invitations: the tool has no endpoint that does.
    """
    from lms_export.lti.config import REGISTER

    with reporting():
        settings = _settings(public_url)
        click.echo(settings.url(f"{REGISTER}/{_store(db).create_invite(expires)}"))


def _describe(store: Any) -> Callable[[Any], str]:
    names = {p.id: p.name for p in store.platforms()}

    def line(d: Any) -> str:
        text = (
            f"#{d.id} {d.status:<10} {names.get(d.platform_id, '?')} user {d.user_id} card {d.card_id}"
            f" {d.score_given:g}/{d.score_maximum:g} tries {d.tries}"
        )
        return text + (f"\n    {d.last_error}" if d.last_error else "")

    return line


@lti.command("grades")
@click.option("--retry", is_flag=True, help="Send failed and waiting grades now, and show what became of them.")
@click.option("--insecure-local", is_flag=True, help="As serve --insecure-local: platforms on plain http and loopback.")
@click.pass_obj
def grades(db: str, retry: bool, insecure_local: bool) -> None:
    """List grades not yet in a gradebook (waiting or refused), and why."""
    from lms_export.lti.outbound import Outbound, OutboundPolicy
    from lms_export.lti.outbox import Deliverer, DeliverySettings

    with reporting():
        store = _store(db)
        line = _describe(store)
        if retry:
            store.retry_now()
            delivery = DeliverySettings()
            http = Outbound(OutboundPolicy(delivery.timeout, insecure_local=insecure_local))
            deliverer = Deliverer(store, delivery, http)
            deliverer.release_dead_leases()
            for delivery, outcome in deliverer.run_once(limit=1000):
                click.echo(f"#{delivery.id} {outcome}")
        waiting = store.deliveries()
        for delivery in waiting:
            click.echo(line(delivery))
        click.echo(f"{len(waiting)} grade(s) not delivered", err=True)
