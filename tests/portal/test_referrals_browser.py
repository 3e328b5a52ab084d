"""Services near you in a real browser: headless Chromium, phone-sized, against `cautiva portal`.

A French-speaking person finishes the survey, sees the services near the point, taps Continue
and gets the login; a technician adds a service from the admin on a phone. The pages are kept
as `test-artifacts/splash-fr-referrals.png` and `test-artifacts/admin-referral-form.png`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from browser import PortalProcess, portal_fixture
from browser import browser as browser  # the fixture, for this module too
from browser import chromium_installed as chromium_installed  # autouse
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from test_admin_browser import AdminPhone

from cautiva.database import transaction
from cautiva.models import NasType, utcnow
from cautiva.points.service import NewPoint, add_point
from cautiva.referrals.service import ServiceFields, add_service, list_services
from cautiva.runtime import Runtime
from cautiva.staff.service import add_user
from splash_pages import mikrotik_query
from test_splash_browser import ANSWERS, MAX_SURVEY_PAGES, Phone

portal = portal_fixture("referrals")


def walk_to_referrals(phone: Phone) -> None:
    """French, consent, email and every survey page, up to the services step."""
    phone.press("lang", "fr")
    phone.tap_label("age", "yes")
    phone.tap_label("terms", "yes")
    phone.next()
    email = phone.control("input[name='email']")
    email.send_keys(f"personne.{uuid.uuid4().hex[:8]}@example.org")
    phone.navigate(lambda: email.send_keys(Keys.ENTER))
    for _ in range(MAX_SURVEY_PAGES):
        if phone.control("h1").text == "Services près d'ici":
            return
        assert not phone.message_page(), "the services step was skipped"
        for name, kind in phone.questions().items():
            phone.answer(name, kind, ANSWERS[name])
        phone.next()
    raise AssertionError("no end to the survey")


async def test_french_visit_sees_services_then_the_login(
    runtime: Runtime, portal: PortalProcess, browser: webdriver.Chrome, artifacts: Path
) -> None:
    where = f"Dept {uuid.uuid4().hex[:8]}"  # never a national service: see the splash tests
    async with transaction(runtime.sessions) as session:
        point = await add_point(
            session,
            new=NewPoint(
                name="Terminal Ipiales",
                nas_id=f"nas-{uuid.uuid4().hex[:10]}",
                nas_type=NasType.MIKROTIK,
                department=where,
                municipality="Ipiales",
            ),
        )
        for fields in (
            ServiceFields(
                name="Comedor San José",
                kind="Comedor comunitario",
                needs=["food"],
                department=where,
                municipality="Ipiales",
                address="Calle 5 # 3-21, barrio Centro",
                hours="Lun-Sáb 8:00-12:00",
                contact="+57 300 111 2222",
                languages=["es"],
            ),
            ServiceFields(
                name="Maison d'accueil des migrants",
                kind="Hébergement",
                needs=["shelter"],
                department=where,
                address="Carrera 2 # 10-40",
                hours="24 h / 24",
                contact="+57 602 712 3456 / accueil@ngo.example",
                languages=["es", "fr", "ht"],
            ),
        ):
            await add_service(session, fields=fields)
    phone = Phone(browser, portal.origin)
    phone.open(f"{portal.origin}/p/{point.nas_id}?{mikrotik_query()}")
    walk_to_referrals(phone)
    assert phone.lang() == "fr"
    cards = browser.find_elements(By.CSS_SELECTOR, ".referral h3")
    assert [card.text for card in cards] == ["Maison d'accueil des migrants", "Comedor San José"]
    call = browser.find_element(By.CSS_SELECTOR, "a[href='tel:+573001112222']")
    assert call.is_displayed() and call.text == "+57 300 111 2222"
    phone.screenshot(artifacts / "splash-fr-referrals.png")
    phone.navigate(phone.control("button.primary[name='nav'][value='next']").click)
    assert phone.message_page() and phone.control("h1").text == "Avant de vous connecter"
    phone.check_rendering()


async def test_technician_adds_a_service_on_a_phone(
    runtime: Runtime, portal: PortalProcess, browser: webdriver.Chrome, artifacts: Path
) -> None:
    email = f"tecnica.{uuid.uuid4().hex[:6]}@ngo.example"
    async with transaction(runtime.sessions) as session:
        _, password = await add_user(session, email=email, role="technician", now=utcnow())
    where = f"Dept {uuid.uuid4().hex[:8]}"
    phone = AdminPhone(browser, portal.origin)
    phone.open(f"{portal.origin}/admin/login?next=/admin/referrals")
    phone.type("email", email)
    phone.type("password", password)
    phone.submit("Sign in")
    assert phone.text("h1") == "Referral services"
    phone.tap_link("Add a service")
    phone.type("name", "Clínica de la Cruz Roja")
    phone.type("kind", "Salud")
    for need in ("health", "protection"):
        phone.tap_label("needs", need)
    phone.type("department", where)
    phone.type("contact", "+57 602 700 0000")
    for language in ("es", "ht"):
        phone.tap_label("languages", language)
    phone.screenshot(artifacts / "admin-referral-form.png")
    phone.submit("Add the service")
    assert phone.text(".flash") == "Service added."
    async with transaction(runtime.sessions) as session:
        (added,) = await list_services(session, department=where)
    assert added.needs == ["health", "protection"] and added.languages == ["es", "ht"]
    phone.check_rendering()
