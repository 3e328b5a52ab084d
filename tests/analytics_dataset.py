"""A generated data set for analytics tests: many points, four months, people who come back.

`make_dataset` writes, straight through the ORM (far faster than the splash flow), points in
three departments whose names no other call uses, survey responses of the shipped forms, grants
and accounting sessions, portal counters and the hours each point was seen. It returns every
record it wrote, so a test can count the expected figures itself with plain loops.

Shape (fixed by the seed, so every run writes the same answers):
- 6 points in 3 departments (unique names per call), one point created a month into the period;
- people answer the full form once, then the follow-up form at later visits, mostly at
  another point (returning people give flows); a few responses were purged (no person key);
- rare categories that must come back hidden at any threshold above 4: see `RARE`;
- per response one grant, most of them used (a session with MAC, address, time and bytes);
  a few sessions known only from an Interim-Update (no start time);
- portal counters per point and day, and the hours in which each point was seen (one point has
  a five-day outage).

The test database is shared: scope every figure to `dataset.departments` / `point_ids()`, or
give `start` a period no other test uses.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from cautiva.analytics.scope import Period
from cautiva.database import transaction
from cautiva.forms.service import ensure_default_forms
from cautiva.models import (
    AccountingSession,
    FormKind,
    Grant,
    NasType,
    PointSeenHour,
    PortalCounter,
    Response,
)
from cautiva.points.service import NewPoint, add_point
from cautiva.runtime import Runtime

BANDS = (
    "girls_0_5",
    "boys_0_5",
    "girls_6_17",
    "boys_6_17",
    "women_18_59",
    "men_18_59",
    "women_60",
    "men_60",
)
# Categories seeded exactly this many times (1-4), never drawn at random: always suppressed.
RARE: Mapping[str, tuple[str, int]] = {
    "nationality": ("CUB", 3),
    "going_to": ("CAN", 2),
    "risks": ("exploitation", 4),
}
_NATIONALITIES = (("VEN", 60), ("COL", 14), ("HTI", 12), ("ECU", 8), ("PER", 6))
_FROM = (("COL", 50), ("VEN", 25), ("ECU", 15), ("PER", 10))
_TO = (("PER", 35), ("CHL", 25), ("ECU", 15), ("COL", 10), ("USA", 10), ("not_sure", 5))
_STAYS = ("hours", "days", "weeks", "months", "not_sure")
_NEEDS = ("food", "water", "shelter", "health", "documentation", "transport", "work", "information")
_RISKS = ("violence", "robbery", "extortion", "no_water_food", "health", "other")
_LANGS = ("es", "es", "es", "en", "fr", "ht")
_EVENTS_PER_SURVEY = {
    "splash_opened": (2.0, 4.0),
    "consent": (1.2, 1.8),
    "message_shown": (0.9, 1.0),
    "login_sent": (0.85, 1.0),
    "video_started": (0.3, 0.6),
    "video_finished": (0.1, 0.3),
}


@dataclass(frozen=True, slots=True)
class DatasetPoint:
    """A point the data set created."""

    id: int
    nas_id: str
    name: str
    department: str
    municipality: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DatasetResponse:
    """One stored response, as written."""

    point_id: int
    created_at: datetime
    person_key: str | None
    returning: bool
    form_id: str
    lang: str
    device_mac: str
    answers: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DatasetGrant:
    """One stored grant (None first_login_at: never used)."""

    point_id: int
    username: str
    mac: str
    person_key: str | None
    issued_at: datetime
    first_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class DatasetSession:
    """One stored accounting session (None started_at: only an Interim-Update was heard)."""

    point_id: int
    username: str
    acct_session_id: str
    mac: str
    framed_ip: str
    started_at: datetime | None
    updated_at: datetime
    stopped_at: datetime | None
    session_time: int
    input_octets: int
    output_octets: int
    input_gigawords: int
    output_gigawords: int

    @property
    def day(self) -> date:
        """The UTC day the session counts on (its start, else when it was first heard of)."""
        return (self.started_at or self.updated_at).date()

    @property
    def total_bytes(self) -> int:
        """Input plus output bytes, gigawords included."""
        return (
            self.input_octets
            + self.output_octets
            + ((self.input_gigawords + self.output_gigawords) << 32)
        )


@dataclass(frozen=True, slots=True)
class DatasetCounter:
    """One portal_counters row."""

    day: date
    point_id: int
    event: str
    count: int


@dataclass(frozen=True, slots=True)
class AnalyticsDataset:
    """Everything `make_dataset` wrote, for tests to recount figures independently."""

    since: date
    until: date
    points: tuple[DatasetPoint, ...]
    responses: tuple[DatasetResponse, ...]
    grants: tuple[DatasetGrant, ...]
    sessions: tuple[DatasetSession, ...]
    counters: tuple[DatasetCounter, ...]
    seen_hours: tuple[tuple[int, datetime], ...]
    rare: Mapping[str, tuple[str, int]] = field(default_factory=lambda: dict(RARE))

    @property
    def period(self) -> Period:
        """The whole period the data set covers."""
        return Period(self.since, self.until)

    @property
    def departments(self) -> tuple[str, ...]:
        """The departments of the data set's points (unique to this call)."""
        return tuple(dict.fromkeys(p.department for p in self.points))

    @property
    def municipalities(self) -> tuple[str, ...]:
        """The municipalities of the data set's points (unique to this call)."""
        return tuple(dict.fromkeys(p.municipality for p in self.points))

    def point(self, point_id: int) -> DatasetPoint:
        """The data set's point with this id."""
        return next(p for p in self.points if p.id == point_id)

    def point_ids(
        self,
        *,
        point_id: int | None = None,
        department: str | None = None,
        municipality: str | None = None,
    ) -> set[int]:
        """The ids of the data set's points in a scope (all of them by default)."""
        return {
            p.id
            for p in self.points
            if (point_id is None or p.id == point_id)
            and (department is None or p.department == department)
            and (municipality is None or p.municipality == municipality)
        }

    def identifiers(self) -> frozenset[str]:
        """Every identifying value seeded (person keys, MACs, IPs, usernames, session ids).

        Scan any shared output for these: none may appear. MACs come in the colon form the
        database holds and in the dash and bare forms routers and exports might use.
        """
        found: set[str] = set()
        for r in self.responses:
            if r.person_key:
                found.add(r.person_key)
            found.add(r.device_mac)
        for g in self.grants:
            found.add(g.username)
            if g.person_key:
                found.add(g.person_key)
        for s in self.sessions:
            found.update((s.mac, s.framed_ip, s.username, s.acct_session_id))
        macs = {value for value in found if value.count(":") == 5}
        found.update(mac.replace(":", "-") for mac in macs)
        found.update(mac.replace(":", "").lower() for mac in macs)
        return frozenset(found)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    codes = [code for code, _ in weighted]
    return rng.choices(codes, weights=[weight for _, weight in weighted])[0]


