"""Console helpers for Flask test-client tests: accounts in the test database, signing in."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from auditcage.accounts import service

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_account(engine: Engine, username: str, *roles: str, **extra: Any) -> int:
    with Session(engine) as session, session.begin():
        account = service.create(
            session,
            service.NewAccount(
                username=username,
                display_name=extra.pop("display_name", username),
                password=extra.pop("password", PASSWORD),
                roles=roles,
                **extra,
            ),
            actor="test",
        )
        return account.id


def csrf_token(client: Any, path: str = "/console/login") -> str:
    match = CSRF.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
    )
