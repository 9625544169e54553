from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from auditcage.config import Settings
from auditcage.errors import ConfigError


def test_settings_read_auditcage_variables() -> None:
    settings = Settings.from_env(
        {
            "AUDITCAGE_DATABASE_URL": "postgresql://db/x",
            "AUDITCAGE_PORT": "9000",
            "AUDITCAGE_DEMO_DATA": "true",
            "AUDITCAGE_LINK_TTL": "60",
        }
    )
    assert settings.database_url == "postgresql://db/x"
    assert settings.port == 9000 and settings.demo_data is True
    assert settings.link_ttl == timedelta(seconds=60)


def test_a_boolean_that_is_not_true_or_false_is_refused() -> None:
    with pytest.raises(ConfigError, match="use true or false"):
        Settings.from_env({"AUDITCAGE_DEMO_DATA": "yes"})


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("s3cret\n")
    settings = Settings.from_env({"AUDITCAGE_SECRET_KEY_FILE": str(secret)})
    assert settings.secret_key == "s3cret"


def test_secrets_are_not_in_the_repr() -> None:
    settings = Settings(secret_key="s3cret", source_keys="violation=k1", admin_token="t0k")
    assert (
        "s3cret" not in repr(settings)
        and "k1" not in repr(settings)
        and "t0k" not in repr(settings)
    )


def test_source_keys_map_each_key_to_its_source_system() -> None:
    k1, k2 = "1" * 32, "2" * 40
    settings = Settings(source_keys=f"violation={k1}, vehicle_reg={k2}")
    assert settings.source_key_map() == {k1: "violation", k2: "vehicle_reg"}
    with pytest.raises(ConfigError):
        Settings(source_keys="broken").source_key_map()


def test_a_source_key_shorter_than_32_characters_is_refused_naming_its_system() -> None:
    settings = Settings(source_keys=f"violation={'v' * 32},accident={'a' * 31}")
    with pytest.raises(ConfigError, match=r"key of accident has 31 characters.*at least 32"):
        settings.source_key_map()


def test_the_api_does_not_start_with_a_short_source_key_or_no_intake_limit() -> None:
    from api import create_app

    with pytest.raises(ConfigError, match="at least 32"):
        create_app(Settings(secret_key="s" * 32, source_keys="violation=short"))
    with pytest.raises(ConfigError, match="AUDITCAGE_INTAKE_LIMIT_PER_KEY=0"):
        create_app(Settings(secret_key="s" * 32, intake_limit_per_key=0))


def test_the_log_level_setting_is_applied_to_every_process_that_starts(tmp_path) -> None:
    import subprocess
    import sys

    from auditcage.config import PROJECT_ROOT

    # Worker and notifier are CLI commands: the root logger's level as `main` leaves it.
    probe = (
        "import logging, sys; from click.testing import CliRunner; from auditcage.cli import main;"
        f"r = CliRunner().invoke(main, ['--database-url', 'sqlite:///{tmp_path}/db', 'db',"
        " 'upgrade']); print(r.exit_code, logging.getLevelName(logging.getLogger().level))"
    )
    for level, expected in (("ERROR", "0 ERROR"), ("debug", "0 DEBUG")):
        env = {"AUDITCAGE_LOG_LEVEL": level, "PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin"}
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.stdout.split("\n")[-2] == expected, done.stderr[-2000:]


def test_an_unknown_log_level_is_refused_not_guessed() -> None:
    from auditcage import logs

    with pytest.raises(ConfigError, match="AUDITCAGE_LOG_LEVEL"):
        logs.configure("LOUD")


def test_the_api_applies_the_log_level_setting(app_settings: Settings) -> None:
    import logging
    from dataclasses import replace

    from api import create_app

    root = logging.getLogger()
    before = root.level
    try:
        app = create_app(replace(app_settings, log_level="ERROR"))
        app.extensions["auditcage.engine"].dispose()
        assert root.level == logging.ERROR
    finally:
        root.setLevel(before)
