"""Taking a survey response: consent, a pseudonymous person key, answers checked, a grant issued.

The email is never stored. It becomes `person_key`, an HMAC under the server's secret key, which
only tells whether the same person answered recently (then they get the short follow-up form).
Everything here runs in the caller's transaction and only flushes.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.alerts.service import raise_response_alerts
from cautiva.errors import InvalidAnswers, InvalidInput
from cautiva.forms.repository import SurveyFormRepository
from cautiva.forms.service import FORMS, FormCache, parsed_form, resolve_form
from cautiva.grants.service import IssuedGrant, issue_grants
from cautiva.macs import normalise_mac
from cautiva.models import Point, Response
from cautiva.policy import SessionRules
from cautiva.responses.repository import ResponseRepository
from cautiva.surveys import finalize, validate_all

MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
DEFAULT_DUPLICATE_WINDOW = timedelta(seconds=300)
# Pragmatic, not RFC 5322: one @, a local part without spaces or quoting, a dotted domain whose
# labels do not start or end with '-' and whose top level is letters (or punycode). Unicode
# letters are allowed: people type addresses on their own keyboards.
_EMAIL = re.compile(
    r"[^\s@\"(),:;<>\[\]\\]{1,64}"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+"
    r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
)
_LANG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})?")

_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "age_confirmed": {
        "es": "La encuesta es solo para personas mayores de 18 años.",
        "en": "The survey is only for people aged 18 or over.",
        "fr": "Le questionnaire est réservé aux personnes de 18 ans ou plus.",
        "ht": "Ankèt la se sèlman pou moun ki gen 18 an oswa plis.",
    },
    "terms_accepted": {
        "es": "Acepte las condiciones de uso para continuar.",
        "en": "Please accept the terms of use to continue.",
        "fr": "Acceptez les conditions d'utilisation pour continuer.",
        "ht": "Tanpri aksepte kondisyon itilizasyon yo pou w kontinye.",
    },
    "email": {
        "es": "Escriba un correo electrónico válido.",
        "en": "Write a valid email address.",
        "fr": "Écrivez une adresse e-mail valide.",
        "ht": "Ekri yon adrès imel ki bon.",
    },
}


@dataclass(frozen=True, slots=True)
class SubmittedResponse:
    """What the portal needs after a submission: the response, the credential, which form."""

    response_id: int
    grant: IssuedGrant
    returning: bool


@dataclass(frozen=True, slots=True)
class PinnedForm:
    """The published form a person was shown, and whether it was the follow-up."""

    survey_form_id: int
    returning: bool


def consent_message(key: str, lang: str) -> str:
    """The reason for a missing consent or a bad email, in `lang` (else English)."""
    texts = _MESSAGES[key]
    return texts.get(lang.split("-")[0], texts["en"])


def normalise_email(email: str) -> str:
    """Return the email stripped and lower-cased, or raise InvalidInput when it is not one."""
    normalised = unicodedata.normalize("NFC", email.strip()).lower()
    if len(normalised) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(normalised):
        raise InvalidInput("not a valid email address")
    return normalised


def person_key(secret_key: str, email: str) -> str:
    """Return the pseudonymous key of the person with this email (hex HMAC-SHA256)."""
    message = b"cautiva-person-key:" + normalise_email(email).encode()
    return hmac.new(secret_key.encode(), message, "sha256").hexdigest()


async def is_returning(
    session: AsyncSession, person_key: str, within: timedelta, *, now: datetime
) -> bool:
    """Return True when this person sent a response, at any point, within `within` of `now`."""
    return await ResponseRepository(session).any_since(person_key, now - within)


async def submit_response(
    session: AsyncSession,
    *,
    point: Point,
    lang: str,
    email: str,
    age_confirmed: bool,
    terms_accepted: bool,
    answers: Mapping[str, object],
    mac: str | None,
    now: datetime,
    secret_key: str,
    rules: SessionRules,
    login_window: int,
    returning_period: timedelta,
    duplicate_window: timedelta = DEFAULT_DUPLICATE_WINDOW,
    cache: FormCache = FORMS,
    alert_webhooks: bool = False,
) -> SubmittedResponse:
    """Store a completed survey (the follow-up form for returning people) and issue a grant.

    Raises InvalidAnswers with reasons per field: consent and email first, then the answers.
    The same answers again from the same point, device and person within `duplicate_window`
    return the earlier response with a fresh grant and store nothing new.
    """
    check_language(lang)
    errors: dict[str, str] = {}
    if not age_confirmed:
        errors["age_confirmed"] = consent_message("age_confirmed", lang)
    if not terms_accepted:
        errors["terms_accepted"] = consent_message("terms_accepted", lang)
    key = ""
    try:
        key = person_key(secret_key, email)
    except InvalidInput:
        errors["email"] = consent_message("email", lang)
    if errors:
        raise InvalidAnswers(errors)
    return await store_response(
        session,
        point=point,
        lang=lang,
        person=key,
        answers=answers,
        mac=mac,
        now=now,
        secret_key=secret_key,
        rules=rules,
        login_window=login_window,
        returning_period=returning_period,
        duplicate_window=duplicate_window,
        cache=cache,
        alert_webhooks=alert_webhooks,
    )


def check_language(lang: str) -> None:
    """Raise InvalidInput unless `lang` looks like a language code."""
    if not _LANG.fullmatch(lang):
        raise InvalidInput(f"not a language code: {lang!r}")


async def store_response(
    session: AsyncSession,
    *,
    point: Point,
    lang: str,
    person: str,
    answers: Mapping[str, object],
    mac: str | None,
    now: datetime,
    secret_key: str,
    rules: SessionRules,
    login_window: int,
    returning_period: timedelta,
    duplicate_window: timedelta = DEFAULT_DUPLICATE_WINDOW,
    cache: FormCache = FORMS,
    pinned: PinnedForm | None = None,
    alert_webhooks: bool = False,
) -> SubmittedResponse:
    """Store the answers of a person whose consent and email were already checked; issue a grant.

    `person` is the person key (see `person_key`). `pinned` names the form the person was shown
    page by page (the splash flow), so a form published meanwhile cannot change the questions
    under them; without it the form is resolved now. A new response raises the alerts whose
    rules it matches (queued for the webhook too with `alert_webhooks`), in this transaction.
    """
    if not point.active:
        raise InvalidInput(f"point {point.nas_id!r} is retired")
    check_language(lang)
    device_mac = normalise_mac(mac) if mac else None
    if mac and device_mac is None:
        raise InvalidInput(f"not a MAC address: {mac!r}")
    today = now.date()

    async def grant() -> IssuedGrant:
        (issued,) = await issue_grants(
            session,
            point=point,
            secret_key=secret_key,
            rules=rules,
            login_window=login_window,
            now=now,
            mac=device_mac,
            person_key=person,
        )
        return issued

    repository = ResponseRepository(session)
    if device_mac is not None and duplicate_window > timedelta(0):
        earlier = await _duplicate_of(
            session,
            point=point,
            mac=device_mac,
            person_key=person,
            answers=answers,
            lang=lang,
            since=now - duplicate_window,
            cache=cache,
        )
        if earlier is not None:
            return SubmittedResponse(earlier.id, await grant(), earlier.returning_person)

    if pinned is not None:
        found = await SurveyFormRepository(session).get(pinned.survey_form_id)
        if found is None:
            raise InvalidInput("the survey form shown is no longer published")
        row, returning = found, pinned.returning
        form = await parsed_form(session, row, cache=cache)
    else:
        returning = await is_returning(session, person, returning_period, now=now)
        row, form = await resolve_form(session, point=point, returning=returning, cache=cache)
    clean, problems = validate_all(form, answers, lang, today=today)
    if problems:
        raise InvalidAnswers(problems)
    response = await repository.add(
        Response(
            point_id=point.id,
            survey_form_id=row.id,
            form_id=row.form_id,
            version=row.version,
            lang=lang,
            answers=finalize(form, clean, today=today),
            person_key=person,
            returning_person=returning,
            device_mac=device_mac,
            created_at=now,
        )
    )
    await raise_response_alerts(
        session,
        point=point,
        answers=response.answers,
        form=form,
        now=now,
        webhooks=alert_webhooks,
    )
    return SubmittedResponse(response.id, await grant(), returning)


async def _duplicate_of(
    session: AsyncSession,
    *,
    point: Point,
    mac: str,
    person_key: str,
    answers: Mapping[str, object],
    lang: str,
    since: datetime,
    cache: FormCache,
) -> Response | None:
    """Return the recent response these answers repeat (a double tap, a reloaded page), if any."""
    recent = await ResponseRepository(session).recent_from_device(
        point_id=point.id, mac=mac, person_key=person_key, since=since
    )
    forms = SurveyFormRepository(session)
    for earlier in recent:
        row = await forms.get(earlier.survey_form_id)
        if row is None:  # pragma: no cover - the foreign key forbids it
            continue
        form = await parsed_form(session, row, cache=cache)
        clean, problems = validate_all(form, answers, lang, today=earlier.created_at.date())
        if not problems and finalize(form, clean, today=earlier.created_at.date()) == dict(
            earlier.answers
        ):
            return earlier
    return None
