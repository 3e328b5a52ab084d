"""A real local HTTP server that receives webhooks, for the alert tests.

It listens on a free port of 127.0.0.1 in a thread, answers every POST with `status` and keeps
what it received. `refused_url()` names a port nobody listens on.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True, slots=True)
class Received:
    """One request as the receiver saw it (header names lower-cased)."""

    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """What the server received, and what it answers."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.received: list[Received] = []
        self.url = ""

    def of(self, delivery_id: int) -> list[Received]:
        """The requests carrying this delivery id."""
        return [r for r in self.received if r.headers.get("x-cautiva-delivery") == str(delivery_id)]


@contextmanager
def receiver(status: int = 200) -> Iterator[Receiver]:
    """Run a webhook receiver answering `status` for the duration of the block."""
    state = Receiver(status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received(self.path, headers, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cautiva"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def refused_url() -> str:
    """A URL on a local port with nothing listening (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/cautiva"


def signed_correctly(secret: str, request: Received) -> bool:
    """Check a request's signature the way a receiver would, without Cautiva's code."""
    timestamp = request.headers["x-cautiva-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(request.headers["x-cautiva-signature"], f"sha256={expected}")