def _bands(rng: random.Random) -> dict[str, int]:
    counts = dict.fromkeys(BANDS, 0)
    counts[rng.choice(("women_18_59", "men_18_59"))] += 1  # the respondent, an adult
    for band in BANDS:
        if rng.random() < 0.25:
            counts[band] += rng.randint(1, 2)
    if rng.random() < 0.04:
        counts[rng.choice(("women_60", "men_60"))] += 1
    return counts


def _full_answers(rng: random.Random) -> dict[str, Any]:
    bands = _bands(rng)
    need_count = rng.choice((0, 1, 1, 2, 2, 3))
    roll = rng.random()
    if roll < 0.45:
        risks = ["none"]
    elif roll < 0.55:
        risks = ["prefer_not"]
    else:
        risks = sorted(rng.sample(_RISKS, rng.choice((1, 1, 2))))
    return {
        "group_size": sum(bands.values()),
        **bands,
        "nationality": _pick(rng, _NATIONALITIES),
        "coming_from": _pick(rng, _FROM),
        "coming_from_place": "",
        "going_to": _pick(rng, _TO),
        "going_to_place": "",
        "stay": rng.choice(_STAYS),
        "needs": sorted(rng.sample(_NEEDS, need_count)) if need_count else ["none"],
        "risks": risks,
        **(
            {"risks_help": rng.choice(("yes", "no"))}
            if risks[0] not in ("none", "prefer_not")
            else {}
        ),
        "consent_messages": rng.choice(("yes", "no")),
    }


def _followup_answers(rng: random.Random) -> dict[str, Any]:
    need_count = rng.choice((0, 1, 2))
    return {
        "current_country": _pick(rng, _FROM),
        "current_place": "",
        "going_to": _pick(rng, _TO),
        "going_to_place": "",
        "needs": sorted(rng.sample(_NEEDS, need_count)) if need_count else ["none"],
    }


def _mac(rng: random.Random) -> str:
    # Locally administered, like the randomised MACs phones use per network.
    octets = [0x02 | (rng.randrange(256) & 0xFC), *(rng.randrange(256) for _ in range(5))]
    return ":".join(f"{octet:02X}" for octet in octets)


def _address(rng: random.Random) -> str:
    return f"10.{rng.randrange(1, 250)}.{rng.randrange(256)}.{rng.randrange(2, 250)}"


