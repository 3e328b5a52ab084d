"""The analysts' dashboards: service, population and flows, each figure with its CSV.

Pages are rendered on the server and their charts are SVG images (no script, nothing fetched
from elsewhere). Figures come suppressed from the domain core (None: a count under the
threshold). One `Table` per figure feeds both the page and its CSV, so a download holds exactly
the cells the page shows: a hidden count is an en dash on the page, an empty cell in the CSV, and a
last line `# <footnote>` says why.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.flows import FlowFigures, flow_figures
from cautiva.analytics.indicators import SEXES
from cautiva.analytics.population import Breakdown, PopulationFigures, population_figures
from cautiva.analytics.scope import Period, Scope
from cautiva.analytics.service import (
    LOGIN_ACCEPTED,
    WEEKLY_BEYOND,
    Grouping,
    ServiceFigures,
    ServiceRow,
    service_figures,
)
from cautiva.analytics.suppression import footnote
from cautiva.errors import InvalidInput
from cautiva.exports.writers import csv_cell
from cautiva.models import Point, utcnow
from cautiva.points.service import list_points
from cautiva.staff.service import Principal
from portal_api.admin import charts
from portal_api.admin.auth import ViewDashboards
from portal_api.admin.pages import page, refused
from portal_api.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/admin/dashboards", include_in_schema=False)

DEFAULT_DAYS = 30
HIDDEN_MARK = "\N{EN DASH}"
"""How a page shows a count hidden under the threshold (its CSV leaves the cell empty)."""
TOP = 15
"""How many routes or flows a bar chart shows (the table and CSV hold them all)."""

DASHBOARDS: Mapping[str, str] = {
    "service": "Service",
    "population": "Population",
    "flows": "Flows between points",
}
STEPS: Mapping[str, str] = {
    "splash_opened": "Splash page opened",
    "consent": "Consent given",
    "survey_done": "Survey done",
    "message_shown": "Message shown",
    "login_sent": "Login sent to the router",
    LOGIN_ACCEPTED: "Login accepted",
    "video_started": "Video started",
    "video_finished": "Video watched to the end",
}
GROUP_COLUMNS: Mapping[Grouping, tuple[str, ...]] = {
    Grouping.POINT: ("nas_id", "point"),
    Grouping.MUNICIPALITY: ("municipality", "place"),
    Grouping.DEPARTMENT: ("department",),
}

Cell = str | None
"""A shown cell: its text, or None for a count hidden under the threshold."""


@dataclass(frozen=True, slots=True)
class Table:
    """One figure as shown: a chart, its rows (also its CSV) and how to show them."""

    slug: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric_from: int = 1
    chart: Markup | None = None
    note: str = ""
    folded: bool = False
    numbers: bool = False
    total_row: bool = False
    wrap: tuple[int, ...] = ()
    """Columns of names, which may wrap on a narrow screen (the others keep to one line)."""

    @property
    def hidden(self) -> bool:
        """Whether any cell was hidden."""
        return any(cell is None for row in self.rows for cell in row)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the analyst asked for, checked; `values` are the query's fields as they stand."""

    period: Period
    scope: Scope
    grouping: Grouping
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def query(self) -> str:
        """The query string that asks for the same figures."""
        return urlencode({name: value for name, value in self.values.items() if value})


@dataclass(frozen=True, slots=True)
class Places:
    """What the filter form offers: every point, department and municipality."""

    points: Sequence[Point]
    departments: tuple[str, ...]
    municipalities: tuple[str, ...]


Builder = Callable[[AsyncSession, Filters, int, bool], Awaitable[list[Table]]]


def _count(value: int | None) -> Cell:
    return None if value is None else str(value)


def _decimal(value: float | None, places: int) -> Cell:
    return None if value is None else f"{value:.{places}f}"


def _share(value: float | None) -> str:
    # Not a count but a share: None means nothing to tell (the point did not exist yet).
    return "n/a" if value is None else f"{value * 100:.1f}"


def _bars(title: str, items: Sequence[tuple[str, int | None]]) -> Markup:
    # pygal draws the first bar at the bottom: reversed, the list reads top-down like the table.
    return charts.bars(title, items[::-1])


def _short(name: str, most: int = 24) -> str:
    return name if len(name) <= most else name[: most - 1].rstrip() + "…"


def _weekly(period: Period) -> bool:
    return len(period.days()) > WEEKLY_BEYOND


