"""Console accounts. Passwords are stored as werkzeug scrypt hashes, never in clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from auditcage.storage.base import Base, CreatedAtMixin


class Account(CreatedAtMixin, Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    # Jurisdiction: the unit (R1) whose subtree the account sees.
    unit_code: Mapped[str | None] = mapped_column(String(32))
    # The staff member (R2) this account is, for the roles that act in the loop.
    staff_id: Mapped[str | None] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped on password change or sign-out everywhere: older sessions stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
