"""Shared fixtures: settings, a migrated database, rolled-back sessions, the API client.

`AUDITCAGE_TEST_DATABASE_URL` selects the database (a fresh SQLite file by default), so CI runs the
tests marked `db` again on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from auditcage import clock
from auditcage.config import Settings
from auditcage.storage.models import Base
from auditcage.storage.schema import upgrade
from auditcage.storage.session import make_engine

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# Each source system's intake key (32 characters at least, as auditcage.config requires).
SOURCE_KEY_OF = {
    source: f"key-{name}-0123456789abcdef0123"
    for source, name in (
        ("violation", "violation"),
        ("vehicle_reg", "vehicle"),
        ("license_mgmt", "license"),
        ("accident", "accident"),
    )
}
SOURCE_KEYS = ",".join(f"{source}={key}" for source, key in SOURCE_KEY_OF.items())
ADMIN_TOKEN = "admin-test-token"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("AUDITCAGE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # a clean schema each run
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back when the test ends."""
    with db_engine.connect() as connection:
        outer = connection.begin()
        # Services never commit, so the default join mode is enough.
        db_session = Session(bind=connection, expire_on_commit=False)
        yield db_session
        db_session.close()
        outer.rollback()


def truncate_all(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def committing_engine(db_engine: Engine) -> Iterator[Engine]:
    """The test database, emptied before and after: for code that commits (API, CLI)."""
    truncate_all(db_engine)
    yield db_engine
    truncate_all(db_engine)


@pytest.fixture
def app_settings(database_url: str, committing_engine: Engine) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        source_keys=SOURCE_KEYS,
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def client(app_settings: Settings):  # type: ignore[no-untyped-def]
    from api import create_app

    app = create_app(app_settings)
    app.testing = True
    with app.test_client() as test_client:
        yield test_client
    app.extensions["auditcage.engine"].dispose()


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    """Freeze auditcage.clock.now() at a Tuesday afternoon in 2026; tests may move it."""
    from datetime import datetime

    clock.freeze(datetime(2026, 11, 17, 15, 0, tzinfo=clock.SHANGHAI))
    yield
    clock.freeze(None)


@pytest.fixture
def data_dir() -> Path:
    return Path(__file__).parent / "data"