def _timeline(
    what: str, period: Period, points: Sequence[tuple[date, int | None]], *, with_charts: bool
) -> Table:
    weekly = _weekly(period)
    labels = [(day.isoformat(), value) for day, value in points]
    title = f"{what.capitalize()} per {'week' if weekly else 'day'}"
    return Table(
        slug="timeline",
        title=title,
        columns=("week_starting" if weekly else "day", what),
        rows=tuple((label, _count(value)) for label, value in labels),
        chart=charts.timeline(title, labels) if with_charts else None,
        note="ISO weeks, each labelled by its Monday." if weekly else "UTC days.",
        folded=True,
    )


def _service_row(row: ServiceRow, grouping: Grouping) -> tuple[Cell, ...]:
    names: tuple[str, ...] = (row.key,) if grouping is Grouping.DEPARTMENT else (row.key, row.label)
    return (
        *names,
        str(row.points),
        _count(row.sessions),
        _count(row.devices),
        _decimal(row.hours_online, 1),
        _decimal(row.gigabytes, 3),
        _count(row.logins),
        _share(row.uptime),
    )


def service_tables(figures: ServiceFigures, *, with_charts: bool = True) -> list[Table]:
    """The service dashboard's figures as tables."""
    grouping = figures.grouping
    names = GROUP_COLUMNS[grouping]
    total = _service_row(figures.total, grouping)
    total = ("Total", *([""] * (len(names) - 1)), *total[len(names) :])
    funnel = [(STEPS[step], value) for step, value in figures.funnel]
    media = [(STEPS[step], value) for step, value in figures.media]
    return [
        Table(
            slug="groups",
            title=f"Service per {grouping.value}",
            columns=(
                *names,
                "points",
                "sessions",
                "devices",
                "hours_online",
                "gigabytes",
                "logins",
                "uptime_percent",
            ),
            rows=(*(_service_row(row, grouping) for row in figures.rows), total),
            numeric_from=len(names),
            total_row=True,
            wrap=(1,) if len(names) > 1 else (),
            chart=_bars(
                f"Sessions per {grouping.value}",
                [(row.label, row.sessions) for row in figures.rows],
            )
            if with_charts and figures.rows
            else None,
            note=(
                "Devices are distinct phones (randomised MACs: a device, not a person). "
                "Uptime: share of the hours the point existed in which its router was heard "
                "(heartbeat or RADIUS Status-Server)."
            ),
        ),
        _timeline("sessions", figures.period, figures.timeline, with_charts=with_charts),
        Table(
            slug="funnel",
            title="Completion funnel",
            columns=("step", "count"),
            rows=tuple((label, _count(value)) for label, value in funnel),
            chart=_bars("From splash page to login", funnel) if with_charts else None,
            note="Splash steps are counted per visit; logins accepted are credentials first used.",
        ),
        Table(
            slug="media",
            title="Message and video views",
            columns=("event", "count"),
            rows=tuple((label, _count(value)) for label, value in media),
            chart=_bars("Risk-prevention message", media) if with_charts else None,
        ),
    ]


def _breakdown(
    slug: str, title: str, breakdown: Breakdown, *, with_charts: bool, note: str = ""
) -> Table:
    items = [(breakdown.labels.get(code, code), value) for code, value in breakdown.counts]
    rows: list[tuple[Cell, ...]] = [
        (code, breakdown.labels.get(code, code), _count(value)) for code, value in breakdown.counts
    ]
    rows.append(("", "Responses that answered", _count(breakdown.total)))
    return Table(
        slug=slug,
        title=title,
        columns=("code", "answer", "responses"),
        rows=tuple(rows),
        numeric_from=2,
        chart=_bars(title, items) if with_charts and items else None,
        note=note,
        total_row=True,
        wrap=(1,),
    )


