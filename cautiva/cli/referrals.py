"""`cautiva referral`: the directory of services people are referred to after the survey."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit, emit_table
from cautiva.database import transaction
from cautiva.models import ReferralService
from cautiva.referrals import service
from cautiva.runtime import Runtime

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def referral_record(found: ReferralService) -> dict[str, Any]:
    """Return a service as a plain record."""
    return {
        "id": found.id,
        "name": found.name,
        "kind": found.kind,
        "needs": list(found.needs),
        "department": found.department,
        "municipality": found.municipality,
        "address": found.address,
        "hours": found.hours,
        "contact": found.contact,
        "languages": list(found.languages),
        "notes": found.notes,
        "active": found.active,
    }


def _for_people(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its code lists joined and its area in one column, for text output."""
    place = [record["municipality"], record["department"]]
    return record | {
        "needs": ",".join(record["needs"]),
        "languages": ",".join(record["languages"]),
        "area": ", ".join(p for p in place if p) or "everywhere",
    }


def _show(record: dict[str, Any], *, as_json: bool) -> None:
    emit(record if as_json else _for_people(record), as_json=as_json)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        click.echo(f"cautiva: warning: {warning}", err=True)


@click.group()
def referral() -> None:
    """Manage the directory of services shown after the survey."""


@referral.command("add")
@click.option("--name", required=True, help="The service's name, as people will see it.")
@click.option("--kind", default="", help="shelter, health centre, legal aid...")
@click.option(
    "--needs", required=True, help="Need codes it answers, comma-separated: food,shelter."
)
@click.option("--department", help="Department (adm1); leave out for a national service.")
@click.option("--municipality", help="Municipality (adm2); leave out for the whole department.")
@click.option("--address", default="", help="Where it is.")
@click.option("--hours", default="", help="When it is open.")
@click.option("--contact", default="", help="A phone number or another way to reach it.")
@click.option("--languages", default="", help="Languages its staff speak: es,en,fr,ht.")
@click.option("--notes", default="", help="Anything else people should know.")
@JSON_OPTION
def add(
    name: str,
    kind: str,
    needs: str,
    department: str | None,
    municipality: str | None,
    address: str,
    hours: str,
    contact: str,
    languages: str,
    notes: str,
    as_json: bool,
) -> None:
    """Add a service to the directory."""
    fields = service.ServiceFields(
        name=name,
        kind=kind,
        needs=service.split_codes(needs),
        department=department,
        municipality=municipality,
        address=address,
        hours=hours,
        contact=contact,
        languages=service.split_codes(languages),
        notes=notes,
    )

    async def work(runtime: Runtime) -> tuple[dict[str, Any], list[str]]:
        async with transaction(runtime.sessions) as session:
            saved = await service.add_service(session, fields=fields)
            return referral_record(saved.service), saved.warnings

    record, warnings = run_async(work)
    _warn(warnings)
    _show(record, as_json=as_json)


@referral.command("list")
@click.option("--department", help="Only this department's services.")
@click.option("--active", "active_only", is_flag=True, help="Leave out deactivated services.")
@JSON_OPTION
def list_(department: str | None, active_only: bool, as_json: bool) -> None:
    """List the directory."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            found = await service.list_services(
                session, department=department, active_only=active_only
            )
            return [referral_record(s) for s in found]

    rows = run_async(work)
    if not as_json:
        rows = [_for_people(r) for r in rows]
    columns = ["id", "name", "kind", "needs", "area", "languages", "active"]
    emit_table(rows, columns, as_json=as_json)


@referral.command("remove")
@click.argument("service_id", type=int)
@JSON_OPTION
def remove(service_id: int, as_json: bool) -> None:
    """Deactivate a service: people stop seeing it (it stays listed, to turn on again)."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            found = await service.set_service_active(session, service_id=service_id, active=False)
            return referral_record(found)

    _show(run_async(work), as_json=as_json)


@referral.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@JSON_OPTION
def import_(file: Path, as_json: bool) -> None:
    """Add or update services from a CSV file (UTF-8, `,` or `;`).

    Columns: name,kind,needs,department,municipality,address,hours,contact,languages,notes
    (name and needs required; needs and languages space- or comma-separated). A row naming a
    service already in the same area updates it; nothing is imported if any row is wrong.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 (save the sheet as CSV UTF-8)") from None
    services = service.read_csv(text)

    async def work(runtime: Runtime) -> service.ImportResult:
        async with transaction(runtime.sessions) as session:
            return await service.import_services(session, services=services)

    result = run_async(work)
    _warn(result.warnings)
    emit({"added": result.added, "updated": result.updated}, as_json=as_json)
