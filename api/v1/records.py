"""POST /api/v1/records: intake from a source system, answering the outcome of every record."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from api import db
from api.auth import intake_rate_limited, source_key_required
from api.schemas import IntakeReportOut
from auditcage.records import intake
from auditcage.records.readers import parse_ndjson_lines

bp = Blueprint("records_api", __name__, url_prefix="/api/v1/records")

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


@bp.post("")
@source_key_required
@intake_rate_limited
def ingest() -> ResponseReturnValue:
    items = _batch_items()
    with db.transaction() as session:
        notices = db.reference_cache().notice_source(session)
        report = intake.accept_batch(
            session,
            items,
            source=f"api:{g.source_system}",
            notices=notices,
            expected_source_system=g.source_system,
        )
    # The report, not the status code, tells the source system what happened to each record.
    return IntakeReportOut().dump(report)


def _batch_items() -> list[tuple[int, Any]]:
    """A JSON array (positions are 0-based indexes) or NDJSON (positions are 1-based lines)."""
    body = request.get_data(cache=False)
    if request.mimetype in NDJSON_TYPES:
        return list(parse_ndjson_lines(body.splitlines()))
    try:
        batch = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    if isinstance(batch, dict):
        batch = [batch]
    if not isinstance(batch, list):
        raise BadRequest("expected a JSON array of records, or NDJSON")
    return list(enumerate(batch))
