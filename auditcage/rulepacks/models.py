"""Published versions of the rule packs: immutable, one active at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, CreatedAtMixin, JSONType


class RuleVersion(CreatedAtMixin, Base):
    """A published version of the whole rules directory. Never changed once written."""

    __tablename__ = "rule_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(JSONType)  # relative path → file text
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=False, index=True)
    previous_id: Mapped[int | None] = mapped_column()
    rules: Mapped[int] = mapped_column(default=0)
