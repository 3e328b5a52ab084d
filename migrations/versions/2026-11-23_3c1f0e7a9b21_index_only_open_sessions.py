"""Index only open sessions: drop the full indexes on updated_at and stopped_at.

Revision ID: 3c1f0e7a9b21
Revises: 9d56e73ee8f1
Create Date: 2026-11-23 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1f0e7a9b21"
down_revision: str | None = "9d56e73ee8f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_updated_at")
        batch_op.drop_index("ix_sessions_stopped_at")
    op.create_index(
        "ix_sessions_open",
        "sessions",
        ["point_id"],
        postgresql_where=sa.text("stopped_at IS NULL"),
        sqlite_where=sa.text("stopped_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_open", table_name="sessions")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_stopped_at", ["stopped_at"], unique=False)
        batch_op.create_index("ix_sessions_updated_at", ["updated_at"], unique=False)
