"""What the alert pages show: an alert's file made into page values (personal data masked
unless cleared), rule titles from the loaded ruleset, unit and staff labels, the report form read
back into the report schema's shape. No view and no state change here (api/console/alerts.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from flask import current_app, g
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from api import db
from api.console import privacy
from api.console.auth import user
from api.console.i18n import language, t
from api.notifier import current_notifier
from auditcage import clock
from auditcage.accounts.roles import Capability
from auditcage.alerts.models import AlertStatus
from auditcage.records.masking import mask_name
from auditcage.rulepacks.model import Rule
from auditcage.rulepacks.packs import RulePackError
from notifications import queue
from notifications.dossier import Dossier
from notifications.lifecycle_models import (
    BusinessRemedy,
    Disposal,
    FalsePositiveReason,
    Finding,
    VerificationMethod,
)

SHOWN_PAYLOAD_CHARS: Final = 300  # one value of an evidence record, on the page
ACKNOWLEDGEABLE: Final = (AlertStatus.PUSHED,)
REPORTABLE: Final = (AlertStatus.ACKNOWLEDGED, AlertStatus.INITIAL_FEEDBACK, AlertStatus.RETURNED)
DISMISSABLE: Final = (
    AlertStatus.NEW,
    AlertStatus.PUSHED,
    AlertStatus.ACKNOWLEDGED,
    AlertStatus.INITIAL_FEEDBACK,
)


def detail_context(file: Dossier, clear: bool) -> dict[str, Any]:
    viewer = user().viewer
    alert = file.alert
    status = AlertStatus(alert.status)
    handler = viewer.staff_id in file.handlers
    owner = file.assignment is not None and viewer.staff_id in file.assignment.owner_ids
    inspect = user().can(Capability.INSPECT) and not handler
    tracked_as = file.assignment.tracked_as if file.assignment else alert.severity
    rules = rules_by_id()
    return {
        "file": file,
        "alert": alert,
        "clear": clear,
        "can_unmask": user().can(Capability.UNMASK),
        "rules": [rule_view(rule_id, rules, file) for rule_id in alert.rule_ids],
        "hits": [
            {
                "hit": h,
                "title": rule_title(rules, h.rule_id, h.sub),
                "message": privacy.shown_text(h.message, clear),
            }
            for h in file.hits
        ],
        "records": [record_view(r, clear) for r in file.records],
        "staff": lambda staff_id: staff_label(staff_id, clear),
        "reasons": [r.value for r in FalsePositiveReason],
        "methods": [m.value for m in VerificationMethod],
        "findings": [f.value for f in Finding],
        "disposals": [d.value for d in Disposal],
        "remedies": [r.value for r in BusinessRemedy],
        "units": units(viewer.unit_code),
        "may": {
            "acknowledge": owner and status in ACKNOWLEDGEABLE,
            "delegate": tracked_as != "red",
            "initial": handler
            and status == AlertStatus.ACKNOWLEDGED
            and tracked_as in initial_feedback_severities(),
            "final": handler and status in REPORTABLE,
            "review": inspect and status == AlertStatus.FEEDBACK_SUBMITTED,
            "dismiss": inspect and status in DISMISSABLE,
            "assign": inspect and alert.severity == "blue" and status == AlertStatus.NEW,
        },
        "last_return": next((r for r in reversed(file.reviews) if r.outcome == "return"), None),
        "report_text": lambda text: privacy.shown_text(text or "", clear),
    }


def rule_view(rule_id: str, rules: Mapping[str, list[Rule]], file: Dossier) -> dict[str, Any]:
    """The rule's title and the clauses that fired (every clause if none of the hits says)."""
    fired = {h.sub for h in file.hits if h.rule_id == rule_id}
    found = [r for r in rules.get(rule_id, []) if r.sub in fired] or rules.get(rule_id, [])
    zh = language() == "zh"
    return {
        "id": rule_id,
        "name": rule_title(rules, rule_id, None),
        "clauses": [
            {
                "label": r.label,
                "name": r.name.zh if zh else r.name.en,
                "description": r.description,
                "severity": r.severity.value if hasattr(r.severity, "value") else r.severity,
                "pack": r.pack,
            }
            for r in found
        ],
    }


def rule_title(rules: Mapping[str, list[Rule]], rule_id: str, sub: str | None) -> str:
    found = rules.get(rule_id, [])
    rule = next((r for r in found if r.sub == sub), found[0] if found else None)
    if rule is None:
        return rule_id
    return rule.name.zh if language() == "zh" else rule.name.en


