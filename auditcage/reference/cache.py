"""A process-wide ReferenceIndex, rebuilt only when a load has changed the reference data."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auditcage.calendar import WorkCalendar
from auditcage.records.enrich import Enricher
from auditcage.reference import service
from auditcage.reference.index import ReferenceIndex
from auditcage.reference.models import ReferenceLoad

# What records/enrich.py resolves; a missing one leaves its derived fields null.
ENRICHMENT_DATASETS = (
    "units",
    "staff",
    "duty_roster",
    "terminals",
    "business_types",
    "violation_codes",
    "vehicles",
    "licences",
)


class ReferenceCache:
    """Holds the index built for the latest reference load; one cheap query tells if it is stale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._index: ReferenceIndex | None = None
        self._enricher: Enricher | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._version = None

    def index(self, session: Session) -> ReferenceIndex:
        return self._current(session)[0]

    def enricher(self, session: Session) -> Enricher:
        return self._current(session)[1]

    def notice_source(self, session: Session):  # type: ignore[no-untyped-def]
        """A callable giving the data-quality notices of one validated record.

        "dataset_missing" is left out: a dataset that was never loaded is a fact about the
        installation, not about each record (`missing_datasets` reports it once).
        """
        enricher = self.enricher(session)

        def notices(record: dict[str, Any]) -> list[Any]:
            return [n for n in enricher.notices(record) if n.code != "dataset_missing"]

        return notices

    def missing_datasets(self, session: Session) -> list[str]:
        """Datasets the enrichment reads that have never been loaded."""
        index = self.index(session)
        return [name for name in ENRICHMENT_DATASETS if not index.loaded(name)]

    def _current(self, session: Session) -> tuple[ReferenceIndex, Enricher]:
        version = session.scalar(select(func.max(ReferenceLoad.id))) or 0
        with self._lock:
            if self._version != version or self._index is None or self._enricher is None:
                index = service.build_index(session)
                self._index = index
                self._enricher = Enricher(index, WorkCalendar(index))
                self._version = version
            return self._index, self._enricher
