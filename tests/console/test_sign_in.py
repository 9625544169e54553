"""Sign-in in a real browser: the start page by role, the language switch, sign-out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.conftest import PHONE, assert_fits, shot, sign_in

pytestmark = pytest.mark.browser


def test_an_administrator_signs_in_lands_on_accounts_and_switches_to_english(
    page: Any, console_url: str
) -> None:
    page.goto(f"{console_url}/console/")
    assert "/console/login" in page.url
    shot(page, "login")
    sign_in(page, console_url, "admin")
    assert page.url.endswith("/console/admin/accounts")
    assert page.locator("h1").first.inner_text().startswith("账号管理")
    shot(page, "accounts")
    page.click("a.lang")
    assert page.locator("h1").first.inner_text().startswith("Accounts")
    page.click("a.lang")
    page.click("text=退出")
    assert "/console/login" in page.url
    page.goto(f"{console_url}/console/admin/accounts")
    assert "/console/login" in page.url


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(
    page: Any, console_url: str
) -> None:
    page.goto(f"{console_url}/console/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".flash.error").inner_text()


def test_the_login_page_fits_a_phone(phone: Any, console_url: str) -> None:
    phone.goto(f"{console_url}/console/login")
    assert phone.viewport_size == PHONE
    assert_fits(phone)
    shot(phone, "login-phone")
