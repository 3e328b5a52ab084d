"""When each point last sent an RFC 5997 Status-Server (for the admin's online status).

Revision ID: ebc9e0f57fe8
Revises: a1c0ffee0001
Create Date: 2026-11-23 15:35:54
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import cautiva.models.base

revision: str = 'ebc9e0f57fe8'
down_revision: str | None = 'a1c0ffee0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('point_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_server_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('point_status', schema=None) as batch_op:
        batch_op.drop_column('status_server_at')

