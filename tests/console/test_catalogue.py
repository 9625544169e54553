"""The UI text catalogue: every key a template or view uses exists in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

from api.console.i18n import catalogue

API = Path(__file__).resolve().parents[2] / "api"
# _('key') in templates, t("key") in views; keys built at run time (f-strings) are not checked here
USED = re.compile(r"""(?:\b_|\bt)\(\s*['"]([a-z0-9_]+(?:\.[a-z0-9_]+)+)['"]""")


def _used_keys() -> set[str]:
    keys = set()
    for path in [*API.rglob("*.html"), *API.joinpath("console").rglob("*.py")]:
        keys |= set(USED.findall(path.read_text(encoding="utf-8")))
    return keys


def test_every_key_used_by_the_console_is_in_the_catalogue() -> None:
    missing = sorted(_used_keys() - catalogue().keys())
    assert not missing, f"not in api/console/messages/*.yaml: {missing}"


def test_every_entry_has_chinese_and_english_text() -> None:
    incomplete = [k for k, v in catalogue().items() if not (v.get("zh") and v.get("en"))]
    assert not incomplete


def test_the_catalogue_is_chinese_by_default(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/console/login")
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    client.get("/console/lang/en")
    assert "Sign in" in client.get("/console/login").text
