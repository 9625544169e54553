"""One step of the acknowledgement loop on one alert, as one viewer: shared by the JSON API and
the console, so both check the same things in the same order.

Every function: may the viewer see the alert (jurisdiction and recusal; an alert they may not
see is "not found", as a missing one), may their role take this step (inspection steps), then one
lifecycle call. The lifecycle checks the rest (named owners, personal acknowledgement of red
alerts, nobody reviewing their own report, legal transitions) and writes the audit trail.
Nothing here commits: the caller's transaction holds the step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.alerts.models import Alert
from auditcage.audit import trail
from auditcage.errors import Forbidden, InvalidInput, NotFound
from auditcage.reference.index import ReferenceIndex
from notifications import alert_views, lifecycle
from notifications.access import Viewer, check_action
from notifications.attachment_models import Attachment
from notifications.lifecycle_models import AlertAssignment
from notifications.pipeline import Notifier, assignment_recipients
from notifications.report_schema import FeedbackReportIn

# A scanned statement or a video still fits; a whole video belongs in the evidence system.
MAX_ATTACHMENT_BYTES: Final = 10 * 1024 * 1024
# What a unit attaches to a report: documents and pictures. Anything else could be served back
# as something a browser runs; downloads are sent as attachments with nosniff besides.
ATTACHMENT_TYPES: Final = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "text/plain",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/zip",
    }
)


@dataclass(frozen=True)
class Upload:
    """A file as received, before it is stored."""

    name: str
    content_type: str
    data: bytes


def acting(
    session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int, action: str
) -> Alert:
    """The alert, if this viewer may see it and take this step; else NotFound / Forbidden."""
    alert = alert_views.get_visible(session, ref, viewer, alert_id)
    check_action(viewer, action)
    return alert


def acknowledge(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alert_id: int,
    *,
    delegated_to: str | None = None,
    reason: str | None = None,
) -> lifecycle.TrackingState:
    acting(session, ref, viewer, alert_id, "acknowledge")
    return lifecycle.acknowledge(
        session, alert_id, viewer.staff_id, delegated_to=delegated_to, reason=reason
    )


def submit_feedback(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alert_id: int,
    report: Mapping[str, Any],
    *,
    notifier: Notifier,
) -> lifecycle.TrackingState:
    """An initial feedback or the final report. Attachments must be files of this alert."""
    acting(session, ref, viewer, alert_id, "feedback")
    data = FeedbackReportIn().load(report)  # raises ValidationError naming the missing items
    _check_attachments(session, alert_id, data["attachments"])
    return lifecycle.submit_feedback(
        session,
        alert_id,
        viewer.staff_id,
        report,
        policy=notifier.deadlines,
        timekeeper=notifier.timekeeper,
    )


def review(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alert_id: int,
    outcome: str,
    comment: str = "",
    *,
    notifier: Notifier,
) -> lifecycle.TrackingState:
    """Accept the final report (and close the alert), or return it with a comment."""
    acting(session, ref, viewer, alert_id, "review")
    state = lifecycle.review(
        session, alert_id, viewer.staff_id, outcome, comment, timekeeper=notifier.timekeeper
    )
    if outcome == "accept":
        state = lifecycle.close(session, alert_id, viewer.staff_id, note="accepted")
    return state


def dismiss(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alert_id: int,
    reason_code: str,
    comment: str = "",
) -> lifecycle.TrackingState:
    acting(session, ref, viewer, alert_id, "dismiss")
    return lifecycle.dismiss(session, alert_id, viewer.staff_id, reason_code, comment)


def assign(
    session: Session,
    ref: ReferenceIndex,
    viewer: Viewer,
    alert_id: int,
    unit_code: str,
    *,
    notifier: Notifier,
) -> lifecycle.TrackingState:
    """Hand a blue alert to a unit (of the viewer's jurisdiction); it then runs as yellow."""
    acting(session, ref, viewer, alert_id, "assign")
    if ref.get("units", unit_code) is None:
        raise InvalidInput(f"unknown unit {unit_code!r}")
    owners, copies = assignment_recipients(session, notifier, alert_id, unit_code)
    return lifecycle.assign(
        session,
        alert_id,
        viewer.staff_id,
        unit_code,
        owners=owners,
        copies=copies,
        policy=notifier.deadlines,
        timekeeper=notifier.timekeeper,
    )


# --- attachments ------------------------------------------------------------------------------


def attach(
    session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int, upload: Upload
) -> Attachment:
    """Store a file for the alert's report, by one who handles it; the same content uploaded
    twice is stored once. Returns the stored row (what a report names as {name, sha256, size})."""
    acting(session, ref, viewer, alert_id, "feedback")
    assignment = session.scalar(select(AlertAssignment).where(AlertAssignment.alert_id == alert_id))
    handlers = set(assignment.owner_ids) if assignment else set()
    if assignment is not None and assignment.delegated_to:
        handlers.add(assignment.delegated_to)
    if viewer.staff_id not in handlers:
        raise Forbidden(f"{viewer.staff_id} neither owns nor was delegated alert {alert_id}")
    name = upload.name.replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
    if not name:
        raise InvalidInput("an attachment needs a file name")
    if len(upload.data) > MAX_ATTACHMENT_BYTES:
        raise InvalidInput(f"{name}: larger than {_size(MAX_ATTACHMENT_BYTES)}")
    content_type = upload.content_type.split(";", 1)[0].strip().lower()
    if content_type not in ATTACHMENT_TYPES:
        raise InvalidInput(f"{name}: files of type {content_type or 'unknown'} are not accepted")
    digest = hashlib.sha256(upload.data).hexdigest()
    stored = session.scalar(
        select(Attachment).where(Attachment.alert_id == alert_id, Attachment.sha256 == digest)
    )
    if stored is not None:
        return stored
    stored = Attachment(
        alert_id=alert_id,
        name=name,
        content_type=content_type,
        size=len(upload.data),
        sha256=digest,
        data=upload.data,
        uploaded_by=viewer.staff_id,
        uploaded_at=clock.now(),
    )
    session.add(stored)
    session.flush()
    trail.record(
        session,
        actor=viewer.staff_id,
        action="attachment.upload",
        subject=("alert", alert_id),
        detail={"name": name, "sha256": digest, "size": len(upload.data)},
    )
    return stored


def attachment(
    session: Session, ref: ReferenceIndex, viewer: Viewer, alert_id: int, sha256: str
) -> Attachment:
    """A file of an alert the viewer may see; the download is written to the audit trail."""
    alert_views.get_visible(session, ref, viewer, alert_id)
    stored = session.scalar(
        select(Attachment).where(Attachment.alert_id == alert_id, Attachment.sha256 == sha256)
    )
    if stored is None:
        raise NotFound(f"alert {alert_id} has no attachment {sha256}")
    trail.record(
        session,
        actor=viewer.staff_id,
        action="attachment.download",
        subject=("alert", alert_id),
        detail={"name": stored.name, "sha256": sha256},
    )
    return stored


def attachments_of(session: Session, alert_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(Attachment.alert_id == alert_id).order_by(Attachment.id)
        )
    )


def as_reference(stored: Attachment) -> dict[str, Any]:
    """How a report names a stored file (notifications.report_schema.AttachmentIn)."""
    return {"name": stored.name, "sha256": stored.sha256, "size": stored.size}


def _check_attachments(session: Session, alert_id: int, named: list[dict[str, Any]]) -> None:
    if not named:
        return
    wanted = {str(item["sha256"]) for item in named}
    known = set(
        session.scalars(
            select(Attachment.sha256).where(
                Attachment.alert_id == alert_id, Attachment.sha256.in_(wanted)
            )
        )
    )
    missing = sorted(wanted - known)
    if missing:
        raise InvalidInput(f"alert {alert_id} has no uploaded attachment {', '.join(missing)}")


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KB"
