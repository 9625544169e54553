"""Files a unit attaches to its feedback (scans of statements, video stills, disposal notices).

Stored in the database, content-addressed per alert: a report names its attachments by sha256,
so a report cannot point at a file of another alert or one changed after upload.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from auditcage import clock
from auditcage.storage.base import Base, TZDateTime


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("alert_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=clock.now)
