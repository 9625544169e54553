"""POST /api/v1/precheck: before completing a transaction, may the window system go ahead?

The answer is allow, review (后台审核: back-office review before completion) or block, with the
rules that fired and their (masked) messages. Nothing changes but the pre-check log: the record
is not stored, no hit is written, no window moves.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from api import db
from api.auth import source_key_required
from api.schemas import InvalidRecordOut, PrecheckOut
from auditcage.precheck.follower import Follower
from auditcage.precheck.service import precheck

bp = Blueprint("precheck_api", __name__, url_prefix="/api/v1/precheck")


def follower() -> Follower:
    """The app's one follower (its state is rebuilt once, then followed), made on first use."""
    found = current_app.extensions.get("auditcage.precheck")
    if found is None:
        found = current_app.extensions["auditcage.precheck"] = Follower(db.settings().rules_dir)
    return found


@bp.post("")
@source_key_required
def check() -> ResponseReturnValue:
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        raise BadRequest("expected one record as a JSON object")
    with db.transaction() as session:
        answer = precheck(session, follower(), raw, source_system=g.source_system)
    if answer.decision is None:
        invalid = {
            "error": "invalid_record",
            "record_id": answer.record_id,
            "problems": answer.problems,
        }
        return InvalidRecordOut().dump(invalid), 422
    return PrecheckOut().dump(answer)
