"""`cautiva export responses`: rows, columns, filters, HXL, pseudonyms, privacy and memory."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import tracemalloc
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import delete, insert, select
from test_responses_service import followup_answers, new_email, submit

from cautiva.database import transaction
from cautiva.exports import export_columns, export_rows, hxl_tag, write_csv, write_xlsx
from cautiva.exports.writers import csv_cell
from cautiva.models import Point, Response
from cautiva.responses.service import SubmittedResponse
from cautiva.runtime import Runtime
from conftest import TEST_SECRET_KEY
from factories import create_point, full_answers
from radius_harness import CAUTIVA

MAC = "02-00-00-AA-BB-01"
STORED_MAC = "02:00:00:AA:BB:01"
DAY1 = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
DAY3 = DAY1 + timedelta(days=2)


@dataclass
class Seeded:
    """Two points, three people, one returning; the stored rows to compare with."""

    point: Point
    other: Point
    submitted: list[SubmittedResponse]
    stored: list[Response]


async def seed(runtime: Runtime) -> Seeded:
    """A first-timer and a returning person at `point` on two days, one more at `other`."""
    point, other = await create_point(runtime), await create_point(runtime)
    ana, ben = new_email(), new_email()
    # Followed by a fresh default form with a text answer that looks like a spreadsheet formula.
    texty = full_answers() | {"coming_from_place": '=HYPERLINK("x")'}
    submitted = [
        await submit(runtime, point, email=ana, answers=full_answers(), now=DAY1),
        await submit(runtime, other, email=ben, answers=full_answers(), now=DAY1),
        await submit(runtime, point, email=ana, answers=followup_answers(), now=DAY3),
        await submit(runtime, point, email=new_email(), answers=texty, now=DAY3, mac=None),
    ]
    async with transaction(runtime.sessions) as session:
        ids = [s.response_id for s in submitted]
        result = await session.execute(select(Response).where(Response.id.in_(ids)))
        stored = sorted(result.scalars(), key=lambda r: ids.index(r.id))
    return Seeded(point, other, submitted, stored)


async def collect(
    runtime: Runtime, *, since: date | None = None, until: date | None = None, point_id: int | None
) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """Run one export and return its columns and rows."""
    async with transaction(runtime.sessions) as session:
        columns = await export_columns(session, since=since, until=until, point_id=point_id)
        rows = [
            row
            async for row in export_rows(
                session, since=since, until=until, point_id=point_id, batch=2, columns=columns
            )
        ]
    return columns.names, rows


async def test_rows_hold_the_point_the_form_and_the_answers(runtime: Runtime) -> None:
    seeded = await seed(runtime)
    names, rows = await collect(runtime, point_id=seeded.point.id)
    assert [row["response"] for row in rows] == [1, 2, 3]
    first, returning, third = rows
    assert first["point"] == seeded.point.nas_id and first["point_name"] == seeded.point.name
    assert (first["department"], first["municipality"]) == (None, None)
    assert (first["date"], returning["date"]) == ("2025-03-01", "2025-03-03")
    assert (first["form_id"], returning["form_id"]) == ("cautiva_default", "cautiva_followup")
    assert first["version"] == seeded.stored[0].version and first["lang"] == "es"
    assert (first["returning"], returning["returning"]) == (False, True)
    # select_multiple joined by spaces; questions of the other form are empty.
    assert first["needs"] == "food shelter" and returning["needs"] == "water"
    assert first["group_size"] == 2 and first["children"] == 1
    assert returning["group_size"] is None and first["current_country"] is None
    assert third["coming_from_place"] == '=HYPERLINK("x")'
    # The union of both forms' questions, default form first; notes never become columns.
    fixed = ["response", "point", "point_name", "department", "municipality", "date"]
    assert list(names[:6]) == fixed
    questions = list(names[11:])
    assert questions[:3] == ["group_size", "girls_0_5", "boys_0_5"]
    assert questions[-3:] == ["consent_messages", "current_country", "current_place"]
    assert questions.count("needs") == 1 and "welcome" not in names and "thanks" not in names
    for row in rows:
        assert list(row) == list(names)


async def test_filters_by_day_and_point(runtime: Runtime) -> None:
    seeded = await seed(runtime)
    day1 = DAY1.date()
    _, rows = await collect(runtime, since=day1, until=day1, point_id=seeded.point.id)
    assert [(r["date"], r["form_id"]) for r in rows] == [("2025-03-01", "cautiva_default")]
    names, rows = await collect(runtime, since=DAY3.date(), point_id=seeded.point.id)
    assert [r["date"] for r in rows] == ["2025-03-03", "2025-03-03"]
    # Only the follow-up and default forms' questions: both are touched on day 3.
    assert "current_country" in names and "group_size" in names
    names, rows = await collect(runtime, until=day1, point_id=seeded.other.id)
    assert [r["point"] for r in rows] == [seeded.other.nas_id]
    assert "current_country" not in names
    names, rows = await collect(runtime, until=day1 - timedelta(days=1), point_id=seeded.point.id)
    assert rows == [] and "group_size" not in names and names[-1] == "person"


async def test_pseudonyms_link_one_export_only(runtime: Runtime) -> None:
    seeded = await seed(runtime)
    _, once = await collect(runtime, point_id=seeded.point.id)
    _, again = await collect(runtime, point_id=seeded.point.id)
    first, returning, other = (row["person"] for row in once)
    assert first == returning != other and len(first) == 12 and int(first, 16) >= 0
    assert {row["person"] for row in once}.isdisjoint(row["person"] for row in again)
    assert again[0]["person"] == again[1]["person"]


def test_hxl_tags_are_attribute_safe() -> None:
    assert hxl_tag("group_size") == "#indicator+group_size"
    assert hxl_tag("Needs-Now 2") == "#indicator+needs_now_2"
    assert hxl_tag("_1st") == "#indicator+q1st"


async def rows_of(runtime: Runtime, point_id: int) -> AsyncIterator[dict[str, Any]]:
    async with transaction(runtime.sessions) as session:
        async for row in export_rows(session, since=None, until=None, point_id=point_id):
            yield row


async def test_csv_and_xlsx_hold_no_identifiers(runtime: Runtime, tmp_path: Path) -> None:
    seeded = await seed(runtime)
    async with transaction(runtime.sessions) as session:
        columns = await export_columns(session, since=None, until=None, point_id=seeded.point.id)
    text = io.StringIO(newline="")
    rows = rows_of(runtime, seeded.point.id)
    assert await write_csv(text, columns=columns.names, rows=rows, hxl=columns.hxl) == 3
    workbook_path = tmp_path / "export.xlsx"
    rows = rows_of(runtime, seeded.point.id)
    assert await write_xlsx(workbook_path, columns=columns.names, rows=rows, hxl=columns.hxl) == 3

    table = list(csv.reader(io.StringIO(text.getvalue())))
    sheet = load_workbook(workbook_path, read_only=True)["responses"]
    cells = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert table[0] == cells[0] == list(columns.names)
    hxl = dict(zip(table[0], table[1], strict=True))
    assert hxl["date"] == "#date+reported" and hxl["department"] == "#adm1+name"
    assert hxl["point"] == "#loc+code" and hxl["person"] == "#meta+pseudonym"
    assert hxl["needs"] == "#indicator+needs" and cells[1] == table[1]
    assert [row[0] for row in table[2:]] == ["1", "2", "3"]
    assert [row[0] for row in table[2:]] != [
        str(r.id) for r in seeded.stored if r.point_id == seeded.point.id
    ]
    assert table[2][table[0].index("returning")] == "false"
    # A text answer beginning with "=" stays text in the workbook, never a formula; in the CSV
    # it gets the apostrophe spreadsheets read as "this is text".
    place = table[0].index("coming_from_place")
    assert cells[4][place] == '=HYPERLINK("x")'
    assert table[4][place] == '\'=HYPERLINK("x")'

    secrets = {STORED_MAC, MAC, STORED_MAC.replace(":", ""), TEST_SECRET_KEY}
    for stored in seeded.stored:
        secrets |= {stored.person_key, stored.person_key[:12]}
    for issued in seeded.submitted:
        secrets |= {issued.grant.username, issued.grant.password}
    with zipfile.ZipFile(workbook_path) as archive:
        xml = "".join(archive.read(name).decode() for name in archive.namelist())
    for output in (text.getvalue(), xml):
        found = [s for s in secrets if s.lower() in output.lower()]
        assert found == []
    assert not {"id", "mac", "device_mac", "person_key", "email"} & set(columns.names)


def cli(env: dict[str, str], *args: str, code: int = 0) -> subprocess.CompletedProcess[bytes]:
    """Run `cautiva ARGS` with `env` and check its exit code."""
    completed = subprocess.run(
        [CAUTIVA, *args], env=env, capture_output=True, timeout=60, check=False
    )
    assert completed.returncode == code, completed.stderr
    return completed


def cli_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CAUTIVA_")}
    env.update(
        {
            "CAUTIVA_ENV": "development",
            "CAUTIVA_DATABASE_URL": database_url,
            "CAUTIVA_SECRET_KEY": TEST_SECRET_KEY,
            "CAUTIVA_DATA_DIR": str(tmp_path / "var"),
        }
    )
    return env


async def test_cli_exports_to_stdout_and_to_a_file(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    seeded = await seed(runtime)
    env = cli_env(database_url, tmp_path)
    point = seeded.point.nas_id
    out = cli(env, "export", "responses", "--format", "csv", "--hxl", "--point", point)
    table = list(csv.reader(io.StringIO(out.stdout.decode("utf-8"), newline="")))
    assert table[0][0] == "response" and table[1][0] == "#meta+id" and len(table) == 5
    assert "exported 3 responses" in out.stderr.decode()
    day = "2025-03-03"
    args = ("export", "responses", "--format", "csv", "--from", day, "--to", day)
    out = cli(env, *args, "--point", str(seeded.point.id))
    assert [row[5] for row in csv.reader(io.StringIO(out.stdout.decode()))][1:] == [day, day]

    target = tmp_path / "responses.xlsx"
    cli(env, "export", "responses", "--format", "xlsx", "--point", point, "--output", str(target))
    sheet = load_workbook(target, read_only=True)["responses"]
    assert [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [None] * 3
    assert [name for name in os.listdir(tmp_path) if name.endswith(".partial")] == []
    piped = cli(env, "export", "responses", "--format", "xlsx", "--point", point)
    (tmp_path / "piped.xlsx").write_bytes(piped.stdout)
    sheet = load_workbook(tmp_path / "piped.xlsx", read_only=True)["responses"]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 4


async def test_cli_errors_are_one_line(runtime: Runtime, database_url: str, tmp_path: Path) -> None:
    env = cli_env(database_url, tmp_path)
    for args, message in [
        (("--format", "csv", "--from", "2025-13-01"), "does not match the format"),
        (("--format", "csv", "--from", "2025-03-02", "--to", "2025-03-01"), "is after --to"),
        (
            (
                "--format",
                "ods",
            ),
            "'ods' is not one of",
        ),
        (("--format", "csv", "--point", "no-such-point"), "no point with id"),
    ]:
        failed = cli(env, "export", "responses", *args, code=1 if "--point" in args else 2)
        stderr = failed.stderr.decode()
        assert stderr.startswith("cautiva: error: ") and stderr.count("\n") == 1, stderr
        assert message in stderr and failed.stdout == b""


class Discard(io.StringIO):
    """A text stream that forgets what it is given, so only the export's own memory counts."""

    def write(self, text: str) -> int:
        return len(text)


