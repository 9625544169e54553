"""A COMMIT the server carries out whose reply never reaches the client: the connection drops
between the two. The client sees the driver's OperationalError although the transaction is in,
and SQLAlchemy handles it as it would a real one (wrapped, the connection invalidated when the
dialect reads it as a disconnect)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

LOST = "server closed the connection unexpectedly"  # psycopg's words for a dropped connection


@contextmanager
def commit_reply_lost(engine: Engine, when: Callable[[], bool]) -> Iterator[list[int]]:
    """While active, each commit for which `when()` is true is carried out, then its reply lost.
    Yields the list of lost replies (one entry each)."""
    lost: list[int] = []
    dialect = engine.dialect
    real = dialect.do_commit

    def do_commit(dbapi_connection: Any) -> None:
        real(dbapi_connection)  # the server has it
        if when():
            lost.append(1)
            raise dialect.loaded_dbapi.OperationalError(LOST)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    try:
        yield lost
    finally:
        del dialect.do_commit  # back to the class's method
