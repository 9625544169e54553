"""Every console route checks sign-in and a capability: walked over the whole URL map, so a page
added later cannot forget it."""

from __future__ import annotations

from typing import Any

import pytest

PUBLIC = {"console.login", "console.language", "static"}


def _console_rules(app: Any) -> list[Any]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/console") and r.endpoint not in PUBLIC
    ]


def _url(rule: Any) -> str:
    return rule.build(dict.fromkeys(rule.arguments, 1))[1]  # 1 reads as an int and as a string


def test_every_console_view_declares_what_it_requires(client) -> None:  # type: ignore[no-untyped-def]
    app = client.application
    undeclared = [
        r.endpoint
        for r in _console_rules(app)
        if not hasattr(app.view_functions[r.endpoint], "required_capability")
        and r.endpoint != "console.logout"  # signing out needs nothing
    ]
    assert not undeclared


@pytest.mark.db
def test_anonymous_requests_to_any_console_route_go_to_the_sign_in_page(client) -> None:  # type: ignore[no-untyped-def]
    app = client.application
    app.config["WTF_CSRF_ENABLED"] = False  # reach the view itself, past the CSRF check
    checked = 0
    for rule in _console_rules(app):
        if rule.endpoint == "console.logout":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            reply = client.open(_url(rule), method=method)
            assert reply.status_code == 302, (rule.rule, method, reply.status_code)
            assert reply.headers["Location"].startswith("/console/login"), rule.rule
            checked += 1
    assert checked >= 5
