"""The alert pages: the inspectors' queue, an alert's file, the chiefs' inbox, the report form.

Views are adapters: they read the form, make one call of notifications.actions in one
transaction (the JSON API makes the same calls) and redirect to the page to show. Lists come
from notifications.queue, an alert's file from notifications.dossier; alert_display turns them
into what a page shows, with personal data masked unless a role that may unmask asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage, MultiDict

from api import db
from api.console import alert_display as display
from api.console import privacy
from api.console.auth import requires, user
from api.console.export import excel_response, wants_excel
from api.console.i18n import t
from api.notifier import current_notifier
from auditcage import clock
from auditcage.accounts.roles import Capability
from auditcage.alerts.models import AlertStatus
from auditcage.errors import AuditcageError, InvalidInput
from notifications import actions, queue
from notifications.dossier import Dossier, dossier
from notifications.lifecycle_models import FalsePositiveReason, ReportKind

bp = Blueprint("console_alerts", __name__, url_prefix="/console")

PER_PAGE: Final = 50
EXPORT_COLUMNS: Final = (
    ("id", "alerts.id"),
    ("severity", "alerts.severity"),
    ("status", "alerts.status"),
    ("rules", "alerts.rules"),
    ("unit", "common.unit"),
    ("operator_id", "alerts.operator"),
    ("serial_no", "alerts.serial_no"),
    ("first_at", "alerts.first_at"),
    ("next_due_at", "alerts.next_due"),
    ("overdue", "alerts.overdue"),
)


def _blank_to_none(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.strip() or None) if isinstance(v, str) else v for k, v in data.items()}


class QueueArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # page, format, unmask: read on their own

    severity = fields.String(load_default=None, validate=validate.OneOf(queue.SEVERITIES))
    status = fields.String(
        load_default=None, validate=validate.OneOf([s.value for s in AlertStatus])
    )
    unit_code = fields.String(load_default=None, validate=validate.Length(max=32))
    family = fields.String(load_default=None, validate=validate.OneOf(queue.RULE_FAMILIES))
    rule_id = fields.String(load_default=None, validate=validate.Length(max=16))
    operator_id = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    sort = fields.String(load_default="time", validate=validate.OneOf(queue.SORTS))


class BulkIn(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token, the filters to return to

    alert_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    operation = fields.String(required=True, validate=validate.OneOf(("assign", "dismiss")))
    unit_code = fields.String(load_default=None)
    reason_code = fields.String(
        load_default=None, validate=validate.OneOf([r.value for r in FalsePositiveReason])
    )
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


@bp.context_processor
def _helpers() -> dict[str, Any]:
    if not hasattr(g, "reference"):  # an error page before the capability check
        return {}
    return {"unit_name": display.unit_name, "names": display.rule_names()}


@bp.app_template_filter("alert_time")
def _alert_time(value: datetime) -> str:
    return clock.to_shanghai(value).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("alert_iso")
def _alert_iso(value: datetime) -> str:
    return clock.to_shanghai(value).isoformat()


# --- the queue --------------------------------------------------------------------------------


@bp.get("/alerts", endpoint="queue")
@requires(Capability.QUEUE)
def queue_view() -> ResponseReturnValue:
    args = QueueArgs().load(_blank_to_none(request.args.to_dict()))
    filters = queue.QueueFilter(**args)
    session, viewer = db.session(), user().viewer
    if wants_excel():
        rows = queue.queue_all(session, g.reference, viewer, filters)
        return excel_response("alerts", [display.export_row(r) for r in rows], EXPORT_COLUMNS)
    page = queue.queue_page(
        session,
        g.reference,
        viewer,
        filters,
        page=_int(request.args.get("page"), 1),
        per_page=PER_PAGE,
    )
    return render_template(
        "console/alerts/queue.html",
        page=page,
        filters=args,
        units=display.units(viewer.unit_code),
        statuses=[s.value for s in AlertStatus],
        severities=queue.SEVERITIES,
        families=queue.RULE_FAMILIES,
        sorts=queue.SORTS,
        reasons=[r.value for r in FalsePositiveReason],
        can_inspect=user().can(Capability.INSPECT),
        query=_query_without("page", "format"),
    )


@bp.post("/alerts/bulk")
@requires(Capability.INSPECT)
def bulk() -> ResponseReturnValue:
    """Assign the checked (blue) alerts to a unit, or dismiss them with one reason: each alert
    in its own transaction, so one refusal does not undo the others."""
    form = request.form
    data = BulkIn().load({**_blank_to_none(form.to_dict()), "alert_ids": form.getlist("alert_ids")})
    if data["operation"] == "assign" and not data["unit_code"]:
        raise ValidationError({"unit_code": [t("queue.bulk_needs_unit")]})
    if data["operation"] == "dismiss" and not data["reason_code"]:
        raise ValidationError({"reason_code": [t("queue.bulk_needs_reason")]})
    viewer = user().viewer
    done, refused = [], []
    for alert_id in data["alert_ids"]:
        try:
            with db.transaction() as session:
                if data["operation"] == "assign":
                    actions.assign(
                        session,
                        g.reference,
                        viewer,
                        alert_id,
                        data["unit_code"],
                        notifier=current_notifier(),
                    )
                else:
                    actions.dismiss(
                        session,
                        g.reference,
                        viewer,
                        alert_id,
                        data["reason_code"],
                        data["comment"] or "",
                    )
            done.append(alert_id)
        except AuditcageError as exc:
            refused.append(f"#{alert_id}: {exc}")
    if done:
        flash(t(f"queue.bulk_done_{data['operation']}", n=len(done)), "ok")
    for line in refused:
        flash(line, "error")
    return redirect(_back(url_for(".queue")))


# --- an alert's file --------------------------------------------------------------------------


@bp.get("/alerts/<int:alert_id>")
@requires(Capability.ALERTS)
def detail(alert_id: int) -> ResponseReturnValue:
    file = dossier(db.session(), g.reference, user().viewer, alert_id)
    clear = privacy.wants_clear()
    if clear:
        privacy.audit_clear_view(("alert", alert_id), "alert detail: evidence records")
    return render_template("console/alerts/detail.html", **display.detail_context(file, clear))


@bp.get("/alerts/<int:alert_id>/report")
@requires(Capability.ALERTS)
def report_form(alert_id: int) -> ResponseReturnValue:
    file = dossier(db.session(), g.reference, user().viewer, alert_id)
    kind = request.args.get("kind", ReportKind.FINAL)
    return _report_page(file, kind if kind in ("initial", "final") else "final")


def _report_page(
    file: Dossier,
    kind: str,
    *,
    form: MultiDict[str, str] | None = None,
    errors: Mapping[str, Any] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    context = display.detail_context(file, clear=False)
    return render_template(
        "console/alerts/report.html",
        **context,
        kind=kind,
        form=form or MultiDict(),
        errors=display.flat_errors(errors or {}),
    ), status


@bp.post("/alerts/<int:alert_id>/acknowledge")
@requires(Capability.ALERTS)
def acknowledge(alert_id: int) -> ResponseReturnValue:
    form = _blank_to_none(request.form.to_dict())
    with db.transaction() as session:
        actions.acknowledge(
            session,
            g.reference,
            user().viewer,
            alert_id,
            delegated_to=form.get("delegated_to"),
            reason=form.get("reason"),
        )
    flash(t("alerts.acknowledged", id=alert_id), "ok")
    return redirect(_back(url_for(".detail", alert_id=alert_id)))


@bp.post("/alerts/<int:alert_id>/feedback")
@requires(Capability.ALERTS)
def feedback(alert_id: int) -> ResponseReturnValue:
    """An initial feedback or the final report, with the files attached to it. A report that
    misses an item comes back as the form with the items named (and the files to choose again:
    nothing of a refused report is stored)."""
    form = request.form
    kind = form.get("kind", "final")
    viewer = user().viewer
    uploads = [_upload(f) for f in request.files.getlist("attachments") if f.filename]
    try:
        with db.transaction() as session:
            kept = {a.sha256: a for a in actions.attachments_of(session, alert_id)}
            named = [actions.as_reference(kept[s]) for s in form.getlist("keep") if s in kept]
            for upload in uploads:
                stored = actions.attach(session, g.reference, viewer, alert_id, upload)
                if stored.sha256 not in {n["sha256"] for n in named}:
                    named.append(actions.as_reference(stored))
            actions.submit_feedback(
                session,
                g.reference,
                viewer,
                alert_id,
                {**display.report_of(form), "attachments": named},
                notifier=current_notifier(),
            )
    except ValidationError as exc:
        file = dossier(db.session(), g.reference, viewer, alert_id)
        return _report_page(file, kind, form=form, errors=display.form_errors(exc), status=422)
    except InvalidInput as exc:
        file = dossier(db.session(), g.reference, viewer, alert_id)
        return _report_page(file, kind, form=form, errors={"_": [str(exc)]}, status=422)
    flash(t("alerts.report_filed" if kind == "final" else "alerts.initial_filed"), "ok")
    return redirect(_back(url_for(".detail", alert_id=alert_id)))


@bp.post("/alerts/<int:alert_id>/review")
@requires(Capability.INSPECT)
def review(alert_id: int) -> ResponseReturnValue:
    outcome = request.form.get("outcome", "")
    with db.transaction() as session:
        actions.review(
            session,
            g.reference,
            user().viewer,
            alert_id,
            outcome,
            request.form.get("comment", "").strip(),
            notifier=current_notifier(),
        )
    flash(t("alerts.accepted" if outcome == "accept" else "alerts.returned"), "ok")
    return redirect(url_for(".detail", alert_id=alert_id))


@bp.post("/alerts/<int:alert_id>/dismiss")
@requires(Capability.INSPECT)
def dismiss(alert_id: int) -> ResponseReturnValue:
    with db.transaction() as session:
        actions.dismiss(
            session,
            g.reference,
            user().viewer,
            alert_id,
            request.form.get("reason_code", ""),
            request.form.get("comment", "").strip(),
        )
    flash(t("alerts.dismissed"), "ok")
    return redirect(url_for(".detail", alert_id=alert_id))


@bp.post("/alerts/<int:alert_id>/assign")
@requires(Capability.INSPECT)
def assign(alert_id: int) -> ResponseReturnValue:
    with db.transaction() as session:
        actions.assign(
            session,
            g.reference,
            user().viewer,
            alert_id,
            request.form.get("unit_code", "").strip(),
            notifier=current_notifier(),
        )
    flash(t("alerts.assigned"), "ok")
    return redirect(url_for(".detail", alert_id=alert_id))


@bp.get("/alerts/<int:alert_id>/attachments/<sha256>")
@requires(Capability.ALERTS)
def download(alert_id: int, sha256: str) -> ResponseReturnValue:
    with db.transaction() as session:
        stored = actions.attachment(session, g.reference, user().viewer, alert_id, sha256)
    response = Response(stored.data, mimetype=stored.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=stored.name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the inbox --------------------------------------------------------------------------------


@bp.get("/inbox")
@requires(Capability.INBOX)
def inbox() -> ResponseReturnValue:
    viewer = user().viewer
    items = queue.inbox(db.session(), g.reference, viewer)
    return render_template(
        "console/alerts/inbox.html",
        items=items,
        unit_names=display.unit_names(),
    )


def _upload(storage: FileStorage) -> actions.Upload:
    """The file's content, read once; its (spooled) stream is closed at once."""
    with storage.stream:
        return actions.Upload(storage.filename or "", storage.mimetype or "", storage.read())


def _int(value: str | None, default: int) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


def _query_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k not in names and v}


def _back(default: str) -> str:
    """The page a form asks to return to, if it is a console page of this site."""
    target = request.form.get("next", "")
    if target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
