"""The portal's load generator: closed-loop HTTP clients in a process of their own.

Three loads, each with every client keeping one request outstanding:
- `splash`: the router's redirect, `GET /p/{nas_id}?<MikroTik params>` (a counter update and
  a rendered page per request), a new device MAC each time;
- `api`: a whole survey at once, `POST /api/v1/points/{nas_id}/responses` (201 and a grant);
- `flow`: phones walking the HTML pages from the redirect to the message page (the GET, then
  one POST per page), each visit on a new connection with its own cookies.
Every submission has its own email and MAC, so none is collapsed as a double submission and
none is taken for a returning person.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
import resource
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from bench import procstat
from bench.child import run_in_child
from bench.httpwire import Connection, HttpError, Reply

KINDS = ("splash", "api", "flow")
SIZE_BUDGET = 30 * 1024
"""The splash pages' size budget (bytes of one page, the same one tests/splash_pages.py has)."""
_STATE = re.compile(rb'name="state" value="([^"]*)"')
_DST = re.compile(rb'name="dst" value="([^"]*)"')
_HEADING = re.compile(rb"<h1>(.*?)</h1>", re.DOTALL)
_NOTICE = re.compile(rb'class="notice"[^>]*>(.*?)</p>', re.DOTALL)
_MAX_SAMPLES = 5
_T = TypeVar("_T")
_DRAIN_SECONDS = 2.0

# The shipped default form, one page at a time (tests/portal/test_splash_flow.py's PAGES).
_BANDS = (
    "girls_0_5",
    "boys_0_5",
    "girls_6_17",
    "boys_6_17",
    "women_18_59",
    "men_18_59",
    "women_60",
    "men_60",
)
_SURVEY_PAGES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("group_size", "2"),),
    tuple((band, "1" if band in ("women_18_59", "boys_0_5") else "0") for band in _BANDS),
    (
        ("nationality", "VEN"),
        ("coming_from", "COL"),
        ("coming_from_place", "Cúcuta"),
        ("going_to", "PER"),
        ("going_to_place", ""),
        ("stay", "days"),
    ),
    (("needs", "food"), ("needs", "shelter"), ("risks", "none")),
    (("consent_messages", "yes"),),
)
# What each page shows, so a page that comes back 200 with the wrong step counts as an error.
_PAGE_MARKERS = (
    ("consent", b'name="age"'),
    ("email", b'name="email"'),
    ("survey 1", b'name="group_size"'),
    ("survey 2", b'name="women_18_59"'),
    ("survey 3", b'name="nationality"'),
    ("survey 4", b'name="needs"'),
    ("survey 5", b'name="consent_messages"'),
    ("message", b'id="login"'),
)
LANGUAGE_PAGE = "language"
RESULT_PAGE = "result"
FLOW_PAGES = (LANGUAGE_PAGE, *(name for name, _ in _PAGE_MARKERS))
"""The pages of one visit in order: the GET, then one POST for each of the others."""
_ANSWERS: dict[str, object] = {
    "group_size": 2,
    **dict.fromkeys(_BANDS, 0),
    "women_18_59": 1,
    "boys_0_5": 1,
    "nationality": "VEN",
    "coming_from": "COL",
    "coming_from_place": "Cúcuta",
    "going_to": "PER",
    "stay": "days",
    "needs": ["food", "shelter"],
    "risks": ["none"],
    "consent_messages": "yes",
}


