"""Walking the splash pages over HTTP as a form-posting browser would, without a browser."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlencode

import httpx

from factories import SURVEY_BANDS


@dataclass
class Control:
    """One form control: its type, name and value, and whether it is checked or selected."""

    tag: str
    type: str
    name: str
    value: str
    checked: bool = False


@dataclass
class PageForm:
    """One <form>: where it goes and its controls."""

    action: str
    method: str
    controls: list[Control] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    def hidden(self) -> dict[str, str]:
        """The hidden fields."""
        return {c.name: c.value for c in self.controls if c.type == "hidden"}

    def names(self) -> list[str]:
        """Names of the visible answer controls, in order, once each."""
        seen: list[str] = []
        for control in self.controls:
            if control.type in ("hidden", "submit") or not control.name:
                continue
            if control.name not in seen:
                seen.append(control.name)
        return seen

    def options(self, name: str) -> list[str]:
        """The values offered for `name` (radio, checkbox, option)."""
        return [c.value for c in self.controls if c.name == name and c.type != "hidden"]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self.links: list[dict[str, str]] = []
        self.texts: list[str] = []
        self._select: str | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("style", "script"):
            self._skip += 1
        if tag == "form":
            self.forms.append(PageForm(a.get("action", ""), a.get("method", "get"), attrs=a))
        elif tag == "a":
            self.links.append(a)
        elif self.forms and tag == "input":
            kind = a.get("type", "text")
            self.forms[-1].controls.append(
                Control("input", kind, a.get("name", ""), a.get("value", ""), "checked" in a)
            )
        elif self.forms and tag == "button":
            self.forms[-1].controls.append(
                Control("button", "submit", a.get("name", ""), a.get("value", ""))
            )
        elif self.forms and tag == "select":
            self._select = a.get("name", "")
        elif self.forms and tag == "option" and self._select is not None:
            self.forms[-1].controls.append(
                Control("option", "option", self._select, a.get("value", ""), "selected" in a)
            )

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


@dataclass
class Page:
    """A fetched page: status, HTML, its forms and links, and its visible text."""

    response: httpx.Response
    forms: list[PageForm]
    links: list[dict[str, str]]
    text: str

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self.response.status_code

    @property
    def html(self) -> str:
        """The page source."""
        return self.response.text

    @property
    def flow(self) -> PageForm:
        """The form carrying the splash state."""
        return next(f for f in self.forms if "state" in f.hidden())

    def has_state(self) -> bool:
        """Whether the page continues a visit."""
        return any("state" in f.hidden() for f in self.forms)


def parse(response: httpx.Response) -> Page:
    """Parse a splash page."""
    parser = _Parser()
    parser.feed(response.text)
    return Page(response, parser.forms, parser.links, " ".join(parser.texts))


class Splash:
    """A phone walking the splash pages of one point (cookies kept by the client)."""

    def __init__(self, http: httpx.AsyncClient, nas_id: str) -> None:
        self.http = http
        self.nas_id = nas_id
        self.page: Page | None = None

    async def open(self, query: str = "", **headers: str) -> Page:
        """GET the splash page as the router's redirect does (`query` without the `?`)."""
        url = f"/p/{quote(self.nas_id)}" + (f"?{query}" if query else "")
        self.page = parse(await self.http.get(url, headers=headers))
        return self.page

    async def submit(
        self, fields: dict[str, str | list[str]] | None = None, **buttons: str
    ) -> Page:
        """Post the flow form with `fields` and the pressed button (`nav="next"`, `lang="ht"`)."""
        assert self.page is not None
        form = self.page.flow
        data: list[tuple[str, str]] = list(form.hidden().items())
        for name, value in (fields or {}).items():
            for item in value if isinstance(value, list) else [value]:
                data.append((name, str(item)))
        data.extend(buttons.items() or [("nav", "next")])
        response = await self.http.post(
            form.action,
            content=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        self.page = parse(response)
        return self.page


def mikrotik_query(**overrides: str) -> str:
    """A MikroTik login.html redirect's query string."""
    params = {
        "mac": "02:00:00:00:20:01",
        "ip": "10.5.50.9",
        "link-login-only": "http://10.5.50.1/login",
        "link-orig": "http://example.org/news?a=1&b=2",
        "chap-id": "\\371",
        "chap-challenge": "\\060\\061\\062\\063\\064\\065\\066\\067"
        "\\070\\071\\072\\073\\074\\075\\076\\077",
        "identity": "router-1",
        "server-name": "hotspot1",
    } | overrides
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def uam_url(base: str, secret: str, **overrides: str) -> str:
    """A CoovaChilli redirect URL to `base`, signed with `md` as chilli's redir.c signs it."""
    params = {
        "res": "notyet",
        "uamip": "10.1.0.1",
        "uamport": "3990",
        "challenge": "00112233445566778899AABBCCDDEEFF",
        "called": "AA-BB-CC-DD-EE-FF",
        "mac": "02-00-00-00-20-02",
        "ip": "10.1.0.9",
        "nasid": "x",
        "sessionid": "5f1c0a2b00000001",
        "userurl": "http://example.org/",
    } | overrides
    url = base + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    md = hashlib.md5((url + secret).encode(), usedforsecurity=False).hexdigest().upper()
    return f"{url}&md={md}"


SURVEY_PAGES: list[dict[str, str | list[str]]] = [
    {"group_size": "2"},
    {**dict.fromkeys(SURVEY_BANDS, "0"), "women_18_59": "1", "boys_0_5": "1"},
    {
        "nationality": "VEN",
        "coming_from": "COL",
        "coming_from_place": "Cúcuta",
        "going_to": "PER",
        "going_to_place": "",
        "stay": "days",
    },
    {"needs": ["food", "shelter"], "risks": ["none"]},
    {"consent_messages": "yes"},
]
"""Answers for every page of the shipped default form (a mother and her small son)."""

SIZE_BUDGET = 30 * 1024
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)
