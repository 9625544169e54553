"""initial schema: records, quarantine, notices, reference data, audit trail

Revision ID: 0001
Revises:
Create Date: 2026-12-01 22:47:39.317003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import auditcage.storage.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("subject_type", sa.String(length=40), nullable=True),
        sa.Column("subject_id", sa.String(length=120), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_entry_hash")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_entry_prev_hash")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entry_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "data_quality_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("created_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_quality_notice")),
    )
    with op.batch_alter_table("data_quality_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_quality_notice_code"), ["code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_data_quality_notice_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "quarantined_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("raw_text", sa.Text(), nullable=True),
        sa.Column(
            "reasons",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("codes", sa.String(length=400), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("replayed_at", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.Column("replayed_record_id", sa.String(length=64), nullable=True),
        sa.Column("replayed_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_record")),
    )
    with op.batch_alter_table("quarantined_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quarantined_record_codes"), ["codes"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quarantined_record_record_id"), ["record_id"], unique=False
        )
        batch_op.create_index("ix_quarantined_record_state_id", ["state", "id"], unique=False)

    op.create_table(
        "record",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("source_system", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("serial_no", sa.String(length=40), nullable=False),
        sa.Column("action_time", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.String(length=64), nullable=False),
        sa.Column("plate_no", sa.String(length=16), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("license_no", sa.String(length=32), nullable=True),
        sa.Column("subject_id_no", sa.String(length=32), nullable=True),
        sa.Column("agent_id_no", sa.String(length=32), nullable=True),
        sa.Column("violation_code", sa.String(length=16), nullable=True),
        sa.Column("document_no", sa.String(length=64), nullable=True),
        sa.Column("has_warnings", sa.Boolean(), nullable=False),
        sa.Column("ingested_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("ingest_source", sa.String(length=200), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_record")),
        sa.UniqueConstraint("record_id", name=op.f("uq_record_record_id")),
    )
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_record_action_time"), ["action_time"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_agent_id_no"), ["agent_id_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_document_no"), ["document_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_license_no"), ["license_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_operator_id"), ["operator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_plate_no"), ["plate_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_serial_no"), ["serial_no"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_record_subject_id_no"), ["subject_id_no"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_record_unit_code"), ["unit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_vin"), ["vin"], unique=False)

    op.create_table(
        "reference_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_at", auditcage.storage.base.TZDateTime(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("replaced_load_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["replaced_load_id"],
            ["reference_load.id"],
            name=op.f("fk_reference_load_replaced_load_id_reference_load"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_load")),
    )
    with op.batch_alter_table("reference_load", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reference_load_dataset"), ["dataset"], unique=False)

    op.create_table(
        "reference_dataset",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("current_load_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_load_id"],
            ["reference_load.id"],
            name=op.f("fk_reference_dataset_current_load_id_reference_load"),
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reference_dataset")),
    )
    op.create_table(
        "reference_row",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=40), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("effective_from", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.Column("effective_to", auditcage.storage.base.TZDateTime(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["reference_load.id"],
            name=op.f("fk_reference_row_load_id_reference_load"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reference_row")),
    )
    with op.batch_alter_table("reference_row", schema=None) as batch_op:
        batch_op.create_index("ix_reference_row_dataset_key", ["dataset", "key"], unique=False)
        batch_op.create_index(batch_op.f("ix_reference_row_load_id"), ["load_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("reference_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_row_load_id"))
        batch_op.drop_index("ix_reference_row_dataset_key")

    op.drop_table("reference_row")
    op.drop_table("reference_dataset")
    with op.batch_alter_table("reference_load", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reference_load_dataset"))

    op.drop_table("reference_load")
    with op.batch_alter_table("record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_vin"))
        batch_op.drop_index(batch_op.f("ix_record_unit_code"))
        batch_op.drop_index(batch_op.f("ix_record_subject_id_no"))
        batch_op.drop_index(batch_op.f("ix_record_serial_no"))
        batch_op.drop_index(batch_op.f("ix_record_plate_no"))
        batch_op.drop_index(batch_op.f("ix_record_operator_id"))
        batch_op.drop_index(batch_op.f("ix_record_license_no"))
        batch_op.drop_index(batch_op.f("ix_record_document_no"))
        batch_op.drop_index(batch_op.f("ix_record_agent_id_no"))
        batch_op.drop_index(batch_op.f("ix_record_action_time"))

    op.drop_table("record")
    with op.batch_alter_table("quarantined_record", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantined_record_state_id")
        batch_op.drop_index(batch_op.f("ix_quarantined_record_record_id"))
        batch_op.drop_index(batch_op.f("ix_quarantined_record_codes"))

    op.drop_table("quarantined_record")
    with op.batch_alter_table("data_quality_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_data_quality_notice_record_id"))
        batch_op.drop_index(batch_op.f("ix_data_quality_notice_code"))

    op.drop_table("data_quality_notice")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entry_subject_id"))
        batch_op.drop_index(batch_op.f("ix_audit_entry_action"))

    op.drop_table("audit_entry")
