"""The splash flow in a real browser: headless Chromium, phone-sized, against `cautiva portal`.

The portal runs as its own process on the test database; a fake router (MikroTik `POST /login`,
CoovaChilli `GET /logon`) listens in this process and records what the browser sends it. The
browser is driven through the visible controls only, as a person taps them. Screenshots of the
message page go to `test-artifacts/`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import WAIT, PortalProcess, portal_fixture
from browser import browser as browser  # the fixture, for this module too
from browser import chromium_installed as chromium_installed  # autouse
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from cautiva.database import transaction
from cautiva.models import Grant, NasType, Point, Response
from cautiva.runtime import Runtime
from factories import SURVEY_BANDS, create_point
from splash_pages import mikrotik_query, uam_url

ANSWERS: dict[str, str | list[str]] = {
    "group_size": "2",
    **dict.fromkeys(SURVEY_BANDS, "0"),
    "women_18_59": "1",
    "boys_0_5": "1",
    "nationality": "VEN",
    "coming_from": "COL",
    "coming_from_place": "Cúcuta",
    "going_to": "PER",
    "going_to_place": "Lima",
    "stay": "days",
    "needs": ["food", "shelter"],
    "risks": ["none"],
    "consent_messages": "yes",
}
"""What the person answers, by question name (a mother and her small son)."""
MAX_SURVEY_PAGES = 12


portal = portal_fixture("splash")


# --- the fake router ----------------------------------------------------------------------------


@dataclass
class RouterRequest:
    """One request the browser made to the router: method, path and its fields."""

    method: str
    path: str
    fields: dict[str, list[str]]

    def one(self, name: str) -> str:
        """The single value of field `name`."""
        values = self.fields.get(name, [])
        assert len(values) == 1, f"{name}: {values!r} in {self.fields!r}"
        return values[0]


class FakeRouter:
    """A router's login endpoints: MikroTik `POST /login`, chilli `GET /logon`; both recorded."""

    def __init__(self) -> None:
        self.requests: list[RouterRequest] = []
        self._changed = threading.Condition()
        router = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                router.record(RouterRequest("GET", url.path, parse_qs(url.query)))
                self.answer(url.path == "/logon", "")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("utf-8")
                fields = parse_qs(body, keep_blank_values=True)
                router.record(RouterRequest("POST", urlsplit(self.path).path, fields))
                dst = fields.get("dst", [""])[0]
                self.answer(urlsplit(self.path).path == "/login", dst)

            def answer(self, known: bool, dst: str) -> None:
                # Like MikroTik's alogin.html: a small page that links on to `dst`.
                link = f'<p><a id="next" href="{html.escape(dst)}">continue</a></p>' if dst else ""
                body = f"<!doctype html><title>router</title><p>You are logged in.</p>{link}"
                data = body.encode()
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the recorded requests are what the tests look at."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def record(self, request: RouterRequest) -> None:
        """Keep one request and wake whoever waits for it."""
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()

    def wait_for(self, method: str, path: str, timeout: float = WAIT) -> RouterRequest:
        """The first request with this method and path, waiting for it to arrive."""

        def found() -> RouterRequest | None:
            return next((r for r in self.requests if (r.method, r.path) == (method, path)), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"the router got no {method} {path}: {self.requests!r}")
            request = found()
            assert request is not None
            return request


@pytest.fixture(scope="module")
def router() -> Iterator[FakeRouter]:
    """A fake router on a free local port."""
    fake = FakeRouter()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


# --- the browser --------------------------------------------------------------------------------


