"""Aggregates to share with government: responses and people characterised, by place or week.

One row per group (department, municipality, point or ISO week) holds the responses, the people
they characterise (the travel groups' age-and-sex bands, respondents included), each sex and
age band, and each sex's total. No row holds an identifier: no person key, MAC, address or
response id ever reaches the table.

Small cells are hidden: a count from 1 to `threshold - 1` becomes None (an empty cell), and
the row's totals must not give it back. A row carries three sums (people = female + male,
female = its four bands, male = its four bands), so a lone hidden cell in any of them takes a
second one with it (the next smallest part, else the sum itself), until no sum has exactly one
hidden cell. The first row's `notes` cell then carries the footnote that explains empty cells:
a column rather than a `#` line under the table, which HXL tools and spreadsheets would read
as one more row of data.

Responses are read in keyset pages and tallied per group, so memory follows the number of
groups, never the number of responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.indicators import BANDS, SEXES, Band, band_counts
from cautiva.analytics.suppression import footnote, is_small
from cautiva.exports.repository import ExportRepository, ResponseFilter
from cautiva.exports.service import DEFAULT_BATCH, Cell, day_range


class Grouping(StrEnum):
    """What one row of the aggregates stands for."""

    DEPARTMENT = "department"
    MUNICIPALITY = "municipality"
    POINT = "point"
    WEEK = "week"


_AGE_ATTRIBUTES = {
    "0-5": "infants+age_0_5",
    "6-17": "children+age_6_17",
    "18-59": "adults+age_18_59",
    "60+": "elderly+age_60_plus",
}
_SEX_ATTRIBUTES = {"female": "f", "male": "m"}


def band_column(band: Band) -> str:
    """The column of a band: its sex and ages, as `female_0_5` or `male_60_plus`."""
    return f"{band.sex}_{band.ages.replace('-', '_').replace('+', '_plus')}"


def band_hxl(band: Band) -> str:
    """The HXL hashtag of a band: #affected with its sex and age attributes (HXL 1.1 SADD)."""
    return f"#affected+{_SEX_ATTRIBUTES[band.sex]}+{_AGE_ATTRIBUTES[band.ages]}"


GROUP_COLUMNS: dict[Grouping, tuple[tuple[str, str], ...]] = {
    Grouping.DEPARTMENT: (("department", "#adm1+name"),),
    Grouping.MUNICIPALITY: (("department", "#adm1+name"), ("municipality", "#adm2+name")),
    Grouping.POINT: (
        ("point", "#loc+code"),
        ("point_name", "#loc+name"),
        ("department", "#adm1+name"),
        ("municipality", "#adm2+name"),
    ),
    Grouping.WEEK: (("week", "#date+start+week"),),
}
"""The columns that name each row's group, and their HXL hashtags."""

COUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("responses", "#meta+count+responses"),
    ("people", "#affected+total"),
    *((band_column(band), band_hxl(band)) for band in BANDS),
    *((sex, f"#affected+{_SEX_ATTRIBUTES[sex]}") for sex in SEXES),
)
"""The counts of every row, and their HXL hashtags."""

NOTES_COLUMN = ("notes", "#meta+notes")

# The sums a row shows beside their parts: (total, parts). Responses are in none of them.
_SUMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("people", SEXES),
    *((sex, tuple(band_column(b) for b in BANDS if b.sex == sex)) for sex in SEXES),
)


@dataclass(frozen=True, slots=True)
class AggregateTable:
    """The aggregates of one export: columns, HXL hashtags, rows, and how many cells were hidden."""

    grouping: Grouping
    threshold: int
    columns: tuple[str, ...]
    hxl: tuple[str, ...]
    rows: tuple[dict[str, Cell], ...]
    hidden: int

    async def stream(self) -> AsyncIterator[dict[str, Cell]]:
        """The rows as the writers take them."""
        for row in self.rows:
            yield row


