"""`cautiva point`: add, list, show and rotate the secrets of Wi-Fi points; router scripts and
posters."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit, emit_table
from cautiva.database import transaction
from cautiva.models import NasType, Point
from cautiva.points import service
from cautiva.runtime import Runtime
from router_configs import (
    RADIUS_PLACEHOLDER,
    ROUTER_FOR_NAS,
    RenderedConfig,
    RouterKind,
    render_config,
    render_poster,
    router_targets,
)

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def point_record(point: Point, *, with_secrets: bool) -> dict[str, Any]:
    """Return a point as a plain record (secrets only when asked for)."""
    record: dict[str, Any] = {
        "id": point.id,
        "name": point.name,
        "nas_id": point.nas_id,
        "nas_type": point.nas_type,
        "ssid": point.ssid,
        "active": point.active,
        "fixed_address": point.fixed_address,
        "coa_port": point.coa_port,
        "require_message_authenticator": point.require_message_authenticator,
        "rate_down_kbps": point.rate_down_kbps,
        "rate_up_kbps": point.rate_up_kbps,
        "department": point.department,
        "municipality": point.municipality,
        "site_type": point.site_type,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "created_at": point.created_at,
    }
    if with_secrets:
        record["secret"] = point.radius_secret
        record["uam_secret"] = point.uam_secret
    return record


@click.group()
def point() -> None:
    """Manage Wi-Fi points."""


@point.command()
@click.option("--name", required=True, help="A name people recognise.")
@click.option("--nas-id", required=True, help="The router's NAS-Identifier (RouterOS identity).")
@click.option(
    "--nas-type", required=True, type=click.Choice([t.value for t in NasType]), help="Router kind."
)
@click.option("--secret", help="RADIUS secret (16+ characters); generated when left out.")
@click.option("--ip", "fixed_address", help="Fixed source address the router must send from.")
@click.option(
    "--coa-port",
    type=click.IntRange(1, 65535),
    default=3799,
    show_default=True,
    help="Port the router takes Disconnect-Requests on (RFC 5176).",
)
@click.option("--department", help="Department (adm1).")
@click.option("--municipality", help="Municipality (adm2).")
@click.option("--site-type", help="terminal, border, road, service point...")
@click.option("--ssid", help="The open network's name (at most 32 octets); default: the name.")
@JSON_OPTION
def add(
    name: str,
    nas_id: str,
    nas_type: str,
    secret: str | None,
    fixed_address: str | None,
    coa_port: int,
    department: str | None,
    municipality: str | None,
    site_type: str | None,
    ssid: str | None,
    as_json: bool,
) -> None:
    """Add a point and print its secrets."""
    new = service.NewPoint(
        name=name,
        nas_id=nas_id,
        nas_type=NasType(nas_type),
        secret=secret,
        fixed_address=fixed_address,
        coa_port=coa_port,
        department=department,
        municipality=municipality,
        site_type=site_type,
        ssid=ssid,
    )

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            return point_record(await service.add_point(session, new=new), with_secrets=True)

    emit(run_async(work), as_json=as_json)


@point.command("list")
@JSON_OPTION
def list_(as_json: bool) -> None:
    """List every point."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            points = await service.list_points(session)
            return [point_record(p, with_secrets=False) for p in points]

    emit_table(run_async(work), ["id", "nas_id", "nas_type", "name", "active"], as_json=as_json)


@point.command()
@click.argument("ref")
@JSON_OPTION
def show(ref: str, as_json: bool) -> None:
    """Show one point (by id or NAS-Identifier), secrets included."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            return point_record(await service.get_point(session, ref=ref), with_secrets=True)

    emit(run_async(work), as_json=as_json)


@point.command("rotate-secret")
@click.argument("ref")
@click.option("--secret", help="The new secret; generated when left out.")
@JSON_OPTION
def rotate_secret(ref: str, secret: str | None, as_json: bool) -> None:
    """Give a point a new RADIUS secret and print it (update the router too)."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            rotated = await service.rotate_secret(session, ref=ref, secret=secret)
            return {"id": rotated.id, "nas_id": rotated.nas_id, "secret": rotated.radius_secret}

    emit(run_async(work), as_json=as_json)


