"""Stored reference data: every load kept with its rows, and which load is current per dataset.

A load replaces its dataset as a whole: `ReferenceDataset.current_load_id` moves to the new load in
the same transaction that inserts its rows, so readers see the old rows or the new ones, never a
mix. Old loads keep their rows, so an alert can be explained later with the reference data that
was current when it fired (`ReferenceLoad.loaded_at`, `replaced_load_id`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auditcage import clock
from auditcage.storage.base import Base, JSONType, TZDateTime

# SQLite only autoincrements INTEGER PRIMARY KEY; every load of a master snapshot adds its rows.
RowIdType = BigInteger().with_variant(Integer(), "sqlite")


class ReferenceLoad(Base):
    """One load of one dataset: from a file or the API, by whom, when, and what it replaced."""

    __tablename__ = "reference_load"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(500))  # the file path, or "api"
    actor: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int]
    loaded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=clock.now)
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical rows (service)
    replaced_load_id: Mapped[int | None] = mapped_column(ForeignKey("reference_load.id"))


class ReferenceRow(Base):
    """One validated row of one load; `data` is the row as loaded (JSON-ready, ISO dates)."""

    __tablename__ = "reference_row"
    __table_args__ = (
        # history queries: "the versions of staff F520133 in every load"
        Index("ix_reference_row_dataset_key", "dataset", "key"),
    )

    id: Mapped[int] = mapped_column(RowIdType, primary_key=True, autoincrement=True)
    # build_index reads the rows of the current loads only
    load_id: Mapped[int] = mapped_column(
        ForeignKey("reference_load.id", ondelete="CASCADE"), index=True
    )
    dataset: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(Text)  # datasets.key_of: "a|b" for compound keys
    effective_from: Mapped[datetime | None] = mapped_column(TZDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(TZDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)


class ReferenceDataset(Base):
    """The current load of each dataset that has ever been loaded."""

    __tablename__ = "reference_dataset"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    current_load_id: Mapped[int] = mapped_column(ForeignKey("reference_load.id"))