class Phone:
    """A person's browser on the splash pages: taps labels, types, picks from lists."""

    def __init__(self, driver: webdriver.Chrome, origin: str) -> None:
        self.driver = driver
        self.origin = origin
        self.wait = WebDriverWait(driver, WAIT, poll_frequency=0.05)
        self.problems: dict[str, list[str]] = {}
        self.page_lang = ""

    def open(self, url: str) -> None:
        """Open the router's redirect URL."""
        self.driver.get(url)
        self.settled()

    def settled(self) -> None:
        """After a navigation: loaded, styled, and nothing fetched from elsewhere."""
        self.wait.until(lambda _: self.document() is not None)
        page: dict[str, Any] = self.driver.execute_script(
            "const header = document.querySelector('header');"
            "return {url: location.href, title: document.title,"
            " lang: document.documentElement.lang,"
            " fetched: performance.getEntriesByType('navigation')"
            "  .concat(performance.getEntriesByType('resource')).map(e => e.name),"
            " header: header && getComputedStyle(header).backgroundColor};"
        )
        self.page_lang = str(page["lang"])
        if not str(page["url"]).startswith(self.origin + "/"):
            return  # the router's own page
        foreign = [name for name in page["fetched"] if not name.startswith(self.origin + "/")]
        assert not foreign, f"{page['url']} asked another origin for {foreign}"
        # Kept for the end of the test (`check_rendering`): the walk goes on past a broken style.
        if page["header"] != "rgb(11, 83, 148)":
            self.problems.setdefault("the inline stylesheet did not apply", []).append(
                page["title"]
            )
        console: list[dict[str, Any]] = self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        for entry in console:
            if "Content Security Policy" in entry["message"]:
                # "<url> <line> <text>": the same refusal on every page is reported once.
                text = entry["message"].split(" ", 2)[-1]
                self.problems.setdefault(text, []).append(page["title"])

    def check_rendering(self) -> None:
        """Every portal page had its stylesheet and the browser refused nothing under the CSP."""
        assert not self.problems, "\n".join(
            f"{problem}\n    on {len(pages)} pages: {pages}"
            for problem, pages in self.problems.items()
        )

    def document(self) -> float | None:
        """The current document's `performance.timeOrigin` once it has loaded, else None."""
        try:
            loaded: list[Any] = self.driver.execute_script(
                "return [performance.timeOrigin, document.readyState]"
            )
        except WebDriverException:
            # Mid-navigation ChromeDriver may answer with "no such execution context" or
            # "Node with given id does not belong to the document" rather than a stale element.
            return None
        return float(loaded[0]) if loaded[1] == "complete" else None

    def navigate(self, action: Callable[[], None]) -> None:
        """Do `action` (a tap that submits) and wait until the next page has loaded."""
        before = self.document()
        assert before is not None
        action()
        self.wait.until(lambda _: self.document() not in (None, before))
        self.settled()

    def lang(self) -> str:
        """The page's `<html lang>`."""
        return self.page_lang

    def tap_label(self, name: str, value: str) -> None:
        """Tap the label around the radio button or checkbox `name=value`."""
        control = self.control(f"input[name='{name}'][value='{value}']")
        control.find_element(By.XPATH, "./ancestor::label").click()

    def control(self, css: str) -> WebElement:
        """The first element matching `css` (tapping or typing fails if it is not visible)."""
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def press(self, name: str, value: str) -> None:
        """Tap the submit button `name=value` and wait for the next page."""
        self.navigate(self.control(f"button[name='{name}'][value='{value}']").click)

    def next(self) -> None:
        """Tap the page's main button."""
        self.navigate(self.control("button.primary[name='nav'][value='next']").click)

    def questions(self) -> dict[str, str]:
        """The answer controls on the page, name to kind (input type or "select"), in order."""
        names: list[list[str]] = self.driver.execute_script(
            "const seen = new Map();"
            "for (const el of document.forms[0].querySelectorAll('input, select, textarea')) {"
            "  if (el.type === 'hidden' || !el.name || seen.has(el.name)) continue;"
            "  seen.set(el.name, el.tagName === 'INPUT' ? el.type : el.tagName.toLowerCase());"
            "}"
            "return [...seen];"
        )
        return dict(names)

    def answer(self, name: str, kind: str, value: str | list[str]) -> None:
        """Answer question `name` through its visible control of `kind`."""
        if kind in ("radio", "checkbox"):
            for item in [value] if isinstance(value, str) else value:
                self.tap_label(name, item)
                assert self.control(f"input[name='{name}'][value='{item}']").is_selected()
            return
        assert isinstance(value, str)
        control = self.control(f"[name='{name}']")
        if kind == "select":
            Select(control).select_by_value(value)
        else:
            control.clear()
            control.send_keys(value)

    def message_page(self) -> bool:
        """Whether the page is the message page with the router login."""
        try:
            self.driver.find_element(By.ID, "login")
        except NoSuchElementException:
            return False
        return True

    def credentials(self) -> tuple[str, str]:
        """Open the manual-login details and read the username and password shown there."""
        details = self.control("details")
        details.find_element(By.TAG_NAME, "summary").click()
        self.wait.until(lambda _: details.get_attribute("open") is not None)
        shown = details.find_elements(By.CSS_SELECTOR, ".creds strong")
        assert all(element.is_displayed() for element in shown)
        username, password = (element.text.strip() for element in shown)
        assert username and password
        return username, password

    def screenshot(self, path: Path) -> None:
        """A screenshot of the whole page, however long, at the phone's width."""
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {
                    "x": 0,
                    "y": 0,
                    "width": size["width"],
                    "height": size["height"],
                    "scale": 1,
                },
            },
        )
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def walk_to_message(phone: Phone, lang: str, language_name: str) -> list[list[str]]:
    """Language, consent, email and every survey page; returns the questions of each page."""
    assert phone.control(f"button[name='lang'][value='{lang}']").text == language_name
    phone.press("lang", lang)
    assert phone.lang() == lang
    phone.tap_label("age", "yes")
    phone.tap_label("terms", "yes")
    phone.next()
    assert phone.lang() == lang
    email = phone.control("input[name='email']")
    email.send_keys(f"Persona.{uuid.uuid4().hex[:8]}@Example.org")
    # Enter in the field: the form's first submit button (a hidden "next") carries it on.
    phone.navigate(lambda: email.send_keys(Keys.ENTER))
    pages: list[list[str]] = []
    while not phone.message_page():
        assert len(pages) < MAX_SURVEY_PAGES, f"no end to the survey: {pages}"
        assert phone.lang() == lang, "every survey page is in the chosen language"
        assert not phone.driver.find_elements(By.CSS_SELECTOR, ".err"), phone.driver.page_source
        questions = phone.questions()
        unknown = [name for name in questions if name not in ANSWERS]
        assert not unknown, f"questions this test cannot answer: {unknown}"
        for name, kind in questions.items():
            phone.answer(name, kind, ANSWERS[name])
        pages.append(list(questions))
        phone.next()
    assert phone.lang() == lang
    assert pages[0] == ["group_size"], pages
    assert sorted(SURVEY_BANDS) == sorted(pages[1]), pages
    asked = {name for page in pages for name in page}
    assert {"nationality", "needs", "risks", "consent_messages"} <= asked, pages
    return pages


