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
def serve(decks: tuple[Path, ...], db: str, host: str, port: int, public_url: str | None, workers: int) -> None:
    """Run the LTI 1.3 tool: launch cards from Canvas and Moodle, grade on the server.

    Without --url the tool is reachable only as http://HOST:PORT, which
    platforms accept on 127.0.0.1 alone; behind a reverse proxy that ends
    TLS, give the public https origin.
    """
    from lms_export.lti import catalog, server
    from lms_export.lti.config import ToolSettings
    from lms_export.lti.store import db_path

    with reporting():
        settings = ToolSettings(public_url or f"http://{host}:{port}")
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
@click.option("--client-id", required=True, help="The client id the LMS gave the tool.")
@click.option("--deployment", "deployments", multiple=True, help="A deployment id; repeat for several.")
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
@click.pass_obj
def platform_add(db: str, name: str, preset: str, client_id: str, deployments: tuple[str, ...], **options: Any) -> None:
    """Register a platform: Canvas (Cloud or self-hosted), Moodle, or any LTI 1.3 platform."""
    from lms_export.lti import config

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
        added = _store(db).add_platform(
            name=name,
            client_id=client_id,
            auth_audience=options["auth_audience"],
            deployments=deployments,
            **values,
        )
        click.echo(f"added {added.name}: {added.issuer}, client id {added.client_id}", err=True)


@platform.command("list")
@click.pass_obj
def platform_list(db: str) -> None:
    """List the registered platforms with their endpoints and deployments."""
    with reporting():
        store = _store(db)
        for p in store.platforms():
            click.echo(f"{p.name} ({p.kind})")
            click.echo(f"  issuer       {p.issuer}")
            click.echo(f"  client id    {p.client_id}")
            click.echo(f"  deployments  {', '.join(store.deployments(p.id)) or '(none: launches are refused)'}")
            click.echo(f"  login        {p.auth_login_url}")
            click.echo(f"  token        {p.auth_token_url}")
            click.echo(f"  jwks         {p.key_set_url}")


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
        found = store.platform_named(platform_name)
        if found is None:
            raise LmsExportError(f"no platform named {platform_name!r} (lms-export lti platform list)")
        store.add_deployment(found.id, deployment_id)
        click.echo(f"added deployment {deployment_id} to {platform_name}", err=True)


@lti.group("keys")
def keys_group() -> None:
    """The tool's signing keys (its JWKS)."""


@keys_group.command("rotate")
@click.pass_obj
def keys_rotate(db: str) -> None:
    """Make a new RSA key the signing key; older keys stay in the JWKS until retired."""
    from lms_export.lti import keys

    with reporting():
        key = keys.new_key(_store(db))
        click.echo(key.kid)
        click.echo("the previous keys stay published until: lms-export lti keys retire KID", err=True)


@keys_group.command("list")
@click.pass_obj
def keys_list(db: str) -> None:
    """List the keys, newest (the signing key) first."""
    from datetime import datetime

    with reporting():
        for n, key in enumerate(_store(db).tool_keys(include_retired=True)):
            state = "retired" if key.retired_at else ("signing" if n == 0 else "published")
            made = datetime.fromtimestamp(key.created_at).isoformat(timespec="seconds")
            click.echo(f"{key.kid}  {state:<9}  made {made}")


@keys_group.command("retire")
@click.argument("kid")
@click.pass_obj
def keys_retire(db: str, kid: str) -> None:
    """Take an old key out of the JWKS."""
    with reporting():
        _store(db).retire_key(kid)
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
def config_canvas(public_url: str | None, privacy: str) -> None:
    """Print the Canvas developer key JSON (Admin > Developer Keys > + LTI Key > Paste JSON)."""
    from lms_export.lti.config import canvas_config

    with reporting():
        click.echo(json.dumps(canvas_config(_settings(public_url), privacy), indent=2))


@lti.command("register-url")
@URL
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 365), help="How long the URL works.")
@click.pass_obj
def register_url(db: str, public_url: str | None, days: int) -> None:
    """Print a one-time URL an administrator pastes into Moodle or Canvas (dynamic registration)."""
    from lms_export.lti.config import REGISTER

    with reporting():
        settings = _settings(public_url)
        click.echo(settings.url(f"{REGISTER}/{_store(db).create_invite(days * 86400)}"))


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
@click.pass_obj
def grades(db: str, retry: bool) -> None:
    """List grades not yet in a gradebook (waiting or refused), with the platform's answer."""
    from lms_export.lti.outbox import Deliverer

    with reporting():
        store = _store(db)
        line = _describe(store)
        if retry:
            store.retry_now()
            deliverer = Deliverer(store)
            deliverer.release_dead_leases()
            for delivery, outcome in deliverer.run_once(limit=1000):
                click.echo(f"#{delivery.id} {outcome}")
        waiting = store.deliveries()
        for delivery in waiting:
            click.echo(line(delivery))
        click.echo(f"{len(waiting)} grade(s) not delivered", err=True)
