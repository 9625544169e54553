"""PUT /api/v1/reference/<dataset>: replace one reference dataset atomically (§7.2)."""

from __future__ import annotations

import io
from typing import Any

import orjson
from flask import Blueprint, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, NotFound

from api import db
from api.auth import admin_token_required
from api.schemas import ReferenceLoadOut
from auditcage.reference import service
from auditcage.reference.datasets import DATASETS
from auditcage.reference.files import parse_csv_rows

bp = Blueprint("reference_api", __name__, url_prefix="/api/v1/reference")


@bp.put("/<dataset>")
@admin_token_required
def replace(dataset: str) -> ResponseReturnValue:
    if dataset not in DATASETS:
        raise NotFound(f"unknown reference dataset {dataset!r}; known: {', '.join(DATASETS)}")
    rows = _rows()
    if not rows and request.args.get("allow_empty") != "true":
        # An empty body is far more often a broken export than a dataset that really emptied.
        raise BadRequest(
            f"no rows: this would empty reference dataset {dataset!r}; "
            "send ?allow_empty=true to empty it on purpose"
        )
    with db.transaction() as session:
        load = service.replace_dataset(session, dataset, rows, source="api", actor=g.actor)
    db.reference_cache().invalidate()
    return ReferenceLoadOut().dump(load)


def _rows() -> list[tuple[int, dict[str, Any]]]:
    body = request.get_data(cache=False)
    if request.mimetype == "text/csv":
        return list(parse_csv_rows(io.StringIO(body.decode("utf-8-sig"))))
    if request.mimetype in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        lines = [line for line in body.splitlines() if line.strip()]
        try:
            return [(n, orjson.loads(line)) for n, line in enumerate(lines, start=1)]
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"a line is not JSON: {exc}") from None
    try:
        rows = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc}") from None
    if not isinstance(rows, list):
        raise BadRequest("expected a JSON array of rows, NDJSON or CSV")
    return list(enumerate(rows, start=1))
