"""Operator-editable portal texts (terms, risk-prevention message) and daily funnel counters.

Revision ID: 22e55335168f
Revises: f33586475ca4
Create Date: 2026-11-23 14:15:29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cautiva.models.base

revision: str = "22e55335168f"
down_revision: str | None = "f33586475ca4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTCDateTime = cautiva.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "portal_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("video", sa.String(length=255), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("key IN ('terms', 'message')", name=op.f("ck_portal_texts_key")),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_portal_texts_point_id_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_texts")),
        sa.UniqueConstraint("key", "lang", "point_id", name="uq_portal_texts_key_lang_point_id"),
    )
    # NULL point_id rows are distinct under the unique constraint: allow one global row.
    op.create_index(
        "uq_portal_texts_key_lang_global",
        "portal_texts",
        ["key", "lang"],
        unique=True,
        postgresql_where=sa.text("point_id IS NULL"),
        sqlite_where=sa.text("point_id IS NULL"),
    )
    op.create_table(
        "portal_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_portal_counters_point_id_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", "point_id", "event", name=op.f("pk_portal_counters")),
    )


def downgrade() -> None:
    op.drop_table("portal_counters")
    op.drop_index("uq_portal_texts_key_lang_global", table_name="portal_texts")
    op.drop_table("portal_texts")
