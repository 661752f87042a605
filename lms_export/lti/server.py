"""``lms-export serve``: the tool under gunicorn, a production WSGI server.

The decks are read once, in the master, before it forks, so a bad deck stops
the start with its errors and every worker shares the parsed cards. Each
worker opens its own database connections and runs its own outbox thread
(the database leases keep the threads from delivering a grade twice).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from lms_export.lti.app import Tool, create_app
from lms_export.lti.catalog import Catalog
from lms_export.lti.config import ToolSettings, redact_invitations
from lms_export.lti.outbox import DeliverySettings
from lms_export.lti.store import Store

#: The tool of this worker process, for the exit hook.
_tool: Tool | None = None

#: gunicorn's default access log line with the path alone where it has the request line: no query strings,
#: which carry a registration's token and the login hints of launches.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


class AccessLogger(Logger):
    """gunicorn's logger, with invitations cut out of access log lines.

    A format can leave out query strings but not part of a path: every
    atom that might hold ``/lti/register/<invitation>`` (the path, the
    request line, the referrer, the environ) has the invitation replaced,
    and the referrer loses its query string, which can hold the
    platform's registration token.
    """

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["f"] = atoms["f"].partition("?")[0]
        return {name: redact_invitations(value) if isinstance(value, str) else value for name, value in atoms.items()}


class _Server(BaseApplication):
    def __init__(self, make_app: Callable[[], Flask], options: dict[str, Any]):
        self._make_app = make_app
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self._make_app()


def _worker_exit(server: Any, worker: Any) -> None:
    """Let a delivery in flight finish before the worker goes (a kill -9 skips this; the leases cover it)."""
    if _tool is not None and _tool.worker is not None:
        _tool.worker.stop()


def run(
    db: str,
    catalog: Catalog,
    settings: ToolSettings,
    host: str,
    port: int,
    workers: int = 2,
    delivery: DeliverySettings | None = None,
) -> None:
    """Serve the tool until stopped."""
    Store(db).close()  # migrated once here, before the workers open it

    def make_app() -> Flask:
        global _tool
        _tool = Tool(Store(db), catalog, settings, delivery or DeliverySettings())
        _tool.start_delivery()
        return create_app(_tool)

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "graceful_timeout": 15,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": AccessLogger,
        "worker_exit": _worker_exit,
    }
    _Server(make_app, options).run()
