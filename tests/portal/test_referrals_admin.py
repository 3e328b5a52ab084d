"""The referral directory's admin pages: list by department, add, edit, turn off, import."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from test_admin_pages import csrf_of, sign_in, user

from cautiva.database import transaction
from cautiva.referrals.service import get_service, list_services
from cautiva.runtime import Runtime
from portal_api.app import create_app


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the portal app."""
    app = create_app(runtime.settings)
    app.state.runtime = runtime
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        yield client


def department() -> str:
    """A department name no other test uses (never a national service: see the splash tests)."""
    return f"Dept {uuid.uuid4().hex[:8]}"


async def signed_in(runtime: Runtime, http: httpx.AsyncClient, role: str) -> str:
    """Sign in a new user with `role`; the CSRF token of their pages."""
    email, password = await user(runtime, role)
    assert (await sign_in(http, email, password)).status_code == 303
    return csrf_of((await http.get("/admin/referrals/new")).text) if role != "analyst" else ""


async def test_technician_adds_edits_and_turns_off_a_service(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    where = department()
    csrf = await signed_in(runtime, http, "technician")
    form = await http.get("/admin/referrals/new")
    assert (
        form.status_code == 200 and 'value="food"' in form.text and "A place to sleep" in form.text
    )
    assert '<a href="/admin/referrals">Referrals</a>' in form.text, "in the menu"
    fields: dict[str, str | list[str]] = {
        "csrf": csrf,
        "name": "Comedor <Sur>",
        "kind": "Comedor",
        "needs": ["food", "shelter"],
        "needs_other": "legal_clinic",
        "department": where,
        "municipality": "Ipiales",
        "address": "Calle 5",
        "hours": "8-12",
        "contact": "+57 300 111 2222",
        "languages": ["es", "fr"],
        "languages_other": "pt",
        "notes": "staff only",
    }
    added = await http.post("/admin/referrals/new", data=fields)
    assert added.status_code == 303, added.text
    shown = await http.get(added.headers["location"])
    assert "Service added." in shown.text and "legal_clinic" in shown.text, "the warning shows"
    listed = await http.get("/admin/referrals", params={"department": where})
    assert listed.status_code == 200
    assert "Comedor &lt;Sur&gt;" in listed.text and "<Sur>" not in listed.text
    assert (
        f"Ipiales, {where}" in listed.text and "Food, A place to sleep, legal_clinic" in listed.text
    )
    assert len(re.findall(r'<tr data-id="', listed.text)) == 1, "only that department's"
    async with transaction(runtime.sessions) as session:
        (service,) = await list_services(session, department=where)
    assert service.needs == ["food", "shelter", "legal_clinic"]
    assert service.languages == ["es", "fr", "pt"] and service.notes == "staff only"

    edit = await http.get(f"/admin/referrals/{service.id}")
    assert edit.status_code == 200
    assert re.search(r'value="food" checked', edit.text) and 'value="legal_clinic"' in edit.text
    assert 'name="languages_other" maxlength="100" placeholder="pt, ar…" value="pt"' in edit.text
    saved = await http.post(f"/admin/referrals/{service.id}", data=fields | {"hours": "8-14"})
    assert saved.status_code == 303, saved.text
    refused = await http.post(
        f"/admin/referrals/{service.id}", data=fields | {"needs": [], "needs_other": ""}
    )
    assert refused.status_code == 422 and "at least one need" in refused.text
    assert "Comedor &lt;Sur&gt;" in refused.text, "what was typed stays in the form"
    off = await http.post(f"/admin/referrals/{service.id}/active", data={"csrf": csrf})
    assert off.status_code == 303
    async with transaction(runtime.sessions) as session:
        stored = await get_service(session, service_id=service.id)
        assert stored.hours == "8-14" and stored.active is False
    page = await http.get(f"/admin/referrals/{service.id}")
    assert "turned off" in page.text and "Turn on again" in page.text

    forged = await http.post("/admin/referrals/new", data=fields | {"csrf": "wrong"})
    assert forged.status_code == 403
    missing = await http.get("/admin/referrals/999999999")
    assert missing.status_code == 404 and "no referral service" in missing.text
    assert (
        await http.post("/admin/referrals/999999999/active", data={"csrf": csrf})
    ).status_code == 404


async def test_csv_import_from_the_page(runtime: Runtime, http: httpx.AsyncClient) -> None:
    where = department()
    csrf = await signed_in(runtime, http, "admin")
    good = f"name,needs,department,languages\nAlbergue,shelter,{where},es ht\n".encode()
    done = await http.post(
        "/admin/referrals/import",
        data={"csrf": csrf},
        files={"file": ("services.csv", good, "text/csv")},
    )
    assert done.status_code == 303, done.text
    assert "Imported%3A%201%20added%2C%200%20updated." in done.headers["location"]
    bad = f"name,needs,department\n,shelter,{where}\n".encode()
    refused = await http.post(
        "/admin/referrals/import",
        data={"csrf": csrf},
        files={"file": ("services.csv", bad, "text/csv")},
    )
    assert refused.status_code == 422
    assert "Nothing imported: line 2: name must not be empty" in refused.text
    async with transaction(runtime.sessions) as session:
        assert [s.name for s in await list_services(session, department=where)] == ["Albergue"]


async def test_analysts_may_not_and_strangers_must_sign_in(
    runtime: Runtime, http: httpx.AsyncClient
) -> None:
    away = await http.get("/admin/referrals")
    assert away.status_code == 303 and away.headers["location"].startswith("/admin/login")
    await signed_in(runtime, http, "analyst")
    refused = await http.get("/admin/referrals")
    assert refused.status_code == 403
    home = await http.get("/admin")
    assert 'href="/admin/referrals"' not in home.text