def population_tables(figures: PopulationFigures, *, with_charts: bool = True) -> list[Table]:
    """The population dashboard's figures as tables."""
    sex_age = [(band, dict(cells)) for band, cells in figures.sex_age]
    origin, destination = figures.origin.labels, figures.destination.labels
    routes = [
        (origin.get(start, start), destination.get(end, end), value)
        for start, end, value in figures.routes
    ]
    top_routes = [(f"{a} → {b}", value) for a, b, value in routes if value is not None][:TOP]
    multiple = "A response counts once for each answer picked."
    tables = [
        Table(
            slug="headline",
            title="Responses and people",
            columns=("figure", "count"),
            rows=(
                ("Survey responses", _count(figures.responses)),
                ("People characterised", _count(figures.people)),
                ("Responses from returning people", _count(figures.returning)),
            ),
            numbers=True,
            note="People characterised: respondents plus the travel group they answered for.",
        ),
        Table(
            slug="sex_age",
            title="Sex and age",
            columns=("age_band", *SEXES),
            rows=tuple(
                (band, *(_count(cells.get(sex)) for sex in SEXES)) for band, cells in sex_age
            ),
            chart=charts.stacked(
                "People by age band and sex",
                [band for band, _ in sex_age],
                [(sex, [cells.get(sex) for _, cells in sex_age]) for sex in SEXES],
            )
            if with_charts
            else None,
        ),
        _breakdown("nationality", "Nationality", figures.nationality, with_charts=with_charts),
        _breakdown("origin", "Coming from", figures.origin, with_charts=with_charts),
        _breakdown("destination", "Going to", figures.destination, with_charts=with_charts),
        Table(
            slug="routes",
            title="Routes: origin → destination",
            columns=("origin", "origin_name", "destination", "destination_name", "responses"),
            rows=tuple(
                (start, origin.get(start, start), end, destination.get(end, end), _count(value))
                for start, end, value in figures.routes
            ),
            numeric_from=4,
            wrap=(1, 3),
            chart=_bars("Most frequent routes", top_routes) if with_charts and top_routes else None,
            folded=len(figures.routes) > TOP,
        ),
        _breakdown("stay", "Intended stay", figures.stay, with_charts=with_charts),
        _breakdown("needs", "Needs", figures.needs, with_charts=with_charts, note=multiple),
        _breakdown("risks", "Risks", figures.risks, with_charts=with_charts, note=multiple),
    ]
    tables.append(_timeline("responses", figures.period, figures.timeline, with_charts=with_charts))
    return tables


def flow_tables(figures: FlowFigures, *, with_charts: bool = True) -> list[Table]:
    """The flows dashboard's figures as tables."""
    top = [
        (f"{_short(flow.origin_name)} → {_short(flow.destination_name)}", flow.moves)
        for flow in figures.flows
        if flow.moves is not None
    ][:TOP]
    return [
        Table(
            slug="summary",
            title="People moving",
            columns=("figure", "count"),
            rows=(("People seen at two or more points", _count(figures.people_moving)),),
            numbers=True,
            note=("A move: the same pseudonymous person answers at one point and next at another."),
        ),
        Table(
            slug="flows",
            title="Moves between points",
            columns=(
                "from",
                "from_point",
                "to",
                "to_point",
                "moves",
                "median_hours",
                "hours_25th_percentile",
                "hours_75th_percentile",
            ),
            rows=tuple(
                (
                    flow.origin_nas,
                    flow.origin_name,
                    flow.destination_nas,
                    flow.destination_name,
                    _count(flow.moves),
                    _decimal(flow.median_hours, 1),
                    _decimal(flow.quartile_hours[0] if flow.quartile_hours else None, 1),
                    _decimal(flow.quartile_hours[1] if flow.quartile_hours else None, 1),
                )
                for flow in figures.flows
            ),
            numeric_from=4,
            wrap=(1, 3),
            chart=_bars("Most frequent moves", top) if with_charts and top else None,
            note="Hours between the two answers: median, and the middle half (25th to 75th).",
        ),
    ]


async def _service(
    session: AsyncSession, filters: Filters, threshold: int, with_charts: bool
) -> list[Table]:
    figures = await service_figures(
        session,
        period=filters.period,
        scope=filters.scope,
        grouping=filters.grouping,
        threshold=threshold,
        now=utcnow(),
    )
    return service_tables(figures, with_charts=with_charts)


async def _population(
    session: AsyncSession, filters: Filters, threshold: int, with_charts: bool
) -> list[Table]:
    figures = await population_figures(
        session, period=filters.period, scope=filters.scope, threshold=threshold
    )
    return population_tables(figures, with_charts=with_charts)


async def _flows(
    session: AsyncSession, filters: Filters, threshold: int, with_charts: bool
) -> list[Table]:
    figures = await flow_figures(
        session, period=filters.period, scope=filters.scope, threshold=threshold
    )
    return flow_tables(figures, with_charts=with_charts)


BUILDERS: Mapping[str, Builder] = {
    "service": _service,
    "population": _population,
    "flows": _flows,
}


async def places(session: AsyncSession) -> Places:
    """The points and places the filter form offers."""
    points = sorted(await list_points(session), key=lambda p: (p.name.casefold(), p.nas_id))
    return Places(
        points=points,
        departments=tuple(sorted({p.department for p in points if p.department})),
        municipalities=tuple(sorted({p.municipality for p in points if p.municipality})),
    )


def _day(params: Mapping[str, str], name: str, label: str) -> date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{label}: a date written YYYY-MM-DD, please (not {raw[:40]!r})"
        ) from None


