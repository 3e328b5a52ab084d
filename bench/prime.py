"""Log every bench user in once before measuring: checks credentials and learns Class values."""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.wire import (
    ACCESS_ACCEPT,
    CLASS,
    REPLY_MESSAGE,
    Template,
    attribute_values,
    finish_access_request,
    reply_is_valid,
)

_IN_FLIGHT = 8
_GIVE_UP = 32


@dataclass(slots=True)
class PrimeResult:
    """Outcome of the first logins."""

    accepted: int = 0
    rejected: int = 0
    lost: int = 0
    classes: dict[str, bytes] = field(default_factory=dict)
    first_reject: str = ""
    seconds: float = 0.0


def prime_logins(
    host: str,
    port: int,
    secret: bytes,
    templates: Sequence[Template],
    *,
    timeout: float = 3.0,
    budget: float = 60.0,
) -> PrimeResult:
    """Send one Access-Request per template (a few at a time) and collect the answers."""
    result = PrimeResult()
    started = time.monotonic()
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(_IN_FLIGHT)]
    try:
        for sock in socks:
            sock.settimeout(timeout)
            sock.connect((host, port))
        for start in range(0, len(templates), _IN_FLIGHT):
            hopeless = result.rejected + result.lost >= _GIVE_UP and result.accepted == 0
            if hopeless or time.monotonic() - started > budget:
                result.lost += len(templates) - start
                break
            batch = templates[start : start + _IN_FLIGHT]
            pending = []
            for sock, tpl in zip(socks, batch, strict=False):
                ident = start & 0xFF
                datagram, authenticator = finish_access_request(tpl, ident, secret)
                sock.send(datagram)
                pending.append((sock, tpl, ident, authenticator))
            for sock, tpl, ident, authenticator in pending:
                _collect(sock, tpl, ident, authenticator, secret, result)
    finally:
        for sock in socks:
            sock.close()
    result.seconds = time.monotonic() - started
    return result


def _collect(
    sock: socket.socket,
    tpl: Template,
    ident: int,
    authenticator: bytes,
    secret: bytes,
    result: PrimeResult,
) -> None:
    for _ in range(8):
        try:
            reply = sock.recv(4096)
        except OSError:
            result.lost += 1
            return
        if len(reply) >= 20 and reply[1] == ident:
            break
    else:
        result.lost += 1
        return
    if not reply_is_valid(reply, authenticator, secret):
        result.lost += 1
        result.first_reject = result.first_reject or "reply with a bad Response Authenticator"
        return
    if reply[0] == ACCESS_ACCEPT:
        result.accepted += 1
        classes = attribute_values(reply, CLASS)
        if classes:
            result.classes[tpl.username] = classes[0]
        return
    result.rejected += 1
    if not result.first_reject:
        messages = attribute_values(reply, REPLY_MESSAGE)
        text = messages[0].decode(errors="replace") if messages else "(no Reply-Message)"
        result.first_reject = f"{tpl.username}: code {reply[0]}: {text}"
