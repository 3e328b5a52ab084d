"""Queries on the referral directory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from cautiva.models import Point, ReferralService


class ReferralRepository:
    """All database access for referral services."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, service_id: int) -> ReferralService | None:
        """Return the service with this id, or None."""
        return await self.session.get(ReferralService, service_id)

    async def list(
        self, *, department: str | None = None, active_only: bool = False
    ) -> Sequence[ReferralService]:
        """Return services by area then name; with `department`, only that department's."""
        query = select(ReferralService).order_by(
            ReferralService.department.nulls_first(),
            ReferralService.municipality.nulls_first(),
            ReferralService.name,
            ReferralService.id,
        )
        if department is not None:
            query = query.where(ReferralService.department == department)
        if active_only:
            query = query.where(ReferralService.active.is_(True))
        return (await self.session.execute(query)).scalars().all()

    async def find(
        self, *, name: str, department: str | None, municipality: str | None
    ) -> ReferralService | None:
        """Return the first service with this name in exactly this area, or None."""
        query = (
            select(ReferralService)
            .where(
                ReferralService.name == name,
                ReferralService.department.is_not_distinct_from(department),
                ReferralService.municipality.is_not_distinct_from(municipality),
            )
            .order_by(ReferralService.id)
            .limit(1)
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def covering(
        self, *, department: str | None, municipality: str | None
    ) -> Sequence[ReferralService]:
        """Return the active services whose area covers a place (national ones included)."""
        area: list[ColumnElement[bool]] = [ReferralService.department.is_(None)]
        if department is not None:
            in_department = ReferralService.department == department
            whole = ReferralService.municipality.is_(None)
            area.append(
                and_(in_department, whole)
                if municipality is None
                else and_(in_department, or_(whole, ReferralService.municipality == municipality))
            )
        query = select(ReferralService).where(ReferralService.active.is_(True), or_(*area))
        return (await self.session.execute(query)).scalars().all()

    async def add(self, service: ReferralService) -> ReferralService:
        """Add a new service and flush it so it gets its id."""
        self.session.add(service)
        await self.session.flush()
        return service

    async def departments(self) -> Sequence[str]:
        """Return the department names points and services use, sorted."""
        query = union(
            select(Point.department.label("name")).where(Point.department.is_not(None)),
            select(ReferralService.department.label("name")).where(
                ReferralService.department.is_not(None)
            ),
        )
        names = (await self.session.execute(query)).scalars().all()
        return sorted({name for name in names if name}, key=str.casefold)

    async def municipalities(self) -> Sequence[str]:
        """Return the municipality names points and services use, sorted."""
        query = union(
            select(Point.municipality.label("name")).where(Point.municipality.is_not(None)),
            select(ReferralService.municipality.label("name")).where(
                ReferralService.municipality.is_not(None)
            ),
        )
        names = (await self.session.execute(query)).scalars().all()
        return sorted({name for name in names if name}, key=str.casefold)