@dataclass(frozen=True, slots=True)
class PortalSpec:
    """Where the portal listens, which load to run, how many clients and for how long."""

    host: str
    port: int
    nas_id: str
    kind: str
    clients: int
    warmup: float
    seconds: float
    timeout: float
    # Distinguishes this run's MACs and emails from every other run's on the same database.
    tag: int = 0
    server_pid: int | None = None
    pg_database: str | None = None


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles of a set of latencies."""

    count: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @classmethod
    def of(cls, values_ns: list[int]) -> Latency:
        """Summarise latencies given in nanoseconds."""
        values = sorted(values_ns)
        if not values:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        return cls(
            count=len(values),
            p50_ms=_percentile(values, 0.50),
            p99_ms=_percentile(values, 0.99),
            mean_ms=sum(values) / len(values) / 1e6,
            max_ms=values[-1] / 1e6,
        )


@dataclass(frozen=True, slots=True)
class PortalRun:
    """Figures of one measured window of one load."""

    kind: str
    clients: int
    window: float
    completed: int
    """Requests (splash, api) or whole visits (flow) that completed inside the window."""
    requests: int
    """HTTP requests that completed inside the window."""
    latency: Latency
    """Per request, or per whole visit for the flow."""
    pages: dict[str, Latency]
    """The flow's latency of each page, by the page it returns."""
    errors: int
    """Failed requests over the whole run, warm-up and drain included."""
    error_kinds: dict[str, int]
    error_samples: list[str]
    submissions: int
    """Surveys stored over the whole run (the database must hold exactly these)."""
    server_cpu: float | None
    pg_cpu: float | None
    generator_cpu: float
    other_cpu: float
    """CPU the rest of the machine used in the window (not portal, PostgreSQL or generator)."""

    @property
    def units(self) -> float:
        """Requests, or for the flow visits: its pages over the pages of a visit.

        Counting whole visits that end inside the window is noisy when a visit lasts seconds
        and the clients move in step; the pages say the same in steady state, nine times as
        often.
        """
        return self.requests / len(FLOW_PAGES) if self.kind == "flow" else self.completed

    @property
    def throughput(self) -> float:
        """Requests per second, or visits per second for the flow."""
        return self.units / self.window if self.window > 0 else 0.0

    @property
    def request_rate(self) -> float:
        """HTTP requests per second."""
        return self.requests / self.window if self.window > 0 else 0.0

    def per_unit_us(self, seconds: float | None) -> float | None:
        """Return `seconds` of CPU spread over the requests (or visits), in µs."""
        if seconds is None or self.units == 0:
            return None
        return seconds * 1e6 / self.units


@dataclass(frozen=True, slots=True)
class PageSize:
    """One page of the flow as it came over the wire."""

    name: str
    status: int
    body_bytes: int
    header_bytes: int
    content_encoding: str


class PortalLoadError(RuntimeError):
    """The portal could not be measured at all."""


def _percentile(sorted_values: list[int], q: float) -> float:
    rank = max(math.ceil(q * len(sorted_values)) - 1, 0)
    return sorted_values[min(rank, len(sorted_values) - 1)] / 1e6


def mac_address(tag: int, number: int) -> str:
    """A locally administered MAC unique to (`tag`, `number`)."""
    raw = bytes([0x02, tag & 0xFF]) + (number & 0xFFFFFFFF).to_bytes(4, "big")
    return ":".join(f"{b:02x}" for b in raw)


def email_address(tag: int, number: int) -> str:
    """An email address unique to (`tag`, `number`)."""
    return f"bench.{tag}.{number}@example.org"


def mikrotik_query(mac: str) -> str:
    """A MikroTik login.html redirect's query string (tests/splash_pages.py's, for `mac`)."""
    params = {
        "mac": mac,
        "ip": "10.5.50.9",
        "link-login-only": "http://10.5.50.1/login",
        "link-orig": "http://example.org/news?a=1&b=2",
        "chap-id": "\\371",
        "chap-challenge": "\\060\\061\\062\\063\\064\\065\\066\\067"
        "\\070\\071\\072\\073\\074\\075\\076\\077",
        "identity": "router-1",
        "server-name": "hotspot1",
    }
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


