"""Secrets come from the environment or files, never from the repository: no key, token or
password is committed, the API will not start on a missing or development key, and no repr or
printout shows a database password."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from api import create_app
from auditcage.config import DEV_SECRET_KEY, Settings
from auditcage.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

# Found anywhere, tests included: these formats are real credentials whatever the file.
CREDENTIALS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
}
# Found outside tests/ and bench/ (whose values are test values), they are hard-coded secrets.
HARD_CODED = {
    "secret assigned a literal": re.compile(
        r"(?i)\b\w*(?:secret|password|passwd|token|api_?key)\w*\s*[:=]\s*[\"']([^\"'\s{}]{6,})[\"']"
    ),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^@\s/'\"]+@"),
}
# Each exception says why it is not a secret.
ALLOWED = {
    # signs only the demo and tests; Settings.check_secrets refuses it anywhere else
    ("auditcage/config.py", 'DEV_SECRET_KEY = "dev-only-not-secret"'),
    # the demo's administrator token, printed on the terminal by `auditcage demo`
    ("auditcage/demo_run.py", 'admin_token="demo-admin-token"'),
    # a docstring's example of what scheme_of() strips
    ("notifications/dossier.py", "mailto://user:secret@"),
}
TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".toml", ".md", ".txt", ".cfg", ".ini", ".json", ".html"}
TEXT_SUFFIXES |= {".js", ".css", ".sh", ".env", ".csv", ".ndjson", ""}


def _repository_files() -> list[Path]:
    """Tracked files and new ones not ignored: what a commit would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def _findings() -> list[str]:
    found = []
    for path in _repository_files():
        relative = path.relative_to(ROOT).as_posix()
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES or "vendor/" in relative:
            continue
        text = path.read_text("utf-8", errors="replace")
        patterns = dict(CREDENTIALS)
        if not relative.startswith(("tests/", "bench/")):
            patterns |= HARD_CODED
        for name, pattern in patterns.items():
            for match in pattern.finditer(text):
                if (relative, match.group(0)) in ALLOWED:
                    continue
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{relative}:{line}: {name}: {match.group(0)[:60]}")
    return found


def test_the_repository_holds_no_private_key_token_or_password() -> None:
    assert _findings() == []


def test_the_scan_finds_what_it_looks_for() -> None:
    """The patterns are alive: each finds a planted example (spelt in pieces, so that this file
    does not hold what it plants)."""
    planted = {
        "private key": "-----BEGIN OPENSSH " + "PRIVATE KEY-----",
        "GitHub token": "ghp_" + "a1B2" * 9,
        "secret assigned a literal": "API_KEY = " + '"k3y-of-the-bureau"',
        "password in a URL": "postgresql://auditcage:" + "hunter22@db/auditcage",
    }
    for name, sample in planted.items():
        assert {**CREDENTIALS, **HARD_CODED}[name].search(sample), name


def test_no_secrets_folder_or_environment_file_can_be_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert "secrets/" in ignored and ".env" in ignored
    assert not any(p.relative_to(ROOT).parts[0] in ("secrets", ".env") for p in _repository_files())


def test_secrets_have_no_default() -> None:
    settings = Settings.from_env({})
    assert (settings.secret_key, settings.source_keys, settings.admin_token) == ("", "", "")


def test_the_api_does_not_start_without_a_secret_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ConfigError, match="AUDITCAGE_SECRET_KEY"):
        create_app(Settings.from_env({"AUDITCAGE_DATABASE_URL": url}))


def test_the_development_key_serves_only_the_demo(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ConfigError, match="development key"):
        create_app(Settings(database_url=url, secret_key=DEV_SECRET_KEY))
    demo = create_app(Settings(database_url=url, secret_key=DEV_SECRET_KEY, demo_data=True))
    demo.extensions["auditcage.engine"].dispose()


@pytest.mark.parametrize("name", ["secret_key", "source_keys", "admin_token", "database_url"])
def test_each_secret_can_come_from_a_file(tmp_path: Path, name: str) -> None:
    secret = tmp_path / name
    secret.write_text("from-a-file\n", encoding="utf-8")
    settings = Settings.from_env({f"AUDITCAGE_{name.upper()}_FILE": str(secret)})
    assert getattr(settings, name) == "from-a-file"


def test_no_repr_shows_a_secret_or_the_database_password() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://auditcage:hunter22@db/auditcage",
        secret_key="k" * 32,
        source_keys="violation=src-key-1",
        admin_token="adm-token-1",
    )
    shown = repr(settings)
    for value in ("hunter22", "k" * 32, "src-key-1", "adm-token-1"):
        assert value not in shown


def test_the_demo_prints_the_database_without_its_password() -> None:
    from auditcage.demo_run import _without_password

    printed = _without_password("postgresql+psycopg://auditcage:hunter22@db/auditcage")
    assert "hunter22" not in printed and printed.startswith("postgresql+psycopg://auditcage:")


def test_database_errors_do_not_carry_the_values(tmp_path: Path) -> None:
    """Bound values are personal data; a failed statement's message leaves them out."""
    from sqlalchemy import text

    from auditcage.storage.session import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id_no TEXT PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": "320102199001011232"})
    with pytest.raises(Exception) as failed, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": "320102199001011232"})
    engine.dispose()
    assert "320102199001011232" not in str(failed.value)
