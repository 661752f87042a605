"""The tool and a platform, both on 127.0.0.1, started and stopped by each test that needs them."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES

from lms_export.lti import catalog, keys
from lms_export.lti.app import Tool, create_app
from lms_export.lti.config import ToolSettings
from lms_export.lti.outbound import Outbound, OutboundPolicy
from lms_export.lti.outbox import DeliverySettings
from lms_export.lti.store import Platform, Store
from lti.platform import ServedApp, TestPlatform

DECK = EXAMPLES / "every-type.yaml"


@functools.cache
def tool_key(n: int) -> tuple[str, str, dict]:
    """The tool's n-th RSA key of this run: making one per registration would take most of the suite's time.

    Registrations in one database get different keys (the n-th registration
    the n-th key), as in production where each has its own.
    """
    return keys.generate()


#: Delivery at test speed: short timeouts, backoff in tenths of a second.
FAST = DeliverySettings(timeout=1.0, backoff=0.05, backoff_cap=0.3, lease=5.0, poll=0.05)
#: The outbound guard as ``serve --insecure-local`` sets it: the test platforms are on 127.0.0.1, over http.
LOCAL = Outbound(OutboundPolicy(FAST.timeout, insecure_local=True))


class RunningTool:
    """The tool served in this process (a werkzeug server in a thread), with its outbox worker."""

    def __init__(
        self, db: Path, decks: list[Path], delivery: DeliverySettings = FAST, deliver: bool = True, **settings
    ):
        self.served = ServedApp()
        self.url = self.served.url
        self.settings = ToolSettings(self.url, **{"jwks_refetch_seconds": 0.0, "insecure_local": True, **settings})
        self.store = Store(db)
        self.tool = Tool(self.store, catalog.load(decks), self.settings, delivery)
        if deliver:
            self.tool.start_delivery()
        self.served.app = create_app(self.tool)

    def card_url(self, card_id: str) -> str:
        return self.settings.card_url(card_id)

    def register(self, platform: TestPlatform, name: str = "test", **options) -> Platform:
        """What an administrator does with ``lms-export lti platform add`` and in the LMS."""
        key = tool_key(len(self.store.platforms()))
        return platform.register_with(self.store, self.settings, name, key=key, **options)

    def stop(self) -> None:
        if self.tool.worker is not None:
            self.tool.worker.stop()
        self.served.stop()


def wait_for(condition: Callable[[], object], timeout: float = 15.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def platform() -> Iterator[TestPlatform]:
    served = TestPlatform()
    yield served
    served.stop()


@pytest.fixture
def tool(tmp_path: Path, platform: TestPlatform) -> Iterator[RunningTool]:
    running = RunningTool(tmp_path / "tool.db", [DECK])
    running.register(platform)
    yield running
    running.stop()
