"""The admin in a real browser: headless Chromium, phone-sized, against `cautiva portal`.

A technician signs in, adds a MikroTik point, downloads its RouterOS script and sees the point
turn online once its router sends a heartbeat. The portal runs as its own process on the test
database; the technician is made through the staff service in this process. Every admin page
must load with nothing refused under its Content-Security-Policy, nothing fetched from another
origin, and the service worker that keeps pages for offline reading registered.
The point page is kept as `test-artifacts/admin-point-online.png`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import WAIT, PortalProcess, phone_browser, portal_fixture
from browser import chromium_installed as chromium_installed  # autouse
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from cautiva.credentials import heartbeat_key
from cautiva.database import transaction
from cautiva.models import Point, utcnow
from cautiva.runtime import Runtime
from cautiva.staff.service import add_user
from conftest import TEST_SECRET_KEY
from test_splash_browser import Phone

HEADER = "rgb(38, 50, 56)"
"""The admin header's background (#263238): the inline stylesheet applied."""


portal = portal_fixture("admin")


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """Where the browser saves downloaded files."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture
def browser(downloads: Path) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a phone's screen that saves downloads to `downloads` unasked."""
    with phone_browser(downloads) as driver:
        yield driver


class AdminPhone(Phone):
    """A technician's phone on the admin pages: the splash test's phone, with admin checks."""

    def settled(self) -> None:
        """After a navigation: loaded, styled, nothing from elsewhere, no console error."""
        self.wait.until(lambda _: self.document() is not None)
        page: dict[str, Any] = self.driver.execute_script(
            "const header = document.querySelector('header');"
            "return {url: location.href, title: document.title,"
            " fetched: performance.getEntriesByType('navigation')"
            "  .concat(performance.getEntriesByType('resource')).map(e => e.name),"
            " header: header && getComputedStyle(header).backgroundColor,"
            " scripts: [...document.scripts].map(s => s.src)};"
        )
        url, title = str(page["url"]), str(page["title"])
        assert url.startswith(self.origin + "/admin"), url
        foreign = [name for name in page["fetched"] if not name.startswith(self.origin + "/")]
        assert not foreign, f"{url} asked another origin for {foreign}"
        assert page["scripts"] == [f"{self.origin}/admin/app.js"], page["scripts"]
        # Kept for the end of the test (`check_rendering`): the walk goes on past a broken page.
        if page["header"] != HEADER:
            self.problems.setdefault(
                f"the inline stylesheet did not apply (header {page['header']})", []
            ).append(title)
        console: list[dict[str, Any]] = self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        for entry in console:
            if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]:
                # "<url> <line> <text>": the same error on every page is reported once.
                text = entry["message"].split(" ", 2)[-1]
                self.problems.setdefault(text, []).append(title)

    def text(self, css: str) -> str:
        """The visible text of the first element matching `css`."""
        return self.control(css).text.strip()

    def tap_link(self, text: str) -> None:
        """Tap the link (or link-styled button) showing `text` and wait for the next page."""
        self.navigate(self.driver.find_element(By.LINK_TEXT, text).click)

    def type(self, field: str, value: str) -> None:
        """Type `value` into the field with id `field`."""
        control = self.control(f"#{field}")
        control.clear()
        control.send_keys(value)

    def submit(self, label: str) -> None:
        """Tap the submit button showing `label` and wait for the next page."""
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "main button[type='submit']")
        (button,) = [b for b in buttons if b.text.strip() == label]
        self.navigate(button.click)

    def reload(self) -> None:
        """Reload the page, as pulling it down does, and wait for it."""
        self.navigate(self.driver.refresh)

    def worker(self) -> dict[str, Any]:
        """The admin service worker's registration (waiting for it to be active)."""
        found: dict[str, Any] | None = None

        def registered(_: object) -> bool:
            nonlocal found
            found = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "navigator.serviceWorker.getRegistration('/admin').then("
                " r => done(r && {scope: r.scope, active: r.active && r.active.scriptURL,"
                "  controlled: !!navigator.serviceWorker.controller}),"
                " e => done({error: String(e)}));"
            )
            return bool(found and found.get("active"))

        self.wait.until(registered, f"no active service worker for /admin/: {found}")
        assert found is not None
        return found


