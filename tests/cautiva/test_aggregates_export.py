"""`cautiva export aggregates`: counts per place or week, small cells hidden, no identifiers."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from analytics_dataset import AnalyticsDataset, DatasetResponse, make_dataset
from cli_runner import Cli
from cli_runner import cautiva_env as cautiva_env
from cli_runner import cli as cli
from openpyxl import load_workbook  # type: ignore[import-untyped]

from cautiva.analytics.indicators import BANDS
from cautiva.analytics.suppression import footnote
from cautiva.database import transaction
from cautiva.exports.aggregates import (
    COUNT_COLUMNS,
    AggregateTable,
    Grouping,
    aggregate_responses,
    band_column,
    protect,
    week_start,
)
from cautiva.runtime import Runtime

# Eras no other test writes in (a Monday each, six weeks apart): an export over one holds the
# data set of one test only.
ERAS = {"counts": date(2006, 3, 6), "narrow": date(2006, 5, 1), "cli": date(2006, 6, 26)}
DAYS = 42
BAND_COLUMNS = [band_column(band) for band in BANDS]
FEMALE = [band_column(band) for band in BANDS if band.sex == "female"]
MALE = [band_column(band) for band in BANDS if band.sex == "male"]
SUMS = (("people", ["female", "male"]), ("female", FEMALE), ("male", MALE))
COUNTS = [name for name, _ in COUNT_COLUMNS]


async def seeded(runtime: Runtime, era: str) -> AnalyticsDataset:
    return await make_dataset(runtime, seed=23, start=ERAS[era], days=DAYS, people=160)


def period_of(dataset: AnalyticsDataset) -> tuple[str, ...]:
    return ("--from", dataset.since.isoformat(), "--to", dataset.until.isoformat())


def expected_counts(responses: Sequence[DatasetResponse]) -> dict[str, int]:
    """The counts of one group, made with plain loops from what the data set wrote."""
    counts = dict.fromkeys(COUNTS, 0)
    counts["responses"] = len(responses)
    for response in responses:
        for band in BANDS:
            value = response.answers.get(band.question, 0)
            counts[band_column(band)] += value
            counts[band.sex] += value
            counts["people"] += value
    return counts


def grouped(
    dataset: AnalyticsDataset, key: Callable[[DatasetResponse], tuple[Any, ...]]
) -> dict[tuple[Any, ...], dict[str, int]]:
    groups: dict[tuple[Any, ...], list[DatasetResponse]] = defaultdict(list)
    for response in dataset.responses:
        groups[key(response)].append(response)
    return {group: expected_counts(members) for group, members in groups.items()}


async def table_of(
    runtime: Runtime, dataset: AnalyticsDataset, grouping: Grouping, threshold: int
) -> AggregateTable:
    async with transaction(runtime.sessions) as session:
        return await aggregate_responses(
            session,
            grouping=grouping,
            since=dataset.since,
            until=dataset.until,
            point_id=None,
            threshold=threshold,
            batch=37,
        )


def assert_protected(row: Mapping[str, Any], counts: Mapping[str, int], threshold: int) -> None:
    """Small counts hidden, nothing else changed, and no sum left with one lone hidden cell."""
    for name in COUNTS:
        if row[name] is None:
            assert counts[name] > 0, (name, row)
        else:
            assert row[name] == counts[name], (name, row, counts)
            assert not 0 < row[name] < threshold, (name, row)
    for total, parts in SUMS:
        assert sum(row[cell] is None for cell in (total, *parts)) != 1, (total, row)


async def test_counts_per_place_and_week_match_the_responses(runtime: Runtime) -> None:
    dataset = await seeded(runtime, "counts")
    places = {p.id: p for p in dataset.points}
    keys: dict[Grouping, Callable[[DatasetResponse], tuple[Any, ...]]] = {
        Grouping.DEPARTMENT: lambda r: (places[r.point_id].department,),
        Grouping.MUNICIPALITY: lambda r: (
            places[r.point_id].department,
            places[r.point_id].municipality,
        ),
        Grouping.POINT: lambda r: (places[r.point_id].nas_id,),
        Grouping.WEEK: lambda r: (week_start(r.created_at.date()).isoformat(),),
    }
    group_columns = {
        Grouping.DEPARTMENT: ["department"],
        Grouping.MUNICIPALITY: ["department", "municipality"],
        Grouping.POINT: ["point"],
        Grouping.WEEK: ["week"],
    }
    hid: dict[Grouping, int] = {}
    for grouping, key in keys.items():
        expected = grouped(dataset, key)
        # Threshold 1 hides nothing: every count is there to compare.
        exact = await table_of(runtime, dataset, grouping, threshold=1)
        assert exact.hidden == 0 and all(row["notes"] is None for row in exact.rows)
        got = {tuple(row[c] for c in group_columns[grouping]): row for row in exact.rows}
        assert set(got) == set(expected), grouping
        for group, counts in expected.items():
            assert {name: got[group][name] for name in COUNTS} == counts, (grouping, group)
        if grouping is Grouping.POINT:
            for row in exact.rows:
                point = next(p for p in dataset.points if p.nas_id == row["point"])
                assert (row["point_name"], row["department"], row["municipality"]) == (
                    point.name,
                    point.department,
                    point.municipality,
                )
        if grouping is Grouping.WEEK:
            weeks = [date.fromisoformat(str(row["week"])) for row in exact.rows]
            assert weeks == sorted(weeks) and {w.weekday() for w in weeks} == {0}

        shared = await table_of(runtime, dataset, grouping, threshold=5)
        assert shared.columns == exact.columns and shared.columns[-1] == "notes"
        shared_rows = {tuple(row[c] for c in group_columns[grouping]): row for row in shared.rows}
        for group, counts in expected.items():
            assert_protected(shared_rows[group], counts, 5)
        small = any(0 < c < 5 for counts in expected.values() for c in counts.values())
        assert (shared.hidden > 0) is small, grouping
        assert shared.rows[0]["notes"] == (footnote(5) if small else None)
        assert all(row["notes"] is None for row in shared.rows[1:])
        hid[grouping] = shared.hidden
    assert hid[Grouping.POINT] > 0 and hid[Grouping.WEEK] > 0, hid


async def test_a_point_and_a_period_narrow_the_rows(runtime: Runtime) -> None:
    dataset = await seeded(runtime, "narrow")
    point = dataset.points[0]
    since = dataset.since + timedelta(days=7)
    until = dataset.since + timedelta(days=20)
    async with transaction(runtime.sessions) as session:
        table = await aggregate_responses(
            session,
            grouping=Grouping.WEEK,
            since=since,
            until=until,
            point_id=point.id,
            threshold=1,
        )
    mine = [
        r
        for r in dataset.responses
        if r.point_id == point.id and since <= r.created_at.date() <= until
    ]
    assert sum(int(row["responses"] or 0) for row in table.rows) == len(mine) > 0
    assert {row["week"] for row in table.rows} == {
        week_start(r.created_at.date()).isoformat() for r in mine
    }


def test_protect_leaves_no_sum_that_gives_a_hidden_cell_away() -> None:
    rng = random.Random(7)
    for threshold in (2, 5, 11):
        for _ in range(2000):
            bands = {column: rng.choice((0, 0, 1, 2, 3, 4, 6, 9, 20)) for column in BAND_COLUMNS}
            counts = {"responses": rng.randrange(1, 30), **bands}
            counts["female"] = sum(bands[c] for c in FEMALE)
            counts["male"] = sum(bands[c] for c in MALE)
            counts["people"] = counts["female"] + counts["male"]
            assert_protected(protect(counts, threshold), counts, threshold)
    # One small band among large ones takes the next smallest of its sex with it.
    counts = dict.fromkeys(COUNTS, 0) | {"responses": 9, "female_0_5": 2, "female_18_59": 30}
    counts |= {"female_6_17": 7, "female": 39, "male_18_59": 12, "male": 12, "people": 51}
    row = protect(counts, 5)
    assert (row["female_0_5"], row["female_6_17"], row["female_18_59"]) == (None, None, 30)
    assert (row["female"], row["male"], row["people"], row["male_18_59"]) == (39, 12, 51, 12)
    # A small sex total takes the other with it (people is shown), and then one of its bands.
    counts = dict.fromkeys(COUNTS, 0) | {"responses": 8, "female_18_59": 3, "female": 3}
    counts |= {"male_0_5": 6, "male_18_59": 8, "male": 14, "people": 17}
    row = protect(counts, 5)
    assert (row["female"], row["male"], row["male_0_5"], row["male_18_59"]) == (
        None,
        None,
        None,
        8,
    )
    assert row["people"] == 17 and row["responses"] == 8


async def test_cli_writes_csv_and_xlsx_with_hxl_and_never_an_identifier(
    runtime: Runtime, cli: Cli, tmp_path: Path
) -> None:
    dataset = await seeded(runtime, "cli")
    period = period_of(dataset)
    out = await cli("export", "aggregates", "--by", "municipality", "--hxl", *period)
    assert "small cells hidden" in out.stderr
    text = out.stdout
    table = list(csv.reader(io.StringIO(text, newline="")))
    header, tags, rows = table[0], table[1], table[2:]
    assert header[:4] == ["department", "municipality", "responses", "people"]
    assert header[-1] == "notes" and len(rows) == len(dataset.municipalities)
    hxl = dict(zip(header, tags, strict=True))
    assert hxl["department"] == "#adm1+name" and hxl["municipality"] == "#adm2+name"
    assert hxl["responses"] == "#meta+count+responses" and hxl["people"] == "#affected+total"
    assert hxl["female_0_5"] == "#affected+f+infants+age_0_5"
    assert hxl["male_60_plus"] == "#affected+m+elderly+age_60_plus"
    assert (hxl["female"], hxl["male"], hxl["notes"]) == (
        "#affected+f",
        "#affected+m",
        "#meta+notes",
    )
    cells = [dict(zip(header, row, strict=True)) for row in rows]
    for row in cells:
        for name in COUNTS:
            # A hidden cell is empty, never its number.
            assert row[name] == "" or not 0 < int(row[name]) < 5, (name, row)
    assert cells[0]["notes"] == footnote(5)
    assert any(row[name] == "" for row in cells for name in COUNTS)

    target = tmp_path / "by-week.xlsx"
    xlsx = ("--format", "xlsx", "--hxl", "--output", str(target))
    await cli("export", "aggregates", "--by", "week", *xlsx, *period)
    sheet = load_workbook(target, read_only=True)["aggregates"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "week" and values[1][0] == "#date+start+week"
    assert len(values) == 2 + len({week_start(r.created_at.date()) for r in dataset.responses})
    for row in values[2:]:
        for name in COUNTS:
            cell = row[values[0].index(name)]
            assert cell is None or not 0 < cell < 5, (name, row)

    by_point = await cli("export", "aggregates", "--by", "point", "--threshold", "8", *period)
    assert "threshold 8" in by_point.stderr
    with zipfile.ZipFile(target) as archive:
        xml = "".join(archive.read(name).decode() for name in archive.namelist())
    secrets = dataset.identifiers()
    for output in (text, xml, by_point.stdout):
        assert [s for s in secrets if s.lower() in output.lower()] == []
    assert not {"id", "person", "mac", "device_mac", "person_key", "ip"} & set(header)


async def test_cli_refuses_a_looser_threshold_and_bad_options(
    cli: Cli,
) -> None:
    for args, code, message in [
        (("--by", "point", "--threshold", "3"), 2, "below the operator's small-cell threshold 5"),
        (("--by", "country"), 2, "'country' is not one of"),
        (("--by", "week", "--from", "2006-03-02", "--to", "2006-03-01"), 2, "is after --to"),
        (("--by", "week", "--point", "no-such-point"), 1, "no point with id"),
    ]:
        failed = await cli("export", "aggregates", *args, code=code)
        assert failed.stderr.startswith("cautiva: error: ") and failed.stderr.count("\n") == 1
        assert message in failed.stderr and failed.stdout == ""
    empty = ("--from", "1990-01-01", "--to", "1990-01-02", "--threshold", "10")
    stricter = await cli("export", "aggregates", "--by", "department", *empty)
    assert stricter.stdout.splitlines() == [
        ",".join(["department", *COUNTS, "notes"]),
    ]
    assert "exported 0 rows by department (threshold 10)" in stricter.stderr
