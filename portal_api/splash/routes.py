"""The splash pages: `/p/{nas_id}` from the router's redirect to the router's login.

Server-rendered, one form per page, no script: language, age and terms, email, the survey one
group per page (back and forth), the services near the point that meet the declared needs
(when some do), the risk-prevention message with the login button. The visit
travels sealed in a hidden field (see `portal_api.state`), bound to a cookie against cross-site
posts. Nothing is stored until the last survey page: then the response and the grant, at once.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from cautiva.content.media import poster_of
from cautiva.content.service import portal_text
from cautiva.errors import InvalidAnswers, InvalidInput
from cautiva.forms.repository import SurveyFormRepository
from cautiva.forms.service import parsed_form, resolve_form
from cautiva.macs import normalise_mac
from cautiva.models import NasType, Point, utcnow
from cautiva.points.repository import PointRepository
from cautiva.referrals.service import Referral, declared_needs, referrals_for
from cautiva.responses.service import (
    PinnedForm,
    consent_message,
    is_returning,
    person_key,
    store_response,
)
from cautiva.runtime import Runtime
from cautiva.surveys import (
    Form,
    Page,
    QuestionType,
    next_page,
    previous_page,
    validate_page,
    visible_choices,
    visible_questions,
)
from cautiva.surveys.expressions import Answer
from portal_api.deps import RuntimeDep, SessionDep
from portal_api.funnel import FunnelBuffer
from portal_api.ratelimit import PortalLimits
from portal_api.router_login import is_http_url, login_step, uam_md_valid
from portal_api.splash.referrals import referral_items
from portal_api.splash.render import paragraphs, render
from portal_api.splash.texts import Words, negotiate, supported
from portal_api.splash.visit import (
    MAX_PARAM_LENGTH,
    MIKROTIK_PARAMS,
    UAM_PARAMS,
    Grant,
    Step,
    Visit,
)
from portal_api.state import DEVICE_COOKIE, DEVICE_TTL, device_sealer, state_sealer

log = logging.getLogger("cautiva.portal")

router = APIRouter(include_in_schema=False)

CSRF_COOKIE = "cautiva_csrf"
LANG_COOKIE = "cautiva_lang"
DROPDOWN_FROM = 9
"""Select lists longer than this show as a drop-down rather than a column of radio buttons."""
_MEDIA_NAME = r"^[A-Za-z0-9._-]{1,200}\.(mp4|webm|jpg|png|webp)$"
MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
}

NasId = Annotated[str, PathParam(min_length=1, max_length=64)]


@dataclass(frozen=True, slots=True)
class Turn:
    """One request of a visit: what every step needs besides the visit itself."""

    request: Request
    runtime: Runtime
    session: AsyncSession
    point: Point


def _limits(request: Request) -> PortalLimits:
    limits: PortalLimits | None = getattr(request.app.state, "portal_limits", None)
    if limits is None:
        portal = request.app.state.runtime.settings.portal
        limits = PortalLimits(portal.rate_per_device, portal.rate_per_point)
        request.app.state.portal_limits = limits
    return limits


def _count(request: Request, point: Point, event: str) -> None:
    funnel: FunnelBuffer = request.app.state.funnel
    funnel.count(point_id=point.id, event=event, now=utcnow())


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _base_url(request: Request, public_url: str) -> str:
    return (public_url or str(request.base_url)).rstrip("/")


def _lang_of(request: Request) -> str:
    """The asked language: `?lang=`, then the cookie, then Accept-Language."""
    return (
        supported(request.query_params.get("lang"))
        or supported(request.cookies.get(LANG_COOKIE))
        or negotiate(request.headers.get("accept-language"))
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _info_page(
    lang: str,
    point_name: str,
    heading: str,
    texts: list[str],
    *,
    status_code: int = 200,
    reason: str | None = None,
    link: str | None = None,
    link_text: str = "",
) -> HTMLResponse:
    return render(
        "page.html",
        lang=lang,
        point_name=point_name,
        status_code=status_code,
        switcher=False,
        heading=heading,
        paragraphs=texts,
        reason=reason,
        link=link,
        link_text=link_text,
    )


def _closed(lang: str) -> HTMLResponse:
    words = Words(lang)
    return _info_page(
        lang, words["title"], words["closed_title"], [words["closed_text"]], status_code=404
    )


def _bad_link(lang: str, point: Point) -> HTMLResponse:
    words = Words(lang)
    return _info_page(
        lang, point.name, words["bad_link_title"], [words["bad_link_text"]], status_code=403
    )


def _slow_down(lang: str, point_name: str) -> HTMLResponse:
    words = Words(lang)
    response = _info_page(
        lang, point_name, words["slow_down_title"], [words["slow_down_text"]], status_code=429
    )
    response.headers["Retry-After"] = "60"
    return response


async def _active_point(session: SessionDep, nas_id: str) -> Point | None:
    point = await PointRepository(session).get_by_nas_id(nas_id)
    return point if point is not None and point.active else None


def _clip(params: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: params[name][:MAX_PARAM_LENGTH] for name in names if params.get(name) is not None}


def _router_params(request: Request, point: Point, public_url: str) -> dict[str, str] | None:
    """The router's redirect parameters, checked; None when they must be refused."""
    query = request.query_params
    if NasType(point.nas_type) is NasType.MIKROTIK:
        params = _clip(query, MIKROTIK_PARAMS)
    else:
        if "res" not in query and "md" not in query:
            return {}  # opened directly, not through the router: the flow still runs
        if not point.uam_secret or not _md_verifies(request, point.uam_secret, public_url):
            log.warning("splash: UAM redirect for %s refused: md does not verify", point.nas_id)
            return None
        params = _clip(query, UAM_PARAMS)
    mac = params.get("mac")
    if mac:
        normalised = normalise_mac(mac)
        if normalised is None:
            return None
        params["mac"] = normalised
    return params


