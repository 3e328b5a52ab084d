"""Population figures: who answered the survey in a period and scope, already suppressed.

Responses are read in keyset pages and tallied in Python (answers are JSON and forms change),
so memory stays bounded whatever the period. Every count leaves here suppressed under the
threshold (None), with the complementary rule wherever a total is shown beside the cells:
- responses, people characterised: alone;
- returning: with its complement (first-time responses), since responses minus returning is
  readable from the page;
- sex and age: one table whose total is the people characterised;
- each breakdown: its cells against its total (responses that answered the question);
- routes: a table of origin by destination whose margins are the origin and destination
  breakdowns, so a lone hidden cell in a row or column takes a neighbour with it;
- timeline: the buckets against the responses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.indicators import (
    AGE_BANDS,
    BANDS,
    DESTINATION,
    NATIONALITY,
    NEEDS,
    ORIGIN,
    RISKS,
    SEXES,
    STAY,
    band_counts,
    choices,
)
from cautiva.analytics.repository import AnalyticsRepository
from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.suppression import is_small, suppress, suppress_one
from cautiva.errors import InvalidInput
from cautiva.forms.service import parsed_form
from cautiva.surveys.forms import translate

K = TypeVar("K", bound=Hashable)

PAGE_SIZE = 1000
WEEKLY_BEYOND = 62
"""Timelines of longer periods count per ISO week (its Monday) instead of per day."""
LABEL_LANGUAGE = "en"
BREAKDOWNS: tuple[str, ...] = (NATIONALITY, ORIGIN, DESTINATION, STAY, NEEDS, RISKS)
# (age band, sex) of each band, in the order band_counts gives them.
_CELLS: tuple[tuple[str, str], ...] = tuple((band.ages, band.sex) for band in BANDS)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One categorical distribution, suppressed."""

    question: str
    # (choice code, count or None), biggest first, hidden ones last by code, zeros left out.
    counts: tuple[tuple[str, int | None], ...]
    # Choice code -> English label from the newest published form with the question; every
    # code in `counts` has one (the code itself when no form knows it).
    labels: Mapping[str, str]
    # Responses that answered the question.
    total: int | None

    def label(self, code: str) -> str:
        """The label of `code` (the code itself when unknown)."""
        return self.labels.get(code, code)


@dataclass(frozen=True, slots=True)
class PopulationFigures:
    """Who answered in a period and scope; every count suppressed under `threshold`."""

    period: Period
    scope: Scope
    threshold: int
    responses: int | None
    people: int | None
    returning: int | None
    # ((age band, ((sex, count), ...)), ...) in AGE_BANDS x SEXES order.
    sex_age: tuple[tuple[str, tuple[tuple[str, int | None], ...]], ...]
    nationality: Breakdown
    origin: Breakdown
    destination: Breakdown
    # (origin code, destination code, responses), biggest first, hidden ones last.
    routes: tuple[tuple[str, str, int | None], ...]
    stay: Breakdown
    needs: Breakdown
    risks: Breakdown
    # Responses per day (per ISO week beyond 62 days, keyed by its Monday), every bucket present.
    timeline: tuple[tuple[date, int | None], ...]


@dataclass(slots=True)
class _Tally:
    """Raw counts while pages stream by; nothing here leaves unsuppressed."""

    responses: int = 0
    returning: int = 0
    bands: Counter[tuple[str, str]] = field(default_factory=Counter)
    picks: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    answered: Counter[str] = field(default_factory=Counter)
    routes: Counter[tuple[str, str]] = field(default_factory=Counter)
    days: Counter[date] = field(default_factory=Counter)

    def add(self, answers: Mapping[str, Any], returning: bool, day: date) -> None:
        """Count one response."""
        self.responses += 1
        self.returning += bool(returning)
        self.days[day] += 1
        for (ages, sex), count in zip(_CELLS, band_counts(answers).values(), strict=True):
            if count:
                self.bands[(ages, sex)] += count
        first: dict[str, str] = {}
        for question in BREAKDOWNS:
            picked = choices(answers, question)
            if picked:
                first[question] = picked[0]
                self.answered[question] += 1
                counter = self.picks[question]
                for code in set(picked):
                    counter[code] += 1
        if ORIGIN in first and DESTINATION in first:
            self.routes[(first[ORIGIN], first[DESTINATION])] += 1


def bucket_of(day: date, period: Period) -> date:
    """The timeline bucket of `day`: the day itself, or its ISO week's Monday in long periods."""
    if (period.until - period.since).days < WEEKLY_BEYOND:
        return day
    return day - timedelta(days=day.weekday())


def _biggest_first(item: tuple[K, int | None]) -> tuple[bool, int, str]:
    # Hidden cells go last in code order: their order must say nothing about their size.
    key, count = item
    return (count is None, -(count or 0), str(key))


