"""The rule-pack pages through the test client: who may do what, live validation, examples,
back-test, and publishing refused when an edited rule fails an example."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditcage.audit.models import AuditEntry
from auditcage.reference.service import replace_dataset
from auditcage.rulepacks.models import RuleDraft, RuleVersion
from tests.console.helpers import csrf_token, make_account, sign_in
from tests.notifications import province

pytestmark = pytest.mark.db

KEY = "STF-05b"
TYPO = ("operator_is_system == false", "operator_is_sytem == false")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def author(client: Any, committing_engine: Engine) -> Any:
    """A rule author: edits drafts, back-tests, publishes."""
    make_account(committing_engine, "author1", "rule_author")
    sign_in(client, "author1")
    return client


@pytest.fixture
def inspector(client: Any, committing_engine: Engine) -> Any:
    """A discipline inspector: reads the rules, may neither edit nor publish them."""
    with Session(committing_engine) as session, session.begin():
        replace_dataset(session, "units", province.UNITS, source="test", actor="test")
        replace_dataset(session, "staff", province.STAFF, source="test", actor="test")
    make_account(committing_engine, "inspector1", "inspector", staff_id=province.PROVINCE_INSPECTOR)
    sign_in(client, "inspector1")
    return client


def _snippet(client: Any) -> tuple[str, str]:
    page = client.get(f"/console/rules/r/{KEY}/edit")
    assert page.status_code == 200
    start = page.text.index('id="rule-text"')
    body = page.text[page.text.index(">", start) + 1 : page.text.index("</textarea>", start)]
    return html.unescape(body), csrf_token(client, f"/console/rules/r/{KEY}")


def test_an_inspector_browses_rules_but_cannot_edit_check_or_publish(inspector: Any) -> None:
    listed = inspector.get("/console/rules/?family=STF&q=账号")
    assert listed.status_code == 200 and "STF-05(b)" in listed.text and "VEH-04" not in listed.text
    detail = inspector.get(f"/console/rules/r/{KEY}")
    assert detail.status_code == 200 and "operator_is_system" in detail.text
    assert "/edit" not in detail.text  # no edit tab for a reader
    token = csrf_token(inspector, f"/console/rules/r/{KEY}")
    assert inspector.get(f"/console/rules/r/{KEY}/edit").status_code == 403
    checked = inspector.post(
        f"/console/rules/r/{KEY}/check", json={"text": "id: X"}, headers={"X-CSRFToken": token}
    )
    assert checked.status_code == 403
    published = inspector.post(
        "/console/rules/draft/publish", data={"reason": "mine", "csrf_token": token}
    )
    assert published.status_code == 403
    rolled = inspector.post(
        "/console/rules/versions/rollback", data={"reason": "mine", "csrf_token": token}
    )
    assert rolled.status_code == 403
    assert inspector.get("/console/rules/versions").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client: Any) -> None:
    page = client.get("/console/rules/")
    assert page.status_code == 302 and "/console/login" in page.headers["Location"]


def test_live_validation_names_the_snippet_line_field_and_spelling(author: Any) -> None:
    text, token = _snippet(author)
    broken = text.replace(*TYPO)
    reply = author.post(
        f"/console/rules/r/{KEY}/check", json={"text": broken}, headers={"X-CSRFToken": token}
    )
    assert reply.status_code == 200 and reply.json["ok"] is False
    [problem] = reply.json["problems"]
    assert problem["line"] == next(n for n, x in enumerate(broken.splitlines(), 1) if "sytem" in x)
    assert problem["field"].startswith("when")
    assert "operator_is_sytem" in problem["message"] and "operator_is_system" in problem["message"]
    fixed = author.post(
        f"/console/rules/r/{KEY}/check", json={"text": text}, headers={"X-CSRFToken": token}
    )
    assert fixed.json == {"ok": True, "problems": []}


def test_live_validation_without_the_csrf_header_is_refused(author: Any) -> None:
    reply = author.post(f"/console/rules/r/{KEY}/check", json={"text": "id: X"})
    assert reply.status_code == 400


def test_a_saved_rule_goes_into_the_draft_and_its_examples_show_pass_or_fail(
    author: Any, committing_engine: Engine
) -> None:
    text, token = _snippet(author)
    louder = text.replace("severity: orange", "severity: red", 1)
    saved = author.post(f"/console/rules/r/{KEY}/edit", data={"text": louder, "csrf_token": token})
    assert saved.status_code == 302
    with Session(committing_engine) as session:
        draft = session.scalars(select(RuleDraft)).one()
        assert "severity: red" in draft.files["staff/stf_05b_account_used_while_off_duty.yaml"]
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "rules.draft_save" in actions
    listed = author.get("/console/rules/?family=STF").text
    assert listed.count('class="chip edited"') == 1  # the list marks the rule the draft changes
    page = author.get(f"/console/rules/r/{KEY}/examples")
    assert page.status_code == 200
    assert "10 / 11" in page.text
    assert "STF-05b-fires-1" in page.text and "no hit matches" in page.text


def test_publish_is_refused_with_the_failing_example_shown(
    author: Any, committing_engine: Engine
) -> None:
    text, token = _snippet(author)
    louder = text.replace("severity: orange", "severity: red", 1)
    author.post(f"/console/rules/r/{KEY}/edit", data={"text": louder, "csrf_token": token})
    refused = author.post(
        "/console/rules/draft/publish", data={"reason": "louder", "csrf_token": token}
    )
    assert refused.status_code == 409
    assert "publish-refused" in refused.text and "STF-05b-fires-1" in refused.text
    with Session(committing_engine) as session:
        assert session.scalar(select(func.count()).select_from(RuleVersion)) == 0


def test_the_draft_page_compares_with_the_active_rules(author: Any) -> None:
    text, token = _snippet(author)
    fewer = text.replace(', "field"]\n  and', "]\n  and", 1)
    assert fewer != text
    author.post(f"/console/rules/r/{KEY}/edit", data={"text": fewer, "csrf_token": token})
    page = author.get("/console/rules/draft")
    assert page.status_code == 200
    assert (
        "STF-05(b)" in page.text and "staff/stf_05b_account_used_while_off_duty.yaml" in page.text
    )
    assert 'class="del"' in page.text and "&#34;field&#34;" in page.text


def test_the_back_test_answers_with_a_chart_table_and_an_excel_export(author: Any) -> None:
    page = author.get(f"/console/rules/r/{KEY}/backtest?since=2026-01-01&until=2026-12-31")
    assert page.status_code == 200
    assert 'id="backtest-chart"' in page.text and "vendor/echarts/echarts.min.js" in page.text
    export = author.get(f"/console/rules/r/{KEY}/backtest?since=2026-01-01&format=xlsx")
    assert export.status_code == 200 and export.mimetype == XLSX


def test_rolling_back_makes_the_previous_version_active_and_is_recorded(
    author: Any, committing_engine: Engine
) -> None:
    with Session(committing_engine) as session, session.begin():
        first = RuleVersion(digest="1" * 64, files={}, actor="author1", reason="first")
        session.add(first)
        session.flush()
        session.add(
            RuleVersion(
                digest="2" * 64,
                files={},
                actor="author1",
                reason="second",
                active=True,
                previous_id=first.id,
            )
        )
        first_id = first.id
    page = author.get("/console/rules/versions")
    assert "second" in page.text and 'action="/console/rules/versions/rollback"' in page.text
    token = csrf_token(author, "/console/rules/versions")
    back = author.post(
        "/console/rules/versions/rollback", data={"reason": "hits doubled", "csrf_token": token}
    )
    assert back.status_code == 302
    with Session(committing_engine) as session:
        active = session.scalars(select(RuleVersion).where(RuleVersion.active.is_(True))).one()
        assert active.id == first_id
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "rules.rollback" and entry.detail["reason"] == "hits doubled"
    assert "versions/rollback" not in author.get("/console/rules/versions").text  # none earlier