@dataclass(slots=True)
class _Tally:
    responses: int = 0
    bands: dict[Band, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))

    def add(self, answers: Mapping[str, Any]) -> None:
        self.responses += 1
        for band, count in band_counts(answers).items():
            self.bands[band] += count

    def counts(self) -> dict[str, int]:
        counts = {"responses": self.responses}
        counts["people"] = sum(self.bands.values())
        counts.update((band_column(band), count) for band, count in self.bands.items())
        for sex in SEXES:
            counts[sex] = sum(count for band, count in self.bands.items() if band.sex == sex)
        return counts


def protect(counts: Mapping[str, int], threshold: int) -> dict[str, int | None]:
    """A row's counts with small ones hidden, and no sum that gives a hidden count away."""
    hidden = {name for name, count in counts.items() if is_small(count, threshold)}
    changed = True
    while changed:
        changed = False
        for total, parts in _SUMS:
            if sum(name in hidden for name in (total, *parts)) != 1:
                continue
            visible = [(counts[p], n, p) for n, p in enumerate(parts) if p not in hidden]
            candidates = sorted(item for item in visible if item[0] > 0)
            if candidates:
                hidden.add(candidates[0][2])
                changed = True
            elif total not in hidden and counts[total] > 0:
                hidden.add(total)
                changed = True
    return {name: None if name in hidden else count for name, count in counts.items()}


def week_start(day: date) -> date:
    """The Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    # Groups without a place (None) go last; the rest in order.
    return tuple((part is None, "" if part is None else part) for part in key)


async def aggregate_responses(
    session: AsyncSession,
    *,
    grouping: Grouping,
    since: date | None,
    until: date | None,
    point_id: int | None,
    threshold: int,
    batch: int = DEFAULT_BATCH,
) -> AggregateTable:
    """Tally the responses created from `since` to `until` (UTC days) per group, then hide."""
    if batch < 1:
        raise ValueError("batch must be positive")
    if threshold < 1:
        raise ValueError("threshold must be positive")
    start, end = day_range(since, until)
    where = ResponseFilter(start=start, end=end, point_id=point_id)
    repository = ExportRepository(session)
    places = {row.id: row for row in await repository.places()}
    tallies: dict[tuple[Any, ...], _Tally] = {}
    after = 0
    while True:
        page = await repository.answer_page(where, after=after, limit=batch)
        for response in page:
            place = places.get(response.point_id)
            if place is None:  # a point added while the export runs
                places = {row.id: row for row in await repository.places()}
                place = places[response.point_id]
            key: tuple[Any, ...]
            if grouping is Grouping.DEPARTMENT:
                key = (place.department,)
            elif grouping is Grouping.MUNICIPALITY:
                key = (place.department, place.municipality)
            elif grouping is Grouping.POINT:
                key = (place.nas_id,)
            else:
                key = (week_start(response.created_at.astimezone(UTC).date()),)
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally()
            tally.add(response.answers or {})
        if len(page) < batch:
            break
        after = page[-1].id

    by_nas_id = {place.nas_id: place for place in places.values()}
    group_columns = GROUP_COLUMNS[grouping]
    rows: list[dict[str, Cell]] = []
    hidden = 0
    for key in sorted(tallies, key=_sort_key):
        row: dict[str, Cell]
        if grouping is Grouping.POINT:
            place = by_nas_id[key[0]]
            row = {
                "point": place.nas_id,
                "point_name": place.name,
                "department": place.department,
                "municipality": place.municipality,
            }
        elif grouping is Grouping.WEEK:
            row = {"week": key[0].isoformat()}
        else:
            row = {name: value for (name, _), value in zip(group_columns, key, strict=True)}
        counts = tallies[key].counts()
        protected = protect(counts, threshold)
        hidden += sum(1 for name, value in protected.items() if value is None and counts[name])
        row.update((name, protected[name]) for name, _ in COUNT_COLUMNS)
        row[NOTES_COLUMN[0]] = None
        rows.append(row)
    if hidden and rows:
        rows[0][NOTES_COLUMN[0]] = footnote(threshold)
    columns: Sequence[tuple[str, str]] = (*group_columns, *COUNT_COLUMNS, NOTES_COLUMN)
    return AggregateTable(
        grouping=grouping,
        threshold=threshold,
        columns=tuple(name for name, _ in columns),
        hxl=tuple(tag for _, tag in columns),
        rows=tuple(rows),
        hidden=hidden,
    )
