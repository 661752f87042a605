"""``lms-export serve``: the tool under gunicorn, a production WSGI server.

The decks are read once, in the master, before it forks, so a bad deck stops
the start with its errors and every worker shares the parsed cards. Each
worker opens its own database connections and runs its own outbox thread
(the database leases keep the threads from delivering a grade twice).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from lms_export.lti import keys
from lms_export.lti.app import Tool, create_app
from lms_export.lti.catalog import Catalog
from lms_export.lti.config import ToolSettings
from lms_export.lti.outbox import DeliverySettings
from lms_export.lti.store import Store

#: The tool of this worker process, for the exit hook.
_tool: Tool | None = None


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
    setup = Store(db)
    keys.active_key(setup)  # made once here, not raced by the workers
    setup.close()

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
        "worker_exit": _worker_exit,
    }
    _Server(make_app, options).run()
