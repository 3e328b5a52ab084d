"""Staff users, API tokens and the audit log. Runs in the caller's transaction; only flushes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.errors import Conflict, InvalidInput, NotFound
from cautiva.models import ApiToken, AuditEntry, User
from cautiva.responses.service import normalise_email
from cautiva.staff.roles import Role

_HASHER = PasswordHasher()
TOKEN_PREFIX = "cvt_"  # noqa: S105 - a marker that tells a token apart, not a secret
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a signed-in user or an API token, with its role."""

    kind: str
    id: int
    name: str
    role: Role

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"


@cache
def _dummy_hash() -> str:
    # Verifying against this keeps the time of "no such user" equal to a wrong password.
    return _HASHER.hash("cautiva-no-such-user")


def check_role(role: str) -> Role:
    """The role called `role`, else InvalidInput."""
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r} (admin, technician, analyst)") from None


def new_password() -> str:
    """A one-time password people can type from a phone: 4 groups of 4 letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


async def add_user(
    session: AsyncSession, *, email: str, role: str, now: datetime
) -> tuple[User, str]:
    """Create a user with a one-time password; returns the user and the password (shown once)."""
    address = normalise_email(email)
    checked = check_role(role)
    taken = await session.scalar(select(User.id).where(User.email == address))
    if taken is not None:
        raise Conflict(f"a user {address!r} exists")
    password = new_password()
    user = User(
        email=address,
        role=checked.value,
        password_hash=_HASHER.hash(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user, password


async def set_password(session: AsyncSession, *, user_id: int, password: str) -> None:
    """Replace a user's password (at least 12 characters)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    user.password_hash = _HASHER.hash(password)
    await session.flush()


async def authenticate(
    session: AsyncSession, *, email: str, password: str, now: datetime
) -> Principal | None:
    """The user with this email and password, if active; None otherwise (same time either way)."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
    user = await session.scalar(select(User).where(User.email == address)) if address else None
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password[:1024])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.last_login_at = now
    await session.flush()
    return Principal("user", user.id, user.email, Role(user.role))


async def user_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """The principal of an active user (for a signed-in session), else None."""
    user = await session.get(User, user_id)
    if user is None or not user.active:
        return None
    return Principal("user", user.id, user.email, Role(user.role))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(
    session: AsyncSession, *, role: str, label: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new API token; returns the row and the token itself (shown once, never stored)."""
    checked = check_role(role)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_token_hash(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        role=checked.value,
        label=label[:120],
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, token


async def token_principal(session: AsyncSession, token: str, *, now: datetime) -> Principal | None:
    """The principal of a valid, unrevoked API token, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    row.last_used_at = now
    return Principal("token", row.id, row.prefix, Role(row.role))


async def revoke_token(session: AsyncSession, *, token_id: int, now: datetime) -> None:
    """Revoke a token; it stops working at once."""
    row = await session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    row.revoked_at = now
    await session.flush()


async def list_users(session: AsyncSession) -> Sequence[User]:
    """Every user, oldest first."""
    return (await session.scalars(select(User).order_by(User.id))).all()


async def audit(
    session: AsyncSession,
    *,
    principal: Principal | None,
    action: str,
    target: str = "",
    details: Mapping[str, Any] | None = None,
    now: datetime,
) -> None:
    """Write one line of the audit log (`principal` None: the command line on the server)."""
    session.add(
        AuditEntry(
            at=now,
            actor=principal.actor if principal else "cli",
            action=action,
            target=target[:200],
            details=dict(details or {}),
            user_id=principal.id if principal and principal.kind == "user" else None,
        )
    )
    await session.flush()


async def audit_entries(session: AsyncSession, *, limit: int = 200) -> Sequence[AuditEntry]:
    """The newest audit lines."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return (await session.scalars(query)).all()
