"""Queries on published survey forms and on the forms each point shows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import PointForms, SurveyForm


class SurveyFormRepository:
    """All database access for survey forms and point assignments."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, row_id: int) -> SurveyForm | None:
        """Return the published form with this row id, or None."""
        return await self.session.get(SurveyForm, row_id)

    async def get_version(self, form_id: str, version: str) -> SurveyForm | None:
        """Return the published (form_id, version), or None."""
        result = await self.session.execute(
            select(SurveyForm).where(SurveyForm.form_id == form_id, SurveyForm.version == version)
        )
        return result.scalar_one_or_none()

    async def newest(self, form_id: str) -> SurveyForm | None:
        """Return the most recently published version of `form_id`, or None."""
        result = await self.session.execute(
            select(SurveyForm)
            .where(SurveyForm.form_id == form_id)
            .order_by(SurveyForm.published_at.desc(), SurveyForm.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def kinds_of(self, form_id: str) -> set[str]:
        """Return the kinds under which versions of `form_id` were published."""
        result = await self.session.execute(
            select(SurveyForm.kind).where(SurveyForm.form_id == form_id).distinct()
        )
        return set(result.scalars())

    async def data(self, row_id: int) -> bytes:
        """Return the workbook bytes of a published form (deferred on the row itself)."""
        result = await self.session.execute(select(SurveyForm.data).where(SurveyForm.id == row_id))
        return result.scalar_one()

    async def list(self) -> Sequence[SurveyForm]:
        """Return every published form, by form_id then newest first."""
        result = await self.session.execute(
            select(SurveyForm).order_by(
                SurveyForm.form_id, SurveyForm.published_at.desc(), SurveyForm.id.desc()
            )
        )
        return result.scalars().all()

    async def add(self, row: SurveyForm) -> SurveyForm:
        """Add a newly published form and flush it so it gets its id."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def assignment(self, point_id: int) -> PointForms | None:
        """Return the forms assigned to a point, or None when it shows the defaults."""
        return await self.session.get(PointForms, point_id)

    async def add_assignment(self, row: PointForms) -> PointForms:
        """Add a point's first assignment and flush it."""
        self.session.add(row)
        await self.session.flush()
        return row