def submission(tag: int, number: int) -> bytes:
    """A whole survey for the JSON API, with its own email and MAC."""
    body = {
        "lang": "es",
        "age_confirmed": True,
        "terms_accepted": True,
        "email": email_address(tag, number),
        "answers": _ANSWERS,
        "router": {
            "mac": mac_address(tag, number),
            "ip": "10.5.50.9",
            "link-login-only": "http://10.5.50.1/login",
            "link-orig": "http://example.org/",
            "chap-id": "\\371",
            "chap-challenge": "\\060\\061\\062\\063\\064\\065\\066\\067"
            "\\070\\071\\072\\073\\074\\075\\076\\077",
        },
    }
    return json.dumps(body).encode()


def _steps(email: str) -> list[tuple[str, tuple[tuple[str, str], ...], bytes]]:
    """The POSTs of one visit: the page each returns, the fields sent, what it must show."""
    fields: list[tuple[tuple[str, str], ...]] = [
        (("lang", "es"),),
        (("age", "yes"), ("terms", "yes"), ("nav", "next")),
        (("email", email), ("nav", "next")),
        *((*page, ("nav", "next")) for page in _SURVEY_PAGES),
    ]
    return [
        (name, sent, marker) for (name, marker), sent in zip(_PAGE_MARKERS, fields, strict=True)
    ]


