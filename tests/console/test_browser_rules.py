"""A rule author in a real browser: signs in, breaks a rule and sees the error while typing, fixes
it, back-tests it, and publishes it as the new active version."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from auditcage.demo_run import DemoDatabase
from auditcage.rulepacks import publish
from tests.console.conftest import shot, sign_in

pytestmark = pytest.mark.browser

KEY = "STF-05b"  # 55 hits in the demo province, most of them in its first month
TYPO = ("operator_is_system == false", "operator_is_sytem == false")
FIELD_WORK = (', "field"]\n  and', "]\n  and")  # field work left to STF-01: one hit fewer
PUBLISHING = 240_000  # ms: publishing checks all rules and runs every example


def test_author_breaks_a_rule_fixes_it_back_tests_and_publishes(
    page: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    with console_demo.sessions() as session:
        before = publish.active_version(session)
        before_id = before.id if before else None

    sign_in(page, console_url, "author")
    expect(page).to_have_url(re.compile(r"/console/rules/$"))
    expect(page.locator("table.rules tbody tr").first).to_be_visible()
    shot(page, "rules-index")

    page.select_option("select[name=family]", "STF")
    page.fill("input[name=q]", "账号")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.rules")).to_contain_text("STF-05(b)")
    expect(page.locator("table.rules")).not_to_contain_text("VEH-")
    shot(page, "rules-index-filtered")

    page.click("text=STF-05(b)")
    expect(page.locator("h1")).to_contain_text("STF-05(b)")
    expect(page.locator("pre.condition")).to_contain_text("operator_is_system")
    shot(page, "rules-detail")

    page.click("a.button.primary >> text=编辑规则")
    editor = page.locator("#rule-text")
    expect(editor).to_be_visible()
    expect(page.locator("#check-state")).to_have_text("没有发现问题")
    original = editor.input_value()
    shot(page, "rules-edit")

    # Break the condition as an author would while typing: the error appears below the editor.
    editor.fill(original.replace(*TYPO))
    problems = page.locator("#problem-list")
    expect(problems).to_contain_text("operator_is_sytem")
    expect(problems).to_contain_text("did you mean operator_is_system")
    expect(page.locator("#check-state")).to_have_text("1 个问题")
    shot(page, "rules-edit-error")

    # Fixed, and changed on purpose: the error goes away.
    editor.fill(original.replace(*FIELD_WORK))
    expect(page.locator("#check-state")).to_have_text("没有发现问题")
    expect(problems).to_be_empty()
    page.click("button >> text=保存到草稿")
    expect(page.locator(".flash.ok")).to_contain_text("已保存到草稿")

    page.click(".rule-tabs >> text=运行样例")
    expect(page.locator("p.summary.ok")).to_contain_text("11 / 11")
    shot(page, "rules-examples")

    page.click(".rule-tabs >> text=历史回测")
    chart = page.locator("#backtest-chart")
    expect(chart.locator("canvas, svg").first).to_be_attached()
    expect(page.locator(".tile.lost .value")).to_have_text("−1")
    expect(page.locator("table.backtest tbody tr").first).to_be_visible()
    page.wait_for_timeout(600)  # the bars' entry animation, for the screenshot
    shot(page, "rules-backtest")

    page.click(".rule-tabs >> text=对比与发布")
    expect(page.locator("table.changes")).to_contain_text("STF-05(b)")
    expect(page.locator("pre.diff .del").first).to_contain_text('"field"')
    shot(page, "rules-draft")

    page.fill("textarea[name=reason]", "现场执法由 STF-01 覆盖，避免重复预警")
    with page.expect_navigation(timeout=PUBLISHING):
        page.click("form[data-busy] button[type=submit]", no_wait_after=True)
    expect(page.locator(".flash.ok")).to_contain_text("已发布版本")
    current = page.locator("table.versions tr.current")
    expect(current).to_contain_text("现场执法由 STF-01 覆盖")
    shot(page, "rules-versions")

    with console_demo.sessions() as session:
        after = publish.active_version(session)
        assert after is not None and after.id != before_id
        assert '"field"]' not in after.files["staff/stf_05b_account_used_while_off_duty.yaml"]


def test_an_inspector_reads_a_rule_without_edit_controls(
    page: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    sign_in(page, console_url, "inspector")
    page.goto(f"{console_url}/console/rules/r/{KEY}")
    expect(page.locator("h1")).to_contain_text("STF-05(b)")
    expect(page.locator(".rule-tabs")).not_to_contain_text("编辑")
    page.goto(f"{console_url}/console/rules/versions")
    expect(page.locator("h1")).to_contain_text("版本记录")
    shot(page, "rules-versions-inspector")


def test_publishing_a_rule_whose_example_fails_is_refused_with_the_example_named(
    page: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    with console_demo.sessions() as session:
        before = publish.active_version(session)
        before_id = before.id if before else None
    sign_in(page, console_url, "author")
    page.goto(f"{console_url}/console/rules/r/{KEY}/edit")
    editor = page.locator("#rule-text")
    editor.fill(editor.input_value().replace("severity: orange", "severity: red", 1))
    expect(page.locator("#check-state")).to_have_text("没有发现问题")
    page.click("button >> text=保存到草稿")
    page.goto(f"{console_url}/console/rules/r/{KEY}/examples")
    expect(page.locator("tr.fail")).to_contain_text("STF-05b-fires-1")
    shot(page, "rules-examples-failing")

    page.goto(f"{console_url}/console/rules/draft")
    page.fill("textarea[name=reason]", "提高等级")
    with page.expect_navigation(timeout=PUBLISHING):
        page.click("form[data-busy] button[type=submit]", no_wait_after=True)
    expect(page.locator("#publish-refused")).to_contain_text("STF-05b-fires-1")
    shot(page, "rules-publish-refused")
    with console_demo.sessions() as session:
        after = publish.active_version(session)
        assert (after.id if after else None) == before_id

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.danger >> text=放弃草稿")
    expect(page.locator(".flash.ok")).to_contain_text("草稿已放弃")
