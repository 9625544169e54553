"""One session per request on g; views wrap their one service call in transaction()."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from auditcage.config import Settings
from auditcage.reference.cache import ReferenceCache
from auditcage.storage.session import make_engine, make_session_factory


def init_app(app: Flask, settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    app.extensions["auditcage"] = settings
    app.extensions["auditcage.engine"] = engine
    app.extensions["auditcage.sessions"] = make_session_factory(engine)
    app.extensions["auditcage.reference"] = ReferenceCache()
    app.teardown_appcontext(_close)


def settings() -> Settings:
    return current_app.extensions["auditcage"]


def reference_cache() -> ReferenceCache:
    return current_app.extensions["auditcage.reference"]


def session() -> Session:
    if "db_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions["auditcage.sessions"]
        g.db_session = factory()
    return g.db_session


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit when the block exits normally, roll back if it raises."""
    current = session()
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise


def _close(_exc: BaseException | None) -> None:
    current = g.pop("db_session", None)
    if current is not None:
        current.close()
