"""The logging setup every process shares (api, worker, notifier, CLI): AUDITCAGE_LOG_LEVEL."""

from __future__ import annotations

import logging

from auditcage.errors import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    """Log to stderr at `level`; an unknown level is refused rather than read as a default."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ConfigError(f"AUDITCAGE_LOG_LEVEL={level!r}: use one of {', '.join(LEVELS)}")
    logging.basicConfig(format=FORMAT)  # a no-op when the host (gunicorn, pytest) set handlers
    logging.getLogger().setLevel(name)