async def grant_username(runtime: Runtime, point: Point) -> str:
    """The username of the one grant issued at `point`."""
    async with transaction(runtime.sessions) as session:
        rows = await session.execute(select(Grant.username).where(Grant.point_id == point.id))
        (username,) = rows.scalars().all()
        return username


async def stored(runtime: Runtime, point: Point) -> list[Response]:
    """The responses stored for `point`."""
    async with transaction(runtime.sessions) as session:
        rows = await session.execute(select(Response).where(Response.point_id == point.id))
        return list(rows.scalars())


# --- the tests ----------------------------------------------------------------------------------


async def test_haitian_creole_visit_logs_in_to_mikrotik(
    runtime: Runtime,
    portal: PortalProcess,
    router: FakeRouter,
    browser: webdriver.Chrome,
    artifacts: Path,
) -> None:
    point = await create_point(runtime, nas_type=NasType.MIKROTIK)
    phone = Phone(browser, portal.origin)
    original = "http://example.org/news?a=1&b=2"
    query = mikrotik_query(
        **{
            "link-login-only": f"http://127.0.0.1:{router.port}/login",
            "link-orig": original,
            "mac": "02:00:00:00:30:01",
        }
    )
    phone.open(f"{portal.origin}/p/{point.nas_id}?{query}")
    walk_to_message(phone, "ht", "Kreyòl ayisyen")
    assert "Anvan ou konekte" in phone.control("h1").text
    username, password = phone.credentials()
    phone.screenshot(artifacts / "splash-ht-message.png")
    button = phone.control("form#login button[type='submit']")
    assert button.text == "Konekte m sou entènèt"
    phone.navigate(button.click)
    login = router.wait_for("POST", "/login")
    assert login.one("username") == username == await grant_username(runtime, point)
    chap_id, challenge = b"\xf9", bytes(range(0x30, 0x40))  # mikrotik_query's octal escapes
    expected = hashlib.md5(chap_id + password.encode() + challenge, usedforsecurity=False)
    assert login.one("password") == expected.hexdigest(), "CHAP: MD5(id + password + challenge)"
    assert login.one("popup") == "false"
    dst = urlsplit(login.one("dst"))
    assert f"{dst.scheme}://{dst.netloc}" == portal.origin
    assert dst.path == f"/p/{point.nas_id}/connected"
    assert parse_qs(dst.query)["to"] == [original]
    # The router's page sends the browser on to `dst`: the portal's "you are connected".
    phone.navigate(phone.control("a#next").click)
    assert phone.lang() == "ht" and "Ou konekte" in phone.control("h1").text
    assert phone.control("a.button").get_attribute("href") == original
    (response,) = await stored(runtime, point)
    assert response.lang == "ht" and response.device_mac == "02:00:00:00:30:01"
    assert response.answers["group_size"] == 2
    assert response.answers["needs"] == ["food", "shelter"]
    assert response.answers["nationality"] == "VEN"
    phone.check_rendering()


