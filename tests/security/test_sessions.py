"""Console sessions end: after AUDITCAGE_SESSION_TTL without a request, 12 hours after sign-in
however active, and at once for a copied cookie when its owner signs out. Time is moved with
auditcage.clock, which the session checks read (not the cookie's own wall-clock stamp)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from api import create_app
from auditcage import clock
from auditcage.config import Settings
from tests.console.helpers import csrf_token, make_account, sign_in
from tests.notifications.scenario import NOW

pytestmark = pytest.mark.db

PAGE = "/console/admin/accounts"


@pytest.fixture
def travel() -> Iterator[Any]:
    """Move the clock to NOW + the given time."""
    clock.freeze(NOW)
    yield lambda **delta: clock.freeze(NOW + timedelta(**delta))
    clock.freeze(None)


@pytest.fixture
def admin(committing_engine: Engine) -> str:
    make_account(committing_engine, "admin1", "admin")
    return "admin1"


def _signed_in(reply: Any) -> bool:
    if reply.status_code == 200:
        return True
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/console/login")
    return False


def test_a_session_left_alone_for_eight_hours_has_ended(client, admin: str, travel) -> None:
    sign_in(client, admin)
    travel(hours=7, minutes=59)
    assert _signed_in(client.get(PAGE))
    travel(hours=7, minutes=59 + 8 * 60 + 1)  # 8 h 1 min after that request
    assert not _signed_in(client.get(PAGE))


def test_each_request_starts_the_idle_time_again(client, admin: str, travel) -> None:
    sign_in(client, admin)
    for hours in (6, 11):  # 11 h after sign-in, but only 5 h after the last request
        travel(hours=hours)
        assert _signed_in(client.get(PAGE)), hours


def test_the_idle_time_follows_the_setting(app_settings: Settings, admin: str, travel) -> None:
    app = create_app(replace(app_settings, session_ttl=timedelta(minutes=30)))
    client = app.test_client()
    sign_in(client, admin)
    travel(minutes=29)
    assert _signed_in(client.get(PAGE))
    travel(minutes=29 + 31)
    assert not _signed_in(client.get(PAGE))
    app.extensions["auditcage.engine"].dispose()


def test_a_session_ends_twelve_hours_after_sign_in_even_when_busy(
    client, admin: str, travel
) -> None:
    sign_in(client, admin)
    for hours in (4, 8, 11):
        travel(hours=hours)
        assert _signed_in(client.get(PAGE)), hours
    travel(hours=11, minutes=59)
    assert _signed_in(client.get(PAGE))
    travel(hours=12, minutes=1)
    assert not _signed_in(client.get(PAGE))


def test_a_cookie_copied_before_signing_out_does_not_sign_in_after(
    client, admin: str, travel
) -> None:
    sign_in(client, admin)
    copied = client.get_cookie("session").value
    client.post("/console/logout", data={"csrf_token": csrf_token(client, PAGE)})
    thief = client.application.test_client()
    thief.set_cookie("session", copied)
    assert not _signed_in(thief.get(PAGE))