@point.command("set")
@click.argument("ref")
@click.option("--coa-port", type=click.IntRange(1, 65535), help="Disconnect-Request port.")
@click.option(
    "--message-authenticator",
    type=click.Choice(["required", "optional"]),
    help="'optional' lets RouterOS before 7.15 log in without it (weaker: BlastRADIUS).",
)
@click.option("--ip", "fixed_address", help="Fixed source address ('none' to clear).")
@click.option("--rate-down", type=click.IntRange(0), help="Download cap per user, kbit/s.")
@click.option("--rate-up", type=click.IntRange(0), help="Upload cap per user, kbit/s.")
@click.option("--ssid", help="The open network's name ('' to broadcast the point's name).")
@JSON_OPTION
def set_(
    ref: str,
    coa_port: int | None,
    message_authenticator: str | None,
    fixed_address: str | None,
    rate_down: int | None,
    rate_up: int | None,
    ssid: str | None,
    as_json: bool,
) -> None:
    """Change a point's RADIUS settings or its SSID."""
    changes = service.PointChanges(
        coa_port=coa_port,
        require_message_authenticator=(
            None if message_authenticator is None else message_authenticator == "required"
        ),
        fixed_address=None if fixed_address in (None, "none") else fixed_address,
        clear_fixed_address=fixed_address == "none",
        rate_down_kbps=rate_down,
        rate_up_kbps=rate_up,
        ssid=ssid or None,
        clear_ssid=ssid == "",
    )

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            updated = await service.update_point(session, ref=ref, changes=changes)
            return point_record(updated, with_secrets=False)

    emit(run_async(work), as_json=as_json)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only (router scripts carry secrets)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


@point.command("config")
@click.argument("ref")
@click.option(
    "--router",
    type=click.Choice([kind.value for kind in RouterKind]),
    help="Router software; default: the one the point's NAS type runs.",
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (mode 600)."
)
@JSON_OPTION
def config(ref: str, router: str | None, output: Path | None, as_json: bool) -> None:
    """Print the setup script of a point's router (RouterOS .rsc, or OpenWrt shell)."""

    async def work(runtime: Runtime) -> tuple[RenderedConfig, bool]:
        async with transaction(runtime.sessions) as session:
            found = await service.get_point(session, ref=ref)
            kind = RouterKind(router) if router else ROUTER_FOR_NAS[NasType(found.nas_type)]
            settings = runtime.settings
            rendered = render_config(found, kind, settings=settings)
            return rendered, router_targets(settings).placeholder

    rendered, placeholder = run_async(work)
    if placeholder:
        click.echo(
            f"cautiva: warning: CAUTIVA_ROUTER_RADIUS_ADDRESS is not set: replace "
            f"{RADIUS_PLACEHOLDER} in the script with the RADIUS server's address",
            err=True,
        )
    if output is not None:
        _write_private(output, rendered.text)
    if as_json:
        record: dict[str, Any] = {
            "filename": rendered.filename,
            "media_type": rendered.media_type,
        }
        record.update({"path": str(output)} if output is not None else {"text": rendered.text})
        emit(record, as_json=True)
    elif output is None:
        click.echo(rendered.text, nl=False)


@point.command("poster")
@click.argument("ref")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@JSON_OPTION
def poster(ref: str, output: Path | None, as_json: bool) -> None:
    """Print a point's printable A4 poster (SVG): Wi-Fi QR code and text in four languages."""

    async def work(runtime: Runtime) -> tuple[str, str]:
        async with transaction(runtime.sessions) as session:
            found = await service.get_point(session, ref=ref)
            return found.nas_id, render_poster(found, settings=runtime.settings)

    nas_id, svg = run_async(work)
    if output is not None:
        output.write_text(svg, encoding="utf-8")
    if as_json:
        record: dict[str, Any] = {"filename": f"cautiva-{nas_id.replace(':', '-')}-poster.svg"}
        record.update({"path": str(output)} if output is not None else {"svg": svg})
        emit(record, as_json=True)
    elif output is None:
        click.echo(svg, nl=False)
