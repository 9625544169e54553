"""`auditcage account`: the first administrator is made on the command line, then signs in."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from auditcage.cli import main
from tests.console.helpers import sign_in

pytestmark = pytest.mark.db


@pytest.fixture
def run(database_url: str, committing_engine):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["--database-url", database_url, *args])
        return result.exit_code, result.output

    return invoke


def test_an_administrator_created_on_the_command_line_can_sign_in(run, client) -> None:
    code, output = run("account", "create", "root", "--role", "admin", "--password", "x" * 12)
    assert code == 0, output
    assert sign_in(client, "root", "x" * 12).status_code == 302
    code, output = run("account", "list")
    assert "root" in output and "admin" in output and "active" in output


def test_a_short_password_and_a_loop_role_without_staff_are_refused(run) -> None:
    code, output = run("account", "create", "c1", "--role", "brigade_head", "--password", "short")
    assert code != 0
    assert "at least 10 characters" in output and "staff_id" in output


def test_a_deactivated_account_can_no_longer_sign_in(run, client) -> None:
    run("account", "create", "root", "--role", "admin", "--password", "x" * 12)
    code, _ = run("account", "deactivate", "root")
    assert code == 0
    assert sign_in(client, "root", "x" * 12).status_code == 401
    code, output = run("account", "password", "nobody", "--password", "y" * 12)
    assert code != 0 and "no account nobody" in output
