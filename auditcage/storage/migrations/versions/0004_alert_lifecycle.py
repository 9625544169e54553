"""alert lifecycle: assignments, deadlines, events, reports, reviews (catalogue §4.4)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import auditcage.storage.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at() -> auditcage.storage.base.TZDateTime:
    return auditcage.storage.base.TZDateTime()


def _alert_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["alert_id"], ["alert.id"], name=op.f(f"fk_{table}_alert_id_alert")
    )


def upgrade() -> None:

    op.create_table(
        "alert_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("owner_ids", _json(), nullable=False),
        sa.Column("copy_ids", _json(), nullable=False),
        sa.Column("routed_at", _at(), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("tracked_as", sa.String(length=8), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=True),
        sa.Column("delegated_to", sa.String(length=64), nullable=True),
        sa.Column("delegated_by", sa.String(length=64), nullable=True),
        sa.Column("delegation_reason", sa.Text(), nullable=True),
        _alert_fk("alert_assignment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_assignment")),
        sa.UniqueConstraint("alert_id", name=op.f("uq_alert_assignment_alert_id")),
    )

    op.create_table(
        "alert_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("started_at", _at(), nullable=False),
        sa.Column("due_at", _at(), nullable=False),
        sa.Column("original_amount", sa.Float(), nullable=False),
        sa.Column("original_unit", sa.String(length=16), nullable=False),
        sa.Column("granted_amount", sa.Float(), nullable=False),
        sa.Column("met_at", _at(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_check_at", _at(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _alert_fk("alert_deadline"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deadline")),
    )
    with op.batch_alter_table("alert_deadline", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_deadline_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_alert_deadline_due", ["active", "next_check_at"], unique=False)

    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("at", _at(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("detail", _json(), nullable=False),
        _alert_fk("alert_event"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_event_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alert_event_reason_code"), ["reason_code"], unique=False
        )

    op.create_table(
        "feedback_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", _at(), nullable=False),
        sa.Column("verification_methods", _json(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("persons_responsible", _json(), nullable=False),
        sa.Column("finding", sa.String(length=12), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("disposal", _json(), nullable=False),
        sa.Column("business_remedy", _json(), nullable=False),
        sa.Column("attachments", _json(), nullable=False),
        _alert_fk("feedback_report"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_report")),
    )
    with op.batch_alter_table("feedback_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_report_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("decided_at", _at(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("new_due_at", _at(), nullable=True),
        _alert_fk("review_decision"),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["feedback_report.id"],
            name=op.f("fk_review_decision_report_id_feedback_report"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
    )
    with op.batch_alter_table("review_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_decision_alert_id"), ["alert_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("review_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_decision_alert_id"))
    op.drop_table("review_decision")
    with op.batch_alter_table("feedback_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_report_alert_id"))
    op.drop_table("feedback_report")
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_event_reason_code"))
        batch_op.drop_index(batch_op.f("ix_alert_event_alert_id"))
    op.drop_table("alert_event")
    with op.batch_alter_table("alert_deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_deadline_due")
        batch_op.drop_index(batch_op.f("ix_alert_deadline_alert_id"))
    op.drop_table("alert_deadline")
    op.drop_table("alert_assignment")
