"""hits, alerts, worker cursor, rule versions

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 23:14:24.363867
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import auditcage.storage.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=500), nullable=False),
        sa.Column(
            "rule_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("serial_no", sa.String(length=40), nullable=True),
        sa.Column("first_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("last_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("open_until", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("late_data", sa.Boolean(), nullable=False),
        sa.Column("status_changed_at", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.Column("created_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_group_key"), ["group_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_serial_no"), ["serial_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_unit_code"), ["unit_code"], unique=False)

    op.create_table(
        "rule_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "files",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("rules", sa.Integer(), nullable=False),
        sa.Column("created_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_version")),
    )
    with op.batch_alter_table("rule_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_version_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_rule_version_digest"), ["digest"], unique=False)

    op.create_table(
        "worker_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("watermark", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.Column("ruleset_digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_cursor")),
    )
    op.create_table(
        "hit",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=16), nullable=False),
        sa.Column("sub", sa.String(length=4), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("aspect", sa.String(length=10), nullable=True),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column(
            "serials",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "record_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("upgrade", sa.Boolean(), nullable=False),
        sa.Column("late_data", sa.Boolean(), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("anchor_record_id", sa.String(length=64), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("created_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"], name=op.f("fk_hit_alert_id_alert")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hit")),
    )
    with op.batch_alter_table("hit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hit_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hit_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_hit_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index("ix_hit_rule_key", ["rule_id", "sub", "key"], unique=False)
        batch_op.create_index(batch_op.f("ix_hit_unit_code"), ["unit_code"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("hit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hit_unit_code"))
        batch_op.drop_index("ix_hit_rule_key")
        batch_op.drop_index(batch_op.f("ix_hit_rule_id"))
        batch_op.drop_index(batch_op.f("ix_hit_at"))
        batch_op.drop_index(batch_op.f("ix_hit_alert_id"))

    op.drop_table("hit")
    op.drop_table("worker_cursor")
    with op.batch_alter_table("rule_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_version_digest"))
        batch_op.drop_index(batch_op.f("ix_rule_version_active"))

    op.drop_table("rule_version")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_unit_code"))
        batch_op.drop_index(batch_op.f("ix_alert_status"))
        batch_op.drop_index(batch_op.f("ix_alert_serial_no"))
        batch_op.drop_index(batch_op.f("ix_alert_group_key"))

    op.drop_table("alert")