def _md_verifies(request: Request, secret: str, public_url: str) -> bool:
    """Check `md` over the URL the router signed: as received, or under the public URL."""
    # chilli and uspot sign "uamhomepage?res=..." exactly as configured; behind a proxy that
    # rewrites scheme or host the URL we see differs, so the public URL is tried too.
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    candidates = [f"{str(request.url).split('?', 1)[0]}?{raw_query}"]
    if public_url:
        candidates.append(f"{public_url.rstrip('/')}{request.url.path}?{raw_query}")
    try:
        return any(uam_md_valid(url, secret) for url in candidates)
    except ValueError:
        return False


@router.get("/p/{nas_id}", response_class=HTMLResponse)
async def splash(
    nas_id: NasId, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The page the router's redirect opens: results of a login, else the start of a visit."""
    lang = _lang_of(request)
    point = await _active_point(session, nas_id)
    if point is None:
        return _closed(lang)
    query = request.query_params
    words = Words(lang)
    settings = runtime.settings
    res = query.get("res")
    if res in ("success", "already"):
        return _connected(lang, point, query.get("userurl"))
    if res == "failed" or (NasType(point.nas_type) is NasType.MIKROTIK and query.get("error")):
        raw_reason = (query.get("reply") or query.get("error") or "")[:300]
        return _info_page(
            lang,
            point.name,
            words["failed_title"],
            [words["failed_text"]],
            reason=words.reason(raw_reason) or raw_reason or None,
            link=f"/p/{quote(point.nas_id)}?lang={lang}",
            link_text=words["start_again"],
        )
    params = _router_params(request, point, settings.portal.public_url)
    if params is None:
        return _bad_link(lang, point)
    device = params.get("mac") or _client(request)
    if not _limits(request).allow(point=point.nas_id, device=device):
        return _slow_down(lang, point.name)
    _count(request, point, "splash_opened")
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(18)
    visit = Visit(nas=point.nas_id, csrf=csrf, lang=lang, router=params)
    turn = Turn(request, runtime, session, point)
    return await _show(turn, visit)


@router.get("/p/{nas_id}/connected", response_class=HTMLResponse)
async def connected(
    nas_id: NasId, request: Request, session: SessionDep, to: str | None = None
) -> Response:
    """Where MikroTik sends the browser after a login (`dst`): you are online."""
    lang = _lang_of(request)
    point = await _active_point(session, nas_id)
    if point is None:
        return _closed(lang)
    return _connected(lang, point, to)


def _connected(lang: str, point: Point, target: str | None) -> HTMLResponse:
    words = Words(lang)
    link = target.strip() if target and is_http_url(target.strip()) else None
    return _info_page(
        lang,
        point.name,
        words["connected_title"],
        [words["connected_text"]],
        link=link,
        link_text=words["continue_to"],
    )


@router.get("/media/{name}")
async def media(
    name: Annotated[str, PathParam(pattern=_MEDIA_NAME)], runtime: RuntimeDep
) -> Response:
    """A risk-prevention video from the local media folder (inside the walled garden)."""
    folder = (Path(runtime.settings.data_dir) / "media").resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        return Response("no such video\n", status_code=404, media_type="text/plain")
    media_type = MEDIA_TYPES[path.suffix]
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=86400"})


@router.post("/p/{nas_id}/video", status_code=204)
async def video_seen(
    nas_id: NasId, request: Request, session: SessionDep, event: str = ""
) -> Response:
    """Count a start or an end of the message video (sent by the page, no identifier)."""
    point = await _active_point(session, nas_id)
    if point is None or event not in ("started", "finished"):
        return Response(status_code=404)
    if not _limits(request).allow(point=point.nas_id, device=_client(request)):
        return Response(status_code=429)
    _count(request, point, f"video_{event}")
    return Response(status_code=204)


@router.post("/p/{nas_id}", response_class=HTMLResponse)
async def step(
    nas_id: NasId, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """One step of a visit: the page's form comes back with the sealed state."""
    settings = runtime.settings
    lang = _lang_of(request)
    form_data = await request.form()
    raw_state = form_data.get("state")
    sealed = state_sealer(settings.secret_key).open(
        raw_state if isinstance(raw_state, str) else None
    )
    visit = Visit.load(sealed) if sealed is not None else None
    point = await _active_point(session, nas_id)
    if point is None:
        return _closed(visit.lang if visit else lang)
    if visit is None or visit.nas != point.nas_id:
        words = Words(lang)
        return _info_page(
            lang,
            point.name,
            words["expired_title"],
            [words["expired_text"]],
            status_code=400,
            link=f"/p/{quote(point.nas_id)}?lang={lang}",
            link_text=words["start_again"],
        )
    device = visit.router.get("mac") or _client(request)
    if not _limits(request).allow(point=point.nas_id, device=device):
        return _slow_down(visit.lang, point.name)
    turn = Turn(request, runtime, session, point)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not hmac.compare_digest(cookie, visit.csrf):
        # A post from another site, or a browser that lost its cookie: start over, keeping only
        # the router's parameters (verified when the visit began). Nothing is stored.
        log.info("splash: state without its cookie at %s, visit restarted", point.nas_id)
        fresh = Visit(
            nas=point.nas_id,
            csrf=secrets.token_urlsafe(18),
            lang=visit.lang,
            router=visit.router,
        )
        return await _show(turn, fresh)
    chosen = supported(_text(form_data, "lang"))
    nav = _text(form_data, "nav") or "next"
    if chosen is not None:
        return await _switch_language(turn, visit, chosen, form_data)
    handler = {
        Step.LANGUAGE: _after_language,
        Step.CONSENT: _after_consent,
        Step.EMAIL: _after_email,
        Step.SURVEY: _after_survey,
        Step.MINOR: _after_minor,
        Step.REFERRALS: _after_referrals,
        Step.MESSAGE: _after_message,
    }[visit.step]
    return await handler(turn, visit, form_data, nav)


def _text(form_data: FormData, name: str) -> str | None:
    value = form_data.get(name)
    return value if isinstance(value, str) else None


async def _switch_language(turn: Turn, visit: Visit, lang: str, form_data: FormData) -> Response:
    """A language button: the same step again in `lang` (the language page moves on)."""
    visit.lang = lang
    if visit.step is Step.LANGUAGE:
        visit.step = Step.CONSENT
    elif visit.step is Step.CONSENT:
        _keep_consent(visit, form_data)
    elif visit.step is Step.SURVEY:
        form = await _visit_form(turn.session, visit)
        page = form.page(visit.page or "")
        clean, _ = validate_page(
            form, page, _page_inputs(form, page, form_data), lang, answers=visit.answers
        )
        visit.answers = _merge(visit.answers, page, clean)
    return await _show(turn, visit)


def _keep_consent(visit: Visit, form_data: FormData) -> None:
    age = _text(form_data, "age")
    visit.age = age if age in ("yes", "no") else None
    visit.terms = _text(form_data, "terms") == "yes"


async def _after_language(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    visit.step = Step.CONSENT
    return await _show(turn, visit)


async def _after_consent(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    _keep_consent(visit, form_data)
    if nav == "back":
        visit.step = Step.LANGUAGE
        return await _show(turn, visit)
    if visit.age == "no":
        _count(turn.request, turn.point, "under_age")
        visit.step = Step.MINOR
        return await _show(turn, visit)
    errors: dict[str, str] = {}
    if visit.age != "yes":
        errors["age"] = Words(visit.lang)["age_required"]
    if not visit.terms:
        errors["terms"] = consent_message("terms_accepted", visit.lang)
    if errors:
        return await _show(turn, visit, errors=errors)
    _count(turn.request, turn.point, "consent")
    visit.step = Step.EMAIL
    return await _show(turn, visit)


async def _after_minor(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    visit.step = Step.CONSENT
    visit.age = None
    return await _show(turn, visit)


async def _after_email(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    if nav == "back":
        visit.step = Step.CONSENT
        return await _show(turn, visit)
    settings = turn.runtime.settings
    email = (_text(form_data, "email") or "")[:320]
    try:
        key = person_key(settings.secret_key, email)
    except InvalidInput:
        errors = {"email": consent_message("email", visit.lang)}
        return await _show(turn, visit, errors=errors, email=email)
    now = utcnow()
    period = timedelta(days=settings.survey.returning_days)
    returning = await is_returning(turn.session, key, period, now=now)
    if visit.person != key or visit.form_row is None:
        # A new person (or the first time here): their own form, no answers carried over.
        row, form = await resolve_form(turn.session, point=turn.point, returning=returning)
        visit.person, visit.returning, visit.form_row = key, returning, row.id
        visit.answers = {}
    else:
        form = await _visit_form(turn.session, visit)
    first = next_page(form, None, visit.answers)
    if first is None:
        return await _finish(turn, visit)
    visit.step, visit.page, visit.shown = Step.SURVEY, first.name, []
    return await _show(turn, visit)


async def _after_survey(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    form = await _visit_form(turn.session, visit)
    page = form.page(visit.page or "")
    inputs = _page_inputs(form, page, form_data)
    clean, errors = validate_page(form, page, inputs, visit.lang, answers=visit.answers)
    visit.answers = _merge(visit.answers, page, clean)
    if nav == "back":
        before = previous_page(form, page.name, visit.answers)
        if before is None:
            visit.step = Step.EMAIL
        else:
            visit.page, visit.shown = before.name, []
        return await _show(turn, visit)
    if errors:
        unseen = {name for name in errors if name not in visit.shown}
        shown_errors = {name: text for name, text in errors.items() if name not in unseen}
        notice = Words(visit.lang)["more_questions"] if unseen else None
        return await _show(
            turn,
            visit,
            errors=shown_errors,
            inputs=inputs,
            notice=notice,
        )
    after = next_page(form, page.name, visit.answers)
    if after is not None:
        visit.page, visit.shown = after.name, []
        return await _show(turn, visit)
    return await _finish(turn, visit)


async def _after_message(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    return await _show(turn, visit)


async def _after_referrals(turn: Turn, visit: Visit, form_data: FormData, nav: str) -> Response:
    visit.step, visit.needs = Step.MESSAGE, []
    _count(turn.request, turn.point, "message_shown")
    return await _show(turn, visit)


async def _finish(turn: Turn, visit: Visit) -> Response:
    """Store the whole response and issue the grant, then show the message before login."""
    settings = turn.runtime.settings
    assert visit.person is not None and visit.form_row is not None
    try:
        submitted = await store_response(
            turn.session,
            point=turn.point,
            lang=visit.lang,
            person=visit.person,
            answers=visit.answers,
            mac=visit.router.get("mac"),
            now=utcnow(),
            secret_key=settings.secret_key,
            rules=turn.runtime.rules,
            login_window=settings.session.login_window,
            returning_period=timedelta(days=settings.survey.returning_days),
            duplicate_window=timedelta(seconds=settings.survey.duplicate_window),
            pinned=PinnedForm(visit.form_row, visit.returning),
            alert_webhooks=bool(settings.alerts.webhook_url),
        )
    except InvalidAnswers as problem:
        # An earlier page no longer holds (answers changed on the way back): go there.
        form = await _visit_form(turn.session, visit)
        for page in form.pages:
            if any(q.name in problem.errors for q in page.questions):
                visit.page, visit.shown = page.name, [q.name for q in page.questions]
                errors = {
                    q.name: problem.errors[q.name]
                    for q in page.questions
                    if q.name in problem.errors
                }
                return await _show(turn, visit, errors=errors)
        raise
    _count(turn.request, turn.point, "survey_done")
    grant = submitted.grant
    visit.grant = Grant(grant.username, grant.password, grant.seconds)
    # Services that meet the declared needs come first when some match (see _show); the
    # visit keeps only the need codes.
    visit.step, visit.needs = Step.REFERRALS, declared_needs(visit.answers)
    visit.page, visit.answers, visit.shown = None, {}, []
    response = await _show(turn, visit)
    device = device_sealer(settings.secret_key).seal({"u": grant.username, "n": turn.point.nas_id})
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=DEVICE_TTL,
        httponly=True,
        samesite="lax",
        secure=_secure(turn.request),
    )
    return response


async def _visit_form(session: SessionDep, visit: Visit) -> Form:
    row = await SurveyFormRepository(session).get(visit.form_row or 0)
    if row is None:
        raise InvalidInput("the survey form of this visit is no longer published")
    return await parsed_form(session, row)


def _page_inputs(form: Form, page: Page, form_data: FormData) -> dict[str, str | list[str]]:
    """The submitted values of the page's questions (lists for select_multiple)."""
    inputs: dict[str, str | list[str]] = {}
    for question in page.questions:
        if question.type is QuestionType.SELECT_MULTIPLE:
            inputs[question.name] = [
                v for v in form_data.getlist(question.name) if isinstance(v, str)
            ]
        else:
            value = form_data.get(question.name)
            if isinstance(value, str):
                inputs[question.name] = value
    return inputs


def _merge(
    answers: Mapping[str, Answer], page: Page, clean: Mapping[str, Answer]
) -> dict[str, Answer]:
    on_page = {q.name for q in page.questions}
    return {k: v for k, v in answers.items() if k not in on_page} | dict(clean)


async def _show(
    turn: Turn,
    visit: Visit,
    *,
    errors: Mapping[str, str] | None = None,
    inputs: Mapping[str, str | list[str]] | None = None,
    notice: str | None = None,
    email: str = "",
) -> HTMLResponse:
    """Render the visit's current step and seal the state into it."""
    settings = turn.runtime.settings
    words = Words(visit.lang)
    context: dict[str, Any] = {
        "errors": dict(errors or {}),
        "notice": notice,
        "step_text": None,
        "action": f"/p/{quote(turn.point.nas_id)}",
    }
    form_targets: tuple[str, ...] = ()
    media = False
    referrals: list[Referral] = []
    if visit.step is Step.REFERRALS:
        referrals = await referrals_for(
            turn.session, point=turn.point, needs=visit.needs, lang=visit.lang
        )
        if not referrals:  # none match (or none any more): straight on to the message
            visit.step, visit.needs = Step.MESSAGE, []
            _count(turn.request, turn.point, "message_shown")
    if visit.step is Step.LANGUAGE:
        template, heading = "step_language.html", words["choose_language"]
    elif visit.step is Step.CONSENT:
        template, heading = "step_consent.html", words["consent_title"]
        terms = await portal_text(turn.session, key="terms", lang=visit.lang, point=turn.point)
        context |= {
            "age": visit.age,
            "terms_accepted": visit.terms,
            "terms": paragraphs(terms.body),
        }
    elif visit.step is Step.MINOR:
        template, heading = "step_minor.html", words["minor_title"]
    elif visit.step is Step.EMAIL:
        template, heading = "step_email.html", words["email_title"]
        context["email"] = email
    elif visit.step is Step.REFERRALS:
        template, heading = "step_referrals.html", words["referrals_title"]
        form = await _visit_form(turn.session, visit)
        context["referrals"] = referral_items(referrals, form=form, lang=visit.lang)
    elif visit.step is Step.SURVEY:
        form = await _visit_form(turn.session, visit)
        page = form.page(visit.page or "")
        template = "step_survey.html"
        heading = form.text(page.labels, visit.lang) or form.text(form.titles, visit.lang)
        questions, shown, position = _survey_context(form, page, visit, inputs, errors or {})
        visit.shown = shown
        context |= {"questions": questions, "step_text": words["step"].format(**position)}
        if visit.returning and position["n"] == 1 and not notice:
            context["notice"] = words["welcome_back"]
    else:
        template, heading = "step_message.html", words["message_title"]
        message = await portal_text(turn.session, key="message", lang=visit.lang, point=turn.point)
        assert visit.grant is not None
        login = _login(turn.request, settings.portal.public_url, turn.point, visit)
        if login is not None and login.method == "post":
            form_targets = (login.url,)
        media = bool(message.video)
        poster = poster_of(settings.data_dir, message.video) if message.video else None
        context |= {
            "message": paragraphs(message.body),
            "video": f"/media/{quote(message.video)}" if message.video else None,
            "poster": f"/media/{quote(poster)}" if poster else None,
            "beacon_url": f"/p/{quote(turn.point.nas_id)}/video",
            "login": login,
            "username": visit.grant.username,
            "password": visit.grant.password,
            "connect_hint": words["connect_hint"].format(minutes=visit.grant.seconds // 60),
        }
    context["state"] = state_sealer(settings.secret_key).seal(visit.dump())
    response = render(
        template,
        lang=visit.lang,
        point_name=turn.point.name,
        heading=heading,
        form_targets=form_targets,
        media=media,
        switcher=visit.step is not Step.LANGUAGE,
        **context,
    )
    secure = _secure(turn.request)
    response.set_cookie(
        CSRF_COOKIE, visit.csrf, httponly=True, samesite="lax", secure=secure, path="/p/"
    )
    response.set_cookie(LANG_COOKIE, visit.lang, max_age=30 * 86400, samesite="lax", secure=secure)
    return response


def _login(request: Request, public_url: str, point: Point, visit: Visit) -> Any:
    """The router login for the visit's grant, or None (then the page shows the credentials)."""
    assert visit.grant is not None
    result_url = None
    if NasType(point.nas_type) is NasType.MIKROTIK:
        result_url = (
            f"{_base_url(request, public_url)}/p/{quote(point.nas_id)}/connected?lang={visit.lang}"
        )
        original = visit.router.get("link-orig")
        if original and is_http_url(original):
            result_url += f"&to={quote(original, safe='')}"
    try:
        return login_step(
            point.nas_type,
            point.uam_secret,
            visit.router,
            visit.grant.username,
            visit.grant.password,
            result_url=result_url,
        )
    except ValueError as error:
        log.warning("splash: router parameters unusable at %s: %s", point.nas_id, error)
        return None


def _survey_context(
    form: Form,
    page: Page,
    visit: Visit,
    inputs: Mapping[str, str | list[str]] | None,
    errors: Mapping[str, str],
) -> tuple[list[dict[str, Any]], list[str], dict[str, int]]:
    """The questions of the page as the template shows them, their names, and the position."""
    lang = visit.lang
    if inputs is not None:
        clean, _ = validate_page(form, page, inputs, lang, answers=visit.answers)
        answers = _merge(visit.answers, page, clean)
    else:
        answers = dict(visit.answers)
    questions = []
    for question in visible_questions(form, page, answers):
        raw: Any
        if inputs is not None:
            raw = inputs.get(
                question.name, [] if question.type is QuestionType.SELECT_MULTIPLE else ""
            )
        elif question.name in answers:
            raw = answers[question.name]
        else:
            raw = question.default or ""
            if question.type is QuestionType.SELECT_MULTIPLE:
                raw = raw.split()
        selected = set(raw) if isinstance(raw, list) else {str(raw)}
        item: dict[str, Any] = {
            "name": question.name,
            "kind": question.type.value,
            "label": form.text(question.labels, lang),
            "hint": form.text(question.hints, lang) if question.hints else "",
            "required": question.required,
            "error": errors.get(question.name),
            "value": "" if isinstance(raw, list) else str(raw),
            "dropdown": False,
            "choices": [],
        }
        if question.type in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
            choices = visible_choices(form, question, answers)
            item["choices"] = [
                {"name": c.name, "label": form.text(c.labels, lang), "checked": c.name in selected}
                for c in choices
            ]
            item["dropdown"] = (
                question.type is QuestionType.SELECT_ONE and len(choices) >= DROPDOWN_FROM
            )
        questions.append(item)
    shown = [q["name"] for q in questions]
    pages = [p for p in form.pages if visible_questions(form, p, answers)]
    names = [p.name for p in pages]
    n = names.index(page.name) + 1 if page.name in names else len(names)
    return questions, shown, {"n": n, "total": max(len(names), n)}
