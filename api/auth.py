"""Who is calling: source systems by their own API key (intake only), administrators by token.

Users, roles and jurisdiction arrive with the acknowledgement-loop issue; until then the reference
endpoint takes the administrator token AUDITCAGE_ADMIN_TOKEN.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request
from werkzeug.exceptions import Forbidden, Unauthorized

from api import db

F = TypeVar("F", bound=Callable[..., Any])


def _presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.headers.get("X-API-Key") or None


def source_key_required(view: F) -> F:
    """The caller is a source system with its own key; g.source_system names it."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        presented = _presented_key()
        if presented is None:
            raise Unauthorized("an API key is required (Authorization: Bearer <key>)")
        source = None
        # Compare against every key in constant time, so timing does not reveal a prefix.
        for key, name in db.settings().source_key_map().items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                source = name
        if source is None:
            raise Forbidden("this API key is not valid")
        g.source_system = source
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def admin_token_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        presented = _presented_key()
        expected = db.settings().admin_token
        if presented is None:
            raise Unauthorized("an administrator token is required")
        if not expected or not hmac.compare_digest(expected.encode(), presented.encode()):
            raise Forbidden("this token may not change reference data")
        g.actor = "admin-token"
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
