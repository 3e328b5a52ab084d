"""`cautiva session`: list a point's sessions and cut one with a Disconnect-Request."""

from __future__ import annotations

from typing import Any

import click

from cautiva.accounting.service import disconnect_target, list_sessions
from cautiva.cli.main import configure_logging, run_async
from cautiva.cli.output import emit, emit_table
from cautiva.database import transaction
from cautiva.points.service import get_point
from cautiva.runtime import Runtime


@click.group()
def session() -> None:
    """Inspect and cut router sessions."""


@session.command("list")
@click.option("--point", "point_ref", required=True, help="Point id or NAS-Identifier.")
@click.option("--all", "include_stopped", is_flag=True, help="Include stopped sessions.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(point_ref: str, include_stopped: bool, as_json: bool) -> None:
    """List a point's open sessions (newest first)."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as db:
            point = await get_point(db, ref=point_ref)
            rows = await list_sessions(db, point_id=point.id, open_only=not include_stopped)
            return [
                {
                    "id": row.id,
                    "username": row.username,
                    "acct_session_id": row.acct_session_id,
                    "mac": row.mac,
                    "ip": row.framed_ip,
                    "started_at": row.started_at,
                    "updated_at": row.updated_at,
                    "stopped_at": row.stopped_at,
                    "session_time": row.session_time,
                    "input_bytes": row.input_bytes,
                    "output_bytes": row.output_bytes,
                    "terminate_cause": row.terminate_cause,
                }
                for row in rows
            ]

    columns = ["id", "username", "mac", "ip", "session_time", "stopped_at", "terminate_cause"]
    emit_table(run_async(work), columns, as_json=as_json)


@session.command()
@click.argument("session_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def disconnect(session_id: int, as_json: bool) -> None:
    """Send a Disconnect-Request (RFC 5176) for a session and print the router's answer."""
    from radius.dictionary import load_dictionary
    from radius.enforcement import disconnect_session

    configure_logging("WARNING")

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as db:
            target = await disconnect_target(db, session_id=session_id)
        result = await disconnect_session(runtime, target, dictionary=load_dictionary())
        return {
            "session": session_id,
            "result": result.result,
            "attempts": result.attempts,
            "error_cause": result.error_cause,
            "detail": result.detail or None,
        }

    record = run_async(work)
    emit(record, as_json=as_json)
    if record["result"] != "ack":
        raise click.exceptions.Exit(1)
