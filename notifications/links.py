"""Signed, expiring links in pushed messages: open an alert, acknowledge it from the device.

A link carries (alert id, staff id, purpose) signed with the application's secret (itsdangerous),
so a chief can act from the message without signing in; it names one person and one alert,
expires after `Settings.link_ttl`, and is refused when tampered with or used by the wrong alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from auditcage import clock
from auditcage.errors import AuditcageError

SALT = "auditcage.alert-link"


class LinkError(AuditcageError):
    code = "bad_link"


@dataclass(frozen=True)
class AlertLink:
    alert_id: int
    staff_id: str
    purpose: str  # "open" | "acknowledge"


class _ClockSigner(TimestampSigner):
    """Timestamps from auditcage.clock, so that expiry follows frozen time in tests."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class _Serializer(URLSafeTimedSerializer):
    default_signer = _ClockSigner


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return _Serializer(secret, salt=SALT)


def sign(secret: str, link: AlertLink) -> str:
    return _serializer(secret).dumps([link.alert_id, link.staff_id, link.purpose])


def verify(secret: str, token: str, *, max_age: timedelta) -> AlertLink:
    try:
        alert_id, staff_id, purpose = _serializer(secret).loads(
            token, max_age=int(max_age.total_seconds())
        )
    except SignatureExpired:
        raise LinkError("the link has expired: open the alert in the console") from None
    except (BadSignature, ValueError, TypeError):
        raise LinkError("the link is not valid") from None
    return AlertLink(int(alert_id), str(staff_id), str(purpose))


def url(base_url: str, secret: str, link: AlertLink) -> str:
    return f"{base_url.rstrip('/')}/a/{sign(secret, link)}"
