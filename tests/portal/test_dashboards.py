"""The dashboards over HTTP: rights, filters, CSVs equal to the page, no identifier, no small cell.

The generated data set (`analytics_dataset`) drives the pages; every figure is scoped to its
own departments, since the test database is shared.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from analytics_dataset import AnalyticsDataset, make_dataset
from test_admin_pages import sign_in, user

from cautiva.analytics.population import population_figures
from cautiva.analytics.scope import Scope
from cautiva.analytics.service import Grouping, service_figures
from cautiva.analytics.suppression import footnote
from cautiva.models import utcnow
from cautiva.runtime import Runtime
from portal_api.app import create_app

HIDDEN = "\N{EN DASH}"
DASHBOARDS = ("service", "population", "flows")
COUNT_COLUMNS = frozenset(
    {"sessions", "devices", "logins", "count", "responses", "female", "male", "moves"}
)
"""Columns that count people, sessions or devices: 0 or at least the threshold, never small."""


@dataclass
class Figure:
    """One figure block of a dashboard page, as the browser would show it."""

    slug: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    csv: str = ""
    charts: int = 0
    footnote: bool = False


class DashboardPage(HTMLParser):
    """Collects each `section.figure`: its table (or stat list), CSV link, charts and footnote."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, Figure] = {}
        self.current: Figure | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.in_head = self.in_stats = self.empty_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        if tag == "section" and "figure" in classes:
            self.current = Figure(found["id"])
            self.figures[self.current.slug] = self.current
        if self.current is None:
            return
        if tag == "img" and "chart" in classes:
            self.current.charts += 1
        elif tag == "thead":
            self.in_head = True
        elif tag == "dl" and "stats" in classes:
            self.in_stats = True
        elif tag == "tr" or (tag == "div" and self.in_stats):
            self.row = []
        elif tag in ("td", "th", "dt", "dd"):
            self.cell = []
            self.empty_row = self.empty_row or "colspan" in found
        elif tag == "a" and ".csv?" in found.get("href", ""):
            self.current.csv = found["href"]
        elif tag == "p" and "foot" in classes:
            self.current.footnote = True

    def handle_endtag(self, tag: str) -> None:
        if self.current is None:
            return
        if tag in ("td", "th", "dt", "dd") and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif (tag == "tr" or (tag == "div" and self.in_stats)) and self.row is not None:
            if self.in_head:
                self.current.columns = self.row
            elif not self.empty_row:
                self.current.rows.append(self.row)
            self.row, self.empty_row = None, False
        elif tag == "thead":
            self.in_head = False
        elif tag == "dl":
            self.in_stats = False
        elif tag == "section":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def figures_of(html: str) -> dict[str, Figure]:
    """The figure blocks of a dashboard page."""
    parser = DashboardPage()
    parser.feed(html)
    return parser.figures


