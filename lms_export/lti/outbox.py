"""The worker that carries every score from the outbox to the platform, exactly once.

A score is in the database before the learner is told it was submitted
(:meth:`Store.record_attempt`); from there:

- a worker leases it, so no other worker delivers it meanwhile, and posts it;
- network errors, 429 and 5xx put it back with exponential backoff (or the
  platform's Retry-After), for as long as the platform is down;
- any other 4xx marks it failed with the platform's message, which the
  instructor sees on the card and ``lms-export lti grades`` lists and retries;
- a worker killed mid-delivery (``kill -9`` included) leaves a lease behind,
  freed at the next start when its process is gone, or when it expires;
- a score the platform received but whose answer was lost is posted again
  with the same timestamp, which the platform answers with 409 (it already
  holds it): recorded as superseded, never stored twice.

Every gunicorn worker runs one of these threads; the leases keep them apart.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from lms_export.lti import keys
from lms_export.lti.ags import AgsClient, Refused, RetryLater, Superseded, TokenCache, score_body
from lms_export.lti.outbound import Outbound, OutboundPolicy
from lms_export.lti.store import DELIVERED, FAILED, SUPERSEDED, Delivery, Store

log = logging.getLogger("lms_export.lti")

#: How often the worker purges old states and nonces, in passes.
PURGE_EVERY = 600


@dataclass(frozen=True)
class DeliverySettings:
    #: Seconds every exchange with a platform may take, all of it (the outbound guard's deadline).
    timeout: float = 10.0
    #: The first retry waits this long; each next one twice as long, up to ``backoff_cap``.
    backoff: float = 5.0
    backoff_cap: float = 3600.0
    #: A delivery holds its score this long: longer than its four requests can take.
    lease: float = 120.0
    #: How often a worker looks for due scores when nothing wakes it.
    poll: float = 1.0


def owner_id() -> str:
    """Who holds a lease: this host and process, so a restart can tell the dead from the living."""
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(tries: int, settings: DeliverySettings, asked: float | None = None) -> float:
    """Seconds until the next try: the platform's Retry-After, or exponential with jitter."""
    if asked is not None:
        return min(asked, settings.backoff_cap)
    delay = settings.backoff * 2 ** min(tries, 30)
    return min(delay, settings.backoff_cap) * random.uniform(0.8, 1.2)


def _alive(pid: int) -> bool:
    """Whether a process still runs; a zombie (killed, not yet reaped by its parent) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (not Linux): trust kill()
    return stat.rpartition(")")[2].split()[0] != "Z"


class Deliverer:
    """Delivers due scores, one pass at a time."""

    def __init__(
        self,
        store: Store,
        settings: DeliverySettings | None = None,
        http: Outbound | None = None,
        tokens: TokenCache | None = None,
    ):
        self.store = store
        self.settings = settings or DeliverySettings()
        self.http = http or Outbound(OutboundPolicy(deadline=self.settings.timeout))
        self.tokens = tokens or TokenCache()
        self.owner = owner_id()

    def release_dead_leases(self) -> int:
        """Free the leases of processes on this host that no longer exist."""
        host = socket.gethostname()
        dead = []
        for owner in self.store.lease_owners():
            owner_host, _, pid = owner.rpartition(":")
            if owner_host == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                dead.append(owner)
        return self.store.release_leases(dead)

    def run_once(self, limit: int = 20) -> list[tuple[Delivery, str]]:
        """Deliver what is due now; each score with what became of it."""
        self.owner = owner_id()
        done = []
        for delivery in self.store.claim_due(self.owner, self.settings.lease, limit):
            done.append((delivery, self.deliver(delivery)))
        return done

    def deliver(self, delivery: Delivery) -> str:
        """Post one leased score and record the outcome; returns the new status (or "retry")."""
        platform = self.store.platform(delivery.platform_id)
        if platform is None:
            self.store.finish(delivery.id, self.owner, FAILED, "the platform was removed from the tool")
            return FAILED
        client = AgsClient(platform, keys.signing_key(self.store, platform), delivery.scopes, self.tokens, self.http)
        try:
            lineitem = delivery.lineitem_url or self._line_item(client, delivery)
            client.post_score(lineitem, score_body(delivery, platform.kind == "canvas"))
        except Superseded as error:
            self.store.finish(delivery.id, self.owner, SUPERSEDED, str(error))
            return SUPERSEDED
        except Refused as error:
            log.warning("grade %s for %s refused by %s: %s", delivery.id, delivery.user_id, platform.name, error)
            self.store.finish(delivery.id, self.owner, FAILED, str(error))
            return FAILED
        except RetryLater as error:
            delay = backoff(delivery.tries, self.settings, error.delay)
            log.info("grade %s: %s; next try in %.1f s", delivery.id, error, delay)
            self.store.retry_later(delivery.id, self.owner, str(error), delay)
            return "retry"
        self.store.finish(delivery.id, self.owner, DELIVERED)
        return DELIVERED

    def _line_item(self, client: AgsClient, delivery: Delivery) -> str:
        """The line item of a launch that gave only the container: found, or created once."""
        known = self.store.line_item_url(delivery.platform_id, delivery.grade_key)
        if known:
            return known
        if not delivery.lineitems_url:
            raise Refused("the launch gave no line item and no line items URL")
        if not self.store.claim_line_item(delivery.platform_id, delivery.grade_key, self.owner, self.settings.lease):
            raise RetryLater("another worker is finding or creating this line item", delay=1.0)
        url = client.find_line_item(delivery.lineitems_url, delivery.resource_link_id, delivery.card_id)
        if url is None:
            url = client.create_line_item(
                delivery.lineitems_url,
                delivery.resource_link_id,
                delivery.card_id,
                delivery.label,
                delivery.score_maximum,
            )
        self.store.save_line_item(delivery.platform_id, delivery.grade_key, url)
        return url


class Worker:
    """A thread that runs the deliverer until stopped; :meth:`wake` makes it look at once."""

    def __init__(self, deliverer: Deliverer):
        self.deliverer = deliverer
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lms-export-outbox", daemon=True)

    def start(self) -> Worker:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        passes = 0
        while not self._stop.is_set():
            busy = False
            try:
                if passes % PURGE_EVERY == 0:
                    self.deliverer.release_dead_leases()
                    self.deliverer.store.purge()
                busy = bool(self.deliverer.run_once())
            except Exception:  # the worker must outlive any one failure: a grade waits, never drops
                log.exception("grade delivery pass failed")
            passes += 1
            if not busy:
                self._wake.wait(self.deliverer.settings.poll)
                self._wake.clear()
