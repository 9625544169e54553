"""pre-check log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import auditcage.storage.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "precheck_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("source_system", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("serial_no", sa.String(length=40), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("rules", json, nullable=False),
        sa.Column("rule_version", sa.String(length=16), nullable=False),
        sa.Column("state_seq", sa.Integer(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_precheck_log")),
    )
    op.create_index(op.f("ix_precheck_log_at"), "precheck_log", ["at"], unique=False)
    op.create_index(op.f("ix_precheck_log_record_id"), "precheck_log", ["record_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_precheck_log_record_id"), table_name="precheck_log")
    op.drop_index(op.f("ix_precheck_log_at"), table_name="precheck_log")
    op.drop_table("precheck_log")
