"""Settings, read once from AUDITCAGE_* environment variables and refused when unparseable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from auditcage.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RULES_DIR = PROJECT_ROOT / "rules"
# Signs sessions, links and staff tokens in the demo only: create_app refuses it unless
# demo_data is set, so a deployment must bring AUDITCAGE_SECRET_KEY(_FILE) of its own.
DEV_SECRET_KEY = "dev-only-not-secret"
# A source-system key is a bearer secret sent with every batch: long enough that it cannot be
# guessed (32 characters of `secrets.token_urlsafe` carry 192 bits).
MIN_SOURCE_KEY_LENGTH = 32


@dataclass(frozen=True)
class Settings:
    # May carry a password (or come from AUDITCAGE_DATABASE_URL_FILE): kept out of the repr.
    database_url: str = field(default="sqlite:///auditcage.db", repr=False)
    # No default: the API refuses to start without one (DEV_SECRET_KEY only with demo_data).
    secret_key: str = field(default="", repr=False)
    rules_dir: Path = DEFAULT_RULES_DIR
    timezone: str = "Asia/Shanghai"
    link_ttl: timedelta = timedelta(days=3)
    staff_token_ttl: timedelta = timedelta(days=30)
    # A console session ends after this long without a request (and 12 h after sign-in).
    session_ttl: timedelta = timedelta(hours=8)
    # Where links in pushed messages point (the console / API as the chiefs' devices reach it).
    public_url: str = "http://127.0.0.1:8000"
    # Comma-separated "source_system=key" pairs; each source system authenticates with its own key.
    source_keys: str = field(default="", repr=False)
    # Token for administrative API calls (reference data) until users and roles exist.
    admin_token: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    demo_data: bool = False
    # Sign-in attempts per minute from one address and for one account name, per API process
    # (api/ratelimit.py); an office behind one NAT address signs in together at shift start.
    login_limit_per_address: int = 30
    login_limit_per_account: int = 10
    # POST /api/v1/records requests per minute with one source-system key, per API process
    # (api/ratelimit.py): 20 a second, far above a source system's steady batches and the
    # benchmarks' (bench/load.py sends 2 a second), low enough that a runaway client is cut off.
    intake_limit_per_key: int = 1200
    # Reverse proxies in front of the API whose X-Forwarded-For/-Proto to trust (0: none).
    proxy_hops: int = 0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read AUDITCAGE_* variables; refuse values we cannot parse instead of guessing.

        A secret may also come from a file: AUDITCAGE_SECRET_KEY_FILE=/run/secrets/key.
        """
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f"AUDITCAGE_{f.name.upper()}"
            raw = environ.get(name)
            file_name = environ.get(f"{name}_FILE")
            if raw is None and file_name:
                try:
                    raw = Path(file_name).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise ConfigError(f"{name}_FILE={file_name!r}: {exc.strerror}") from exc
            if raw is None:
                continue
            values[f.name] = _parse(name, raw, f.type)
        return cls(**values)  # type: ignore[arg-type]

    def check_secrets(self) -> None:
        """Refuse to sign anything with no secret key, or with the development one outside the
        demo: a key anyone can read in this repository would let anyone forge a session."""
        if not self.secret_key:
            raise ConfigError("AUDITCAGE_SECRET_KEY (or AUDITCAGE_SECRET_KEY_FILE) is not set")
        if self.secret_key == DEV_SECRET_KEY and not self.demo_data:
            raise ConfigError(
                "AUDITCAGE_SECRET_KEY is the development key, which only the demo may use"
            )

    def check_intake(self) -> None:
        """Refuse at start-up what would otherwise fail every intake request."""
        self.source_key_map()
        if self.intake_limit_per_key < 1:
            raise ConfigError(
                f"AUDITCAGE_INTAKE_LIMIT_PER_KEY={self.intake_limit_per_key}: at least 1 request "
                "per minute"
            )

    def source_key_map(self) -> dict[str, str]:
        """API key → source_system."""
        keys: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.source_keys.split(","))):
            source, sep, key = pair.partition("=")
            if not sep or not source or not key:
                raise ConfigError("AUDITCAGE_SOURCE_KEYS: use source_system=key,source_system=key")
            if len(key) < MIN_SOURCE_KEY_LENGTH:
                raise ConfigError(
                    f"AUDITCAGE_SOURCE_KEYS: the key of {source.strip()} has {len(key)} "
                    f"characters; a source-system key needs at least {MIN_SOURCE_KEY_LENGTH} "
                    "(python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one)"
                )
            keys[key] = source
        return keys


def _parse(name: str, raw: str, kind: object) -> object:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind_name == "bool":
        if raw not in ("true", "false"):
            raise ConfigError(f"{name}={raw!r}: use true or false")
        return raw == "true"
    if kind_name == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected an integer") from None
    if kind_name == "Path":
        return Path(raw)
    if kind_name == "timedelta":
        try:
            return timedelta(seconds=int(raw))
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: expected a number of seconds") from None
    return raw
