"""Survey forms (published XLSForm versions), the forms each point shows, and responses.

Revision ID: f33586475ca4
Revises: 3c1f0e7a9b21
Create Date: 2026-11-23 13:18:19
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import cautiva.models.base

revision: str = "f33586475ca4"
down_revision: str | None = "3c1f0e7a9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTCDateTime = cautiva.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "survey_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('full', 'followup')", name=op.f("ck_survey_forms_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_forms")),
        sa.UniqueConstraint("form_id", "version", name="uq_survey_forms_form_id_version"),
    )
    op.create_table(
        "point_forms",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("full_form_id", sa.Integer(), nullable=True),
        sa.Column("followup_form_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["followup_form_id"],
            ["survey_forms.id"],
            name=op.f("fk_point_forms_followup_form_id_survey_forms"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["full_form_id"],
            ["survey_forms.id"],
            name=op.f("fk_point_forms_full_form_id_survey_forms"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_point_forms_point_id_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("point_id", name=op.f("pk_point_forms")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("survey_form_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("returning_person", sa.Boolean(), nullable=False),
        sa.Column("device_mac", sa.String(length=17), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["points.id"],
            name=op.f("fk_responses_point_id_points"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["survey_form_id"],
            ["survey_forms.id"],
            name=op.f("fk_responses_survey_form_id_survey_forms"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index("ix_responses_person_key", "responses", ["person_key"])
    op.create_index("ix_responses_point_id_created_at", "responses", ["point_id", "created_at"])
    op.create_index("ix_responses_survey_form_id", "responses", ["survey_form_id"])


def downgrade() -> None:
    op.drop_index("ix_responses_survey_form_id", table_name="responses")
    op.drop_index("ix_responses_point_id_created_at", table_name="responses")
    op.drop_index("ix_responses_person_key", table_name="responses")
    op.drop_table("responses")
    op.drop_table("point_forms")
    op.drop_table("survey_forms")
