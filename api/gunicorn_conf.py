"""gunicorn settings of the API: `gunicorn -c python:api.gunicorn_conf 'api.wsgi:app'`.

The app is built once, in the arbiter (`preload_app`), and warmed there before any worker
forks (`api.warmup`): every worker starts with the rules compiled and the pre-check's state
rebuilt, and the rebuild — minutes on a large history — is not subject to the worker timeout,
which kills a worker that does not answer its heartbeat. Each forked worker then opens its own
database connections (a pooled connection must never be shared across processes) and catches
up on the records stored since. Other settings (bind, workers, threads, timeout) stay on the
command line or in GUNICORN_CMD_ARGS.
"""

from __future__ import annotations

import logging
from typing import Any

preload_app = True
worker_class = "gthread"  # the pre-check and intake are short; threads share one warm state

log = logging.getLogger("api.gunicorn")


def when_ready(server: Any) -> None:
    """Before the first worker forks."""
    from api.warmup import warm

    try:
        warm(server.app.wsgi())
    except Exception:  # the database may be down at start: workers then warm on first use
        log.exception("warm-up failed; the first requests will build the state")


def post_fork(server: Any, worker: Any) -> None:
    """Drop the arbiter's pooled connections in the child without closing them (they are the
    arbiter's sockets); the worker's first query opens its own."""
    app = server.app.wsgi()
    app.extensions["auditcage.engine"].dispose(close=False)
