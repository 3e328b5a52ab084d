"""Referral matching: the needs a response declares, which services match, in which order."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from cautiva.database import transaction
from cautiva.errors import InvalidInput
from cautiva.models import NasType, Point, ReferralService
from cautiva.points.service import NewPoint, add_point
from cautiva.referrals.service import (
    MAX_REFERRALS,
    ServiceFields,
    add_service,
    check_fields,
    declared_needs,
    import_services,
    match_services,
    need_labels,
    needs_of_response,
    phone_uri,
    read_csv,
    referrals_for,
    set_service_active,
    split_codes,
)
from cautiva.runtime import Runtime
from cautiva.surveys import load_xlsform
from cautiva.surveys.defaults import DEFAULT_FORM


def service(
    service_id: int,
    name: str,
    needs: list[str],
    *,
    department: str | None = "Nariño",
    municipality: str | None = None,
    languages: list[str] | None = None,
    active: bool = True,
) -> ReferralService:
    """An unsaved service, as the repository would return it."""
    return ReferralService(
        id=service_id,
        name=name,
        kind="",
        needs=needs,
        department=department,
        municipality=municipality,
        address="",
        hours="",
        contact="",
        languages=languages or [],
        notes="",
        active=active,
    )


def test_declared_needs_are_the_needs_choices_and_protection_when_help_is_asked() -> None:
    assert declared_needs({"needs": ["food", "shelter"], "risks": ["none"]}) == ["food", "shelter"]
    assert declared_needs({"needs": ["none"]}) == []
    assert declared_needs({"needs": ["water"], "risks_help": "yes"}) == ["water", "protection"]
    assert declared_needs({"needs": ["protection"], "risks_help": "yes"}) == ["protection"]
    assert declared_needs({"needs": ["food"], "risks_help": "no"}) == ["food"]
    assert declared_needs({"needs": "health"}) == ["health"], "a select_one form keeps working"
    assert declared_needs({}) == []


def test_matching_keeps_services_of_the_place_that_share_a_need() -> None:
    services = [
        service(1, "Comedor Ipiales", ["food"], municipality="Ipiales"),
        service(2, "Albergue Pasto", ["shelter"], municipality="Pasto"),
        service(3, "Cruz Roja Nariño", ["health", "food"]),
        service(4, "Línea nacional", ["protection"], department=None),
        service(5, "Comedor Cauca", ["food"], department="Cauca"),
        service(6, "Comedor cerrado", ["food"], municipality="Ipiales", active=False),
    ]
    found = match_services(
        services,
        needs=["food", "protection"],
        lang="es",
        department="Nariño",
        municipality="Ipiales",
    )
    assert [r.name for r in found] == ["Comedor Ipiales", "Cruz Roja Nariño", "Línea nacional"]
    assert found[1].needs == ("food",), "only the person's needs it meets"
    none = match_services(services, needs=[], lang="es", department="Nariño", municipality=None)
    assert none == []
    nowhere = match_services(
        services, needs=["food", "protection"], lang="es", department=None, municipality=None
    )
    assert [r.name for r in nowhere] == ["Línea nacional"], "a point without a place: national"


def test_the_persons_language_comes_first_then_the_nearest_then_the_name() -> None:
    services = [
        service(1, "Zeta municipal", ["food"], municipality="Ipiales", languages=["es"]),
        service(2, "Alfa municipal", ["food"], municipality="Ipiales", languages=["es"]),
        service(3, "Departamental FR", ["food"], languages=["es", "fr"]),
        service(4, "National FR", ["food"], department=None, languages=["fr-CA"]),
        service(5, "National", ["food"], department=None),
    ]
    ranked = match_services(
        services, needs=["food"], lang="fr", department="Nariño", municipality="Ipiales"
    )
    assert [r.name for r in ranked] == [
        "Departamental FR",
        "National FR",
        "Alfa municipal",
        "Zeta municipal",
        "National",
    ]
    capped = match_services(
        [service(i, f"S{i:02}", ["food"]) for i in range(1, 20)],
        needs=["food"],
        lang="es",
        department="Nariño",
        municipality=None,
    )
    assert len(capped) == MAX_REFERRALS and capped[0].name == "S01"


def test_fields_are_tidied_and_every_problem_is_named() -> None:
    checked = check_fields(
        ServiceFields(
            name="  Casa   del Migrante ",
            needs=split_codes("Food, shelter food"),
            department=" Nariño ",
            municipality="",
            languages=split_codes("ES fr-CA"),
        )
    )
    assert checked.name == "Casa del Migrante" and checked.needs == ("food", "shelter")
    assert checked.department == "Nariño" and checked.municipality is None
    assert checked.languages == ("es", "fr-ca")
    with pytest.raises(InvalidInput) as caught:
        check_fields(
            ServiceFields(
                name=" ",
                needs=["none", "bad-code"],
                municipality="Ipiales",
                languages=["español"],
            )
        )
    message = str(caught.value)
    for part in ("name must not be empty", "municipality needs its department", "bad-code"):
        assert part in message
    assert "'none'" in message and "español" in message
    with pytest.raises(InvalidInput, match="at least one need"):
        check_fields(ServiceFields(name="X", needs=[]))


def test_csv_reads_commas_or_semicolons_and_names_bad_lines() -> None:
    text = (
        "\ufeffName;needs;department;municipality;contact;languages\n"
        "Comedor;food water;Nariño;Ipiales;+57 300 111 2222;es,fr\n"
        "\n"
        "Albergue;shelter;Nariño;;;es\n"
    )
    rows = read_csv(text)
    assert [r.name for r in rows] == ["Comedor", "Albergue"]
    assert rows[0].needs == ("food", "water") and rows[0].languages == ("es", "fr")
    assert rows[1].municipality is None
    with pytest.raises(InvalidInput) as caught:
        read_csv('name,needs\nOk,food\n,food\n"Bad",none\n')
    assert "line 3: name must not be empty" in str(caught.value)
    assert "line 4:" in str(caught.value)
    with pytest.raises(InvalidInput, match="use the columns"):
        read_csv("name,needs,langauges\nX,food,es\n")
    with pytest.raises(InvalidInput, match="empty"):
        read_csv("")


def test_phone_numbers_become_tel_links() -> None:
    assert phone_uri("+57 (300) 123-4567") == "tel:+573001234567"
    assert phone_uri("602 7 123456") == "tel:6027123456"
    assert phone_uri("info@ngo.example") is None
    assert phone_uri("Calle 5 # 3-21") is None
    assert phone_uri("123") is None


def test_need_names_come_from_the_form_in_the_persons_language() -> None:
    form = load_xlsform(Path(DEFAULT_FORM).read_bytes())
    assert need_labels(form, "fr")["food"] == "Nourriture"
    assert need_labels(form, "ht")["protection"] == "Sekirite ak pwoteksyon"
    assert need_labels(None, "en")["shelter"] == "A place to sleep"
    assert need_labels(None, "pt")["food"] == "Food", "a language we lack: English"


async def placed_point(runtime: Runtime, department: str, municipality: str | None) -> Point:
    """A point in a place no other test uses."""
    async with transaction(runtime.sessions) as session:
        return await add_point(
            session,
            new=NewPoint(
                name="Terminal",
                nas_id=f"nas-{uuid.uuid4().hex[:10]}",
                nas_type=NasType.MIKROTIK,
                department=department,
                municipality=municipality,
            ),
        )


async def test_the_directory_answers_for_the_points_place(runtime: Runtime) -> None:
    department = f"Dept {uuid.uuid4().hex[:8]}"
    point = await placed_point(runtime, department, "Ipiales")
    async with transaction(runtime.sessions) as session:
        here = await add_service(
            session,
            fields=ServiceFields(
                name="Comedor", needs=["food"], department=department, municipality="Ipiales"
            ),
        )
        await add_service(
            session,
            fields=ServiceFields(
                name="Albergue", needs=["shelter"], department=department, languages=["fr"]
            ),
        )
        await add_service(
            session,
            fields=ServiceFields(
                name="Elsewhere", needs=["food"], department=department, municipality="Pasto"
            ),
        )
        closed = await add_service(
            session, fields=ServiceFields(name="Closed", needs=["food"], department=department)
        )
        await set_service_active(session, service_id=closed.service.id, active=False)
    assert here.warnings == []
    async with transaction(runtime.sessions) as session:
        found = await referrals_for(
            session, point=point, needs=["food", "shelter", "health"], lang="fr"
        )
        assert [r.name for r in found] == ["Albergue", "Comedor"]
        assert await referrals_for(session, point=point, needs=[], lang="fr") == []


async def test_import_adds_then_updates_and_warns_of_needs_no_form_offers(
    runtime: Runtime,
) -> None:
    department = f"Dept {uuid.uuid4().hex[:8]}"
    rows = read_csv(
        "name,needs,department,municipality,hours\n"
        f"Comedor,food,{department},Ipiales,8-12\n"
        f"Asesoría,legal_clinic documentation,{department},,\n"
    )
    async with transaction(runtime.sessions) as session:
        first = await import_services(session, services=rows)
    assert (first.added, first.updated) == (2, 0)
    assert len(first.warnings) == 1 and "legal_clinic" in first.warnings[0]
    changed = read_csv(
        f"name,needs,department,municipality,hours\nComedor,food,{department},Ipiales,8-14\n"
    )
    async with transaction(runtime.sessions) as session:
        again = await import_services(session, services=changed)
        assert (again.added, again.updated) == (0, 1)
        point = await add_point(
            session,
            new=NewPoint(
                name="T",
                nas_id=f"nas-{uuid.uuid4().hex[:10]}",
                nas_type=NasType.MIKROTIK,
                department=department,
                municipality="Ipiales",
            ),
        )
        found = await referrals_for(session, point=point, needs=["food"], lang="es")
        assert [(r.name, r.hours) for r in found] == [("Comedor", "8-14")]
    with pytest.raises(InvalidInput, match="twice"):
        async with transaction(runtime.sessions) as session:
            await import_services(session, services=rows + rows)


async def test_needs_of_a_stored_response(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        assert await needs_of_response(session, response_id=-1) == []
