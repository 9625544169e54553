"""report attachments and rule-pack drafts (the console)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import auditcage.storage.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_attachment_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("alert_id", "sha256", name=op.f("uq_attachment_alert_id")),
    )
    op.create_index(op.f("ix_attachment_alert_id"), "attachment", ["alert_id"], unique=False)
    op.create_table(
        "rule_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("files", json, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("created_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_draft")),
    )
    op.create_index(op.f("ix_rule_draft_author"), "rule_draft", ["author"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rule_draft_author"), table_name="rule_draft")
    op.drop_table("rule_draft")
    op.drop_index(op.f("ix_attachment_alert_id"), table_name="attachment")
    op.drop_table("attachment")
