"""Personal data on console pages: masked by default, clear only for a role that may unmask,
on request, and every clear view written to the audit trail."""

from __future__ import annotations

from typing import Any

from flask import request

from api import db
from api.console.auth import user
from auditcage.accounts.roles import Capability
from auditcage.audit import trail
from auditcage.records.masking import mask_record, mask_text


def wants_clear() -> bool:
    """The request asks for clear data (?unmask=1) and the user may see it."""
    return request.args.get("unmask") == "1" and user().can(Capability.UNMASK)


def shown_record(payload: dict[str, Any], clear: bool) -> dict[str, Any]:
    return payload if clear else mask_record(payload)


def shown_text(text: str, clear: bool) -> str:
    return text if clear else mask_text(text)


def audit_clear_view(subject: tuple[str, Any], what: str) -> None:
    """Call once per page that shows clear data, in the request's transaction."""
    with db.transaction() as session:
        trail.record(
            session,
            actor=user().actor,
            action="console.unmask",
            subject=subject,
            detail={"what": what, "path": request.path},
        )
