"""Raw TCP listeners on 127.0.0.1 standing in for internal services and hostile servers.

Each counts the connections it accepted, so a test can assert that a request
the tool must never make did not even reach the socket.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


class Listener:
    """Accepts connections on a free port of 127.0.0.1 and hands each to ``answer`` in a thread."""

    def __init__(self, answer: Callable[[socket.socket], None]):
        self.answer = answer
        self.accepted = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                self.answer(conn)
            except OSError:
                pass

    def stop(self) -> None:
        self._closed.set()
        self._server.close()


def answer_with(status: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Callable:
    """A plain HTTP/1.1 answer."""

    def answer(conn: socket.socket) -> None:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return answer


def drip(interval: float, headers_too: bool = False) -> Callable:
    """An answer that never ends: one byte every ``interval`` seconds, in the body or already in the headers."""

    def answer(conn: socket.socket) -> None:
        if not headers_too:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(10_000):
            conn.sendall(b"X-Drip: a\r\n" if headers_too else b" ")
            time.sleep(interval)

    return answer


def flood(total: int, chunked: bool = True) -> Callable:
    """An answer of ``total`` bytes, without a Content-Length (chunked) or with one."""

    def answer(conn: socket.socket) -> None:
        block = b"[" * 65536
        if chunked:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in range(total // len(block)):
                conn.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            conn.sendall(b"0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
            for _ in range(total // len(block)):
                conn.sendall(block)

    return answer
