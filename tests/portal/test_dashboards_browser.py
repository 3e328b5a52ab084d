"""The dashboards in a real browser: headless Chromium, phone-sized, against `cautiva portal`.

An analyst signs in, opens the service, population and flows dashboards on the generated data
set, narrows them with the filter form, and sees every chart drawn (an SVG image that loaded)
with nothing fetched from another origin and nothing refused under the Content-Security-Policy.
The pages are kept as `test-artifacts/dashboard-<name>.png`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from analytics_dataset import make_dataset
from browser import PortalProcess, portal_fixture
from browser import browser as browser  # the fixture, for this module too
from browser import chromium_installed as chromium_installed  # autouse
from selenium import webdriver
from selenium.webdriver.support.ui import Select
from test_admin_browser import AdminPhone
from test_admin_pages import user

from cautiva.runtime import Runtime

portal = portal_fixture("dashboard")


def charts_drawn(phone: AdminPhone) -> list[dict[str, Any]]:
    """Every chart image of the page, once the browser has decoded them all."""
    script = (
        "return [...document.querySelectorAll('img.chart')].map(i => ({alt: i.alt,"
        " complete: i.complete, width: i.naturalWidth, src: i.src.slice(0, 25)}));"
    )
    found: list[dict[str, Any]] = []

    def decoded(_: object) -> bool:
        nonlocal found
        found = phone.driver.execute_script(script)
        return all(chart["complete"] for chart in found)

    phone.wait.until(decoded, "the charts did not finish loading")
    return found


async def test_an_analyst_reads_the_dashboards_with_their_charts(
    runtime: Runtime, portal: PortalProcess, browser: webdriver.Chrome, artifacts: Path
) -> None:
    dataset = await make_dataset(runtime, seed=43)
    email, password = await user(runtime, "analyst")
    phone = AdminPhone(browser, portal.origin)
    period = {"from": dataset.since.isoformat(), "to": dataset.until.isoformat()}

    phone.open(f"{portal.origin}/admin/dashboards")
    assert browser.current_url == f"{portal.origin}/admin/login?next=/admin/dashboards"
    phone.type("email", email)
    phone.type("password", password)
    phone.submit("Sign in")
    assert browser.current_url.startswith(f"{portal.origin}/admin/dashboards/service")
    assert phone.text("h1") == "Service"

    for name, heading, least in (
        ("service", "Service", 3),
        ("population", "Population", 8),
        ("flows", "Flows between points", 1),
    ):
        phone.open(f"{portal.origin}/admin/dashboards/{name}?{urlencode(period)}")
        assert phone.text("h1") == heading
        # The form narrows the figures to the data set's first department (a GET, no script).
        Select(phone.control("#department")).select_by_value(dataset.departments[0])
        phone.submit("Show")
        assert f"department={dataset.departments[0].split()[0]}" in browser.current_url
        assert phone.control("#from").get_attribute("value") == period["from"]
        charts = charts_drawn(phone)
        assert len(charts) >= least, charts
        for chart in charts:
            assert chart["src"] == "data:image/svg+xml;base64", chart
            assert chart["width"] > 0, f"{chart['alt']} did not draw"
        phone.screenshot(artifacts / f"dashboard-{name}.png")
    phone.check_rendering()
