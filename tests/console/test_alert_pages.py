"""The alert pages through the Flask test client: the queue's filters, bulk steps and export, an
alert's file (masking, unmasking, visibility), the report form with attachments, the inbox.

The small province of tests/notifications: a red VIO-03 alert of 城东 (owned by the east chief
and the detachment chief, copied to the detachment inspector) and, where a test needs one, a
blue STF-14 alert waiting in the inspectors' queue.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api import create_app
from auditcage import clock
from auditcage.alerts.models import Alert
from auditcage.audit.models import AuditEntry
from auditcage.config import Settings
from notifications import pipeline
from notifications.attachment_models import Attachment
from notifications.lifecycle_models import AlertEvent, FeedbackReport
from tests.console.helpers import csrf_token, make_account, sign_in
from tests.notifications import province as p
from tests.notifications.scenario import NOW, SUBJECT_ID, alert, notifier, store_and_route

pytestmark = pytest.mark.db

SECRET = "test-secret"
PDF = b"%PDF-1.4\n% a scanned statement of the window auxiliary\n%%EOF\n"
FINAL = {
    "kind": "final",
    "verification_methods": ["video_reviewed", "system_logs"],
    "facts": "调阅窗口视频，协勤代他人处理记分属实",
    "persons_responsible": "E11",
    "finding": "confirmed",
    "disposal": ["dismiss_auxiliary"],
    "business_remedy": ["restore_points"],
}


@pytest.fixture
def red(committing_engine: Engine, app_settings: Settings) -> Iterator[int]:
    """The routed red alert, and accounts: the east chief, the west chief (back from leave, of
    another brigade), the detachment inspector."""
    clock.freeze(NOW)
    staff = p.staff_with(p.WEST_CHIEF, status="active")
    settings = Settings(database_url=app_settings.database_url, secret_key=SECRET)
    alert_id = store_and_route(committing_engine, settings, staff)
    make_account(committing_engine, "east", "brigade_head", staff_id=p.EAST_CHIEF, unit_code=p.EAST)
    make_account(committing_engine, "west", "brigade_head", staff_id=p.WEST_CHIEF, unit_code=p.WEST)
    make_account(
        committing_engine,
        "inspector",
        "inspector",
        staff_id=p.DETACHMENT_INSPECTOR,
        unit_code=p.NANJING,
    )
    yield alert_id
    clock.freeze(None)


@pytest.fixture
def blue(red: int, committing_engine: Engine, app_settings: Settings) -> int:
    with Session(committing_engine) as session, session.begin():
        blue_id = alert(
            session,
            severity="blue",
            rule_id="STF-14",
            hit_id="b1",
            at=NOW - timedelta(days=3),
        ).id
    settings = Settings(database_url=app_settings.database_url, secret_key=SECRET)
    with Session(committing_engine) as session, session.begin():
        pipeline.route_new_alerts(session, notifier(session, settings), now=NOW)
    return blue_id


def _ids(page: str, alert_ids: list[int]) -> list[int]:
    """Which of these alerts a page links to."""
    return [i for i in alert_ids if f'href="/console/alerts/{i}"' in page]


def _post(client: Any, path: str, data: dict[str, Any], *, page: str | None = None) -> Any:
    token = csrf_token(client, page or path.rsplit("/", 1)[0])
    return client.post(path, data={**data, "csrf_token": token})


def _audited(engine: Engine, action: str) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _status(engine: Engine, alert_id: int) -> str:
    with Session(engine) as session:
        found = session.get(Alert, alert_id)
        assert found is not None
        return found.status


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_filters_by_severity_family_rule_unit_operator_and_time(
    client, red: int, blue: int
) -> None:
    sign_in(client, "inspector")
    both = [red, blue]
    assert _ids(client.get("/console/alerts").text, both) == both
    assert _ids(client.get("/console/alerts?severity=red").text, both) == [red]
    assert _ids(client.get("/console/alerts?status=new").text, both) == [blue]
    assert _ids(client.get("/console/alerts?family=STF").text, both) == [blue]
    assert _ids(client.get("/console/alerts?family=VIO&rule_id=vio-03").text, both) == [red]
    assert _ids(client.get(f"/console/alerts?unit_code={p.EAST}").text, both) == both
    assert _ids(client.get(f"/console/alerts?unit_code={p.WEST}").text, both) == []
    assert _ids(client.get(f"/console/alerts?operator_id={p.OPERATOR}").text, both) == both
    assert _ids(client.get("/console/alerts?operator_id=W11").text, both) == []
    # the blue alert happened three days before the red one
    assert _ids(client.get("/console/alerts?since=2026-11-16").text, both) == [red]
    assert _ids(client.get("/console/alerts?until=2026-11-15").text, both) == [blue]
    by_severity = client.get("/console/alerts?sort=severity").text
    assert by_severity.index(f"/console/alerts/{red}") < by_severity.index(
        f"/console/alerts/{blue}"
    )
    assert client.get("/console/alerts?severity=purple").status_code == 422


def test_the_queue_is_for_inspectors_and_leadership_only(client, red: int) -> None:
    sign_in(client, "east")
    assert client.get("/console/alerts").status_code == 403


def test_bulk_dismiss_with_a_reason_dismisses_every_checked_alert(
    client, committing_engine: Engine, red: int, blue: int
) -> None:
    sign_in(client, "inspector")
    form = {"operation": "dismiss", "alert_ids": [str(red), str(blue)], "comment": "源系统重复"}
    missing = _post(client, "/console/alerts/bulk", form, page="/console/alerts")
    assert missing.status_code == 422 and _status(committing_engine, red) == "pushed"
    forged = client.post("/console/alerts/bulk", data={**form, "reason_code": "duplicate"})
    assert forged.status_code == 400 and _status(committing_engine, red) == "pushed"
    done = _post(
        client,
        "/console/alerts/bulk",
        {**form, "reason_code": "duplicate"},
        page="/console/alerts",
    )
    assert done.status_code == 302
    assert [_status(committing_engine, i) for i in (red, blue)] == ["dismissed", "dismissed"]
    with Session(committing_engine) as session:
        reasons = session.scalars(
            select(AlertEvent.reason_code).where(AlertEvent.action == "dismiss")
        ).all()
    assert reasons == ["duplicate", "duplicate"]
    assert "已排除 2 条误报" in client.get(done.headers["Location"]).text


def test_bulk_assign_hands_the_blue_alert_to_a_unit_and_refuses_the_red_one(
    client, committing_engine: Engine, red: int, blue: int
) -> None:
    sign_in(client, "inspector")
    reply = _post(
        client,
        "/console/alerts/bulk",
        {"operation": "assign", "alert_ids": [str(blue), str(red)], "unit_code": p.EAST},
        page="/console/alerts",
    )
    assert reply.status_code == 302
    assert _status(committing_engine, blue) == "pushed"
    assert _status(committing_engine, red) == "pushed"  # red: routed already, not assignable
    shown = client.get(reply.headers["Location"]).text
    assert "已指派 1 条预警" in shown and f"#{red}" in shown


def test_the_filtered_queue_exports_to_excel(client, red: int, blue: int) -> None:
    sign_in(client, "inspector")
    reply = client.get("/console/alerts?family=STF&format=xlsx")
    assert reply.status_code == 200
    sheet = pd.read_excel(io.BytesIO(reply.data))
    assert list(sheet["编号"]) == [blue]
    assert list(sheet["等级"]) == ["蓝色"] and list(sheet["规则"]) == ["STF-14"]


# --- an alert's file --------------------------------------------------------------------------


def test_the_detail_says_what_fired_with_the_evidence_masked_and_no_channel_url(
    client, red: int
) -> None:
    sign_in(client, "east")
    page = client.get(f"/console/alerts/{red}").text
    assert "VIO-03" in page and "单车集中销分" in page  # the rule's title from the ruleset
    assert "violation:E2E-0001" in page  # the evidence record, on the timeline
    assert SUBJECT_ID not in page and "3201**********1232" in page
    assert "mailto" in page and "example.com" not in page  # the scheme, never the address
    assert "推送" in page and "签收" in page  # history and the acknowledge form


def test_an_inspector_unmasks_the_evidence_and_the_view_is_audited(
    client, committing_engine: Engine, red: int
) -> None:
    sign_in(client, "inspector")
    assert SUBJECT_ID not in client.get(f"/console/alerts/{red}").text
    assert _audited(committing_engine, "console.unmask") == []
    clear = client.get(f"/console/alerts/{red}?unmask=1").text
    assert SUBJECT_ID in clear
    (entry,) = _audited(committing_engine, "console.unmask")
    assert entry.actor == p.DETACHMENT_INSPECTOR


def test_a_chief_cannot_unmask(client, committing_engine: Engine, red: int) -> None:
    sign_in(client, "east")
    assert SUBJECT_ID not in client.get(f"/console/alerts/{red}?unmask=1").text
    assert _audited(committing_engine, "console.unmask") == []


def test_a_chief_of_another_brigade_gets_not_found_and_sees_the_alert_in_no_list(
    client, red: int
) -> None:
    sign_in(client, "west")
    missing = client.get("/console/alerts/999999")
    opened = client.get(f"/console/alerts/{red}")
    assert opened.status_code == missing.status_code == 404
    assert client.get(f"/console/alerts/{red}/report").status_code == 404
    assert f"/console/alerts/{red}" not in client.get("/console/inbox").text
    refused = _post(client, f"/console/alerts/{red}/acknowledge", {}, page="/console/inbox")
    assert refused.status_code == 404


def test_the_operator_of_the_alerted_business_never_sees_it(
    client, committing_engine: Engine, red: int
) -> None:
    make_account(
        committing_engine, "operator", "inspector", staff_id=p.OPERATOR, unit_code=p.PROVINCE
    )
    sign_in(client, "operator")
    assert client.get(f"/console/alerts/{red}").status_code == 404
    assert f"/console/alerts/{red}" not in client.get("/console/alerts").text


# --- the loop through the forms ---------------------------------------------------------------


def _acknowledge(client: Any, alert_id: int) -> Any:
    return _post(
        client,
        f"/console/alerts/{alert_id}/acknowledge",
        {"next": "/console/inbox"},
        page="/console/inbox",
    )


def test_the_inbox_lists_the_chiefs_warning_with_its_deadline_and_acknowledges_it(
    client, committing_engine: Engine, red: int
) -> None:
    sign_in(client, "east")
    inbox = client.get("/console/inbox").text
    assert f'data-alert-id="{red}"' in inbox and "签收截止" in inbox
    assert "2026-11-17 10:30" in inbox  # red: 30 minutes after the push
    clock.freeze(NOW + timedelta(minutes=45))
    assert "已超期" in client.get("/console/inbox").text
    reply = _acknowledge(client, red)
    assert reply.status_code == 302 and reply.headers["Location"] == "/console/inbox"
    assert _status(committing_engine, red) == "acknowledged"
    assert "初步回告截止" in client.get("/console/inbox").text


def test_a_final_report_with_an_attachment_is_filed_and_the_file_downloads_audited(
    client, committing_engine: Engine, red: int
) -> None:
    sign_in(client, "east")
    _acknowledge(client, red)
    token = csrf_token(client, f"/console/alerts/{red}/report")
    reply = client.post(
        f"/console/alerts/{red}/feedback",
        data={
            **FINAL,
            "csrf_token": token,
            "attachments": (io.BytesIO(PDF), "谈话笔录.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302, reply.text
    assert _status(committing_engine, red) == "feedback_submitted"
    digest = hashlib.sha256(PDF).hexdigest()
    with Session(committing_engine) as session:
        report = session.scalars(select(FeedbackReport)).one()
        stored = session.scalars(select(Attachment)).one()
    assert report.attachments == [{"name": "谈话笔录.pdf", "sha256": digest, "size": len(PDF)}]
    assert report.persons_responsible == ["E11"]
    assert (stored.alert_id, stored.content_type, stored.data) == (red, "application/pdf", PDF)
    link = f"/console/alerts/{red}/attachments/{digest}"
    assert link in client.get(f"/console/alerts/{red}").text
    download = client.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]
    assert [e.actor for e in _audited(committing_engine, "attachment.download")] == [p.EAST_CHIEF]
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/inbox")})
    sign_in(client, "west")
    assert client.get(link).status_code == 404


def test_an_incomplete_report_comes_back_as_the_form_with_the_items_named(
    client, committing_engine: Engine, red: int
) -> None:
    sign_in(client, "east")
    _acknowledge(client, red)
    token = csrf_token(client, f"/console/alerts/{red}/report")
    reply = client.post(
        f"/console/alerts/{red}/feedback",
        data={
            "kind": "final",
            "facts": "尚在核查",
            "csrf_token": token,
            "attachments": (io.BytesIO(PDF), "笔录.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 422
    page = reply.text
    assert 'data-field="verification_methods"' in page and 'data-field="finding"' in page
    assert "尚在核查" in page  # what was typed stays
    assert "请重新选择要上传的文件" in page
    assert _status(committing_engine, red) == "acknowledged"
    with Session(committing_engine) as session:  # nothing of a refused report is kept
        assert session.scalars(select(Attachment)).all() == []


def test_an_attachment_of_a_type_a_browser_would_run_is_refused(
    client, committing_engine: Engine, red: int
) -> None:
    sign_in(client, "east")
    _acknowledge(client, red)
    token = csrf_token(client, f"/console/alerts/{red}/report")
    reply = client.post(
        f"/console/alerts/{red}/feedback",
        data={
            **FINAL,
            "csrf_token": token,
            "attachments": (io.BytesIO(b"<script>alert(1)</script>"), "x.html", "text/html"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 422 and "text/html" in reply.text
    assert _status(committing_engine, red) == "acknowledged"


def test_an_attachment_over_the_size_limit_is_refused(
    client, committing_engine: Engine, red: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifications import actions

    assert actions.MAX_ATTACHMENT_BYTES == 10 * 1024 * 1024
    # A small limit for the test: the test client spools big bodies to files it never closes.
    monkeypatch.setattr(actions, "MAX_ATTACHMENT_BYTES", 1024)
    sign_in(client, "east")
    _acknowledge(client, red)
    token = csrf_token(client, f"/console/alerts/{red}/report")
    big = b"%PDF-1.4\n" + b"0" * 1024
    reply = client.post(
        f"/console/alerts/{red}/feedback",
        data={
            **FINAL,
            "csrf_token": token,
            "attachments": (io.BytesIO(big), "v.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 422 and "v.pdf: larger than 1 KB" in reply.text
    with Session(committing_engine) as session:
        assert session.scalars(select(Attachment)).all() == []


def test_the_inspector_returns_the_report_once_then_accepts_and_it_closes(
    client, app_settings: Settings, committing_engine: Engine, red: int
) -> None:
    sign_in(client, "east")
    _acknowledge(client, red)
    _post(client, f"/console/alerts/{red}/feedback", FINAL, page=f"/console/alerts/{red}/report")
    # A second app, as a second browser would meet a second server process; `client` keeps its
    # request context, which a client of the same app would share.
    app = create_app(app_settings)
    try:
        _review_twice(client, app.test_client(), committing_engine, red)
    finally:
        app.extensions["auditcage.engine"].dispose()


def _review_twice(client: Any, inspector: Any, committing_engine: Engine, red: int) -> None:
    sign_in(inspector, "inspector")
    detail = f"/console/alerts/{red}"
    assert 'value="return"' in inspector.get(detail).text
    # the chief who filed the report cannot review it
    assert _post(client, f"{detail}/review", {"outcome": "accept"}, page=detail).status_code == 403
    no_comment = _post(inspector, f"{detail}/review", {"outcome": "return"}, page=detail)
    assert no_comment.status_code == 400
    returned = _post(
        inspector, f"{detail}/review", {"outcome": "return", "comment": "补充视频截图"}, page=detail
    )
    assert returned.status_code == 302 and _status(committing_engine, red) == "returned"
    form = client.get(f"{detail}/report").text
    assert "补充视频截图" in form  # the chief sees what to rework
    _post(client, f"{detail}/feedback", FINAL, page=f"{detail}/report")
    assert _status(committing_engine, red) == "feedback_submitted"
    _post(inspector, f"{detail}/review", {"outcome": "accept"}, page=detail)
    assert _status(committing_engine, red) == "closed"
    assert f'data-alert-id="{red}"' not in client.get("/console/inbox").text


def test_every_state_step_and_reason_has_its_words() -> None:
    from api.console.i18n import catalogue
    from auditcage.alerts.models import AlertStatus
    from notifications.lifecycle import Action
    from notifications.lifecycle_models import (
        BusinessRemedy,
        Disposal,
        FalsePositiveReason,
        Finding,
        ReportKind,
        Step,
        VerificationMethod,
    )
    from notifications.models import AttemptOutcome, OutboxStatus

    keys = catalogue().keys()
    wanted = (
        [f"alerts.status.{s.value}" for s in AlertStatus]
        + [f"alerts.step.{s.value}" for s in Step]
        + [f"alerts.event.{a.value}" for a in Action]
        + [f"alerts.reason.{r.value}" for r in FalsePositiveReason]
        + [f"alerts.outbox.{s.value}" for s in OutboxStatus]
        + [f"alerts.outcome.{o.value}" for o in AttemptOutcome]
        + [f"report.method.{m.value}" for m in VerificationMethod]
        + [f"report.finding.{f.value}" for f in Finding]
        + [f"report.disposal.{d.value}" for d in Disposal]
        + [f"report.remedy.{r.value}" for r in BusinessRemedy]
        + [f"report.title.{k.value}" for k in ReportKind]
    )
    assert [k for k in wanted if k not in keys] == []
