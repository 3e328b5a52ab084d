"""The generated analytics data set writes what it says it wrote, in answers the forms accept."""

from __future__ import annotations

from collections import Counter

from analytics_dataset import make_dataset
from sqlalchemy import func, select

from cautiva.forms.service import ensure_default_forms, parsed_form
from cautiva.models import AccountingSession, Response
from cautiva.runtime import Runtime
from cautiva.surveys.engine import validate_all


async def test_the_data_set_stores_every_record_it_returns(runtime: Runtime) -> None:
    dataset = await make_dataset(runtime)
    ids = dataset.point_ids()
    async with runtime.sessions() as db:
        stored = await db.scalar(
            select(func.count()).select_from(Response).where(Response.point_id.in_(ids))
        )
        sessions = await db.scalar(
            select(func.count())
            .select_from(AccountingSession)
            .where(AccountingSession.point_id.in_(ids))
        )
        forms = {row.form_id: await parsed_form(db, row) for row in await ensure_default_forms(db)}
    assert stored == len(dataset.responses) and sessions == len(dataset.sessions)
    assert len(dataset.departments) == 3 and len(ids) == 6
    visits = Counter(r.person_key for r in dataset.responses if r.person_key)
    assert any(count >= 3 for count in visits.values())
    assert any(r.person_key is None for r in dataset.responses)
    for response in dataset.responses:
        _, errors = validate_all(forms[response.form_id], response.answers, "en")
        assert errors == {}, (response.form_id, response.answers)
    for question, (code, count) in dataset.rare.items():
        picked = 0
        for r in dataset.responses:
            value = r.answers.get(question)
            picked += code in (value if isinstance(value, list) else [value])
        assert picked == count
