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
    settings = Settings(source_keys="violation=k1, vehicle_reg=k2")
    assert settings.source_key_map() == {"k1": "violation", "k2": "vehicle_reg"}
    with pytest.raises(ConfigError):
        Settings(source_keys="broken").source_key_map()
