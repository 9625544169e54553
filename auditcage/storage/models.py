"""Every mapped model, imported once so Base.metadata is complete (Alembic, create_all)."""

from auditcage.accounts import models as accounts_models
from auditcage.alerts import models as alerts_models
from auditcage.audit import models as audit_models
from auditcage.engine import models as engine_models
from auditcage.precheck import models as precheck_models
from auditcage.records import models as records_models
from auditcage.reference import models as reference_models
from auditcage.rulepacks import models as rulepacks_models
from auditcage.storage.base import Base
from notifications import (
    attachment_models,  # noqa: F401  (Alembic sees the report attachments)
    lifecycle_models,  # noqa: F401  (Alembic sees the §4.4 loop)
    routing_models,  # noqa: F401  (Alembic sees the routing decisions)
)
from notifications import models as notifications_models  # noqa: F401  (Alembic sees the outbox)

__all__ = [
    "Base",
    "accounts_models",
    "alerts_models",
    "audit_models",
    "engine_models",
    "precheck_models",
    "records_models",
    "reference_models",
    "rulepacks_models",
]