class UnexpectedReply(RuntimeError):
    """A reply with the wrong status, or not the page or body the step must get."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


def _describe_page(body: bytes) -> str:
    found = _NOTICE.search(body) or _HEADING.search(body)
    text = found.group(1) if found else body[:120]
    return " ".join(html.unescape(text.decode(errors="replace")).split())[:120]


def _check(reply: Reply, expected_status: int, marker: bytes, what: str) -> None:
    if reply.status != expected_status:
        raise UnexpectedReply(f"HTTP {reply.status}", repr(_describe_page(reply.body)))
    if marker not in reply.body:
        raise UnexpectedReply(
            "unexpected page", f"expected the {what}, got {_describe_page(reply.body)!r}"
        )


def _state(reply: Reply) -> str:
    found = _STATE.search(reply.body)
    if found is None:
        raise UnexpectedReply("unexpected page", "a page without the sealed state")
    return html.unescape(found.group(1).decode())


class _Recorder:
    """Counts and latencies, kept only while the window is open; errors always."""

    def __init__(self, spec: PortalSpec) -> None:
        self.spec = spec
        self.measuring = False
        self.stopping = False
        self.latencies: list[int] = []
        self.pages: dict[str, list[int]] = {name: [] for name in FLOW_PAGES}
        self.requests = 0
        self.completed = 0
        self.submissions = 0
        self.errors: Counter[str] = Counter()
        self.samples: list[str] = []
        self.numbers = iter(range(1 << 32))

    def number(self) -> int:
        return next(self.numbers)

    def is_stopping(self) -> bool:
        return self.stopping

    def page(self, name: str, started: int) -> None:
        if self.measuring:
            self.requests += 1
            self.pages[name].append(time.perf_counter_ns() - started)

    def done(self, started: int) -> None:
        if self.measuring:
            self.completed += 1
            self.latencies.append(time.perf_counter_ns() - started)

    def failed(self, where: str, exc: BaseException) -> None:
        if isinstance(exc, UnexpectedReply):
            kind, detail = exc.kind, str(exc)
        elif isinstance(exc, TimeoutError):
            kind = detail = f"timeout ({self.spec.timeout:g} s)"
        else:
            kind = type(exc).__name__
            detail = f"{kind}: {exc}"
        self.errors[kind] += 1
        if len(self.samples) < _MAX_SAMPLES:
            self.samples.append(f"{where}: {detail}")


_FAILURES = (OSError, TimeoutError, EOFError, HttpError, UnexpectedReply, ValueError)


async def _splash_client(spec: PortalSpec, rec: _Recorder) -> None:
    conn = Connection(spec.host, spec.port, spec.timeout)
    base = f"/p/{quote(spec.nas_id)}?"
    try:
        while not rec.stopping:
            target = base + mikrotik_query(mac_address(spec.tag, rec.number()))
            started = time.perf_counter_ns()
            try:
                reply = await conn.get(target)
                _check(reply, 200, b'name="state"', "language page")
            except _FAILURES as exc:
                rec.failed("GET /p/{nas_id}", exc)
                continue
            rec.page(LANGUAGE_PAGE, started)
            rec.done(started)
    finally:
        conn.close()


async def _api_client(spec: PortalSpec, rec: _Recorder) -> None:
    conn = Connection(spec.host, spec.port, spec.timeout)
    target = f"/api/v1/points/{quote(spec.nas_id)}/responses"
    try:
        while not rec.stopping:
            body = submission(spec.tag, rec.number())
            started = time.perf_counter_ns()
            try:
                reply = await conn.request("POST", target, body, "application/json")
                _check(reply, 201, b'"grant"', "reply with a grant")
            except _FAILURES as exc:
                rec.failed("POST /api/v1/points/{nas_id}/responses", exc)
                continue
            rec.submissions += 1
            rec.done(started)
    finally:
        conn.close()


class _Abandoned(Exception):
    """The run ended in the middle of a visit: the phone walks away (not an error)."""


def _never() -> bool:
    return False


async def walk(
    conn: Connection,
    nas_id: str,
    tag: int,
    number: int,
    on_page: Callable[[str, int, Reply], None],
    stopping: Callable[[], bool] = _never,
) -> Reply:
    """Walk one visit from the redirect to the message page; `on_page(name, started, reply)`.

    Raises _Abandoned between pages once `stopping()` says the run is over.
    """
    started = time.perf_counter_ns()
    reply = await conn.get(f"/p/{quote(nas_id)}?{mikrotik_query(mac_address(tag, number))}")
    _check(reply, 200, b'name="lang"', "language page")
    on_page(LANGUAGE_PAGE, started, reply)
    action = f"/p/{quote(nas_id)}"
    for name, fields, marker in _steps(email_address(tag, number)):
        if stopping():
            raise _Abandoned
        state = _state(reply)
        started = time.perf_counter_ns()
        reply = await conn.post_form(action, [("state", state), *fields])
        _check(reply, 200, marker, f"{name} page")
        on_page(name, started, reply)
    return reply


async def _flow_client(spec: PortalSpec, rec: _Recorder) -> None:
    reached: list[str] = []

    def on_page(name: str, started: int, _reply: Reply) -> None:
        reached.append(name)
        rec.page(name, started)

    while not rec.stopping:
        # A new phone: a new connection and an empty cookie jar.
        conn = Connection(spec.host, spec.port, spec.timeout)
        reached.clear()
        started = time.perf_counter_ns()
        try:
            await walk(conn, spec.nas_id, spec.tag, rec.number(), on_page, rec.is_stopping)
        except _Abandoned:
            break
        except _FAILURES as exc:
            rec.failed(f"flow, {FLOW_PAGES[min(len(reached), len(FLOW_PAGES) - 1)]} page", exc)
            continue
        finally:
            conn.close()
        rec.submissions += 1
        rec.done(started)


_CLIENTS = {"splash": _splash_client, "api": _api_client, "flow": _flow_client}


async def _after(
    delay: float,
    client: Callable[[PortalSpec, _Recorder], Coroutine[Any, Any, None]],
    spec: PortalSpec,
    rec: _Recorder,
) -> None:
    await asyncio.sleep(delay)
    await client(spec, rec)


class _Probe:
    """CPU counters of the portal, PostgreSQL and this process at one instant."""

    def __init__(self, spec: PortalSpec) -> None:
        self.server = (
            procstat.tree_cpu_seconds(spec.server_pid) if spec.server_pid is not None else None
        )
        self.pg = procstat.postgres_cpu_seconds(spec.pg_database)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.generator = usage.ru_utime + usage.ru_stime
        self.system = procstat.system_busy_seconds()


async def run_load(spec: PortalSpec) -> PortalRun:
    """Run one closed-loop measurement in this process's event loop and return its figures."""
    if spec.kind not in _CLIENTS:
        raise PortalLoadError(f"unknown portal load {spec.kind!r}")
    rec = _Recorder(spec)
    client = _CLIENTS[spec.kind]
    # Clients start spread over the first second, not as one burst.
    spread = min(spec.warmup, 1.0) / spec.clients
    tasks = [
        asyncio.create_task(_after(index * spread, client, spec, rec))
        for index in range(spec.clients)
    ]
    try:
        await asyncio.sleep(spec.warmup)
        before = _Probe(spec)
        rec.measuring = True
        window_start = time.perf_counter()
        await asyncio.sleep(spec.seconds)
        rec.measuring = False
        window = time.perf_counter() - window_start
        after = _Probe(spec)
        rec.stopping = True
        _done, pending = await asyncio.wait(tasks, timeout=spec.timeout + _DRAIN_SECONDS)
        for task in pending:
            task.cancel()
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise PortalLoadError(f"a client crashed: {task.exception()!r}")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    requests = rec.requests if spec.kind == "flow" else rec.completed
    return PortalRun(
        kind=spec.kind,
        clients=spec.clients,
        window=window,
        completed=rec.completed,
        requests=requests,
        latency=Latency.of(rec.latencies),
        pages={n: Latency.of(v) for n, v in rec.pages.items() if v} if spec.kind == "flow" else {},
        errors=sum(rec.errors.values()),
        error_kinds=dict(rec.errors.most_common()),
        error_samples=rec.samples,
        submissions=rec.submissions,
        server_cpu=(
            after.server - before.server
            if after.server is not None and before.server is not None
            else None
        ),
        pg_cpu=after.pg - before.pg,
        generator_cpu=after.generator - before.generator,
        other_cpu=max(
            0.0,
            (after.system - before.system)
            - (after.pg - before.pg)
            - (after.generator - before.generator)
            - (
                after.server - before.server
                if after.server is not None and before.server is not None
                else 0.0
            ),
        ),
    )