def parse_filters(params: Mapping[str, str], *, known: Places, today: date) -> Filters:
    """The filters of a dashboard query, else InvalidInput saying what is wrong."""
    since, until = _day(params, "from", "From"), _day(params, "to", "To")
    if until is None:
        until = today if since is None or since <= today else since
    if since is None:
        since = until - timedelta(days=DEFAULT_DAYS - 1)
    period = Period(since, until)
    department = params.get("department", "").strip()
    if department and department not in known.departments:
        raise InvalidInput(f"no point stands in the department {department[:120]!r}")
    municipality = params.get("municipality", "").strip()
    if municipality and municipality not in known.municipalities:
        raise InvalidInput(f"no point stands in the municipality {municipality[:120]!r}")
    nas_id = params.get("point", "").strip()
    point_id = None
    if nas_id:
        found = [p.id for p in known.points if p.nas_id == nas_id]
        if not found:
            raise InvalidInput(f"no point with the NAS-Identifier {nas_id[:64]!r}")
        point_id = found[0]
    raw_group = params.get("group", "").strip() or Grouping.POINT.value
    try:
        grouping = Grouping(raw_group)
    except ValueError:
        raise InvalidInput("group by point, municipality or department") from None
    return Filters(
        period=period,
        scope=Scope(
            point_id=point_id, department=department or None, municipality=municipality or None
        ),
        grouping=grouping,
        values={
            "from": since.isoformat(),
            "to": until.isoformat(),
            "department": department,
            "municipality": municipality,
            "point": nas_id,
            "group": grouping.value if grouping is not Grouping.POINT else "",
        },
    )


def _bad(request: Request, principal: Principal, reason: str) -> HTMLResponse:
    return refused(
        request, principal, "Cannot show this dashboard", f"{reason[:1].upper()}{reason[1:]}.", 400
    )


async def _tables(
    dashboard: str,
    request: Request,
    session: AsyncSession,
    threshold: int,
    *,
    with_charts: bool,
) -> tuple[Places, Filters, list[Table]]:
    build = BUILDERS.get(dashboard)
    if build is None:
        raise HTTPException(status_code=404, detail=f"no dashboard called {dashboard[:40]!r}")
    known = await places(session)
    filters = parse_filters(request.query_params, known=known, today=utcnow().date())
    return known, filters, await build(session, filters, threshold, with_charts)


@router.get("")
async def dashboards_home(request: Request, principal: ViewDashboards) -> RedirectResponse:
    """The service dashboard comes first."""
    query = request.url.query
    return RedirectResponse(
        "/admin/dashboards/service" + (f"?{query}" if query else ""), status_code=303
    )


@router.get("/{dashboard}", response_class=HTMLResponse)
async def dashboard_page(
    dashboard: str,
    request: Request,
    principal: ViewDashboards,
    session: SessionDep,
    runtime: RuntimeDep,
) -> HTMLResponse:
    """One dashboard: the filter form, then each figure with its chart, table and CSV link."""
    threshold = runtime.settings.analytics.small_cell_threshold
    try:
        known, filters, tables = await _tables(
            dashboard, request, session, threshold, with_charts=True
        )
    except InvalidInput as error:
        return _bad(request, principal, str(error))
    period = filters.period
    return page(
        request,
        "dashboard.html",
        title=DASHBOARDS[dashboard],
        principal=principal,
        dashboard=dashboard,
        dashboards=list(DASHBOARDS.items()),
        tables=tables,
        filters=filters,
        form=filters.values,
        query=filters.query,
        known=known,
        groupings=[(g.value, g.value.capitalize()) for g in Grouping],
        threshold=threshold,
        hidden_mark=HIDDEN_MARK,
        hidden_note=(
            f"{HIDDEN_MARK} stands for a count from 1 to {threshold - 1}, left out so that no one "
            "can be singled out."
        ),
        period_text=f"{period.since.isoformat()} to {period.until.isoformat()} (UTC days)",
    )


@router.get("/{dashboard}/{figure}.csv")
async def figure_csv(
    dashboard: str,
    figure: str,
    request: Request,
    principal: ViewDashboards,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """One figure's table as CSV: the page's cells, hidden ones empty, then a footnote line."""
    threshold = runtime.settings.analytics.small_cell_threshold
    try:
        _, filters, tables = await _tables(
            dashboard, request, session, threshold, with_charts=False
        )
    except InvalidInput as error:
        return _bad(request, principal, str(error))
    found = [table for table in tables if table.slug == figure]
    if not found:
        raise HTTPException(status_code=404, detail=f"no figure called {figure[:40]!r}")
    (table,) = found
    name = f"cautiva-{dashboard}-{figure}-{filters.period.since}-{filters.period.until}.csv"
    return Response(
        table_csv(table, threshold),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def table_csv(table: Table, threshold: int) -> str:
    """The table as CSV text; a `# ` footnote line closes it when a cell was hidden."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([csv_cell(cell) for cell in row])
    if table.hidden:
        out.write(f"# {footnote(threshold)}\r\n")
    return out.getvalue()
