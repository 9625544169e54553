"""Security headers: a Content-Security-Policy with a fresh nonce on every page and none of
'unsafe-inline' or 'unsafe-eval', a closed policy on everything else, HSTS over https, and the
templates free of inline code that such a policy would block (or let through if loosened)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from api import create_app
from auditcage.config import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{20,})'")


def _policy(reply) -> dict[str, str]:  # type: ignore[no-untyped-def]
    directives = (d.strip() for d in reply.headers["Content-Security-Policy"].split(";"))
    return {name: rest for name, _, rest in (d.partition(" ") for d in directives if d)}


def test_a_console_page_allows_only_its_own_files_and_inline_code_with_its_nonce(client) -> None:
    reply = client.get("/console/login")
    policy = _policy(reply)
    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "style-src"):
        assert NONCE.search(policy[directive]), directive
        assert "unsafe" not in policy[directive]
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"


def test_every_response_gets_a_nonce_of_its_own(client) -> None:
    nonces = {NONCE.search(_policy(client.get("/console/login"))["script-src"]) for _ in range(3)}
    assert len({m.group(1) for m in nonces if m}) == 3


def test_json_and_files_may_load_nothing(client) -> None:
    for path in ("/healthz", "/api/v1/alerts", "/console/static/console.css"):
        reply = client.get(path)
        assert _policy(reply)["default-src"] == "'none'", path
        assert _policy(reply)["frame-ancestors"] == "'none'", path
        reply.close()


@pytest.mark.parametrize("path", ["/console/login", "/healthz", "/api/v1/alerts", "/nowhere"])
def test_the_old_headers_are_still_on_pages_api_answers_and_errors(client, path: str) -> None:
    reply = client.get(path)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Referrer-Policy"] == "same-origin"
    assert reply.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" in reply.headers


@pytest.fixture
def make_client(app_settings: Settings) -> Iterator[Callable[..., Any]]:
    """A test client of an app with these settings changed; its engine disposed at the end."""
    apps: list[Flask] = []

    def make(**changes: Any) -> Any:
        apps.append(create_app(replace(app_settings, **changes)))
        return apps[-1].test_client()

    yield make
    for app in apps:
        app.extensions["auditcage.engine"].dispose()


def test_hsts_only_when_served_over_https(make_client) -> None:  # type: ignore[no-untyped-def]
    plain = make_client()
    assert "Strict-Transport-Security" not in plain.get("/console/login").headers
    secure = make_client(public_url="https://audit.example")
    reply = secure.get("/healthz")
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"
    proxied = make_client(proxy_hops=1)
    forwarded = proxied.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in forwarded.headers
    # without a trusted proxy, a client cannot claim https for itself (nor will it matter)
    assert (
        "Strict-Transport-Security"
        not in plain.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    )


def test_the_session_cookie_is_secure_over_https(make_client) -> None:  # type: ignore[no-untyped-def]
    secure = make_client(public_url="https://audit.example")
    cookie = secure.get("/console/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_signed_link_page_styles_itself_with_the_responses_nonce(client) -> None:
    source = (TEMPLATES / "alert_link.html").read_text("utf-8")
    assert '<style nonce="{{ csp_nonce() }}">' in source
    app = client.application
    with app.test_request_context("/a/x"):
        from flask import render_template_string

        from api.headers import csp_nonce

        rendered = render_template_string('<style nonce="{{ csp_nonce() }}"></style>')
        assert f'nonce="{csp_nonce()}"' in rendered


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
STYLE_WITHOUT_NONCE = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)
SCRIPT_URL = re.compile(r"javascript:", re.I)


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_templates_hold_no_inline_code_the_policy_would_block(template: Path) -> None:
    """Scripts come from files (JSON data blocks are not scripts); a <style> carries the nonce;
    no on*= handler, style= attribute or javascript: URL, which no nonce can allow."""
    source = template.read_text("utf-8")
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("<style> without the nonce", STYLE_WITHOUT_NONCE),
        ("on*= handler", HANDLER),
        ("style= attribute", STYLE_ATTRIBUTE),
        ("javascript: URL", SCRIPT_URL),
    ):
        assert not pattern.search(source), f"{name} in {template.name}"
