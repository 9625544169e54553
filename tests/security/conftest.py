"""The browser fixtures of the console tests (the demo province served on loopback, Debian's
chromium), for the policy check in test_browser_csp.py."""

from tests.console.conftest import browser, console_demo, console_url  # noqa: F401
