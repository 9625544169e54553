"""Published versions of the rule packs: immutable, one active at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from auditcage import clock
from auditcage.storage.base import Base, CreatedAtMixin, JSONType, TZDateTime


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


class RuleDraft(CreatedAtMixin, Base):
    """A rule author's working copy of the rules directory, edited in the console.

    It starts from the active version (or the rules directory when nothing is published) and
    becomes a RuleVersion when published; until then nothing evaluates with it.
    """

    __tablename__ = "rule_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    author: Mapped[str] = mapped_column(String(100), index=True)
    base_version_id: Mapped[int | None] = mapped_column()
    files: Mapped[dict[str, Any]] = mapped_column(JSONType)  # relative path → file text
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|published|discarded
    published_version_id: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=clock.now)
