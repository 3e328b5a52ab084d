"""Sealed tokens: the splash flow's state in a hidden field, and the device cookie.

The splash pages keep no server-side session. Each page carries the visit so far (language,
consent, answers, the pseudonymous person key, the verified router parameters) in one hidden
field sealed with Fernet (AES-CBC + HMAC-SHA256, from `cryptography`): the phone cannot read
the person key nor change a byte without the token being refused. The email is never in it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

STATE_TTL = 2 * 3600
"""A visit older than this starts again: long enough for a slow phone, short for a stale tab."""

DEVICE_COOKIE = "cautiva_device"
"""Cookie naming the grant a browser logged in with (sealed), for the RFC 8908 API."""

DEVICE_TTL = 24 * 3600


def _fernet(secret_key: str, purpose: str) -> Fernet:
    """A Fernet keyed for `purpose` from the server's secret key (HMAC as a KDF)."""
    digest = hmac.new(secret_key.encode(), f"cautiva-seal:{purpose}".encode(), "sha256").digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class Sealer:
    """Seals and opens JSON values for one purpose; keys are derived once per process."""

    def __init__(self, secret_key: str, purpose: str, ttl: int) -> None:
        self._fernet = _fernet(secret_key, purpose)
        self._ttl = ttl

    def seal(self, value: dict[str, Any]) -> str:
        """The value as a URL-safe token."""
        data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        return self._fernet.encrypt(data).decode("ascii")

    def open(self, token: str | None, *, now: int | None = None) -> dict[str, Any] | None:
        """The sealed value, or None when the token is missing, altered or expired."""
        if not token or len(token) > 64 * 1024:
            return None
        try:
            data = self._fernet.decrypt_at_time(
                token.encode("ascii"), self._ttl, now if now is not None else _now()
            )
        except (InvalidToken, UnicodeEncodeError, ValueError):
            return None
        try:
            value = json.loads(data)
        except ValueError:  # pragma: no cover - we only seal JSON
            return None
        return value if isinstance(value, dict) else None


def _now() -> int:
    import time

    return int(time.time())


def state_sealer(secret_key: str) -> Sealer:
    """The sealer of the splash flow's hidden state."""
    return Sealer(secret_key, "splash-state", STATE_TTL)


def device_sealer(secret_key: str) -> Sealer:
    """The sealer of the device cookie (`{"u": grant username, "n": NAS-Identifier}`)."""
    return Sealer(secret_key, "device", DEVICE_TTL)


def fingerprint(value: str) -> str:
    """A short non-reversible tag of `value` for logs (never the value itself)."""
    return hashlib.sha256(value.encode()).hexdigest()[:12]