def read_csv(text: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows and `# ` comment lines of a dashboard CSV."""
    lines = text.splitlines()
    notes = [line for line in lines if line.startswith("# ")]
    body = [line for line in lines if not line.startswith("# ")]
    assert all(not line.startswith("# ") for line in lines[: len(body)]), "notes come last"
    rows = list(csv.reader(io.StringIO("\n".join(body))))
    return rows[0], rows[1:], notes


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


@pytest.fixture
async def dataset(runtime: Runtime) -> AnalyticsDataset:
    """A generated data set of its own."""
    return await make_dataset(runtime, seed=31)


async def analyst(runtime: Runtime, http: httpx.AsyncClient) -> None:
    """Sign `http` in as a new analyst."""
    email, password = await user(runtime, "analyst")
    signed = await sign_in(http, email, password)
    assert signed.status_code == 303


def scope_params(dataset: AnalyticsDataset, **more: str) -> dict[str, str]:
    """The data set's whole period in its first department."""
    return {
        "from": dataset.since.isoformat(),
        "to": dataset.until.isoformat(),
        "department": dataset.departments[0],
        **more,
    }


async def test_analysts_see_the_dashboards_technicians_do_not(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    away = await http.get("/admin/dashboards/service")
    assert away.status_code == 303 and away.headers["location"].startswith("/admin/login")
    email, password = await user(runtime, "technician")
    await sign_in(http, email, password)
    home = await http.get("/admin")
    assert 'href="/admin/dashboards"' not in home.text
    for path in (
        "/admin/dashboards",
        *(f"/admin/dashboards/{name}" for name in DASHBOARDS),
        "/admin/dashboards/service/groups.csv",
    ):
        refused = await http.get(path)
        assert refused.status_code == 403, path
        assert "view_dashboards" in refused.text

    await analyst(runtime, http)
    home = await http.get("/admin")
    assert 'href="/admin/dashboards"' in home.text
    first = await http.get("/admin/dashboards?from=2025-01-01")
    assert first.status_code == 303
    assert first.headers["location"] == "/admin/dashboards/service?from=2025-01-01"
    for name in DASHBOARDS:
        shown = await http.get(f"/admin/dashboards/{name}")
        assert shown.status_code == 200, shown.text
        policy = shown.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "img-src data:" in policy
        assert shown.headers["cache-control"] == "no-store"
        assert "<script" not in shown.text.replace('<script src="/admin/app.js" defer>', "")
        assert ' style="' not in shown.text, "the CSP allows no inline style attribute"
        # The default period: the last 30 days up to today (UTC).
        today = utcnow().date()
        assert f'name="from" type="date" value="{today - timedelta(days=29)}"' in shown.text
        assert f'name="to" type="date" value="{today}"' in shown.text
    missing = await http.get("/admin/dashboards/nothing")
    assert missing.status_code == 404
    figure = await http.get("/admin/dashboards/service/nothing.csv")
    assert figure.status_code == 404


async def test_every_csv_holds_exactly_what_its_figure_shows(
    runtime: Runtime, http: httpx.AsyncClient, dataset: AnalyticsDataset
) -> None:
    await analyst(runtime, http)
    threshold = runtime.settings.analytics.small_cell_threshold
    seen_hidden = 0
    pages = [(name, scope_params(dataset)) for name in DASHBOARDS]
    pages += [
        ("service", scope_params(dataset, group=grouping.value))
        for grouping in (Grouping.MUNICIPALITY, Grouping.DEPARTMENT)
    ]
    for name, params in pages:
        shown = await http.get(f"/admin/dashboards/{name}", params=params)
        assert shown.status_code == 200, shown.text
        figures = figures_of(shown.text)
        assert figures, name
        for figure in figures.values():
            assert figure.csv.startswith(f"/admin/dashboards/{name}/{figure.slug}.csv?")
            download = await http.get(figure.csv)
            assert download.status_code == 200, download.text
            assert download.headers["content-disposition"].startswith("attachment;")
            assert download.headers["cache-control"] == "no-store"
            assert download.headers["content-type"].startswith("text/csv")
            header, rows, notes = read_csv(download.text)
            if figure.columns:
                assert [c.replace("_", " ") for c in header] == figure.columns
            shown_rows = [[cell if cell != HIDDEN else "" for cell in row] for row in figure.rows]
            assert rows == shown_rows, f"{name}/{figure.slug}"
            hidden = any(cell == HIDDEN for row in figure.rows for cell in row)
            seen_hidden += hidden
            assert figure.footnote == hidden
            assert notes == ([f"# {footnote(threshold)}"] if hidden else [])
            for column, values in zip(header, zip(*rows, strict=True), strict=True):
                if column in COUNT_COLUMNS:
                    for value in values:
                        assert value == "" or int(value) == 0 or int(value) >= threshold, (
                            f"{name}/{figure.slug}: {column} shows a small count {value}"
                        )
    assert seen_hidden >= 3, "the data set's rare categories are hidden somewhere"


async def test_the_pages_show_the_suppressed_figures_of_the_domain(
    runtime: Runtime, http: httpx.AsyncClient, dataset: AnalyticsDataset
) -> None:
    await analyst(runtime, http)
    threshold = runtime.settings.analytics.small_cell_threshold
    department = dataset.departments[0]
    period = dataset.period
    async with runtime.sessions() as session:
        service = await service_figures(
            session,
            period=period,
            scope=Scope(department=department),
            grouping=Grouping.POINT,
            threshold=threshold,
            now=utcnow(),
        )
        population = await population_figures(
            session, period=period, scope=Scope(department=department), threshold=threshold
        )
    shown = figures_of(
        (await http.get("/admin/dashboards/service", params=scope_params(dataset))).text
    )

    def cell(value: Any) -> str:
        return HIDDEN if value is None else str(value)

    groups = shown["groups"]
    assert [row[0] for row in groups.rows] == [row.key for row in service.rows] + ["Total"]
    for row, expected in zip(groups.rows, (*service.rows, service.total), strict=True):
        assert row[3:5] == [cell(expected.sessions), cell(expected.devices)]
        assert row[7] == cell(expected.logins)
    assert groups.charts == 1
    assert shown["funnel"].rows == [
        [label, cell(value)]
        for label, (_, value) in zip(
            (
                "Splash page opened",
                "Consent given",
                "Survey done",
                "Message shown",
                "Login sent to the router",
                "Login accepted",
            ),
            service.funnel,
            strict=True,
        )
    ]
    assert shown["timeline"].charts == 1 and len(shown["timeline"].rows) == len(service.timeline)

    page = figures_of(
        (await http.get("/admin/dashboards/population", params=scope_params(dataset))).text
    )
    assert page["headline"].rows == [
        ["Survey responses", cell(population.responses)],
        ["People characterised", cell(population.people)],
        ["Responses from returning people", cell(population.returning)],
    ]
    nationality = {row[0]: row[2] for row in page["nationality"].rows}
    for code, value in population.nationality.counts:
        assert nationality[code] == cell(value)
    rare, count = dataset.rare["nationality"]
    assert 0 < count < threshold
    here = [
        r
        for r in dataset.responses
        if r.answers.get("nationality") == rare
        and dataset.point(r.point_id).department == department
    ]
    if here:
        assert nationality[rare] == HIDDEN
    assert page["sex_age"].charts == 1 and page["nationality"].charts == 1
    assert [row[0] for row in page["sex_age"].rows] == ["0-5", "6-17", "18-59", "60+"]


async def test_no_page_or_csv_holds_an_identifier(
    runtime: Runtime, http: httpx.AsyncClient, dataset: AnalyticsDataset
) -> None:
    await analyst(runtime, http)
    identifiers = dataset.identifiers()
    assert len(identifiers) > 100
    lowered = {value.lower() for value in identifiers}
    for params in (scope_params(dataset), scope_params(dataset, department="")):
        for name in DASHBOARDS:
            shown = await http.get(f"/admin/dashboards/{name}", params=params)
            assert shown.status_code == 200
            outputs = [shown.text]
            for figure in figures_of(shown.text).values():
                outputs.append((await http.get(figure.csv)).text)
            for output in outputs:
                text = output.lower()
                leaked = [value for value in lowered if value in text]
                assert not leaked, f"{name} shows {leaked[:3]}"


async def test_filters_narrow_the_figures(
    runtime: Runtime, http: httpx.AsyncClient, dataset: AnalyticsDataset
) -> None:
    await analyst(runtime, http)
    department = dataset.departments[0]
    mine = sorted(dataset.point(i).nas_id for i in dataset.point_ids(department=department))
    page = figures_of(
        (await http.get("/admin/dashboards/service", params=scope_params(dataset))).text
    )
    assert sorted(row[0] for row in page["groups"].rows[:-1]) == mine
    town = dataset.points[0].municipality
    by_town = figures_of(
        (
            await http.get(
                "/admin/dashboards/service",
                params=scope_params(dataset, department="", municipality=town, group="department"),
            )
        ).text
    )
    assert [row[0] for row in by_town["groups"].rows] == [department, "Total"]
    one = dataset.points[0]
    single = await http.get(
        "/admin/dashboards/flows", params=scope_params(dataset, point=one.nas_id)
    )
    assert single.status_code == 200
    for row in figures_of(single.text)["flows"].rows:
        assert one.nas_id in (row[0], row[2]), "a flow is in scope when either end is"
    assert f'<option value="{one.nas_id}" selected>' in single.text
    # A short period counts per day, a long one per ISO week.
    short = figures_of(
        (
            await http.get(
                "/admin/dashboards/population",
                params=scope_params(dataset, to=(dataset.since + timedelta(days=9)).isoformat()),
            )
        ).text
    )
    assert short["timeline"].columns == ["day", "responses"]
    assert len(short["timeline"].rows) == 10
    long = figures_of(
        (await http.get("/admin/dashboards/population", params=scope_params(dataset))).text
    )
    assert long["timeline"].columns == ["week starting", "responses"]


BAD_FILTERS: tuple[tuple[dict[str, str], str], ...] = (
    ({"from": "yesterday"}, "YYYY-MM-DD"),
    ({"to": "2025-02-30"}, "YYYY-MM-DD"),
    ({"from": "2025-03-02", "to": "2025-03-01"}, "before it starts"),
    ({"from": "2019-01-01", "to": "2025-03-01"}, "at most"),
    ({"department": "Atlantis"}, "no point stands in the department"),
    ({"municipality": "Atlantis"}, "no point stands in the municipality"),
    ({"point": "nas-that-is-not"}, "no point with the NAS-Identifier"),
    ({"group": "country"}, "group by point, municipality or department"),
)


async def test_bad_filters_get_a_400_with_the_reason(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    await analyst(runtime, http)
    for params, reason in BAD_FILTERS:
        for path in (
            "/admin/dashboards/service",
            "/admin/dashboards/population",
            "/admin/dashboards/flows/flows.csv",
        ):
            refused = await http.get(path, params=params)
            assert refused.status_code == 400, (path, params, refused.text)
            assert reason.lower() in refused.text.lower(), (path, params)
            assert "Traceback" not in refused.text