def suppress_table(
    cells: Mapping[tuple[K, K], int], threshold: int
) -> dict[tuple[K, K], int | None]:
    """A two-way table with small cells hidden, and no row or column with a lone hidden cell.

    Its margins are shown elsewhere, so a lone hidden cell would be its margin minus the rest
    of its row (or column): another cell of that line is hidden too, until stable. The one
    chosen is the smallest whose crossing line hides a cell already, else the smallest that is
    not alone in its crossing line, else the smallest.
    """
    hidden = {key for key, count in cells.items() if is_small(count, threshold)}
    lines: dict[tuple[int, K], list[tuple[K, K]]] = defaultdict(list)
    for key in cells:
        lines[(0, key[0])].append(key)
        lines[(1, key[1])].append(key)

    def cost(key: tuple[K, K], axis: int) -> int:
        # Best: a cell whose crossing line hides one already (no new lone cell). Worst: the only
        # non-zero cell of its crossing line, which its margin would then give away.
        other = 1 - axis
        crossing = [cell for cell in lines[(other, key[other])] if cell != key and cells[cell]]
        if any(cell in hidden for cell in crossing):
            return 0
        return 1 if crossing else 2

    changed = True
    while changed:
        changed = False
        for (axis, _), keys in lines.items():
            if sum(key in hidden for key in keys) != 1:
                continue
            visible = sorted(
                (cost(key, axis), cells[key], str(key), key)
                for key in keys
                if key not in hidden and cells[key]
            )
            if visible:
                hidden.add(visible[0][3])
                changed = True
    return {key: None if key in hidden else count for key, count in cells.items()}


async def choice_labels(
    session: AsyncSession, questions: Sequence[str]
) -> dict[str, dict[str, str]]:
    """English choice labels per select question, from the newest published form that has it."""
    labels: dict[str, dict[str, str]] = {}
    for row in await AnalyticsRepository(session).forms_newest_first():
        missing = [question for question in questions if question not in labels]
        if not missing:
            break
        form = await parsed_form(session, row)
        for name in missing:
            question = form.question(name)
            if question is None or not question.choices:
                continue
            labels[name] = {
                choice.name: translate(choice.labels, LABEL_LANGUAGE, form.default_language)
                or choice.name
                for choice in form.choices_of(question)
            }
    return labels


def _breakdown(
    question: str, tally: _Tally, labels: Mapping[str, str], threshold: int
) -> Breakdown:
    picks = {code: count for code, count in tally.picks[question].items() if count > 0}
    shown = suppress(picks, threshold, with_total=True)
    return Breakdown(
        question=question,
        counts=tuple(sorted(shown.items(), key=_biggest_first)),
        labels={**{code: code for code in picks}, **labels},
        total=suppress_one(tally.answered[question], threshold),
    )


async def population_figures(
    session: AsyncSession, *, period: Period, scope: Scope, threshold: int
) -> PopulationFigures:
    """Responses, people, sex and age, journeys, needs and risks in a period and scope."""
    if threshold < 1:
        raise InvalidInput(f"the small-cell threshold must be at least 1, not {threshold}")
    repository = AnalyticsRepository(session)
    tally = _Tally()
    after = 0
    while True:
        page = await repository.response_page(
            period=period, scope=scope, after=after, limit=PAGE_SIZE
        )
        for row in page:
            answers = row.answers if isinstance(row.answers, Mapping) else {}
            tally.add(answers, row.returning_person, row.created_at.date())
        if len(page) < PAGE_SIZE:
            break
        after = page[-1].id
    labels = await choice_labels(session, BREAKDOWNS)

    def breakdown(question: str) -> Breakdown:
        return _breakdown(question, tally, labels.get(question, {}), threshold)

    people = sum(tally.bands.values())
    bands = suppress(
        {(ages, sex): tally.bands[(ages, sex)] for ages in AGE_BANDS for sex in SEXES}, threshold
    )
    returning = suppress(
        {"first": tally.responses - tally.returning, "returning": tally.returning}, threshold
    )["returning"]
    routes = suppress_table(tally.routes, threshold)
    buckets = dict.fromkeys(sorted({bucket_of(day, period) for day in period.days()}), 0)
    for day, count in tally.days.items():
        buckets[bucket_of(day, period)] += count
    timeline = suppress(buckets, threshold)
    return PopulationFigures(
        period=period,
        scope=scope,
        threshold=threshold,
        responses=suppress_one(tally.responses, threshold),
        people=suppress_one(people, threshold),
        returning=returning,
        sex_age=tuple(
            (ages, tuple((sex, bands[(ages, sex)]) for sex in SEXES)) for ages in AGE_BANDS
        ),
        nationality=breakdown(NATIONALITY),
        origin=breakdown(ORIGIN),
        destination=breakdown(DESTINATION),
        routes=tuple(
            (origin, destination, count)
            for (origin, destination), count in sorted(routes.items(), key=_biggest_first)
        ),
        stay=breakdown(STAY),
        needs=breakdown(NEEDS),
        risks=breakdown(RISKS),
        timeline=tuple(timeline.items()),
    )
