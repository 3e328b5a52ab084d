"""Staff users, API tokens and the audit log; dated point locations and router heartbeats.

Revision ID: 969d6578f62f
Revises: 22e55335168f
Create Date: 2026-11-23 14:51:46
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


import cautiva.models.base

revision: str = '969d6578f62f'
down_revision: str | None = '22e55335168f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'technician', 'analyst')", name=op.f('ck_api_tokens_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'technician', 'analyst')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=280), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('point_locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=120), nullable=True),
    sa.Column('municipality', sa.String(length=120), nullable=True),
    sa.Column('site_type', sa.String(length=40), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('valid_from', cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_to', cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('moved_by', sa.String(length=280), nullable=False),
    sa.ForeignKeyConstraint(['point_id'], ['points.id'], name=op.f('fk_point_locations_point_id_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_locations'))
    )
    with op.batch_alter_table('point_locations', schema=None) as batch_op:
        batch_op.create_index('ix_point_locations_point_from', ['point_id', 'valid_from'], unique=False)

    op.create_table('point_status',
    sa.Column('point_id', sa.Integer(), nullable=False),
    sa.Column('heartbeat_at', cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('uptime_seconds', sa.Integer(), nullable=True),
    sa.Column('load_1m', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['point_id'], ['points.id'], name=op.f('fk_point_status_point_id_points'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('point_id', name=op.f('pk_point_status'))
    )


def downgrade() -> None:
    op.drop_table('point_status')
    with op.batch_alter_table('point_locations', schema=None) as batch_op:
        batch_op.drop_index('ix_point_locations_point_from')

    op.drop_table('point_locations')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('users')
    op.drop_table('api_tokens')
