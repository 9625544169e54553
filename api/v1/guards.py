"""Checks every /api/v1 request passes before its view: text PostgreSQL can store.

PostgreSQL refuses U+0000 in text and jsonb, so a NUL anywhere in a payload failed the whole
transaction with a 500 (a batch of records lost, not quarantined; schemathesis found it). Record
intake quarantines such a record alone, its copy stored escaped (auditcage/records/nul.py), so
`POST /api/v1/records` is let through; every other endpoint refuses the request and says why.
SQLite would store it, which is why only the PostgreSQL run showed it.
"""

from __future__ import annotations

import re
from typing import Final

from flask import Flask, request
from werkzeug.exceptions import BadRequest

# A JSON \u0000 escape: preceded by an even number of backslashes (`\\u0000` is the text "\u0000").
JSON_NUL: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)


def refuse_nul() -> None:
    # an unknown URL is a 404 whatever its body (routing raises after before_request)
    if request.url_rule is None or not request.path.startswith("/api/v1/"):
        return
    if request.endpoint == "records_api.ingest":  # judged per record by intake
        return
    body = request.get_data()  # cached: the view reads the same bytes
    if b"\x00" in body or (
        request.mimetype != "text/csv" and b"\\u0000" in body and JSON_NUL.search(body)
    ):
        raise BadRequest("text may not contain the NUL character (U+0000)")
