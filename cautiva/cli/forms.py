"""`cautiva form`: publish XLSForm surveys, assign them to points, list what is published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit, emit_table
from cautiva.database import transaction
from cautiva.forms import service
from cautiva.models import FormKind, SurveyForm
from cautiva.points.service import get_point
from cautiva.runtime import Runtime

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def form_record(row: SurveyForm) -> dict[str, Any]:
    """Return a published form as a plain record (without its bytes)."""
    return {
        "id": row.id,
        "form_id": row.form_id,
        "version": row.version,
        "kind": row.kind,
        "sha256": row.sha256,
        "published_at": row.published_at,
    }


@click.group()
def form() -> None:
    """Publish and list survey forms (XLSForm)."""


@form.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--point", "point_ref", help="Assign the form to this point (id or NAS-Identifier).")
@click.option("--followup", is_flag=True, help="The short form for returning people.")
@JSON_OPTION
def import_(file: Path, point_ref: str | None, followup: bool, as_json: bool) -> None:
    """Check an XLSForm workbook, publish it, and assign it to a point when one is given."""
    data = file.read_bytes()
    kind = FormKind.FOLLOWUP if followup else FormKind.FULL

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            point = None if point_ref is None else await get_point(session, ref=point_ref)
            await service.ensure_default_forms(session)
            row = await service.publish_form(session, data=data, kind=kind)
            record = form_record(row)
            record["point"] = None
            if point is not None:
                await service.assign_form(
                    session,
                    point_ref=str(point.id),
                    form_id=row.form_id,
                    version=row.version,
                    kind=kind,
                )
                record["point"] = point.nas_id
            return record

    emit(run_async(work), as_json=as_json)


@form.command("list")
@JSON_OPTION
def list_(as_json: bool) -> None:
    """List every published form version (the shipped defaults are published on first use)."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            await service.ensure_default_forms(session)
            return [form_record(row) for row in await service.list_forms(session)]

    emit_table(
        run_async(work), ["id", "form_id", "version", "kind", "published_at"], as_json=as_json
    )
