"""Printing results for people (aligned text) or for scripts (`--json`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import click


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def emit(data: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, as_json: bool) -> None:
    """Print one record or a list of records, as JSON or as `key: value` lines."""
    if as_json:
        click.echo(json.dumps(data, default=_default, indent=2, ensure_ascii=False))
        return
    records = [data] if isinstance(data, Mapping) else list(data)
    for index, record in enumerate(records):
        if index:
            click.echo("")
        width = max((len(key) for key in record), default=0)
        for key, value in record.items():
            shown = "-" if value is None else _default(value)
            click.echo(f"{key.ljust(width)}  {shown}")


def emit_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, as_json: bool) -> None:
    """Print rows as a table with these columns, or as a JSON list."""
    if as_json:
        click.echo(json.dumps(list(rows), default=_default, indent=2, ensure_ascii=False))
        return
    cells = [
        [("-" if row.get(c) is None else _default(row.get(c))) for c in columns] for row in rows
    ]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for line in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
