"""Points get an SSID of their own (NULL: the point's name).

Revision ID: a1c0ffee0001
Revises: 969d6578f62f
Create Date: 2026-11-23 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1c0ffee0001"
down_revision: str | None = "969d6578f62f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ssid", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("points", schema=None) as batch_op:
        batch_op.drop_column("ssid")
