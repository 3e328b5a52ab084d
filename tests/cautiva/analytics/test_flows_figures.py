"""Flows between points on the generated data set and on a hand-made journey."""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from analytics_dataset import AnalyticsDataset, make_dataset
from sqlalchemy import insert

from cautiva.analytics.flows import FlowFigures, flow_figures
from cautiva.analytics.scope import Period, Scope
from cautiva.database import transaction
from cautiva.errors import InvalidInput
from cautiva.forms.service import ensure_default_forms
from cautiva.models import NasType, Response
from cautiva.points.service import NewPoint, add_point
from cautiva.runtime import Runtime

Pair = tuple[str, str]


def expected_moves(
    dataset: AnalyticsDataset, period: Period, in_scope: set[int]
) -> tuple[dict[Pair, list[float]], set[str]]:
    """Hours of each move arriving in the period with an end in scope, and who moved."""
    history: defaultdict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for r in dataset.responses:
        if r.person_key is not None and r.created_at.date() <= period.until:
            history[r.person_key].append((r.created_at, r.point_id))
    moves: defaultdict[Pair, list[float]] = defaultdict(list)
    movers: set[str] = set()
    for key, visits in history.items():
        visits.sort()
        for (left, origin), (arrived, destination) in pairwise(visits):
            if origin == destination or arrived.date() < period.since:
                continue
            if origin not in in_scope and destination not in in_scope:
                continue
            pair = (dataset.point(origin).nas_id, dataset.point(destination).nas_id)
            moves[pair].append((arrived - left).total_seconds() / 3600)
            movers.add(key)
    return moves, movers


def check_flows(
    figures: FlowFigures, moves: dict[Pair, list[float]], movers: set[str], threshold: int
) -> None:
    shown = {(f.origin_nas, f.destination_nas): f for f in figures.flows}
    assert shown.keys() == moves.keys()
    for pair, hours in moves.items():
        flow = shown[pair]
        if len(hours) < threshold:
            assert (flow.moves, flow.median_hours, flow.quartile_hours) == (None, None, None)
            continue
        low, _, high = (
            statistics.quantiles(hours, n=4, method="inclusive") if len(hours) > 1 else hours * 3
        )
        assert flow.moves == len(hours)
        assert flow.median_hours == pytest.approx(statistics.median(hours), abs=0.01)
        assert flow.quartile_hours == pytest.approx((low, high), abs=0.01)
    counts = [f.moves for f in figures.flows]
    visible = [count for count in counts if count is not None]
    assert counts == visible + [None] * (len(counts) - len(visible))
    assert visible == sorted(visible, reverse=True)
    expected = len(movers) if not 0 < len(movers) < threshold else None
    assert figures.people_moving == expected


@pytest.fixture
async def dataset(runtime: Runtime) -> AnalyticsDataset:
    return await make_dataset(runtime, seed=23)


@pytest.mark.parametrize("threshold", [1, 5])
async def test_flows_between_the_data_sets_points(
    runtime: Runtime, dataset: AnalyticsDataset, threshold: int
) -> None:
    for department in dataset.departments:
        scope = Scope(department=department)
        async with runtime.sessions() as db:
            figures = await flow_figures(
                db, period=dataset.period, scope=scope, threshold=threshold
            )
        moves, movers = expected_moves(
            dataset, dataset.period, dataset.point_ids(department=department)
        )
        assert any(len(hours) >= 5 for hours in moves.values())
        check_flows(figures, moves, movers, threshold)
        names = {p.nas_id: p.name for p in dataset.points}
        assert all(names[f.origin_nas] == f.origin_name for f in figures.flows)
        text = repr(figures)
        assert not [value for value in dataset.identifiers() if value in text]


async def test_a_move_counts_in_the_period_of_its_arrival(
    runtime: Runtime, dataset: AnalyticsDataset
) -> None:
    period = Period(dataset.since + timedelta(days=40), dataset.since + timedelta(days=70))
    point = dataset.points[0]
    for scope, ids in (
        (Scope(point_id=point.id), {point.id}),
        (
            Scope(municipality=point.municipality),
            dataset.point_ids(municipality=point.municipality),
        ),
    ):
        async with runtime.sessions() as db:
            figures = await flow_figures(db, period=period, scope=scope, threshold=3)
        moves, movers = expected_moves(dataset, period, ids)
        check_flows(figures, moves, movers, 3)
        assert moves and all(set(pair) & {dataset.point(i).nas_id for i in ids} for pair in moves)


async def test_hours_between_two_points_and_what_is_no_move(runtime: Runtime) -> None:
    tag = uuid.uuid4().hex[:8]
    async with transaction(runtime.sessions) as db:
        form = next(row for row in await ensure_default_forms(db) if row.kind == "full")
        a, b, c = [
            await add_point(
                db,
                new=NewPoint(
                    name=f"Flow {name} {tag}",
                    nas_id=f"flow-{tag}-{name}",
                    nas_type=NasType.MIKROTIK,
                    department=f"Flows {tag}",
                ),
            )
            for name in "abc"
        ]
        day = datetime(2026, 2, 2, 8, tzinfo=UTC)
        rows: list[tuple[int, datetime, str | None]] = []
        for n in range(5):
            key = f"{tag}{n:056d}"
            # Twice at A (no move), then B after 2, 4, 6, 8, 10 hours from the second visit.
            rows += [
                (a.id, day, key),
                (a.id, day + timedelta(hours=1), key),
                (b.id, day + timedelta(hours=1 + 2 * (n + 1)), key),
            ]
        # One person onwards to C (a small flow); a purged response at C makes no move.
        rows += [(c.id, day + timedelta(hours=30), f"{tag}{0:056d}"), (c.id, day, None)]
        # Left B before the period; arrives at C inside it: counts in the period of arrival.
        early = f"{tag}{9:056d}"
        rows += [(b.id, day - timedelta(days=3), early), (c.id, day + timedelta(hours=5), early)]
        await db.execute(
            insert(Response),
            [
                {
                    "point_id": point_id,
                    "survey_form_id": form.id,
                    "form_id": form.form_id,
                    "version": form.version,
                    "lang": "es",
                    "answers": {},
                    "person_key": key,
                    "returning_person": False,
                    "created_at": at,
                }
                for point_id, at, key in rows
            ],
        )
    period = Period(date(2026, 2, 1), date(2026, 2, 28))
    async with runtime.sessions() as db:
        figures = await flow_figures(
            db, period=period, scope=Scope(department=f"Flows {tag}"), threshold=5
        )
        exact = await flow_figures(db, period=period, scope=Scope(point_id=c.id), threshold=1)
    (ab, *hidden) = figures.flows
    assert (ab.origin_nas, ab.destination_nas, ab.moves) == (a.nas_id, b.nas_id, 5)
    assert (ab.median_hours, ab.quartile_hours) == (6.0, (4.0, 8.0))
    assert {(f.origin_nas, f.destination_nas) for f in hidden} == {
        (b.nas_id, c.nas_id),
    }
    assert all((f.moves, f.median_hours, f.quartile_hours) == (None,) * 3 for f in hidden)
    assert figures.people_moving == 6
    assert [(f.origin_nas, f.moves, f.median_hours) for f in exact.flows] == [
        (b.nas_id, 2, 52.0),
    ]
    assert exact.people_moving == 2


async def test_a_threshold_below_one_is_refused(runtime: Runtime) -> None:
    async with runtime.sessions() as db:
        with pytest.raises(InvalidInput):
            await flow_figures(
                db, period=Period(date(2026, 1, 1), date(2026, 1, 2)), scope=Scope(), threshold=0
            )