def wait_for_download(folder: Path, name: str) -> Path:
    """The file `name` once the browser has finished saving it to `folder`."""
    path = folder / name
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        partial = list(folder.glob("*.crdownload"))
        if path.exists() and not partial and path.stat().st_size > 0:
            return path
        time.sleep(0.05)
    raise AssertionError(f"{name} was not downloaded: {sorted(p.name for p in folder.iterdir())}")


async def technician(runtime: Runtime) -> tuple[str, str]:
    """A new technician: (email, one-time password)."""
    email = f"tecnica.{uuid.uuid4().hex[:6]}@ngo.example"
    async with transaction(runtime.sessions) as session:
        _, password = await add_user(session, email=email, role="technician", now=utcnow())
    return email, password


async def radius_secret(runtime: Runtime, nas_id: str) -> str:
    """The RADIUS secret the portal gave the point `nas_id`."""
    async with transaction(runtime.sessions) as session:
        secret = await session.scalar(select(Point.radius_secret).where(Point.nas_id == nas_id))
    assert secret, f"no point {nas_id} in the database"
    return secret


async def test_technician_adds_a_point_downloads_its_script_and_sees_it_online(
    runtime: Runtime,
    portal: PortalProcess,
    browser: webdriver.Chrome,
    downloads: Path,
    artifacts: Path,
) -> None:
    email, password = await technician(runtime)
    nas_id = f"terminal-{uuid.uuid4().hex[:6]}"
    phone = AdminPhone(browser, portal.origin)

    phone.open(f"{portal.origin}/admin")
    assert browser.current_url == f"{portal.origin}/admin/login?next=/admin"
    assert phone.text("h1") == "Sign in"
    registration = phone.worker()
    assert registration["scope"] == f"{portal.origin}/admin", registration
    assert registration["active"] == f"{portal.origin}/admin/sw.js", registration
    phone.type("email", email)
    phone.type("password", password)
    phone.submit("Sign in")

    assert browser.current_url == f"{portal.origin}/admin"
    assert phone.text("h1") == "Wi-Fi points"
    assert phone.worker()["controlled"], "the points list is kept for offline use too"
    assert email in phone.text("header .who") and "technician" in phone.text("header .who")
    phone.tap_link("Add a point")

    assert browser.current_url == f"{portal.origin}/admin/points/new"
    assert phone.text("h1") == "Add a point"
    phone.type("name", "Terminal de Transportes Ipiales")
    phone.type("nas_id", nas_id)
    Select(phone.control("#nas_type")).select_by_visible_text("MikroTik RouterOS")
    phone.type("department", "Nariño")
    phone.type("municipality", "Ipiales")
    phone.submit("Add the point")

    assert browser.current_url == f"{portal.origin}/admin/points/{nas_id}?done=Point%20added."
    assert phone.text(".flash") == "Point added."
    assert phone.text("h1") == "Terminal de Transportes Ipiales"
    assert phone.text("#status") == "offline"
    assert phone.worker()["controlled"], "the point page is kept for offline reading"
    script_link = browser.find_element(By.LINK_TEXT, "RouterOS script (.rsc)")
    assert script_link.is_displayed()
    script_link.click()

    script = wait_for_download(downloads, f"cautiva-{nas_id}.rsc").read_text()
    assert nas_id in script
    assert await radius_secret(runtime, nas_id) in script
    assert "/radius" in script
    key = heartbeat_key(TEST_SECRET_KEY, nas_id)
    assert key in script, "the router sends its heartbeat with the point's key"
    assert browser.current_url.startswith(f"{portal.origin}/admin/points/{nas_id}")

    async with httpx.AsyncClient(base_url=portal.origin, timeout=WAIT) as router:
        beat = await router.post(
            f"/api/v1/points/{nas_id}/heartbeat",
            data={"key": key, "uptime": "7200", "load": "0.5"},
        )
    assert beat.status_code == 204, beat.text
    phone.reload()
    assert phone.text("#status") == "online"
    assert "2 h" in phone.driver.page_source
    phone.screenshot(artifacts / "admin-point-online.png")
    phone.check_rendering()
