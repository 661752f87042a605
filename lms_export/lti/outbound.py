"""Every request the tool makes to another server goes through here: one guard.

The URLs the tool calls are named by platforms (an OpenID configuration, a
key set, a token endpoint, the line items of a launch), and a platform may be
an attacker's. So every exchange is held to the same rules:

- https only (plain http only with ``serve --insecure-local``, for tests and
  local development);
- the host's address must be a public one: never loopback, private,
  link-local, multicast or reserved. The check is made on the address the
  socket is actually connected to, from the one name resolution used for
  the connection, so a name that resolves to a public address when checked
  and to 127.0.0.1 when connected (DNS rebinding) cannot slip through;
  proxies from the environment are not used, as they would hide the address;
- redirects are never followed (a 3xx is an answer like any other);
- a total deadline for the whole exchange, connection, headers and body
  included: a watchdog shuts the socket down when it passes, so an answer
  dripped a byte at a time cannot hold a worker past it;
- a byte cap on every answer, checked as it is read;
- what an answer says is the caller's to log: an :class:`OutboundError`
  names the rule that stopped the exchange, never the remote body.

Why not requests-hardened: it pins a checked address too, but has neither a
total deadline nor a size cap, and both need a hook on the socket it makes;
the address rule and that hook are a few lines of urllib3 here.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: Name resolution; a test replaces it to play a rebinding DNS server.
resolve: Callable[..., list[Any]] = socket.getaddrinfo


class OutboundError(requests.RequestException):
    """An exchange stopped by the guard: time may cure it (deadline), or not (see :class:`Forbidden`)."""


class Forbidden(OutboundError):
    """The URL or the address it resolves to is not one the tool may call; asking again will not help."""


@dataclass(frozen=True)
class OutboundPolicy:
    #: Seconds for the whole exchange: connecting, sending, the headers and the body.
    deadline: float = 10.0
    #: Bytes of an answer's body, after decompression.
    max_bytes: int = 1024 * 1024
    #: ``serve --insecure-local``: plain http and loopback addresses are allowed too.
    insecure_local: bool = False

    def check_url(self, url: str) -> None:
        """Refuse a URL the tool must never call, before any name is resolved."""
        parts = urlsplit(url)
        schemes = ("https", "http") if self.insecure_local else ("https",)
        if parts.scheme not in schemes or not parts.hostname:
            raise Forbidden(f"{_safe(url)}: only https URLs are called")
        if parts.username is not None or parts.password is not None:
            raise Forbidden(f"{_safe(url)}: a URL with credentials is not called")

    def check_address(self, address: str, host: str) -> None:
        """Refuse an address that is not a public one (loopback too, unless insecure-local)."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback and self.insecure_local:
            return
        if not ip.is_global or ip.is_multicast:
            raise Forbidden(f"{host} resolves to {ip}, which is not a public address")


def _safe(url: str) -> str:
    """A URL as an error may show it: without its query, which may carry a token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"


# -- the exchange in progress on this thread -----------------------------------


class _Exchange:
    """One request's policy and deadline, and the sockets the watchdog shuts down when it passes."""

    def __init__(self, policy: OutboundPolicy):
        self.policy = policy
        self.ends_at = time.monotonic() + policy.deadline
        self.expired = False
        #: A refusal raised inside urllib3, which wraps every OSError (requests' exceptions are ones).
        self.refusal: Forbidden | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._watchdog = threading.Timer(policy.deadline, self._expire)
        self._watchdog.daemon = True

    def remaining(self) -> float:
        return max(0.001, self.ends_at - time.monotonic())

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.close()
                raise OutboundError(f"no answer within the deadline of {self.policy.deadline:g} s")
            self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    @contextmanager
    def running(self) -> Iterator[_Exchange]:
        _current.exchange = self
        self._watchdog.start()
        try:
            yield self
        finally:
            self._watchdog.cancel()
            _current.exchange = None


_current = threading.local()


class _GuardedConnection(HTTPConnection):
    """Resolves the host once, checks every address it got, and connects to the first."""

    def _new_conn(self) -> socket.socket:
        exchange: _Exchange | None = getattr(_current, "exchange", None)
        if exchange is None:
            raise Forbidden("an outbound connection outside lms_export.lti.outbound")
        host = self._dns_host.strip("[]")
        try:
            found = resolve(host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise OutboundError(f"{host} could not be resolved ({error})") from None
        if not found:
            raise OutboundError(f"{host} could not be resolved")
        try:
            for _family, _type, _proto, _name, address in found:
                exchange.policy.check_address(address[0], host)
        except Forbidden as refusal:
            exchange.refusal = refusal
            raise
        self._dns_host = found[0][4][0]
        self.timeout = exchange.remaining()
        sock = super()._new_conn()
        exchange.watch(sock)
        return sock


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


class Outbound:
    """Makes guarded requests; one per process, shared by its threads (each exchange has its own session)."""

    def __init__(self, policy: OutboundPolicy | None = None):
        self.policy = policy or OutboundPolicy()

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One exchange under the policy; the answer with its body read (``.content``, ``.json()``).

        Raises :class:`Forbidden` for a URL or address the tool may not call,
        :class:`OutboundError` (a ``requests.RequestException``) when the
        deadline passes or the answer is too large, and requests' own
        exceptions for network failures.
        """
        self.policy.check_url(url)
        exchange = _Exchange(self.policy)
        with exchange.running(), requests.Session() as session:
            session.trust_env = False
            session.mount("http://", _GuardedAdapter(max_retries=0))
            session.mount("https://", _GuardedAdapter(max_retries=0))
            try:
                response = session.request(
                    method,
                    url,
                    allow_redirects=False,
                    stream=True,
                    timeout=(exchange.remaining(), exchange.remaining()),
                    **kwargs,
                )
                with response:
                    response._content = self._body(response, exchange)
            except OutboundError:
                raise
            except requests.RequestException as error:
                if exchange.refusal is not None:
                    raise exchange.refusal from None
                if exchange.expired:
                    raise OutboundError(f"no answer within the deadline of {self.policy.deadline:g} s") from None
                raise requests.ConnectionError(f"{_safe(url)}: {type(error).__name__}") from None
        if exchange.expired:
            raise OutboundError(f"no answer within the deadline of {self.policy.deadline:g} s")
        return response

    def _body(self, response: requests.Response, exchange: _Exchange) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise OutboundError(f"the answer is larger than {limit} bytes")
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body += chunk
            if len(body) > limit:
                raise OutboundError(f"the answer is larger than {limit} bytes")
            if exchange.expired:
                raise OutboundError(f"no answer within the deadline of {self.policy.deadline:g} s")
        return bytes(body)
