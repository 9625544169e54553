"""Accounts, sessions and CSRF: who gets in, for how long, and what a forged form achieves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.audit.models import AuditEntry
from tests.console.helpers import PASSWORD, csrf_token, make_account, sign_in

pytestmark = pytest.mark.db


def _actions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_signing_in_opens_the_start_page_of_the_role_and_is_audited(
    client, committing_engine: Engine
) -> None:
    make_account(committing_engine, "admin1", "admin")
    reply = sign_in(client, "admin1")
    assert reply.status_code == 302 and reply.headers["Location"] == "/console/"
    assert client.get("/console/").headers["Location"] == "/console/admin/accounts"
    assert "account.sign_in" in _actions(committing_engine)


def test_the_password_is_stored_hashed(committing_engine: Engine) -> None:
    from auditcage.accounts.models import Account

    make_account(committing_engine, "hashy", "admin")
    with Session(committing_engine) as session:
        stored = session.scalars(select(Account.password_hash)).one()
    assert PASSWORD not in stored and stored.startswith("scrypt:")


def test_a_form_without_the_csrf_token_is_refused(client, committing_engine: Engine) -> None:
    make_account(committing_engine, "admin1", "admin")
    reply = client.post("/console/login", data={"username": "admin1", "password": PASSWORD})
    assert reply.status_code == 400
    assert "页面已过期" in reply.text
    sign_in(client, "admin1")
    forged = client.post(
        "/console/admin/accounts",
        data={"username": "intruder", "password": "x" * 12, "roles": "admin"},
    )
    assert forged.status_code == 400
    assert "account.create" not in _actions(committing_engine)[1:]


def test_five_wrong_passwords_lock_the_account_for_a_quarter_of_an_hour(
    client, committing_engine: Engine
) -> None:
    make_account(committing_engine, "chief1", "admin")
    for _ in range(5):
        assert sign_in(client, "chief1", "wrong-password").status_code == 401
    assert sign_in(client, "chief1").status_code == 401  # the right password, but locked
    clock.freeze(clock.now() + timedelta(minutes=16))
    try:
        assert sign_in(client, "chief1").status_code == 302
    finally:
        clock.freeze(None)


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(
    client, committing_engine: Engine
) -> None:
    make_account(committing_engine, "admin1", "admin")
    unknown = sign_in(client, "nobody", PASSWORD)
    wrong = sign_in(client, "admin1", "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或密码错误" in unknown.text and "用户名或密码错误" in wrong.text


def test_changing_the_password_ends_every_other_session(app_settings, committing_engine) -> None:
    from api import create_app

    make_account(committing_engine, "admin1", "admin")
    app = create_app(app_settings)
    desk, phone = app.test_client(), app.test_client()
    sign_in(desk, "admin1")
    sign_in(phone, "admin1")
    assert phone.get("/console/admin/accounts").status_code == 200
    reply = desk.post(
        "/console/admin/password",
        data={
            "current": PASSWORD,
            "new": "another-long-password",
            "repeat": "another-long-password",
            "csrf_token": csrf_token(desk, "/console/admin/password"),
        },
    )
    assert reply.headers["Location"] == "/console/login"
    assert phone.get("/console/admin/accounts").headers["Location"].startswith("/console/login")
    assert sign_in(phone, "admin1", "another-long-password").status_code == 302
    app.extensions["auditcage.engine"].dispose()


def test_a_session_ends_twelve_hours_after_sign_in_however_active(
    client, committing_engine: Engine
) -> None:
    make_account(committing_engine, "admin1", "admin")
    sign_in(client, "admin1")
    clock.freeze(clock.now() + timedelta(hours=12, minutes=1))
    try:
        assert client.get("/console/admin/accounts").status_code == 302
    finally:
        clock.freeze(None)


def test_a_page_outside_the_roles_is_forbidden(client, committing_engine: Engine) -> None:
    make_account(committing_engine, "author1", "rule_author")
    sign_in(client, "author1")
    reply = client.get("/console/admin/accounts")
    assert reply.status_code == 403 and "无权访问" in reply.text


def test_after_sign_in_only_a_local_next_page_is_followed(
    client, committing_engine: Engine
) -> None:
    make_account(committing_engine, "admin1", "admin")
    token = csrf_token(client)
    reply = client.post(
        "/console/login",
        data={
            "username": "admin1",
            "password": PASSWORD,
            "next": "//evil.example/phish",
            "csrf_token": token,
        },
    )
    assert reply.headers["Location"] == "/console/"


def test_a_loop_role_needs_a_staff_member(committing_engine: Engine) -> None:
    from auditcage.errors import InvalidInput

    with pytest.raises(InvalidInput, match="staff_id"):
        make_account(committing_engine, "chief1", "brigade_head")


def test_every_response_carries_the_security_headers_and_pages_are_not_cached(client) -> None:
    page = client.get("/console/login")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    api = client.get("/api/v1/alerts")
    assert api.headers["X-Frame-Options"] == "DENY"
    static = client.get("/console/static/console.css")
    assert static.headers.get("Cache-Control") != "no-store"
    static.close()
