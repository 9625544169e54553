"""Sign-in attempts are limited per client address and per account name (api/ratelimit.py), on
top of the five-failure lock-out: 429 with Retry-After, one audit entry per episode."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api import create_app
from auditcage import clock
from auditcage.audit.models import AuditEntry
from auditcage.config import Settings
from tests.console.helpers import CSRF, PASSWORD, make_account, sign_in
from tests.notifications.scenario import NOW

pytestmark = pytest.mark.db


@pytest.fixture
def travel() -> Iterator[Any]:
    clock.freeze(NOW)
    yield lambda **delta: clock.freeze(NOW + timedelta(**delta))
    clock.freeze(None)


def _app(settings: Settings, **limits: int) -> Iterator[Flask]:
    app = create_app(replace(settings, **limits))
    yield app
    app.extensions["auditcage.engine"].dispose()


@pytest.fixture
def app(app_settings: Settings, committing_engine: Engine, travel) -> Iterator[Flask]:
    make_account(committing_engine, "chief1", "admin")
    yield from _app(app_settings, login_limit_per_address=4, login_limit_per_account=3)


def _attempt(client: Any, username: str, password: str = "wrong-password", **environ: str) -> Any:
    token = CSRF.search(client.get("/console/login", environ_base=environ).text)
    assert token
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        environ_base=environ,
        headers={k: v for k, v in environ.items() if k.startswith("X-")},
    )


def _throttled(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.sign_in_throttled")
        )
        return [e.detail for e in entries]


def test_too_many_attempts_on_one_account_are_answered_429_with_retry_after(
    app: Flask, committing_engine: Engine, travel
) -> None:
    client = app.test_client()
    for second in range(3):
        travel(seconds=second * 10)
        assert _attempt(client, "chief1").status_code == 401
    travel(seconds=25)
    refused = _attempt(client, "chief1", PASSWORD)  # the right password is not even checked
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "35"  # the first attempt leaves the window at 60 s
    assert "登录尝试过于频繁，请 35 秒后再试" in refused.text
    assert _throttled(committing_engine) == [
        {"scope": "account", "username": "chief1", "address": "127.0.0.1"}
    ]


def test_the_account_limit_ignores_the_case_of_the_name(app: Flask, travel) -> None:
    client = app.test_client()
    for name in ("chief1", "Chief1", "CHIEF1"):
        _attempt(client, name)
    assert _attempt(client, "cHiEf1").status_code == 429


def test_a_flood_of_refused_attempts_is_audited_once_and_does_not_extend_the_wait(
    app_settings: Settings, committing_engine: Engine, travel
) -> None:
    make_account(committing_engine, "chief1", "admin")
    for app in _app(app_settings, login_limit_per_account=3):
        client = app.test_client()
        for _ in range(3):
            _attempt(client, "chief1")
        for second in range(1, 11):
            travel(seconds=second)
            assert _attempt(client, "chief1").headers["Retry-After"] == str(60 - second)
        assert len(_throttled(committing_engine)) == 1
        travel(seconds=60)
        assert _attempt(client, "chief1", PASSWORD).status_code == 302  # not locked: 3 failures


def test_one_address_trying_many_names_is_limited_and_another_address_is_not(
    app: Flask, committing_engine: Engine, travel
) -> None:
    client = app.test_client()
    for name in ("a1", "a2", "a3", "a4"):
        assert _attempt(client, name).status_code == 401
    assert _attempt(client, "chief1", PASSWORD).status_code == 429
    assert _throttled(committing_engine)[0]["scope"] == "address"
    elsewhere = app.test_client()
    assert _attempt(elsewhere, "chief1", PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302


def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(app: Flask, travel) -> None:
    client = app.test_client()
    for n in range(4):
        _attempt(client, f"a{n}", **{"X-Forwarded-For": f"10.9.9.{n}"})
    assert _attempt(client, "a9", **{"X-Forwarded-For": "10.9.9.9"}).status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_window(
    app_settings: Settings, committing_engine: Engine, travel
) -> None:
    make_account(committing_engine, "chief1", "admin")
    for proxied in _app(app_settings, login_limit_per_address=2, proxy_hops=1):
        client = proxied.test_client()
        for name in ("a1", "a2"):
            _attempt(client, name, **{"X-Forwarded-For": "10.0.0.1"})
        assert _attempt(client, "a3", **{"X-Forwarded-For": "10.0.0.1"}).status_code == 429
        other = _attempt(client, "chief1", PASSWORD, **{"X-Forwarded-For": "10.0.0.2"})
        assert other.status_code == 302


def test_the_lock_out_after_five_wrong_passwords_still_applies_under_the_limits(
    app_settings: Settings, committing_engine: Engine, travel
) -> None:
    make_account(committing_engine, "chief1", "admin")
    for app in _app(app_settings):  # the default limits: 30 per address, 10 per account
        client = app.test_client()
        for _ in range(5):
            assert _attempt(client, "chief1").status_code == 401
        assert _attempt(client, "chief1", PASSWORD).status_code == 401  # locked, not throttled


def test_the_current_password_on_the_password_page_is_limited_too(
    app: Flask, committing_engine: Engine, travel
) -> None:
    client = app.test_client()
    assert sign_in(client, "chief1").status_code == 302
    page = client.get("/console/admin/password")
    token = CSRF.search(page.text)
    assert token
    form = {"current": "guess", "new": "x" * 12, "repeat": "x" * 12, "csrf_token": token.group(1)}
    answers = [client.post("/console/admin/password", data=form).status_code for _ in range(3)]
    assert answers == [400, 400, 429]  # the sign-in was the account's first attempt
