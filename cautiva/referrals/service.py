"""The referral directory: services per area, and the ones that answer what a person needs.

A service lists the survey's need codes it answers (`food`, `shelter`...) and the languages its
staff speak; its area is a municipality, a whole department (no municipality) or everywhere (no
department). After the survey a person sees the active services around the point that share at
least one of their declared needs, those speaking their language first, the nearest first.
Nothing about the person is kept: matching reads the answers already stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.analytics.indicators import NEEDS, choices
from cautiva.errors import InvalidInput, NotFound
from cautiva.forms.repository import SurveyFormRepository
from cautiva.forms.service import parsed_form
from cautiva.models import Point, ReferralService, Response, SurveyForm, utcnow
from cautiva.referrals.repository import ReferralRepository
from cautiva.surveys.defaults import NEEDS_CHOICES
from cautiva.surveys.forms import Form

MAX_REFERRALS = 8
"""At most this many services after a survey: a phone screen, read before the free hour."""
PROTECTION = "protection"
"""The need a person declares by asking where to find help after naming a risk on the way."""
RISKS_HELP = "risks_help"
NO_NEED = "none"
SHIPPED_NEEDS: tuple[str, ...] = tuple(o.name for o in NEEDS_CHOICES if o.name != NO_NEED)
CSV_COLUMNS = (
    "name",
    "kind",
    "needs",
    "department",
    "municipality",
    "address",
    "hours",
    "contact",
    "languages",
    "notes",
)

_NEED = re.compile(r"[a-z0-9_]{1,40}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})?")
_SEPARATORS = re.compile(r"[\s,;]+")
# A contact that is only a phone number: digits with the usual separators, 6 to 15 digits
# (E.164's maximum), optionally international.
_PHONE = re.compile(r"\+?[\d\s().-]{6,24}")
_LIMITS = {
    "name": 200,
    "kind": 60,
    "department": 120,
    "municipality": 120,
    "address": 300,
    "hours": 200,
    "contact": 200,
    "notes": 2000,
}
_MAX_REPORTED = 20


@dataclass(frozen=True, slots=True)
class ServiceFields:
    """What someone gives to describe a service (codes may come unchecked; see check_fields)."""

    name: str
    needs: Sequence[str]
    kind: str = ""
    department: str | None = None
    municipality: str | None = None
    address: str = ""
    hours: str = ""
    contact: str = ""
    languages: Sequence[str] = ()
    notes: str = ""


@dataclass(frozen=True, slots=True)
class SavedService:
    """A service as stored, and what looked odd about it (need codes no form offers)."""

    service: ReferralService
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

    added: int
    updated: int
    warnings: list[str]


@dataclass(frozen=True, slots=True)
class Referral:
    """A service shown to a person: what it is, where, when, and which of their needs it meets."""

    id: int
    name: str
    kind: str
    address: str
    hours: str
    contact: str
    languages: tuple[str, ...]
    needs: tuple[str, ...]
    department: str | None
    municipality: str | None


def split_codes(text: str | None) -> list[str]:
    """Codes written space- or comma-separated, lower-cased, each once, in order."""
    seen: list[str] = []
    for item in _SEPARATORS.split((text or "").strip().lower()):
        if item and item not in seen:
            seen.append(item)
    return seen


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def check_fields(fields: ServiceFields) -> ServiceFields:
    """Return the fields tidied (spaces, case), else raise InvalidInput naming every problem."""
    problems: list[str] = []
    values = {
        "name": _line(fields.name),
        "kind": _line(fields.kind),
        "department": _line(fields.department),
        "municipality": _line(fields.municipality),
        "address": _line(fields.address),
        "hours": _line(fields.hours),
        "contact": _line(fields.contact),
        "notes": (fields.notes or "").strip(),
    }
    for field_name, value in values.items():
        if len(value) > _LIMITS[field_name]:
            problems.append(f"{field_name} must be at most {_LIMITS[field_name]} characters")
    if not values["name"]:
        problems.append("name must not be empty")
    if values["municipality"] and not values["department"]:
        problems.append("a municipality needs its department")
    needs = split_codes(" ".join(fields.needs))
    if not needs:
        problems.append("needs: give at least one need code (food, shelter, health...)")
    bad = [code for code in needs if not _NEED.fullmatch(code)]
    if bad:
        problems.append(f"needs: not a need code (a-z, 0-9, _): {', '.join(bad)}")
    if NO_NEED in needs:
        problems.append(f"needs: {NO_NEED!r} is the survey's 'nothing right now', not a need")
    languages = split_codes(" ".join(fields.languages))
    bad = [code for code in languages if not _LANGUAGE.fullmatch(code)]
    if bad:
        problems.append(f"languages: not a language code (es, en, fr, ht...): {', '.join(bad)}")
    if problems:
        raise InvalidInput("; ".join(problems))
    return ServiceFields(
        name=values["name"],
        kind=values["kind"],
        needs=tuple(needs),
        department=values["department"] or None,
        municipality=values["municipality"] or None,
        address=values["address"],
        hours=values["hours"],
        contact=values["contact"],
        languages=tuple(languages),
        notes=values["notes"],
    )


async def known_needs(session: AsyncSession) -> set[str]:
    """The need codes the shipped forms and the newest version of each published form offer."""
    known = set(SHIPPED_NEEDS)
    newest: dict[str, SurveyForm] = {}
    for row in await SurveyFormRepository(session).list():
        newest.setdefault(row.form_id, row)  # listed newest first within each form_id
    for row in newest.values():
        form = await parsed_form(session, row)
        question = form.question(NEEDS)
        if question is not None:
            known.update(c.name for c in form.choices_of(question) if c.name != NO_NEED)
    return known


async def _warnings(session: AsyncSession, needs: Iterable[str]) -> list[str]:
    odd = [code for code in needs if code not in SHIPPED_NEEDS]
    if not odd:
        return []  # the common case: no form to read
    known = await known_needs(session)
    unknown = [code for code in odd if code not in known]
    if not unknown:
        return []
    return [
        f"needs: no published form offers {', '.join(unknown)}: nobody can declare "
        "it until a form does"
    ]


def _apply(service: ReferralService, fields: ServiceFields) -> None:
    service.name = fields.name
    service.kind = fields.kind
    service.needs = list(fields.needs)
    service.department = fields.department
    service.municipality = fields.municipality
    service.address = fields.address
    service.hours = fields.hours
    service.contact = fields.contact
    service.languages = list(fields.languages)
    service.notes = fields.notes


async def add_service(session: AsyncSession, *, fields: ServiceFields) -> SavedService:
    """Check and add a service to the directory."""
    checked = check_fields(fields)
    service = ReferralService(active=True)
    _apply(service, checked)
    await ReferralRepository(session).add(service)
    return SavedService(service, await _warnings(session, checked.needs))


async def get_service(session: AsyncSession, *, service_id: int) -> ReferralService:
    """Return the service with this id, else raise NotFound."""
    service = await ReferralRepository(session).get(service_id)
    if service is None:
        raise NotFound(f"no referral service with id {service_id}")
    return service


async def update_service(
    session: AsyncSession,
    *,
    service_id: int,
    fields: ServiceFields,
    active: bool | None = None,
) -> SavedService:
    """Replace a service's description (and turn it on or off when `active` is given)."""
    checked = check_fields(fields)
    service = await get_service(session, service_id=service_id)
    _apply(service, checked)
    if active is not None:
        service.active = active
    service.updated_at = utcnow()
    await session.flush()
    return SavedService(service, await _warnings(session, checked.needs))