async def test_spanish_visit_logs_in_to_coovachilli(
    runtime: Runtime,
    portal: PortalProcess,
    router: FakeRouter,
    browser: webdriver.Chrome,
    artifacts: Path,
) -> None:
    point = await create_point(runtime, nas_type=NasType.CHILLI)
    assert point.uam_secret
    phone = Phone(browser, portal.origin)
    challenge = "0123456789ABCDEF0123456789ABCDEF"
    redirect = uam_url(
        f"{portal.origin}/p/{point.nas_id}",
        point.uam_secret,
        uamip="127.0.0.1",
        uamport=str(router.port),
        challenge=challenge,
        nasid=point.nas_id,
        mac="02-00-00-00-30-02",
    )
    phone.open(redirect)
    assert browser.find_elements(By.NAME, "state"), "the signed redirect is accepted"
    walk_to_message(phone, "es", "Español")
    assert "Antes de conectarse" in phone.control("h1").text
    username, password = phone.credentials()
    phone.screenshot(artifacts / "splash-es-message.png")
    link = phone.control("a#login")
    assert link.text == "Conectarme a internet"
    phone.navigate(link.click)
    logon = router.wait_for("GET", "/logon")
    assert logon.one("username") == username == await grant_username(runtime, point)
    key = hashlib.md5(
        bytes.fromhex(challenge) + point.uam_secret.encode(), usedforsecurity=False
    ).digest()
    sent = bytes.fromhex(logon.one("password"))
    assert len(sent) == len(password.encode())
    assert bytes(b ^ key[i % 16] for i, b in enumerate(sent)).decode() == password
    assert logon.one("userurl") == "http://example.org/"
    (response,) = await stored(runtime, point)
    assert response.lang == "es" and response.device_mac == "02:00:00:00:30:02"
    phone.check_rendering()