async def test_memory_stays_flat_as_the_export_grows(runtime: Runtime) -> None:
    point = await create_point(runtime)
    seed_response = await submit(
        runtime, point, email=new_email(), answers=full_answers(), now=DAY1 - timedelta(days=1)
    )
    async with transaction(runtime.sessions) as session:
        template = await session.get(Response, seed_response.response_id)
        assert template is not None
        answers = dict(template.answers)
        rows = [
            {
                "point_id": point.id,
                "survey_form_id": template.survey_form_id,
                "form_id": template.form_id,
                "version": template.version,
                "lang": "es",
                "answers": answers | {"coming_from_place": f"Lugar {n}"},
                "person_key": f"{n:064x}",
                "returning_person": False,
                "device_mac": MAC.replace("-", ":"),
                "created_at": DAY1 if n < 5_000 else DAY3,
            }
            for n in range(20_000)
        ]
        await session.execute(insert(Response), rows)
    del rows

    async def peak(until: date | None) -> tuple[int, int]:
        async with transaction(runtime.sessions) as session:
            args: dict[str, Any] = {"since": DAY1.date(), "until": until, "point_id": point.id}
            columns = await export_columns(session, **args)
            tracemalloc.start()
            try:
                stream = export_rows(session, batch=500, columns=columns, **args)
                count = await write_csv(Discard(), columns=columns.names, rows=stream)
                return count, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    try:
        small_count, small = await peak(DAY1.date())
        large_count, large = await peak(None)
        assert (small_count, large_count) == (5_000, 20_000)
        # Loading every row would make the peak grow about fourfold with four times the rows.
        print(f"peak traced memory: {small} B for 5,000 rows, {large} B for 20,000")
        assert large < 1.5 * small, (small, large)
    finally:
        async with transaction(runtime.sessions) as session:
            await session.execute(delete(Response).where(Response.point_id == point.id))


def test_csv_cells_never_start_a_formula() -> None:
    assert csv_cell('=HYPERLINK("http://x","y")') == '\'=HYPERLINK("http://x","y")'
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("+1") == "'+1"
    assert csv_cell(-5) == "-5" and csv_cell(2.5) == "2.5", "numbers stay numbers"
    assert csv_cell("Cúcuta") == "Cúcuta" and csv_cell(None) == "" and csv_cell(True) == "true"
