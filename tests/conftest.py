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
from sqlalchemy import Engine, make_url, text
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


def _server_database(url: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE on the server of `url` (outside a transaction, as it must be)."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("AUDITCAGE_TEST_DATABASE_URL")
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "master")  # gw0, gw1, … under xdist
    if not url:
        # tmp_path_factory is per xdist worker already: each worker has its own SQLite file.
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    parsed = make_url(url)
    if worker_id == "master" or parsed.get_backend_name() != "postgresql":
        yield url
        return
    # Under xdist every worker drops and recreates the public schema: each needs its own
    # database, <db>_<worker>, created on the server of the given URL and dropped at the end.
    name = f"{parsed.database}_{worker_id}"
    _server_database(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _server_database(url, f'CREATE DATABASE "{name}"')
    yield parsed.set(database=name).render_as_string(hide_password=False)
    _server_database(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


# Under `pytest -n N --dist loadgroup` the tests of one group run on one worker: one Spark
# cluster (master and two worker JVMs) and one console demo with its chromium, not one per
# xdist worker on a two-core machine; and a module-scoped fixture (a generated province, a
# seeded database, a live server) is built once, not once on each worker that gets some of
# the module's tests. Without xdist the mark does nothing.
_XDIST_GROUPS = ("spark", "browser")


def _xdist_group(item: pytest.Item) -> str | None:
    for group in _XDIST_GROUPS:
        if item.get_closest_marker(group):
            return group
    if item.nodeid.startswith("tests/faults/"):
        # Each starts workers and notifiers as processes and waits for them: two such tests at
        # once on two cores starve each other's waits.
        return "faults"
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is not None:
        for definitions in fixtures.name2fixturedefs.values():
            if any(d.scope == "module" for d in definitions):
                return item.nodeid.split("::", 1)[0]
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # xdist 3.8 groups by a "@group" suffix of the node id, which it sets through
    # `item._nodeid`; pytest 9.2 reads the id from `item._id`, so the suffix is set here.
    suffix = hasattr(config, "workerinput") and getattr(config.option, "loadgroup", False)
    for item in items:
        group = _xdist_group(item)
        if group is None:
            continue
        item.add_marker(pytest.mark.xdist_group(group))
        if suffix and not item.nodeid.endswith(f"@{group}"):
            _suffix_node_id(item, group)


def _suffix_node_id(item: pytest.Item, group: str) -> None:
    """Set the node id xdist groups by, on pytests before and after 9.2 (private attributes)."""
    try:
        from _pytest.nodeid import NodeId  # pytest >= 9.2
    except ImportError:
        item._nodeid = f"{item.nodeid}@{group}"  # type: ignore[attr-defined]
        return
    item._id = NodeId.parse(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]
