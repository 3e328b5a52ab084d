"""Alert rules, alerts and webhook deliveries; the referral directory; aggregates kept after purge.

Also: a per-point offline alert threshold, and responses.person_key nullable (purge clears it).

Revision ID: b9bde87dee42
Revises: ebc9e0f57fe8
Create Date: 2026-11-23 16:25:01.981905
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cautiva.models.base

revision: str = "b9bde87dee42"
down_revision: str | None = "ebc9e0f57fe8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=280), nullable=False),
        sa.Column("created_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name=op.f("ck_alert_rules_severity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_alert_rules_name")),
    )
    op.create_table(
        "referral_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(length=120), nullable=True),
        sa.Column("municipality", sa.String(length=120), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("hours", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_services")),
    )
    with op.batch_alter_table("referral_services", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referral_services_area", ["department", "municipality"], unique=False
        )

    op.create_table(
        "alert_rule_points",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_alert_rule_points_point_id_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alert_rule_points_rule_id_alert_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "point_id", name=op.f("pk_alert_rule_points")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=280), nullable=True),
        sa.Column("closed_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=280), nullable=True),
        sa.CheckConstraint(
            "kind IN ('response', 'point_offline', 'survey_drop')", name=op.f("ck_alerts_kind")
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'critical')", name=op.f("ck_alerts_severity")
        ),
        sa.CheckConstraint(
            "state IN ('open', 'acknowledged', 'closed')", name=op.f("ck_alerts_state")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["points.id"], name=op.f("fk_alerts_point_id_points"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name=op.f("fk_alerts_rule_id_alert_rules"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_point_id"), ["point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index("ix_alerts_state_created_at", ["state", "created_at"], unique=False)
        batch_op.create_index("uq_alerts_open_key", ["open_key"], unique=True)

    op.create_table(
        "point_seen_hours",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("hour", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_point_seen_hours_point_id_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("point_id", "hour", name=op.f("pk_point_seen_hours")),
    )
    op.create_table(
        "service_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.Column("input_bytes", sa.BigInteger(), nullable=False),
        sa.Column("output_bytes", sa.BigInteger(), nullable=False),
        sa.Column("logins", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_service_days_point_id_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("day", "point_id", name=op.f("pk_service_days")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", cautiva.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'dead')", name=op.f("ck_webhook_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_webhook_deliveries_alert_id_alerts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_deliveries_state_next", ["state", "next_attempt_at"], unique=False
        )

    with op.batch_alter_table("points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_alert_minutes", sa.Integer(), nullable=True))

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.alter_column("person_key", existing_type=sa.VARCHAR(length=64), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.alter_column("person_key", existing_type=sa.VARCHAR(length=64), nullable=False)

    with op.batch_alter_table("points", schema=None) as batch_op:
        batch_op.drop_column("offline_alert_minutes")

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_state_next")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_alert_id"))

    op.drop_table("webhook_deliveries")
    op.drop_table("service_days")
    op.drop_table("point_seen_hours")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("uq_alerts_open_key")
        batch_op.drop_index("ix_alerts_state_created_at")
        batch_op.drop_index(batch_op.f("ix_alerts_rule_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_point_id"))

    op.drop_table("alerts")
    op.drop_table("alert_rule_points")
    with op.batch_alter_table("referral_services", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_services_area")

    op.drop_table("referral_services")
    op.drop_table("alert_rules")