def _moment(rng: random.Random, first: datetime, last: datetime) -> datetime:
    seconds = int((last - first).total_seconds())
    return first + timedelta(seconds=rng.randrange(seconds))


async def make_dataset(
    runtime: Runtime,
    *,
    seed: int = 5,
    start: date = date(2025, 9, 1),
    days: int = 120,
    people: int = 240,
) -> AnalyticsDataset:
    """Write the generated data set (points, responses, grants, sessions, counters, seen hours)."""
    rng = random.Random(seed)
    tag = uuid.uuid4().hex[:8]
    # Identifiers differ per call (the database is shared: two data sets must not share a
    # person or a device); everything else follows the seed.
    names = random.Random(tag)
    since, until = start, start + timedelta(days=days - 1)
    first = datetime.combine(since, time.min, tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
    layout = (
        ("Norte", "Cúcuta", "Terminal de buses"),
        ("Norte", "Cúcuta", "Puente internacional"),
        ("Norte", "Pamplona", "Parador vial"),
        ("Centro", "Bucaramanga", "Terminal de buses"),
        ("Centro", "Barrancabermeja", "Punto de servicio"),
        ("Sur", "Ipiales", "Paso fronterizo"),
    )
    async with transaction(runtime.sessions) as session:
        shipped = {row.kind: row for row in await ensure_default_forms(session)}
        full_form, followup_form = shipped[FormKind.FULL.value], shipped[FormKind.FOLLOWUP.value]
        forms = {row.form_id: (row.id, row.version) for row in shipped.values()}
        full_id, followup_id = full_form.form_id, followup_form.form_id
        points: list[DatasetPoint] = []
        for number, (department, municipality, site) in enumerate(layout):
            point = await add_point(
                session,
                new=NewPoint(
                    name=f"{site} {municipality} {tag}",
                    nas_id=f"ds-{tag}-{number}",
                    nas_type=NasType.MIKROTIK,
                    department=f"{department} {tag}",
                    municipality=f"{municipality} {tag}",
                    site_type=site,
                ),
            )
            # The fourth point opens a month into the period: uptime and flows must cope.
            opened = first + timedelta(days=30) if number == 3 else first - timedelta(days=60)
            point.created_at = opened
            points.append(
                DatasetPoint(
                    point.id,
                    point.nas_id,
                    point.name,
                    point.department or "",
                    point.municipality or "",
                    opened,
                )
            )
        await session.flush()

    def open_at(moment: datetime) -> list[DatasetPoint]:
        return [p for p in points if p.created_at <= moment]

    responses: list[DatasetResponse] = []
    for _person in range(people):
        key = f"{names.getrandbits(256):064x}"
        visits = rng.choices((1, 2, 3, 4, 5), weights=(62, 22, 9, 5, 2))[0]
        moment = _moment(rng, first, end - timedelta(days=3))
        at = rng.choice(open_at(moment))
        for visit in range(visits):
            if moment >= end:
                break
            if visit:
                candidates = open_at(moment)
                # Mostly onwards to another point; sometimes back at the same one.
                others = [p for p in candidates if p.id != at.id]
                at = rng.choice(others) if others and rng.random() < 0.85 else at
            full = visit == 0
            responses.append(
                DatasetResponse(
                    point_id=at.id,
                    created_at=moment,
                    person_key=key,
                    returning=not full,
                    form_id=full_id if full else followup_id,
                    lang=rng.choice(_LANGS),
                    device_mac=_mac(names),
                    answers=_full_answers(rng) if full else _followup_answers(rng),
                )
            )
            moment += timedelta(hours=rng.uniform(3, 240), seconds=rng.randrange(60))
    # Purged responses: the answers stay, the person key is gone.
    for _ in range(15):
        moment = _moment(rng, first, end)
        responses.append(
            DatasetResponse(
                point_id=rng.choice(open_at(moment)).id,
                created_at=moment,
                person_key=None,
                returning=False,
                form_id=full_id,
                lang="es",
                device_mac=_mac(names),
                answers=_full_answers(rng),
            )
        )
    _seed_rare(rng, responses)
    responses.sort(key=lambda r: r.created_at)

    grants: list[DatasetGrant] = []
    sessions: list[DatasetSession] = []
    for number, response in enumerate(responses):
        issued = response.created_at + timedelta(seconds=rng.randrange(20, 90))
        username = f"ds{tag}{number:05d}"
        used = rng.random() < 0.9
        login = issued + timedelta(seconds=rng.randrange(5, 60)) if used else None
        grants.append(
            DatasetGrant(
                response.point_id, username, response.device_mac, response.person_key, issued, login
            )
        )
        if login is None:
            continue
        seconds = rng.randrange(60, 3600)
        heard_only = number % 47 == 0
        big = number % 61 == 0
        sessions.append(
            DatasetSession(
                point_id=response.point_id,
                username=username,
                acct_session_id=f"{tag}{number:06X}",
                mac=response.device_mac,
                framed_ip=_address(names),
                started_at=None if heard_only else login,
                updated_at=login + timedelta(seconds=seconds),
                stopped_at=login + timedelta(seconds=seconds),
                session_time=seconds,
                input_octets=rng.randrange(10**5, 5 * 10**7),
                output_octets=rng.randrange(10**6, 4 * 10**8),
                input_gigawords=0,
                output_gigawords=1 if big else 0,
            )
        )

    surveys: dict[tuple[date, int], int] = defaultdict(int)
    for response in responses:
        surveys[(response.created_at.date(), response.point_id)] += 1
    counters: list[DatasetCounter] = []
    for (day, point_id), done in sorted(surveys.items()):
        counters.append(DatasetCounter(day, point_id, "survey_done", done))
        for event, (low, high) in _EVENTS_PER_SURVEY.items():
            count = round(done * rng.uniform(low, high))
            if count:
                counters.append(DatasetCounter(day, point_id, event, count))

    seen: list[tuple[int, datetime]] = []
    outage_point = points[1].id
    outage = (first + timedelta(days=50), first + timedelta(days=55))
    for point in points:
        hour = max(first, point.created_at)
        while hour < end:
            down = point.id == outage_point and outage[0] <= hour < outage[1]
            if not down and rng.random() < 0.97:
                seen.append((point.id, hour))
            hour += timedelta(hours=1)

    async with transaction(runtime.sessions) as session:
        await session.execute(
            insert(Response),
            [
                {
                    "point_id": r.point_id,
                    "survey_form_id": forms[r.form_id][0],
                    "form_id": r.form_id,
                    "version": forms[r.form_id][1],
                    "lang": r.lang,
                    "answers": dict(r.answers),
                    "person_key": r.person_key,
                    "returning_person": r.returning,
                    "device_mac": r.device_mac,
                    "created_at": r.created_at,
                }
                for r in responses
            ],
        )
        rows = {
            g.username: Grant(
                username=g.username,
                point_id=g.point_id,
                mac=g.mac,
                person_key=g.person_key,
                seconds_allowed=3600,
                issued_at=g.issued_at,
                login_deadline=g.issued_at + timedelta(minutes=5),
                first_login_at=g.first_login_at,
            )
            for g in grants
        }
        session.add_all(rows.values())
        await session.flush()
        await session.execute(
            insert(AccountingSession),
            [
                {
                    "point_id": s.point_id,
                    "grant_id": rows[s.username].id,
                    "username": s.username,
                    "acct_session_id": s.acct_session_id,
                    "mac": s.mac,
                    "framed_ip": s.framed_ip,
                    "nas_address": "127.0.0.1",
                    "started_at": s.started_at,
                    "updated_at": s.updated_at,
                    "stopped_at": s.stopped_at,
                    "session_time": s.session_time,
                    "input_octets": s.input_octets,
                    "output_octets": s.output_octets,
                    "input_gigawords": s.input_gigawords,
                    "output_gigawords": s.output_gigawords,
                    "terminate_cause": "User-Request",
                }
                for s in sessions
            ],
        )
        await session.execute(
            insert(PortalCounter),
            [
                {"day": c.day, "point_id": c.point_id, "event": c.event, "count": c.count}
                for c in counters
            ],
        )
        await session.execute(insert(PointSeenHour), [{"point_id": p, "hour": h} for p, h in seen])
    return AnalyticsDataset(
        since=since,
        until=until,
        points=tuple(points),
        responses=tuple(responses),
        grants=tuple(grants),
        sessions=tuple(sessions),
        counters=tuple(counters),
        seen_hours=tuple(seen),
    )


def _seed_rare(rng: random.Random, responses: list[DatasetResponse]) -> None:
    """Set each rare category on exactly its count of full responses, spread over points."""
    full = [i for i, r in enumerate(responses) if not r.returning]
    for question, (code, count) in RARE.items():
        for index in rng.sample(full, count):
            answers = dict(responses[index].answers)
            if question == "risks":
                answers["risks"] = sorted({*answers["risks"], code} - {"none", "prefer_not"})
                answers["risks_help"] = "yes"
            else:
                answers[question] = code
            responses[index] = replace(responses[index], answers=answers)