def rule_names() -> dict[str, str]:
    rules = rules_by_id()
    return {rule_id: rule_title(rules, rule_id, None) for rule_id in rules}


def rules_by_id() -> dict[str, list[Rule]]:
    """The rules of the active published version (else the rules directory), by id; loaded
    once per version per application."""
    from auditcage.engine.session import load_rules
    from auditcage.rulepacks import publish

    version = publish.active_version(db.session())
    label = f"v{version.id}" if version is not None else "local"
    cached = current_app.extensions.get("auditcage.console.rules")
    if cached is not None and cached[0] == label:
        return cached[1]
    try:
        if version is None:
            ruleset, _ = load_rules(db.settings().rules_dir)
        else:
            with publish.materialised(version) as directory:
                ruleset, _ = load_rules(directory)
    except RulePackError:  # a rules directory being edited: rule ids stand in for titles
        return {}
    by_id: dict[str, list[Rule]] = {}
    for rule in ruleset.rules:
        by_id.setdefault(rule.id, []).append(rule)
    current_app.extensions["auditcage.console.rules"] = (label, by_id)
    return by_id


def record_view(record: Any, clear: bool) -> dict[str, Any]:
    payload = privacy.shown_record(record.payload or {}, clear)
    shown = ("record_id", "serial_no", "business_type", "action", "action_time", "unit_code")
    return {
        "record": record,
        "operator": record.operator_id,
        "fields": [(k, v) for k, v in flatten(payload) if k not in shown],
    }


def flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and any(isinstance(i, Mapping | list) for i in value):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{index}]")
    elif value is not None and value != "" and value != []:
        text = "、".join(map(str, value)) if isinstance(value, list) else str(value)
        if len(text) > SHOWN_PAYLOAD_CHARS:
            text = text[:SHOWN_PAYLOAD_CHARS] + "…"
        yield prefix, text


def staff_label(staff_id: str | None, clear: bool) -> str:
    if not staff_id:
        return ""
    row = g.reference.get("staff", staff_id)
    name = str(row.get("name") or "") if row else ""
    if not name:
        return staff_id
    return f"{name if clear else mask_name(name)}（{staff_id}）"


def unit_name(code: str | None) -> str:
    if not code:
        return ""
    row = g.reference.get("units", code)
    return str(row.get("name") or code) if row else code


def unit_names() -> dict[str, str]:
    return {
        str(u["unit_code"]): str(u.get("name") or u["unit_code"]) for u in g.reference.rows("units")
    }


def units(root: str | None) -> list[tuple[str, str]]:
    """The units of a jurisdiction, as (code, name), in tree order of their codes."""
    codes = queue.subtree(g.reference, root)
    return sorted((code, unit_name(code)) for code in codes)


def initial_feedback_severities() -> set[str]:
    deadlines = current_notifier().deadlines
    return {s for s in queue.SEVERITIES if deadlines.of(s).initial_feedback is not None}


def export_row(row: queue.QueueRow) -> dict[str, Any]:
    alert = row.alert
    return {
        "id": alert.id,
        "severity": t(f"severity.{alert.severity}"),
        "status": t(f"alerts.status.{alert.status}"),
        "rules": "、".join(alert.rule_ids),
        "unit": unit_name(alert.unit_code),
        "operator_id": row.operator_id or "",
        "serial_no": alert.serial_no or "",
        "first_at": clock.to_shanghai(alert.first_at),
        "next_due_at": row.next_due_at,
        "overdue": t("alerts.yes") if row.overdue else "",
    }


PERSONS_SPLIT = re.compile(r"[\n,，、;；]+")


def report_of(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form as the report schema reads it (notifications.report_schema.FeedbackReportIn)."""
    kind = form.get("kind", "final")
    report: dict[str, Any] = {
        "kind": kind,
        "facts": form.get("facts", "").strip(),
        "verification_methods": form.getlist("verification_methods"),
        "persons_responsible": [
            p.strip() for p in PERSONS_SPLIT.split(form.get("persons_responsible", "")) if p.strip()
        ],
    }
    if kind == "final":
        report.update(
            finding=form.get("finding") or None,
            reason_code=form.get("reason_code") or None,
            disposal=form.getlist("disposal"),
            business_remedy=form.getlist("business_remedy"),
        )
    return report


def form_errors(exc: ValidationError) -> dict[str, Any]:
    return exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}


def flat_errors(errors: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in errors.items():
        if isinstance(value, Mapping):
            out[key] = "; ".join(f"{k}: {v}" for k, v in flat_errors(value).items())
        elif isinstance(value, list):
            out[key] = "; ".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out
