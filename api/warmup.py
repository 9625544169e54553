"""Warming the app before it serves: the reference cache of intake and the pre-check's rule
state (rules compiled, the stored records inside the rules' horizon re-read) are built now,
not on the first request, where the re-read could outlast a client's timeout or gunicorn's."""

from __future__ import annotations

import logging
import time

from flask import Flask

from api import db
from api.v1.precheck import follower

log = logging.getLogger(__name__)


def warm(app: Flask) -> int:
    """Build what the first requests would build; the record seq the pre-check has read to.
    Read-only: nothing is written, so a failure here leaves requests to build it lazily."""
    started = time.perf_counter()
    with app.app_context(), db.transaction() as session:
        db.reference_cache().index(session)
        seq = follower().warm(session)
    log.info("api warmed up to record seq %d in %.1f s", seq, time.perf_counter() - started)
    return seq
