"""The alert pages in a real browser, on the demo province: a brigade chief on his phone takes a
red alert through 签收 and the final report (with a file); a discipline inspector at her desk
returns it once and then accepts it; a chief of another brigade never sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from auditcage.alerts.models import Alert
from auditcage.demo_run import DemoDatabase
from notifications.lifecycle_models import AlertAssignment, FeedbackReport
from notifications.routing_models import AlertRouting
from tests.console.conftest import DESKTOP, PHONE, account, assert_fits, shot, sign_in

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% interview record, window 3\n%%EOF\n"


def _red_alert_of(demo: DemoDatabase, staff_id: str) -> int:
    """A red alert pushed to this chief and untouched so far, not part of a lead."""
    with demo.sessions() as session:
        rows = session.execute(
            select(Alert.id, AlertAssignment.owner_ids)
            .join(AlertAssignment, AlertAssignment.alert_id == Alert.id)
            .join(AlertRouting, AlertRouting.alert_id == Alert.id)
            .where(
                Alert.severity == "red",
                Alert.status == "pushed",
                AlertAssignment.tracked_as == "red",
                AlertRouting.lead_alert_id.is_(None),
            )
            .order_by(Alert.id.desc())
        ).all()
    mine = [alert_id for alert_id, owners in rows if staff_id in owners]
    assert mine, f"the demo province has no pushed red alert owned by {staff_id}"
    return mine[0]


def _status(demo: DemoDatabase, alert_id: int) -> str:
    with demo.sessions() as session:
        found = session.get(Alert, alert_id)
        assert found is not None
        return found.status


def _file_report(phone: Any, alert_id: int, *, attach: Path | None, keep: bool) -> None:
    phone.check("input[name=verification_methods][value=video_reviewed]")
    phone.check("input[name=verification_methods][value=interview]")
    phone.fill(
        "textarea[name=facts]", "调阅窗口视频并谈话核实：协勤人员代他人处理记分，收取好处费属实。"
    )
    phone.fill("textarea[name=persons_responsible]", "窗口协勤 521041")
    phone.check("input[name=finding][value=confirmed]")
    phone.check("input[name=disposal][value=dismiss_auxiliary]")
    phone.check("input[name=business_remedy][value=restore_points]")
    if keep:
        phone.locator("input[name=keep]").first.check()
    if attach is not None:
        phone.set_input_files("input[name=attachments]", str(attach))
    phone.click("#report-final button[type=submit]")
    phone.wait_for_url(f"**/console/alerts/{alert_id}")


def test_a_chief_reports_on_his_phone_an_inspector_returns_then_accepts_and_chief2_sees_nothing(
    phone: Any, page: Any, browser: Any, console_url: str, console_demo: DemoDatabase, tmp_path
) -> None:
    chief = account(console_demo, "chief")
    alert_id = _red_alert_of(console_demo, chief.staff_id)
    card = f'li[data-alert-id="{alert_id}"]'

    # The chief, on his phone: the inbox, 签收, the final report with a file.
    sign_in(phone, console_url, "chief")
    assert phone.url.endswith("/console/inbox")
    assert phone.locator(card).count() == 1
    assert_fits(phone)
    shot(phone, "alerts-inbox-phone")
    phone.locator(card).locator("button", has_text="签收").click()
    phone.wait_for_url("**/console/inbox")
    assert "已签收" in phone.locator(card).inner_text()
    assert _status(console_demo, alert_id) == "acknowledged"
    phone.locator(card).locator("a", has_text="填报核查报告").click()
    phone.wait_for_url(f"**/console/alerts/{alert_id}/report?kind=final")
    assert_fits(phone)
    shot(phone, "alerts-report-phone")
    statement = tmp_path / "谈话笔录.pdf"
    statement.write_bytes(PDF)
    _file_report(phone, alert_id, attach=statement, keep=False)
    assert "已提交核查报告" in phone.locator(".flash").first.inner_text()
    assert phone.locator("a", has_text="谈话笔录.pdf").count() == 1
    assert_fits(phone)
    shot(phone, "alerts-detail-phone")
    assert _status(console_demo, alert_id) == "feedback_submitted"

    # The inspector, at her desk: returns the report once with a comment.
    sign_in(page, console_url, "inspector")
    page.goto(f"{console_url}/console/alerts/{alert_id}")
    shot(page, "alerts-detail-desktop")
    page.fill("#review textarea[name=comment]", "请补充窗口视频截图及当事人笔录。")
    page.click("#review button[value=return]")
    page.wait_for_url(f"**/console/alerts/{alert_id}")
    assert "核查报告已退回" in page.locator(".flash").first.inner_text()
    assert _status(console_demo, alert_id) == "returned"

    # The chief sees why and files again, keeping the file he attached.
    phone.goto(f"{console_url}/console/inbox")
    phone.locator(card).locator("a", has_text="填报核查报告").click()
    assert "请补充窗口视频截图" in phone.locator("section.returned").inner_text()
    _file_report(phone, alert_id, attach=None, keep=True)
    assert _status(console_demo, alert_id) == "feedback_submitted"
    with console_demo.sessions() as session:
        reports = session.scalars(
            select(FeedbackReport).where(FeedbackReport.alert_id == alert_id)
        ).all()
    assert [r.attachments[0]["name"] for r in reports] == ["谈话笔录.pdf", "谈话笔录.pdf"]

    # The inspector accepts: the alert is closed and leaves the chief's inbox.
    page.goto(f"{console_url}/console/alerts/{alert_id}")
    page.click("#review button[value=accept]")
    page.wait_for_url(f"**/console/alerts/{alert_id}")
    assert "已结案" in page.locator(".alert-head").inner_text()
    assert _status(console_demo, alert_id) == "closed"
    phone.goto(f"{console_url}/console/inbox")
    assert phone.locator(card).count() == 0

    # A chief of another brigade: not in his inbox, no queue, and the URL answers 404.
    other = browser.new_context(viewport=PHONE, locale="zh-CN")
    chief2 = other.new_page()
    try:
        sign_in(chief2, console_url, "chief2")
        chief2.goto(f"{console_url}/console/inbox")
        assert chief2.locator(card).count() == 0
        assert chief2.goto(f"{console_url}/console/alerts").status == 403
        reply = chief2.goto(f"{console_url}/console/alerts/{alert_id}")
        assert reply.status == 404 and "未找到" in chief2.locator("h1").inner_text()
    finally:
        other.close()


def test_the_queue_filters_and_every_alert_page_looks_right_on_desk_and_phone(
    page: Any, phone: Any, browser: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    sign_in(page, console_url, "inspector")
    assert page.url.endswith("/console/alerts")
    shot(page, "alerts-queue-desktop")
    page.select_option("select[name=severity]", "red")
    page.select_option("select[name=family]", "CP")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "severity=red" in page.url and "family=CP" in page.url
    rows = page.locator("table.queue tbody tr")
    assert rows.count() > 0
    for i in range(rows.count()):
        row = rows.nth(i).inner_text()
        assert "红色" in row and "CP-" in row
    with page.expect_download() as download:
        page.click("text=导出Excel")
    assert download.value.suggested_filename.endswith(".xlsx")
    sign_in(phone, console_url, "inspector")
    assert_fits(phone)
    shot(phone, "alerts-queue-phone")

    # The chief acknowledges another red alert from its page, then opens the report form.
    alert_id = _red_alert_of(console_demo, account(console_demo, "chief").staff_id)
    desk_context, phone_context = (
        browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        for viewport in (DESKTOP, PHONE)
    )
    page, phone = desk_context.new_page(), phone_context.new_page()
    sign_in(phone, console_url, "chief")
    phone.goto(f"{console_url}/console/alerts/{alert_id}")
    assert_fits(phone)
    phone.locator("#actions button", has_text="签收").click()
    phone.wait_for_url(f"**/console/alerts/{alert_id}")
    assert f"已签收预警 #{alert_id}" in phone.locator(".flash").first.inner_text()
    assert "填报核查报告" in phone.locator("#actions").inner_text()
    sign_in(page, console_url, "chief")
    shot(page, "alerts-inbox-desktop")
    page.goto(f"{console_url}/console/alerts/{alert_id}/report?kind=final")
    assert page.locator("#report-final").count() == 1
    shot(page, "alerts-report-desktop")
    desk_context.close()
    phone_context.close()
