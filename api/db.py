"""One session per request on g; views wrap their one service call in transaction()."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.routing import IntegerConverter

from auditcage.config import Settings
from auditcage.reference.cache import ReferenceCache
from auditcage.storage.session import make_engine, make_session_factory

# Ids are INTEGER columns, signed 32-bit on PostgreSQL: a larger number names no row, and
# binding it would fail in the driver (a 500) instead of answering 404.
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """`<int:…>` in every route: an id the database can hold, else the URL does not match."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask, settings: Settings) -> None:
    # Before the blueprints: a rule binds its converters when it is added to the map.
    app.url_map.converters["int"] = RowIdConverter
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
