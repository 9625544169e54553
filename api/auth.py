"""Who is calling: source systems by their own API key (intake only), administrators by token.

Users, roles and jurisdiction arrive with the acknowledgement-loop issue; until then the reference
endpoint takes the administrator token AUDITCAGE_ADMIN_TOKEN.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from werkzeug.exceptions import Forbidden, TooManyRequests, Unauthorized

from api import db
from api.ratelimit import IntakeLimits

log = logging.getLogger(__name__)

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
        g.source_key = presented
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


# --- staff: bureau chiefs, inspectors (until the console's accounts, a signed staff token) -------

STAFF_SALT = "auditcage.staff-token"


def issue_staff_token(secret: str, staff_id: str) -> str:
    """A bearer token naming one staff member (issued by `auditcage token issue`)."""
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(secret, salt=STAFF_SALT).dumps(staff_id)


def staff_required(view: F) -> F:
    """The caller is an active staff member (R2); g.viewer carries role and jurisdiction."""
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    from notifications.access import viewer_of

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        presented = _presented_key()
        if presented is None:
            raise Unauthorized("a staff token is required (Authorization: Bearer <token>)")
        settings = db.settings()
        try:
            staff_id = URLSafeTimedSerializer(settings.secret_key, salt=STAFF_SALT).loads(
                presented, max_age=int(settings.staff_token_ttl.total_seconds())
            )
        except BadSignature:
            raise Unauthorized("this staff token is not valid or has expired") from None
        ref = db.reference_cache().index(db.session())
        g.viewer = viewer_of(ref, str(staff_id))
        g.reference = ref
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def intake_rate_limited(view: F) -> F:
    """429 with Retry-After when one source-system key posts more often than
    AUDITCAGE_INTAKE_LIMIT_PER_KEY a minute (api/ratelimit.py); after source_key_required."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        limits: IntakeLimits = current_app.extensions["auditcage.intake_limits"]
        refusal = limits.check(g.source_key)
        if refusal is not None:
            if refusal.first:  # once per episode, not once per refused request
                log.warning(
                    "intake of %s throttled: more than %d requests a minute with its key",
                    g.source_system,
                    db.settings().intake_limit_per_key,
                )
            raise TooManyRequests(
                f"more than {db.settings().intake_limit_per_key} requests a minute with this "
                f"key; retry in {refusal.retry_after} s",
                retry_after=refusal.retry_after,
            )
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
