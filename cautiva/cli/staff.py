"""`cautiva user` and `cautiva token`: staff accounts and API tokens for the admin."""

from __future__ import annotations

from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit, emit_table
from cautiva.database import transaction
from cautiva.models import utcnow
from cautiva.runtime import Runtime
from cautiva.staff.roles import Role
from cautiva.staff.service import add_user, audit, create_token, list_users, revoke_token

ROLES = click.Choice([role.value for role in Role])


@click.group()
def user() -> None:
    """Staff accounts (admin, technician, analyst)."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=ROLES, required=True, help="What the user may do.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def add(email: str, role: str, as_json: bool) -> None:
    """Create a user and print a one-time password (shown once)."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            created, password = await add_user(session, email=email, role=role, now=now)
            await audit(
                session,
                principal=None,
                action="user.add",
                target=created.email,
                now=now,
                details={"role": created.role},
            )
        return {
            "id": created.id,
            "email": created.email,
            "role": created.role,
            "password": password,
        }

    emit(run_async(work), as_json=as_json)


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(as_json: bool) -> None:
    """List the users."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            users = await list_users(session)
        return [
            {
                "id": u.id,
                "email": u.email,
                "role": u.role,
                "active": u.active,
                "last_login_at": u.last_login_at,
            }
            for u in users
        ]

    emit_table(run_async(work), ["id", "email", "role", "active", "last_login_at"], as_json=as_json)


@click.group()
def token() -> None:
    """API tokens for scripts (sent as `Authorization: Bearer TOKEN`)."""


@token.command("create")
@click.option("--role", type=ROLES, required=True, help="What the token may do.")
@click.option("--label", default="", help="What the token is for.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def create(role: str, label: str, as_json: bool) -> None:
    """Create a token and print it (shown once; only its hash is kept)."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            row, secret = await create_token(session, role=role, label=label, now=now)
            await audit(
                session,
                principal=None,
                action="token.create",
                target=row.prefix,
                now=now,
                details={"role": row.role, "label": row.label},
            )
        return {"id": row.id, "role": row.role, "label": row.label, "token": secret}

    emit(run_async(work), as_json=as_json)


@token.command("revoke")
@click.argument("token_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def revoke(token_id: int, as_json: bool) -> None:
    """Revoke a token by its id."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            now = utcnow()
            await revoke_token(session, token_id=token_id, now=now)
            await audit(
                session, principal=None, action="token.revoke", target=str(token_id), now=now
            )
        return {"id": token_id, "revoked": True}

    emit(run_async(work), as_json=as_json)
