"""Writing export rows as CSV or XLSX while they stream in, never holding them all.

Both write a header of column names and, when asked, a second row of HXL hashtags. CSV goes to
a text stream (UTF-8, the caller opens it with newline=""); XLSX uses openpyxl's write-only
workbook, which spools rows to a temporary file and zips them on save.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

Row = Mapping[str, Any]


# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell as CSV text: empty for missing, `true`/`false` for booleans.

    Free text that a spreadsheet would take for a formula gets a leading apostrophe; numbers
    (stored as numbers) never do.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return str(value)


async def write_csv(
    stream: IO[str],
    *,
    columns: Sequence[str],
    rows: AsyncIterator[Row],
    hxl: Sequence[str] | None = None,
) -> int:
    """Write the header, the HXL row if given, and every row; return how many rows."""
    writer = csv.writer(stream)
    writer.writerow(columns)
    if hxl is not None:
        writer.writerow(hxl)
    count = 0
    async for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
        count += 1
    return count


def _xlsx_cell(sheet: Any, value: object) -> object:
    if not isinstance(value, str):
        return value
    # Free text from the public: drop characters XML cannot hold, and keep a leading "=" as
    # text (openpyxl would otherwise store it as a formula that runs when the sheet is opened).
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


async def write_xlsx(
    target: Path | IO[bytes],
    *,
    columns: Sequence[str],
    rows: AsyncIterator[Row],
    hxl: Sequence[str] | None = None,
    title: str = "responses",
) -> int:
    """Write one sheet with the header, the HXL row if given, and every row; return the count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list(columns))
    if hxl is not None:
        sheet.append(list(hxl))
    count = 0
    async for row in rows:
        sheet.append([_xlsx_cell(sheet, row.get(column)) for column in columns])
        count += 1
    workbook.save(target)
    return count
