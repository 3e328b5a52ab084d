"""The splash pages' parts: language negotiation, sealed state, rate limits, paragraphs."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from cautiva.database import transaction
from cautiva.funnel.service import event_counts
from cautiva.models import utcnow
from cautiva.runtime import Runtime
from factories import create_point, full_answers
from portal_api.app import create_app
from portal_api.funnel import FunnelBuffer
from portal_api.ratelimit import PortalLimits, RateLimiter
from portal_api.server import PrivateAccessLog
from portal_api.splash.render import paragraphs
from portal_api.splash.texts import LANGUAGES, Words, negotiate
from portal_api.splash.visit import Grant, Step, Visit
from portal_api.state import Sealer, state_sealer


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "es"),
        ("", "es"),
        ("ht", "ht"),
        ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,de;q=0.9,en;q=0.5,ht;q=0.7", "ht"),
        ("en;q=0, fr;q=0.1", "fr"),
        ("pt-BR", "es"),
        ("en;q=bad,fr", "fr"),
        ("*", "es"),
    ],
)
def test_language_comes_from_accept_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_every_ui_text_exists_in_every_language() -> None:
    from portal_api.splash import texts

    for key, by_language in {**texts._UI, **texts._REASON_TEXTS}.items():
        assert set(by_language) == set(LANGUAGES), key
        assert all(value.strip() for value in by_language.values()), key


def test_router_reasons_are_translated_when_common() -> None:
    words = Words("ht")
    assert words.reason("Your maximum never usage time has been reached") == words["reason_time"]
    assert words.reason("invalid username or password") == words["reason_credentials"]
    assert words.reason("RADIUS server is not responding") is None


def test_sealed_state_cannot_be_read_or_changed() -> None:
    sealer = state_sealer("k" * 64)
    token = sealer.seal({"person": "abc123", "answers": {"group_size": 2}})
    assert "abc123" not in token and "group_size" not in token
    assert sealer.open(token) == {"person": "abc123", "answers": {"group_size": 2}}
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    assert sealer.open(flipped) is None
    assert state_sealer("other" * 13).open(token) is None, "another server key"
    assert Sealer("k" * 64, "device", 60).open(token) is None, "another purpose"
    assert sealer.open(None) is None and sealer.open("") is None and sealer.open("é") is None


def test_sealed_state_expires() -> None:
    sealer = Sealer("k" * 64, "test", ttl=60)
    token = sealer.seal({"a": 1})
    import time

    assert sealer.open(token, now=int(time.time()) + 30) == {"a": 1}
    assert sealer.open(token, now=int(time.time()) + 120) is None


def test_visit_round_trips_and_refuses_foreign_data() -> None:
    visit = Visit(
        nas="n",
        csrf="c",
        lang="ht",
        router={"mac": "02:00:00:00:00:01"},
        step=Step.MESSAGE,
        grant=Grant("u", "p", 3600),
        answers={"needs": ["food"]},
    )
    assert Visit.load(visit.dump()) == visit
    assert Visit.load({"nas": "n"}) is None
    assert Visit.load(visit.dump() | {"step": "nowhere"}) is None
    assert Visit.load(visit.dump() | {"extra": 1}) is None


def test_rate_limiter_counts_per_key_and_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.hit("a") for _ in range(3)] == [True, True, False]
    assert limiter.hit("b")
    now[0] = 61.0
    assert limiter.hit("a"), "a new minute, a new budget"
    assert RateLimiter(0).hit("x"), "0 means no limit"
    crowded = RateLimiter(5, max_keys=2, clock=lambda: 0.0)
    assert crowded.hit("a") and crowded.hit("b") and not crowded.hit("c")


def test_point_budget_is_shared_by_its_devices() -> None:
    limits = PortalLimits(per_device=10, per_point=3)
    assert [limits.allow(point="p", device=f"d{i}") for i in range(4)] == [True] * 3 + [False]
    assert limits.allow(point="q", device="d0")


def test_operator_text_becomes_paragraphs() -> None:
    assert paragraphs("One\nline.\n\n\n  Two  \r\n\r\nthree ") == ["One line.", "Two", "three"]
    assert paragraphs("  ") == []


async def test_survey_api_is_rate_limited_per_device(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(deep=True)
    settings.portal.rate_per_device = 2
    point = await create_point(runtime)
    app = create_app(settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
        codes = []
        for _ in range(3):
            body = {
                "lang": "es",
                "age_confirmed": True,
                "terms_accepted": True,
                "email": f"p.{uuid.uuid4().hex[:8]}@example.org",
                "answers": full_answers(),
                "router": {"mac": "02:00:00:00:30:01"},
            }
            reply = await http.post(f"/api/v1/points/{point.nas_id}/responses", json=body)
            codes.append(reply.status_code)
    assert codes == [201, 201, 429]
    assert reply.headers["retry-after"] == "60" and "wait a minute" in reply.json()["detail"]


def test_access_log_keeps_no_mac_or_address() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.5.50.9:5123", "GET", "/p/n1?mac=02:00:00:00:00:01&ip=10.5.50.9", "1.1", 200),
        None,
    )
    assert PrivateAccessLog().filter(record)
    line = record.getMessage()
    assert line == '- - "GET /p/n1 HTTP/1.1" 200'


async def test_funnel_buffer_writes_in_one_go_and_keeps_counts_on_failure(
    runtime: Runtime,
) -> None:
    point = await create_point(runtime)
    buffer = FunnelBuffer()
    now = utcnow()
    for event in ("splash_opened", "splash_opened", "consent"):
        buffer.count(point_id=point.id, event=event, now=now)
    broken = Runtime(runtime.settings, runtime.engine, _failing_sessions())
    with pytest.raises(RuntimeError):
        await buffer.flush(broken)
    await buffer.flush(runtime)
    await buffer.flush(runtime)  # nothing left: no double count
    async with transaction(runtime.sessions) as session:
        counts = await event_counts(session, point_id=point.id, since=now.date(), until=now.date())
    assert counts["splash_opened"] == 2 and counts["consent"] == 1
    with pytest.raises(ValueError):
        buffer.count(point_id=point.id, event="made_up", now=now)


def _failing_sessions() -> Any:
    def factory() -> Any:
        raise RuntimeError("database down")

    return factory