async def set_service_active(
    session: AsyncSession, *, service_id: int, active: bool
) -> ReferralService:
    """Show a service again, or stop showing it (it is kept either way)."""
    service = await get_service(session, service_id=service_id)
    service.active = active
    service.updated_at = utcnow()
    await session.flush()
    return service


async def list_services(
    session: AsyncSession, *, department: str | None = None, active_only: bool = False
) -> Sequence[ReferralService]:
    """Return the directory (one department's services only, when given)."""
    return await ReferralRepository(session).list(
        department=_line(department) or None,
        active_only=active_only,
    )


async def area_names(session: AsyncSession) -> tuple[Sequence[str], Sequence[str]]:
    """Department and municipality names in use by points and services (to type them alike)."""
    repository = ReferralRepository(session)
    return await repository.departments(), await repository.municipalities()


def read_csv(text: str) -> list[ServiceFields]:
    """Services from CSV text (a header row naming CSV_COLUMNS; `,` or `;`), checked line by line.

    Raises InvalidInput naming each bad line; nothing is half read.
    """
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [_line(cell).lower() for cell in next(reader, [])]
    if not any(header):
        raise InvalidInput("the CSV file is empty: its first row must name the columns")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    missing = [name for name in ("name", "needs") if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise InvalidInput(
            f"CSV header {','.join(header)!r}: use the columns {','.join(CSV_COLUMNS)} "
            "(name and needs required, each once)"
        )
    services: list[ServiceFields] = []
    problems: list[str] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        line = reader.line_num
        if len(cells) > len(header):
            problems.append(f"line {line}: {len(cells)} cells for {len(header)} columns")
            continue
        row = dict(zip(header, cells, strict=False))
        try:
            services.append(check_fields(_fields_of(row)))
        except InvalidInput as error:
            problems.append(f"line {line}: {error}")
    if problems:
        more = len(problems) - _MAX_REPORTED
        shown = problems[:_MAX_REPORTED] + ([f"and {more} more"] if more > 0 else [])
        raise InvalidInput("; ".join(shown))
    return services


def _fields_of(row: Mapping[str, str]) -> ServiceFields:
    return ServiceFields(
        name=row.get("name", ""),
        kind=row.get("kind", ""),
        needs=split_codes(row.get("needs")),
        department=row.get("department") or None,
        municipality=row.get("municipality") or None,
        address=row.get("address", ""),
        hours=row.get("hours", ""),
        contact=row.get("contact", ""),
        languages=split_codes(row.get("languages")),
        notes=row.get("notes", ""),
    )


async def import_services(
    session: AsyncSession, *, services: Sequence[ServiceFields]
) -> ImportResult:
    """Add each service, or update (and turn on again) the one of that name in that same area.

    Importing the same file twice changes nothing the second time.
    """
    checked = [check_fields(fields) for fields in services]
    keys = Counter((f.name.casefold(), f.department, f.municipality) for f in checked)
    repeated = sorted({name for (name, _, _), count in keys.items() if count > 1})
    if repeated:
        raise InvalidInput(f"the same service twice in one area: {', '.join(repeated)}")
    repository = ReferralRepository(session)
    added = updated = 0
    for fields in checked:
        found = await repository.find(
            name=fields.name, department=fields.department, municipality=fields.municipality
        )
        if found is None:
            service = ReferralService(active=True)
            _apply(service, fields)
            await repository.add(service)
            added += 1
        else:
            _apply(found, fields)
            found.active = True
            found.updated_at = utcnow()
            updated += 1
    await session.flush()
    needs = dict.fromkeys(code for fields in checked for code in fields.needs)
    return ImportResult(added, updated, await _warnings(session, needs))


def declared_needs(answers: Mapping[str, Any]) -> list[str]:
    """The need codes a response declares: its `needs` choices, and protection if it asked."""
    needs = [code for code in choices(answers, NEEDS) if code != NO_NEED]
    if answers.get(RISKS_HELP) == "yes" and PROTECTION not in needs:
        needs.append(PROTECTION)
    return needs


def _primary(lang: str) -> str:
    return lang.lower().split("-")[0]


def _area_rank(
    service: ReferralService, department: str | None, municipality: str | None
) -> int | None:
    """0 for the point's municipality, 1 for its whole department, 2 for everywhere, else None."""
    if service.department is None:
        return 2
    if department is None or service.department != department:
        return None
    if service.municipality is None:
        return 1
    return 0 if municipality is not None and service.municipality == municipality else None


def match_services(
    services: Iterable[ReferralService],
    *,
    needs: Sequence[str],
    lang: str,
    department: str | None,
    municipality: str | None,
    limit: int = MAX_REFERRALS,
) -> list[Referral]:
    """The services to show a person: active, covering the place, sharing a need; best first.

    Services whose staff speak the person's language come first, then the nearest
    (municipality, department, everywhere), then by name.
    """
    wanted = set(needs)
    speaks = _primary(lang)
    ranked: list[tuple[tuple[int, int, str, int], Referral]] = []
    for service in services:
        rank = _area_rank(service, department, municipality)
        offered = set(service.needs or ())
        met = tuple(code for code in needs if code in offered)
        if not service.active or rank is None or not wanted or not met:
            continue
        languages = tuple(service.languages or ())
        key = (
            0 if speaks in {_primary(code) for code in languages} else 1,
            rank,
            service.name.casefold(),
            service.id,
        )
        ranked.append(
            (
                key,
                Referral(
                    id=service.id,
                    name=service.name,
                    kind=service.kind,
                    address=service.address,
                    hours=service.hours,
                    contact=service.contact,
                    languages=languages,
                    needs=met,
                    department=service.department,
                    municipality=service.municipality,
                ),
            )
        )
    ranked.sort(key=lambda item: item[0])
    return [referral for _, referral in ranked[: max(limit, 0)]]


def _place(value: str | None) -> str | None:
    return _line(value) or None


async def referrals_for(
    session: AsyncSession,
    *,
    point: Point,
    needs: Sequence[str],
    lang: str,
    limit: int = MAX_REFERRALS,
) -> list[Referral]:
    """The services to show someone at `point` who declared `needs` and reads `lang`."""
    if not needs:
        return []
    department, municipality = _place(point.department), _place(point.municipality)
    candidates = await ReferralRepository(session).covering(
        department=department, municipality=municipality
    )
    return match_services(
        candidates,
        needs=needs,
        lang=lang,
        department=department,
        municipality=municipality,
        limit=limit,
    )


async def needs_of_response(session: AsyncSession, *, response_id: int) -> list[str]:
    """The need codes a stored response declares (see declared_needs)."""
    response = await session.get(Response, response_id)
    return declared_needs(response.answers) if response is not None else []


def need_labels(form: Form | None, lang: str) -> dict[str, str]:
    """Need names in `lang`: the form's own choice labels, else the shipped form's."""
    shipped = lang if lang in ("es", "en", "fr", "ht") else "en"
    labels = {o.name: o.label.get(shipped) for o in NEEDS_CHOICES}
    question = form.question(NEEDS) if form is not None else None
    if form is not None and question is not None:
        labels |= {c.name: form.text(c.labels, lang) for c in form.choices_of(question)}
    return labels


def phone_uri(text: str) -> str | None:
    """A `tel:` URI when `text` is only a phone number (6 to 15 digits), else None."""
    candidate = text.strip()
    digits = re.sub(r"\D", "", candidate)
    if not _PHONE.fullmatch(candidate) or not 6 <= len(digits) <= 15:
        return None
    return f"tel:{'+' if candidate.startswith('+') else ''}{digits}"