async def page_sizes(
    host: str, port: int, nas_id: str, tag: int, request_timeout: float
) -> list[PageSize]:
    """Walk one visit and fetch the result page; return every page's size on the wire."""
    conn = Connection(host, port, request_timeout)
    sizes: list[PageSize] = []

    def keep(name: str, reply: Reply) -> None:
        sizes.append(
            PageSize(
                name=name,
                status=reply.status,
                body_bytes=len(reply.body),
                header_bytes=reply.header_bytes,
                content_encoding=reply.headers.get("content-encoding", ""),
            )
        )

    try:
        message = await walk(conn, nas_id, tag, 0, lambda name, _t, reply: keep(name, reply))
        found = _DST.search(message.body)
        if found is None:
            raise UnexpectedReply("unexpected page", "the message page has no `dst` to log in")
        dst = urlsplit(html.unescape(found.group(1).decode()))
        result = await conn.get(f"{dst.path}?{dst.query}")
        _check(result, 200, b"<h1>", "result page")
        keep(RESULT_PAGE, result)
    except _FAILURES as exc:
        raise PortalLoadError(f"the splash walk failed after {len(sizes)} pages: {exc}") from exc
    finally:
        conn.close()
    return sizes


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_sync(work: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run `work()` on uvloop when it is installed, as the portal itself runs."""
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        return runner.run(work())


def _run_load_sync(spec: PortalSpec) -> PortalRun:
    return run_sync(lambda: run_load(spec))


def run_load_in_process(spec: PortalSpec) -> PortalRun:
    """Run `run_load` in a fresh process so its CPU is not charged to anything measured."""
    return run_in_child(
        _run_load_sync,
        spec,
        result_type=PortalRun,
        name="bench-portal",
        budget=20.0 + spec.warmup + spec.seconds + spec.timeout + _DRAIN_SECONDS,
        error=PortalLoadError,
    )
