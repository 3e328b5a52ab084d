"""`cautiva text`: edit the terms of use and the risk-prevention message, per language and point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cautiva.cli.main import run_async
from cautiva.cli.output import emit, emit_table
from cautiva.content import service
from cautiva.content.defaults import LANGUAGES
from cautiva.database import transaction
from cautiva.models import Point, TextKey
from cautiva.points.service import get_point
from cautiva.runtime import Runtime

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
KEY_ARGUMENT = click.argument("key", type=click.Choice([k.value for k in TextKey]))
LANG_OPTION = click.option(
    "--lang", required=True, type=click.Choice(LANGUAGES), help="Language of the text."
)
POINT_OPTION = click.option(
    "--point", "point_ref", help="Point id or NAS-Identifier (left out: every point)."
)
EVERY_POINT = "(all)"
"""How people read a text for every point (not a valid NAS-Identifier, so never ambiguous)."""


def view_record(view: service.PortalTextView, point: Point | None) -> dict[str, Any]:
    """Return the text a point shows as a plain record."""
    return {
        "key": view.key,
        "lang": view.lang,
        "point": None if point is None else point.nas_id,
        "source": view.source,
        "video": view.video,
        "characters": len(view.body),
        "body": view.body,
    }


def _emit_view(record: dict[str, Any], *, as_json: bool, with_body: bool) -> None:
    if as_json:
        emit(record, as_json=True)
        return
    shown = {k: v for k, v in record.items() if k != "body"}
    shown["point"] = shown["point"] or EVERY_POINT
    emit(shown, as_json=False)
    if with_body:
        click.echo("")
        click.echo(record["body"])


def _read_text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{file}: not UTF-8 text") from None


@click.group()
def text() -> None:
    """Edit the terms of use and the risk-prevention message the portal shows."""


@text.command("set")
@KEY_ARGUMENT
@LANG_OPTION
@POINT_OPTION
@click.option("--video", help="A .mp4 or .webm file in the media folder (message only).")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="Read the text from this UTF-8 file (a blank line between paragraphs).",
)
@click.option("--text", "body", help="The text itself.")
@JSON_OPTION
def set_(
    key: str,
    lang: str,
    point_ref: str | None,
    video: str | None,
    file: Path | None,
    body: str | None,
    as_json: bool,
) -> None:
    """Replace a text in one language, at one point or at every point (video included)."""
    if file is not None and body is None:
        body = _read_text(file)
    elif file is not None or body is None:
        raise click.UsageError("give the text with exactly one of --file or --text")
    text_body = body

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            point = None if point_ref is None else await get_point(session, ref=point_ref)
            await service.set_portal_text(
                session, key=key, lang=lang, body=text_body, point=point, video=video
            )
            view = await service.portal_text(session, key=key, lang=lang, point=point)
            return view_record(view, point)

    _emit_view(run_async(work), as_json=as_json, with_body=False)


@text.command()
@KEY_ARGUMENT
@LANG_OPTION
@POINT_OPTION
@JSON_OPTION
def show(key: str, lang: str, point_ref: str | None, as_json: bool) -> None:
    """Print the text the portal shows, and whether it is the point's, every point's or shipped."""

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with transaction(runtime.sessions) as session:
            point = None if point_ref is None else await get_point(session, ref=point_ref)
            view = await service.portal_text(session, key=key, lang=lang, point=point)
            return view_record(view, point)

    _emit_view(run_async(work), as_json=as_json, with_body=True)


@text.command("list")
@JSON_OPTION
def list_(as_json: bool) -> None:
    """List the texts operators stored (everything else shows the shipped texts)."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with transaction(runtime.sessions) as session:
            return [
                {
                    "key": stored.key,
                    "lang": stored.lang,
                    "point": stored.point_nas_id,
                    "video": stored.video,
                    "characters": len(stored.body),
                    "updated_at": stored.updated_at,
                    "body": stored.body,
                }
                for stored in await service.list_portal_texts(session)
            ]

    rows = run_async(work)
    if not as_json:
        rows = [{**row, "point": row["point"] or EVERY_POINT} for row in rows]
    emit_table(rows, ["key", "lang", "point", "video", "characters", "updated_at"], as_json=as_json)
