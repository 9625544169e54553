"""The console under test: the demo province in its own SQLite file, served on loopback, and a
real browser (Debian's chromium driven by Playwright, never a downloaded one).

`console_demo` is built once per test session (about 15 s): a small sample province, evaluated and
routed as `auditcage demo` does, with one account per role, all with DEMO_PASSWORD. Browser tests
that change state pick by query alerts that no other test touches.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from auditcage.config import Settings
from auditcage.demo_run import DemoDatabase, prepare_demo

DEMO_PASSWORD = "console-test-pw"
SCREENSHOTS = Path(os.environ.get("AUDITCAGE_SCREENSHOTS", "screenshots"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str:
    path = os.environ.get("AUDITCAGE_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail("Debian's chromium is needed for the console tests: apt-get install chromium")
    return path


@pytest.fixture(scope="session")
def console_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoDatabase:
    base = tmp_path_factory.mktemp("console")
    settings = Settings(
        database_url=f"sqlite:///{base / 'console.db'}", secret_key="console-test-secret"
    )
    return prepare_demo(
        settings,
        records_target=1500,
        months=3,
        seed=11,
        out_dir=base / "province",
        echo=lambda _line: None,
        password=DEMO_PASSWORD,
    )


@pytest.fixture(scope="session")
def console_url(console_demo: DemoDatabase) -> Iterator[str]:
    from api import create_app

    app = create_app(console_demo.settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["auditcage.engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop browser tab with its own cookies."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A 390 px wide tab, as on a chief's phone."""
    yield from _page(browser, PHONE)


def account(demo: DemoDatabase, username: str) -> Any:
    return next(a for a in demo.accounts if a.username == username)


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot under screenshots/ (the CI artefact of every page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits(page: Any) -> None:
    """Nothing wider than the viewport: usable without sideways scrolling."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"
