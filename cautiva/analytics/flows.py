"""Flows between points: the same pseudonymous person answering at one point, next at another.

A move is a pair of consecutive responses of one person key at two different points (a repeat
at the same point is no move); it belongs to the period its arrival falls in, wherever in time
its departure was, and to a scope when either end is in it. Purged responses (no person key)
make no moves. Each flow's count is suppressed on its own (no total per pair is shown, and
the moves of a point are not a margin anywhere); its times are hidden with it.
"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.repository import AnalyticsRepository
from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.suppression import suppress_one
from cautiva.errors import InvalidInput

_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Flow:
    """Moves from one point to another; counts and times hidden together when small."""

    origin_nas: str
    origin_name: str
    destination_nas: str
    destination_name: str
    moves: int | None
    # Median hours between the two responses; None when the moves are hidden.
    median_hours: float | None
    # 25th and 75th percentiles of those hours; None when hidden.
    quartile_hours: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class FlowFigures:
    """The flows of a period and scope, biggest first, suppressed under `threshold`."""

    period: Period
    scope: Scope
    threshold: int
    flows: tuple[Flow, ...]
    people_moving: int | None


def quartiles(hours: list[float]) -> tuple[float, float, float]:
    """25th, 50th and 75th percentiles of `hours` (inclusive method, as spreadsheets use)."""
    if len(hours) == 1:
        return hours[0], hours[0], hours[0]
    low, median, high = statistics.quantiles(hours, n=4, method="inclusive")
    return low, median, high


async def _times_per_pair(
    rows: AsyncIterator[tuple[int, int, datetime, datetime]],
) -> AsyncIterator[tuple[tuple[int, int], list[float]]]:
    """The hours of each pair's moves, one pair at a time (rows come grouped by pair)."""
    pair: tuple[int, int] | None = None
    hours: list[float] = []
    async for origin_id, destination_id, left_at, arrived_at in rows:
        if (origin_id, destination_id) != pair:
            if pair is not None:
                yield pair, hours
            pair, hours = (origin_id, destination_id), []
        hours.append((arrived_at - left_at).total_seconds() / _HOUR)
    if pair is not None:
        yield pair, hours


async def flow_figures(
    session: AsyncSession, *, period: Period, scope: Scope, threshold: int
) -> FlowFigures:
    """Moves between points arriving in the period, with typical times, biggest first."""
    if threshold < 1:
        raise InvalidInput(f"the small-cell threshold must be at least 1, not {threshold}")
    repository = AnalyticsRepository(session)
    # Counts and times come from one pass over the moves, so they always agree.
    shown: dict[tuple[int, int], tuple[int | None, tuple[float, float, float] | None]] = {}
    async for pair, hours in _times_per_pair(repository.move_times(period=period, scope=scope)):
        moves = suppress_one(len(hours), threshold)
        if moves is None:
            shown[pair] = (None, None)
        else:
            low, median, high = quartiles(hours)
            shown[pair] = (moves, (round(low, 2), round(median, 2), round(high, 2)))
    names = await repository.points(point for pair in shown for point in pair)
    flows = []
    for (origin_id, destination_id), (moves, quantiles) in shown.items():
        flows.append(
            Flow(
                origin_nas=names[origin_id][0],
                origin_name=names[origin_id][1],
                destination_nas=names[destination_id][0],
                destination_name=names[destination_id][1],
                moves=moves,
                median_hours=quantiles[1] if quantiles else None,
                quartile_hours=(quantiles[0], quantiles[2]) if quantiles else None,
            )
        )
    # Hidden flows go last in name order: their order must say nothing about their size.
    flows.sort(
        key=lambda f: (
            f.moves is None,
            -(f.moves or 0),
            f.origin_name,
            f.origin_nas,
            f.destination_name,
            f.destination_nas,
        )
    )
    return FlowFigures(
        period=period,
        scope=scope,
        threshold=threshold,
        flows=tuple(flows),
        people_moving=suppress_one(
            await repository.people_moving(period=period, scope=scope), threshold
        ),
    )
