"""`/api/v1/points/{nas_id}`: the point's form, and survey submission."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Query, Request

from cautiva.errors import InvalidInput, NotFound
from cautiva.forms.service import resolve_form
from cautiva.models import Point, utcnow
from cautiva.points.repository import PointRepository
from cautiva.referrals.service import needs_of_response, referrals_for
from cautiva.responses.service import submit_response
from cautiva.surveys.forms import Form, Question
from portal_api.api.schemas import (
    ChoiceOut,
    FormOut,
    GrantOut,
    LoginOut,
    PageOut,
    QuestionOut,
    ReferralOut,
    ResponseIn,
    ResponseOut,
)
from portal_api.deps import RuntimeDep, SessionDep
from portal_api.ratelimit import PortalLimits
from portal_api.router_login import login_step

router = APIRouter(prefix="/api/v1/points", tags=["survey"])


async def active_point(session: SessionDep, nas_id: str) -> Point:
    """The point with this NAS-Identifier, if it is in service."""
    point = await PointRepository(session).get_by_nas_id(nas_id)
    if point is None or not point.active:
        raise NotFound(f"no Wi-Fi point {nas_id!r} in service")
    return point


@router.get("/{nas_id}/form", response_model=FormOut)
async def get_form(
    nas_id: str,
    session: SessionDep,
    lang: str = Query(default="es", min_length=2, max_length=16),
) -> FormOut:
    """The form this point shows first-time visitors, in `lang` (falling back to the default)."""
    point = await active_point(session, nas_id)
    _, form = await resolve_form(session, point=point, returning=False)
    return form_out(form, lang)


@router.post(
    "/{nas_id}/responses",
    response_model=ResponseOut,
    status_code=201,
    responses={
        404: {"description": "No such point in service"},
        422: {"description": "Field-level reasons: `detail.errors` maps each field to why"},
        429: {"description": "Too many submissions from this device or point"},
    },
)
async def post_response(
    nas_id: str, body: ResponseIn, request: Request, session: SessionDep, runtime: RuntimeDep
) -> ResponseOut:
    """Store a completed survey and return the grant and how the browser logs in."""
    point = await active_point(session, nas_id)
    limits: PortalLimits = request.app.state.portal_limits
    device = body.router.get("mac") or (request.client.host if request.client else "unknown")
    if not limits.allow(point=point.nas_id, device=device):
        raise HTTPException(
            status_code=429,
            detail="too many submissions from this device or point; wait a minute",
            headers={"Retry-After": "60"},
        )
    settings = runtime.settings
    submitted = await submit_response(
        session,
        point=point,
        lang=body.lang,
        email=body.email,
        age_confirmed=body.age_confirmed,
        terms_accepted=body.terms_accepted,
        answers=body.answers,
        mac=body.router.get("mac") or None,
        now=utcnow(),
        secret_key=settings.secret_key,
        rules=runtime.rules,
        login_window=settings.session.login_window,
        returning_period=timedelta(days=settings.survey.returning_days),
        duplicate_window=timedelta(seconds=settings.survey.duplicate_window),
        alert_webhooks=bool(settings.alerts.webhook_url),
    )
    grant = submitted.grant
    needs = await needs_of_response(session, response_id=submitted.response_id)
    referrals = await referrals_for(session, point=point, needs=needs, lang=body.lang)
    return ResponseOut(
        grant=GrantOut(username=grant.username, password=grant.password, seconds=grant.seconds),
        login=router_login(point, body.router, grant.username, grant.password),
        returning=submitted.returning,
        referrals=[ReferralOut(**asdict(r)) for r in referrals],
    )


def router_login(
    point: Point, params: dict[str, str], username: str, password: str
) -> LoginOut | None:
    """The login step for the point's router, or None without the router's parameters."""
    try:
        step = login_step(point.nas_type, point.uam_secret, params, username, password)
    except ValueError as error:
        raise InvalidInput(f"router parameters: {error}") from None
    if step is None:
        return None
    return LoginOut(method=step.method, url=step.url, fields=step.fields)


def form_out(form: Form, lang: str) -> FormOut:
    """The form in `lang` as the API shows it."""
    return FormOut(
        form_id=form.form_id,
        version=form.version,
        lang=lang if lang in form.languages else form.default_language,
        languages=list(form.languages),
        title=form.text(form.titles, lang),
        pages=[
            PageOut(
                name=page.name,
                label=form.text(page.labels, lang),
                relevant=page.relevant.source if page.relevant else None,
                questions=[question_out(form, q, lang) for q in page.questions],
            )
            for page in form.pages
        ],
    )


def question_out(form: Form, question: Question, lang: str) -> QuestionOut:
    """One question in `lang`."""
    choices = form.choices_of(question)
    return QuestionOut(
        name=question.name,
        type=question.type.value,
        label=form.text(question.labels, lang),
        hint=form.text(question.hints, lang) or None,
        required=question.required,
        relevant=question.relevant.source if question.relevant else None,
        constraint=question.constraint.source if question.constraint else None,
        constraint_message=form.text(question.constraint_messages, lang) or None,
        choice_filter=question.choice_filter.source if question.choice_filter else None,
        choices=[ChoiceOut(name=c.name, label=form.text(c.labels, lang)) for c in choices]
        if question.choices
        else None,
        default=question.default,
    )
