"""alert routing decisions (catalogue §4.2, §4.3)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import auditcage.storage.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    op.create_table(
        "alert_routing",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("routed_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("rule_severity", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=True),
        sa.Column("brigade_code", sa.String(length=32), nullable=True),
        sa.Column("identities", json, nullable=False),
        sa.Column("push", sa.String(length=80), nullable=False),
        sa.Column("lead_alert_id", sa.Integer(), nullable=True),
        sa.Column("decision", json, nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alert.id"], name=op.f("fk_alert_routing_alert_id_alert")
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_routing")),
    )
    for column in ("at", "severity", "operator_id", "brigade_code", "lead_alert_id"):
        op.create_index(op.f(f"ix_alert_routing_{column}"), "alert_routing", [column], unique=False)


def downgrade() -> None:
    for column in ("at", "severity", "operator_id", "brigade_code", "lead_alert_id"):
        op.drop_index(op.f(f"ix_alert_routing_{column}"), table_name="alert_routing")
    op.drop_table("alert_routing")
