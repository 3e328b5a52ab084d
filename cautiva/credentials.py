"""Grant credentials: random usernames and passwords derived from them, never stored.

A grant's password is an HMAC of its username under the server's secret key, so the database
holds nothing a reader could log in with, and PAP and CHAP can still be checked.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import string

# No look-alikes (0/o, 1/l/i): technicians read these aloud and type them on phones.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
USERNAME_LENGTH = 10
PASSWORD_LENGTH = 12
SECRET_ALPHABET = string.ascii_letters + string.digits


def new_username() -> str:
    """Return a fresh random grant username."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(USERNAME_LENGTH))


def grant_password(secret_key: str, username: str) -> str:
    """Return the password of the grant called `username`."""
    digest = hmac.digest(
        secret_key.encode(), b"cautiva-grant-password:" + username.encode(), "sha256"
    )
    # 60 bits in 12 base32 characters: plenty for a credential that lives minutes.
    return base64.b32encode(digest[:8]).decode().lower()[:PASSWORD_LENGTH]


def new_secret(length: int = 32) -> str:
    """Return a strong random shared secret made of letters and digits (safe in router configs)."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


def heartbeat_key(secret_key: str, nas_id: str) -> str:
    """The key a point's router sends with its heartbeat: 32 hex of HMAC-SHA256 of its NAS-ID."""
    message = b"cautiva-heartbeat:" + nas_id.encode()
    return hmac.new(secret_key.encode(), message, "sha256").hexdigest()[:32]
