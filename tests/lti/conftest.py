"""The tool and a platform, both on 127.0.0.1, started and stopped by each test that needs them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES

from lms_export.lti import catalog, keys
from lms_export.lti.app import Tool, create_app
from lms_export.lti.config import ToolSettings
from lms_export.lti.outbox import DeliverySettings
from lms_export.lti.store import Platform, Store
from lti.platform import ServedApp, TestPlatform

DECK = EXAMPLES / "every-type.yaml"


def _tool_key() -> tuple[str, str, dict]:
    """One RSA key for every tool of the run: making one per test would take most of the suite's time."""
    store = Store(":memory:")
    key = keys.new_key(store)
    return key.kid, key.private_pem, key.public_jwk


TOOL_KEY = _tool_key()
#: Delivery at test speed: short timeouts, backoff in tenths of a second.
FAST = DeliverySettings(timeout=1.0, backoff=0.05, backoff_cap=0.3, lease=5.0, poll=0.05)


class RunningTool:
    """The tool served in this process (a werkzeug server in a thread), with its outbox worker."""

    def __init__(
        self, db: Path, decks: list[Path], delivery: DeliverySettings = FAST, deliver: bool = True, **settings
    ):
        self.served = ServedApp()
        self.url = self.served.url
        self.settings = ToolSettings(self.url, **{"jwks_refetch_seconds": 0.0, **settings})
        self.store = Store(db)
        if not self.store.tool_keys():
            self.store.add_key(*TOOL_KEY)
        self.tool = Tool(self.store, catalog.load(decks), self.settings, delivery)
        if deliver:
            self.tool.start_delivery()
        self.served.app = create_app(self.tool)

    def card_url(self, card_id: str) -> str:
        return self.settings.card_url(card_id)

    def register(self, platform: TestPlatform, name: str = "test") -> Platform:
        """What an administrator does with ``lms-export lti platform add`` and in the LMS."""
        return platform.register_with(self.store, self.url, name)

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
