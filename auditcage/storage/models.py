"""Every mapped model, imported once so Base.metadata is complete (Alembic, create_all)."""

from auditcage.audit import models as audit_models
from auditcage.records import models as records_models
from auditcage.reference import models as reference_models
from auditcage.storage.base import Base

__all__ = ["Base", "audit_models", "records_models", "reference_models"]
