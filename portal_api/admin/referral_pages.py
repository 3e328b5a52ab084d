"""The admin pages of the referral directory: list by department, add, edit, turn off, import.

The services listed here are what people see after the survey (see `cautiva.referrals`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from cautiva.errors import CautivaError, InvalidInput, NotFound
from cautiva.models import ReferralService, utcnow
from cautiva.referrals.service import (
    ServiceFields,
    add_service,
    area_names,
    get_service,
    import_services,
    known_needs,
    list_services,
    need_labels,
    read_csv,
    set_service_active,
    split_codes,
    update_service,
)
from cautiva.staff.roles import Right
from cautiva.staff.service import Principal, audit
from portal_api.admin.auth import allowed
from portal_api.admin.pages import after, form_text, page, refused
from portal_api.deps import SessionDep
from portal_api.splash.texts import LANGUAGES

router = APIRouter(prefix="/admin/referrals", include_in_schema=False)

ManageReferrals = Annotated[Principal, allowed(Right.MANAGE_REFERRALS)]
MAX_CSV_BYTES = 1024 * 1024
_TEXT_FIELDS = (
    "name",
    "kind",
    "department",
    "municipality",
    "address",
    "hours",
    "contact",
    "notes",
)


def _chosen(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def _values_of(service: ReferralService, needs: Sequence[str]) -> dict[str, Any]:
    """What the form shows for a stored service: codes the checkboxes lack go to the text boxes."""
    values: dict[str, Any] = {name: getattr(service, name) or "" for name in _TEXT_FIELDS}
    values["needs"] = list(service.needs)
    values["needs_other"] = " ".join(c for c in service.needs if c not in needs)
    values["languages"] = list(service.languages)
    values["languages_other"] = " ".join(c for c in service.languages if c not in LANGUAGES)
    return values


def _values_sent(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {name: form_text(form, name) for name in _TEXT_FIELDS}
    values |= {
        "needs": _chosen(form, "needs"),
        "needs_other": form_text(form, "needs_other"),
        "languages": _chosen(form, "languages"),
        "languages_other": form_text(form, "languages_other"),
    }
    return values


def _fields(values: dict[str, Any]) -> ServiceFields:
    return ServiceFields(
        name=values["name"],
        kind=values["kind"],
        needs=[*values["needs"], *split_codes(values["needs_other"])],
        department=values["department"] or None,
        municipality=values["municipality"] or None,
        address=values["address"],
        hours=values["hours"],
        contact=values["contact"],
        languages=[*values["languages"], *split_codes(values["languages_other"])],
        notes=values["notes"],
    )


async def _form_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    values: dict[str, Any],
    service: ReferralService | None = None,
    error: str | None = None,
) -> HTMLResponse:
    labels = need_labels(None, "en")
    needs = sorted(await known_needs(session), key=lambda code: labels.get(code, code))
    departments, municipalities = await area_names(session)
    return page(
        request,
        "referral_form.html",
        title=f"Edit {service.name}" if service is not None else "Add a service",
        principal=principal,
        status_code=422 if error else 200,
        service=service,
        form=values,
        error=error,
        needs=[(code, labels.get(code, code)) for code in needs],
        languages=list(LANGUAGES.items()),
        departments=departments,
        municipalities=municipalities,
    )


async def _service_or_page(
    request: Request, session: AsyncSession, principal: Principal, service_id: int
) -> ReferralService | HTMLResponse:
    try:
        return await get_service(session, service_id=service_id)
    except NotFound as error:
        return refused(request, principal, "Not found", str(error), 404)


@router.get("", response_class=HTMLResponse)
async def referrals_page(
    request: Request,
    principal: ManageReferrals,
    session: SessionDep,
    department: str | None = None,
) -> HTMLResponse:
    """The directory, all of it or one department's."""
    chosen = (department or "").strip() or None
    labels = need_labels(None, "en")
    services = await list_services(session, department=chosen)
    departments, _ = await area_names(session)
    return page(
        request,
        "referrals.html",
        title="Referrals",
        principal=principal,
        services=services,
        department=chosen,
        departments=departments,
        labels=labels,
        error=None,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_referral_form(
    request: Request, principal: ManageReferrals, session: SessionDep
) -> HTMLResponse:
    """The form to add a service."""
    values: dict[str, Any] = dict.fromkeys(_TEXT_FIELDS, "")
    values |= {"needs": [], "needs_other": "", "languages": [], "languages_other": ""}
    return await _form_page(request, session, principal, values=values)


@router.post("/new", response_class=HTMLResponse)
async def new_referral(
    request: Request, principal: ManageReferrals, session: SessionDep
) -> Response:
    """Add a service, then show the directory."""
    values = _values_sent(await request.form())
    try:
        saved = await add_service(session, fields=_fields(values))
    except CautivaError as error:
        return await _form_page(request, session, principal, values=values, error=str(error))
    service = saved.service
    await audit(
        session,
        principal=principal,
        action="referral.add",
        target=str(service.id),
        now=utcnow(),
        details={"name": service.name, "department": service.department},
    )
    return after("/admin/referrals", " ".join(["Service added.", *saved.warnings]))


@router.post("/import", response_class=HTMLResponse)
async def import_referrals(
    request: Request, principal: ManageReferrals, session: SessionDep
) -> Response:
    """Add or update services from an uploaded CSV file."""
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    try:
        if not isinstance(upload, StarletteUploadFile) or not upload.filename:
            raise InvalidInput("choose a CSV file to import")
        data = await upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise InvalidInput(f"the file is over {MAX_CSV_BYTES // 1024} KB")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("the file is not UTF-8 text: save the sheet as CSV UTF-8") from None
        result = await import_services(session, services=read_csv(text))
    except CautivaError as error:
        departments, _ = await area_names(session)
        return page(
            request,
            "referrals.html",
            title="Referrals",
            principal=principal,
            status_code=422,
            services=await list_services(session),
            department=None,
            departments=departments,
            labels=need_labels(None, "en"),
            error=f"Nothing imported: {error}",
        )
    await audit(
        session,
        principal=principal,
        action="referral.import",
        target=upload.filename or "",
        now=utcnow(),
        details={"added": result.added, "updated": result.updated},
    )
    done = f"Imported: {result.added} added, {result.updated} updated."
    return after("/admin/referrals", " ".join([done, *result.warnings]))


@router.get("/{service_id}", response_class=HTMLResponse)
async def referral_page(
    service_id: int, request: Request, principal: ManageReferrals, session: SessionDep
) -> HTMLResponse:
    """The form to change a service, and to turn it off or on."""
    found = await _service_or_page(request, session, principal, service_id)
    if isinstance(found, HTMLResponse):
        return found
    values = _values_of(found, sorted(await known_needs(session)))
    return await _form_page(request, session, principal, values=values, service=found)


@router.post("/{service_id}", response_class=HTMLResponse)
async def edit_referral(
    service_id: int, request: Request, principal: ManageReferrals, session: SessionDep
) -> Response:
    """Save a changed service."""
    found = await _service_or_page(request, session, principal, service_id)
    if isinstance(found, HTMLResponse):
        return found
    values = _values_sent(await request.form())
    try:
        saved = await update_service(session, service_id=service_id, fields=_fields(values))
    except CautivaError as error:
        return await _form_page(
            request, session, principal, values=values, service=found, error=str(error)
        )
    await audit(
        session,
        principal=principal,
        action="referral.set",
        target=str(service_id),
        now=utcnow(),
        details={"name": saved.service.name, "department": saved.service.department},
    )
    return after("/admin/referrals", " ".join(["Service saved.", *saved.warnings]))


@router.post("/{service_id}/active", response_class=HTMLResponse)
async def referral_active(
    service_id: int, request: Request, principal: ManageReferrals, session: SessionDep
) -> Response:
    """Turn a service off (people stop seeing it) or on again."""
    active = form_text(await request.form(), "active") == "yes"
    try:
        service = await set_service_active(session, service_id=service_id, active=active)
    except NotFound as error:
        return refused(request, principal, "Not found", str(error), 404)
    await audit(
        session,
        principal=principal,
        action="referral.activate" if active else "referral.deactivate",
        target=str(service_id),
        now=utcnow(),
        details={"name": service.name},
    )
    return after("/admin/referrals", "Service turned on." if active else "Service turned off.")
