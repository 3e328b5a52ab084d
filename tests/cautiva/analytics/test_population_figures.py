"""Population figures on the generated data set, against counts made here with plain loops."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

import pytest
from analytics_dataset import BANDS, AnalyticsDataset, DatasetResponse, make_dataset

from cautiva.analytics.population import (
    Breakdown,
    PopulationFigures,
    population_figures,
    suppress_table,
)
from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.suppression import suppress
from cautiva.errors import InvalidInput
from cautiva.runtime import Runtime

SEX_AGE = {
    "girls_0_5": ("0-5", "female"),
    "boys_0_5": ("0-5", "male"),
    "girls_6_17": ("6-17", "female"),
    "boys_6_17": ("6-17", "male"),
    "women_18_59": ("18-59", "female"),
    "men_18_59": ("18-59", "male"),
    "women_60": ("60+", "female"),
    "men_60": ("60+", "male"),
}


@pytest.fixture
async def dataset(runtime: Runtime) -> AnalyticsDataset:
    return await make_dataset(runtime, seed=11)


def picked(response: DatasetResponse, question: str) -> list[str]:
    value = response.answers.get(question)
    if isinstance(value, list):
        return value
    return [value] if value else []


def selected(dataset: AnalyticsDataset, period: Period, ids: set[int]) -> list[DatasetResponse]:
    return [
        r
        for r in dataset.responses
        if r.point_id in ids and period.since <= r.created_at.date() <= period.until
    ]


def hide(count: int, threshold: int) -> int | None:
    return None if 0 < count < threshold else count


def expected_breakdown(
    responses: Iterable[DatasetResponse], question: str
) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    answered = 0
    for r in responses:
        codes = set(picked(r, question))
        answered += bool(codes)
        counts.update(codes)
    return counts, answered


def check_breakdown(
    shown: Breakdown, responses: list[DatasetResponse], question: str, threshold: int
) -> None:
    counts, answered = expected_breakdown(responses, question)
    assert shown.question == question
    assert shown.total == hide(answered, threshold)
    # The suppression rule itself (primary and complementary) is tested in test_suppression.
    assert dict(shown.counts) == suppress(dict(counts), threshold)
    visible = [count for _, count in shown.counts if count is not None]
    assert visible == sorted(visible, reverse=True)
    hidden = [code for code, count in shown.counts if count is None]
    assert [code for code, _ in shown.counts[len(visible) :]] == sorted(hidden)
    assert all(code in shown.labels for code, _ in shown.counts)


def check_population(
    figures: PopulationFigures, responses: list[DatasetResponse], threshold: int
) -> None:
    returning = sum(r.returning for r in responses)
    people = sum(r.answers.get(band, 0) for r in responses for band in BANDS)
    assert figures.responses == hide(len(responses), threshold)
    assert figures.people == hide(people, threshold)
    assert (
        figures.returning
        == suppress({"first": len(responses) - returning, "returning": returning}, threshold)[
            "returning"
        ]
    )
    cells: Counter[tuple[str, str]] = Counter()
    for r in responses:
        for band, cell in SEX_AGE.items():
            cells[cell] += r.answers.get(band, 0)
    expected_cells = suppress({cell: cells[cell] for cell in SEX_AGE.values()}, threshold)
    assert figures.sex_age == tuple(
        (ages, tuple((sex, expected_cells[(ages, sex)]) for sex in ("female", "male")))
        for ages in ("0-5", "6-17", "18-59", "60+")
    )
    for shown, question in (
        (figures.nationality, "nationality"),
        (figures.origin, "coming_from"),
        (figures.destination, "going_to"),
        (figures.stay, "stay"),
        (figures.needs, "needs"),
        (figures.risks, "risks"),
    ):
        check_breakdown(shown, responses, question, threshold)
    routes = Counter(
        (r.answers["coming_from"], r.answers["going_to"])
        for r in responses
        if r.answers.get("coming_from") and r.answers.get("going_to")
    )
    shown_routes = {(o, d): count for o, d, count in figures.routes}
    assert shown_routes.keys() == routes.keys()
    for route, count in routes.items():
        if 0 < count < threshold:
            assert shown_routes[route] is None, route
        elif shown_routes[route] is not None:
            assert shown_routes[route] == count
    for axis in (0, 1):
        lines: defaultdict[str, list[int | None]] = defaultdict(list)
        for route, count in shown_routes.items():
            lines[route[axis]].append(count)
        # A lone hidden cell is only left where nothing else in its line is shown.
        assert all(line.count(None) != 1 or not any(line) for line in lines.values())


def expected_timeline(
    responses: list[DatasetResponse], period: Period, weekly: bool
) -> dict[date, int]:
    first = period.since - timedelta(days=period.since.weekday()) if weekly else period.since
    step = timedelta(days=7 if weekly else 1)
    buckets: dict[date, int] = {}
    bucket = first
    while bucket <= period.until:
        buckets[bucket] = 0
        bucket += step
    for r in responses:
        day = r.created_at.date()
        buckets[day - timedelta(days=day.weekday()) if weekly else day] += 1
    return buckets


@pytest.mark.parametrize("threshold", [1, 5, 12])
async def test_figures_per_department_match_counts_made_by_hand(
    runtime: Runtime, dataset: AnalyticsDataset, threshold: int
) -> None:
    period = dataset.period
    for department in dataset.departments:
        responses = selected(dataset, period, dataset.point_ids(department=department))
        async with runtime.sessions() as db:
            figures = await population_figures(
                db, period=period, scope=Scope(department=department), threshold=threshold
            )
        check_population(figures, responses, threshold)
        timeline = expected_timeline(responses, period, weekly=True)
        assert [bucket for bucket, _ in figures.timeline] == list(timeline)
        assert dict(figures.timeline) == suppress(timeline, threshold)
        assert all(bucket.weekday() == 0 for bucket, _ in figures.timeline)


async def test_a_point_and_a_short_period_count_per_day(
    runtime: Runtime, dataset: AnalyticsDataset
) -> None:
    period = Period(dataset.since + timedelta(days=31), dataset.since + timedelta(days=61))
    busiest = Counter(r.point_id for r in dataset.responses).most_common(1)[0][0]
    municipality = dataset.point(busiest).municipality
    for scope, ids in (
        (Scope(point_id=busiest), {busiest}),
        (Scope(municipality=municipality), dataset.point_ids(municipality=municipality)),
    ):
        responses = selected(dataset, period, ids)
        async with runtime.sessions() as db:
            figures = await population_figures(db, period=period, scope=scope, threshold=5)
        check_population(figures, responses, 5)
        timeline = expected_timeline(responses, period, weekly=False)
        assert [day for day, _ in figures.timeline] == period.days()
        assert dict(figures.timeline) == suppress(timeline, 5)


async def test_rare_categories_come_back_hidden_and_labels_are_english(
    runtime: Runtime, dataset: AnalyticsDataset
) -> None:
    department = dataset.departments[0]
    async with runtime.sessions() as db:
        exact = await population_figures(
            db, period=dataset.period, scope=Scope(department=department), threshold=1
        )
    rare_here = {
        question: sum(
            code in picked(r, question)
            for r in selected(dataset, dataset.period, dataset.point_ids(department=department))
        )
        for question, (code, _) in dataset.rare.items()
    }
    everywhere: dict[str, dict[str, int | None]] = defaultdict(dict)
    for department in dataset.departments:
        async with runtime.sessions() as db:
            figures = await population_figures(
                db, period=dataset.period, scope=Scope(department=department), threshold=5
            )
        for question, (code, _) in dataset.rare.items():
            shown = getattr(figures, {"going_to": "destination"}.get(question, question))
            if code in dict(shown.counts):
                everywhere[question][department] = dict(shown.counts)[code]
    for question, (_, count) in dataset.rare.items():
        assert 1 <= count <= 4
        assert sum(1 for _ in everywhere[question]) >= 1, question
        assert all(value is None for value in everywhere[question].values()), question
    assert dict(exact.nationality.counts).get("CUB") == (rare_here["nationality"] or None)
    assert exact.nationality.labels["VEN"] == "Venezuela"
    assert exact.nationality.labels["CUB"] == "Cuba"
    assert exact.destination.labels["not_sure"] == "I do not know yet"
    assert exact.risks.labels["exploitation"] == "Forced work or abuse"
    assert exact.needs.label("no-such-code") == "no-such-code"


async def test_figures_hold_no_identifier_and_an_empty_scope_is_zero(
    runtime: Runtime, dataset: AnalyticsDataset
) -> None:
    async with runtime.sessions() as db:
        figures = await population_figures(
            db, period=dataset.period, scope=Scope(department=dataset.departments[1]), threshold=5
        )
        empty = await population_figures(
            db,
            period=Period(date(2001, 1, 1), date(2001, 1, 3)),
            scope=Scope(department=dataset.departments[1]),
            threshold=5,
        )
    text = repr(figures)
    assert not [value for value in dataset.identifiers() if value in text]
    assert (empty.responses, empty.people, empty.returning) == (0, 0, 0)
    assert empty.nationality.counts == () and empty.nationality.total == 0
    assert empty.timeline == tuple((day, 0) for day in empty.period.days())
    assert empty.nationality.labels["VEN"] == "Venezuela"


async def test_a_threshold_below_one_is_refused(runtime: Runtime) -> None:
    async with runtime.sessions() as db:
        with pytest.raises(InvalidInput):
            await population_figures(
                db, period=Period(date(2026, 1, 1), date(2026, 1, 2)), scope=Scope(), threshold=0
            )


def test_a_lone_hidden_cell_in_a_row_or_column_takes_a_neighbour_with_it() -> None:
    cells = {
        ("COL", "PER"): 20,
        ("COL", "CHL"): 9,
        ("COL", "CAN"): 2,
        ("VEN", "PER"): 30,
        ("VEN", "CHL"): 15,
        ("VEN", "CAN"): 3,
        ("VEN", "ECU"): 6,
    }
    # The COL row would give CAN away: its smallest other cell (CHL, 9) goes; the CHL column
    # then gives it away, and VEN/CHL goes; every row and column now hides two or none.
    assert suppress_table(cells, 5) == {
        **cells,
        ("COL", "CHL"): None,
        ("COL", "CAN"): None,
        ("VEN", "CHL"): None,
        ("VEN", "CAN"): None,
    }
    # A row that is only small cells needs nothing more; zeros never count as hidden.
    assert suppress_table({("a", "b"): 3}, 5) == {("a", "b"): None}
    assert suppress_table({("a", "b"): 0, ("a", "c"): 6}, 5) == {("a", "b"): 0, ("a", "c"): 6}
    # z/q (6) is the smaller neighbour of x/q, but the only route from z: its margin would
    # give it away, so y/q, whose row hides y/p already, goes instead.
    square = {("x", "p"): 2, ("x", "q"): 9, ("y", "p"): 8, ("y", "q"): 7, ("z", "q"): 6}
    assert suppress_table(square, 5) == {
        ("x", "p"): None,
        ("x", "q"): None,
        ("y", "p"): None,
        ("y", "q"): None,
        ("z", "q"): 6,
    }
