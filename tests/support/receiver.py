"""A webhook receiver on loopback: checks Standard Webhooks signatures, fails or hangs on
demand, and counts what arrived twice under the same `webhook-id`."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.webhooks.signing import InvalidSignature, verify
from tests.support.loopback import serve_on_loopback, stop_serving


@dataclass
class Received:
    message_id: str
    timestamp: str
    body: bytes
    signed: bool  # the signature checked out against the receiver's secret

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str | None = None
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # The next `fail_next` requests are answered with `fail_status`.
    fail_next: int = 0
    fail_status: int = 500
    hanging: bool = False  # hold every answer until `release()` (or 30 s)
    now: Callable[[], float] = time.time  # the clock the timestamp tolerance is read on
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        handler = type("Handler", (_Handler,), {"receiver": self})
        self._server = serve_on_loopback(handler, self.port)
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        self.release()
        stop_serving(self._server)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def hang(self) -> None:
        self.hanging = True
        self._released = threading.Event()

    def release(self) -> None:
        self.hanging = False
        self._released.set()

    def duplicates(self) -> int:
        """Requests beyond the first for each `webhook-id` (at-least-once shows here)."""
        counts = Counter(r.message_id for r in self.received)
        return sum(n - 1 for n in counts.values())

    def types(self) -> list[str]:
        return [r.payload["type"] for r in self.received]

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)

    def _accept(self, headers: dict[str, str], body: bytes) -> int:
        signed = True
        try:
            assert self.secret is not None
            verify(self.secret, received=headers, body=body, now=int(self.now()))
        except (InvalidSignature, AssertionError, ValueError):
            signed = False
        with self._lock:
            self.received.append(
                Received(
                    headers.get("webhook-id", ""),
                    headers.get("webhook-timestamp", ""),
                    body,
                    signed,
                )
            )
            if self.fail_next > 0:
                self.fail_next -= 1
                return self.fail_status
        if self.hanging:
            self._released.wait(30)
        return 204 if signed else 401


class _Handler(BaseHTTPRequestHandler):
    receiver: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        status = self.receiver._accept(headers, body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
