"""The Content-Security-Policy breaks no page: every page family opened in Debian's chromium,
charts hovered (ECharts draws its tooltips then) and the rule editor typed into, with every
violation the browser reports collected. Read-only on the demo province."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from auditcage.alerts.models import Alert
from auditcage.demo_run import DemoDatabase
from notifications import links
from notifications.routing_models import AlertRouting
from tests.console.conftest import sign_in

pytestmark = pytest.mark.browser

COLLECT = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`);
});
"""
KEY = "STF-05b"


def _watch(page: Any) -> list[str]:
    """Violations as the console reports them (the event list is read per page, below)."""
    reported: list[str] = []
    page.add_init_script(COLLECT)
    page.on(
        "console",
        lambda m: reported.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: reported.append(f"page error: {e}"))
    return reported


def _visit(page: Any, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    for canvas in page.locator("[data-chart] canvas").all()[:6]:
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        if box:
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(150)
    return list(page.evaluate("window.__csp"))


def _an_alert(demo: DemoDatabase) -> tuple[int, str]:
    """A routed red or orange alert and one of its owners."""
    with demo.sessions() as session:
        routing = session.scalars(
            select(AlertRouting)
            .join(Alert, Alert.id == AlertRouting.alert_id)
            .where(Alert.severity.in_(("red", "orange")))
            .order_by(Alert.id)
        ).first()
        assert routing is not None
        owners = (routing.decision or {}).get("owners") or []
        return routing.alert_id, str(owners[0]["staff_id"] if owners else "")


def test_no_page_of_any_role_reports_a_policy_violation(
    browser: Any, console_url: str, console_demo: DemoDatabase
) -> None:
    alert_id, owner = _an_alert(console_demo)
    link = links.sign(
        console_demo.settings.secret_key, links.AlertLink(alert_id, owner or "nobody", "open")
    )
    visits = {
        None: ["/console/login", f"/a/{link}"],
        "inspector": [
            "/console/alerts",
            f"/console/alerts/{alert_id}",
            "/console/dashboards/",
            "/console/dashboards/scoreboard",
            "/console/dashboards/briefing",
            "/console/rules/",
            f"/console/rules/r/{KEY}",
        ],
        "chief": ["/console/inbox", "/console/admin/password"],
        "author": [
            f"/console/rules/r/{KEY}/edit",
            f"/console/rules/r/{KEY}/examples",
            f"/console/rules/r/{KEY}/backtest",
            "/console/rules/draft",
            "/console/rules/versions",
        ],
        "admin": ["/console/admin/accounts"],
    }
    found: dict[str, list[str]] = {}
    for who, paths in visits.items():
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.set_default_timeout(20_000)
        reported = _watch(page)
        if who is not None:
            sign_in(page, console_url, who)
        for path in paths:
            violations = _visit(page, f"{console_url}{path}")
            if path.endswith("/edit"):
                page.locator("textarea").first.press("End")
                page.keyboard.type(" ")
                page.wait_for_timeout(1200)  # the live check's fetch and its answer
                violations += page.evaluate("window.__csp")
            if violations:
                found[f"{who} {path}"] = violations
        if reported:
            found[f"{who} (console)"] = reported
        context.close()
    assert not found, "\n".join(f"{where}: {v[:300]}" for where, vs in found.items() for v in vs)
