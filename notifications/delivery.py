"""The outbox worker: claim due messages, send each through apprise, record every attempt.

- A claim is a committed lease (status `sending`, `claimed_until`), taken with a guarded UPDATE,
  so two workers never hold the same row.
- The outcome of each attempt is committed right after it, so a worker that dies loses at most
  the message in flight; its lease runs out and any worker claims the rows it held again.
- A URL apprise cannot load is a permanent error: the next channel is tried at once. A send that
  fails is transient: the same channel is retried with back-off, then the next channel.
- Delivery is at-least-once. A worker killed after a send and before its outcome commits leaves
  the row `sending`; it is sent again, at once when the dead worker ran on this host
  (`rescue_orphans`), else when its lease runs out; a worker whose delivery failed (a claim
  whose commit reply was lost) takes its own leases back at its next delivery (`reclaim_own`).
  Every send carries the row's `Idempotency-Key` (an HTTP header on webhooks, a mail header on
  e-mail), the same on every try and channel, so a receiver drops the copy; the fault tests
  measure such copies.
- The claimed messages are sent one endpoint (scheme, host and port) at a time per thread, so a
  receiver that hangs delays only its own messages, each by at most the send timeout.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import apprise
from sqlalchemy import ColumnElement, Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from auditcage import clock
from auditcage.audit import trail
from auditcage.storage.session import make_session_factory
from notifications.models import AttemptOutcome, DeliveryAttempt, OutboxMessage, OutboxStatus

# Two workers appending to the hash-chained trail at once: the later commit fails on the chain's
# unique prev_hash and writes its outcome again on the new tail (the send itself is not repeated).
AUDIT_RETRIES = 10
# Endpoints sent to at once by one worker; apprise blocks a thread for each send.
PARALLEL_ENDPOINTS = 8
# A message is sent but the database is away: keep retrying to record the outcome this long
# (well inside the lease), since an outcome never recorded means the message goes out again.
RECORD_PATIENCE = timedelta(minutes=5)
# apprise's schemes that carry custom headers given as `+Name=value` URL arguments.
HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
IDEMPOTENCY_HEADER = "Idempotency-Key"  # draft-ietf-httpapi-idempotency-key-header


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off between tries of one channel, when to give up on it, and how long a claim holds."""

    first_delay: timedelta = timedelta(minutes=1)
    factor: float = 2.0
    max_delay: timedelta = timedelta(hours=1)
    attempts_per_channel: int = 5
    # Must outlast a whole batch: apprise waits up to ~4 s to connect and ~4 s to read per send.
    lease: timedelta = timedelta(minutes=10)

    def delay(self, failures: int) -> timedelta:
        """The wait after the `failures`-th transient failure on a channel: 1, 2, 4, 8… minutes."""
        return min(self.first_delay * self.factor ** (failures - 1), self.max_delay)


DEFAULT_POLICY = RetryPolicy()


@dataclass
class DeliveryReport:
    claimed: int = 0
    attempts: int = 0
    sent: int = 0
    retrying: int = 0  # transient error: back in the queue, due after the back-off
    fell_back: int = 0  # moved to the recipient's next channel
    failed: int = 0  # no channel left
    released: int = 0  # claimed, then handed back unsent: a stop was requested

    def add(self, other: DeliveryReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class DeliveryError(Exception):
    """A send that did not arrive. `permanent`: retrying this channel cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


# (url, title, body) -> None; raises DeliveryError. Tests and other transports may replace it.
Sender = Callable[[str, str, str], None]


def send(url: str, title: str, body: str) -> None:
    """Deliver one message to one apprise URL, or say whether a retry can help."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise DeliveryError(f"apprise cannot load this {scheme_of(url)}:// URL", permanent=True)
    try:
        # Messages are plain text with line breaks; without the format apprise treats them as
        # HTML and e-mail clients run the lines together.
        delivered = notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:  # a plugin may raise whatever its transport raises; a retry may help
        raise DeliveryError(f"{type(exc).__name__}: {redact(str(exc))}") from exc
    if not delivered:
        raise DeliveryError("apprise reported a failed delivery")


def idempotency_key(outbox_id: int) -> str:
    """What a receiver deduplicates on: one value per outbox row, on every try and channel."""
    return f"auditcage-outbox-{outbox_id}"


def with_idempotency_key(url: str, key: str) -> str:
    """`url` with the key as a header argument, for the schemes whose plugin sends headers."""
    if scheme_of(url) not in HEADER_SCHEMES or f"+{IDEMPOTENCY_HEADER}=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}+{IDEMPOTENCY_HEADER}={key}"


def endpoint_of(url: str) -> str:
    """Scheme, host and port: the unit a hanging receiver blocks (credentials left out)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme.lower()}://{parts.hostname or ''}:{parts.port or ''}"
    except ValueError:
        return scheme_of(url)


def scheme_of(url: str) -> str:
    """The part of a channel URL that is safe to store and show: its scheme."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower()[:32] if separator and scheme.isascii() else "invalid"


_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://[^\s'\"<>]+")
_SECRET_PARAM = re.compile(r"(?i)\b(token|key|secret|pass(?:word)?|apikey|sign)=[^&\s'\"]+")


def redact(text: str) -> str:
    """Cut URLs down to their scheme and blank secret-looking parameters."""
    return _SECRET_PARAM.sub(r"\1=…", _URL.sub(r"\1://…", text))


class _QuietApprise(logging.Filter):
    """apprise logs recipients at INFO and payloads at DEBUG: keep warnings, with URLs redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return False
        record.msg, record.args = redact(record.getMessage()), None
        return True


log = logging.getLogger(__name__)


def _quiet_apprise_logging() -> None:
    logger = logging.getLogger("apprise")
    if not any(isinstance(f, _QuietApprise) for f in logger.filters):
        logger.addFilter(_QuietApprise())


_quiet_apprise_logging()


def enqueue(
    session: Session,
    *,
    recipient_id: str,
    channels: Sequence[str],
    subject: str,
    body: str,
    kind: str,
    dedupe_key: str,
    alert_id: int | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Queue one message for one recipient; the same (dedupe_key, recipient_id) again is a no-op.

    - `channels`: the recipient's apprise URLs in fallback order.
    - `subject` and `body` are stored and sent as given: mask them first.
    - `not_before` holds the message back (quiet hours); default now.
    """
    if not channels:
        raise ValueError(f"recipient {recipient_id} has no channel to deliver to")
    values: dict[str, Any] = {
        "dedupe_key": dedupe_key,
        "recipient_id": recipient_id,
        "channels": list(channels),
        "channel_index": 0,
        "kind": kind,
        "alert_id": alert_id,
        "subject": subject,
        "body": body,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "channel_attempts": 0,
        "next_attempt_at": not_before or clock.now(),
        "created_at": clock.now(),
    }
    _insert_unless_queued(session, values)
    return session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.recipient_id == recipient_id
        )
    ).one()


def _insert_unless_queued(session: Session, values: dict[str, Any]) -> None:
    # ON CONFLICT DO NOTHING: two routers queuing the same message at once both succeed, once.
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(OutboxMessage).values(**values)
        session.execute(
            statement.on_conflict_do_nothing(index_elements=["dedupe_key", "recipient_id"])
        )
        return
    queued = session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key == values["dedupe_key"],
            OutboxMessage.recipient_id == values["recipient_id"],
        )
    ).first()
    if queued is None:
        session.add(OutboxMessage(**values))
        session.flush()


def deliver_due(
    engine_or_session_factory: Engine | sessionmaker[Session],
    *,
    worker_id: str,
    limit: int = 20,
    now: datetime | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    sender: Sender = send,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """Claim up to `limit` due messages, send each, and commit each outcome as it happens.

    `now` pins the time of the claim and of every outcome; by default each is clock.now().
    `should_stop` is asked before each message: once it says so, the message in hand is
    finished and the leases on the rest are released, so they are due again at once for any
    worker instead of after the lease.
    """
    factory = _factory(engine_or_session_factory)
    current = (lambda: now) if now is not None else clock.now
    claimed = _claim(factory, worker_id=worker_id, limit=limit, now=current(), policy=policy)
    by_endpoint: dict[str, list[OutboxMessage]] = {}
    for message in claimed:
        by_endpoint.setdefault(endpoint_of(message.channels[message.channel_index]), []).append(
            message
        )
    recording = threading.Lock()  # sends run in parallel; outcomes append to the trail in turn

    def deliver_all(messages: list[OutboxMessage]) -> DeliveryReport:
        report = DeliveryReport(claimed=len(messages))
        for position, message in enumerate(messages):
            if should_stop():
                report.released += _release(factory, messages[position:], worker_id=worker_id)
                break
            _deliver(
                factory,
                message,
                report,
                worker_id=worker_id,
                policy=policy,
                sender=sender,
                now=current,
                lock=recording,
            )
        return report

    total = DeliveryReport()
    if len(by_endpoint) <= 1:
        for messages in by_endpoint.values():
            total.add(deliver_all(messages))
        return total
    with ThreadPoolExecutor(min(PARALLEL_ENDPOINTS, len(by_endpoint))) as pool:
        for report in pool.map(deliver_all, by_endpoint.values()):
            total.add(report)
    return total


def _factory(target: Engine | sessionmaker[Session]) -> sessionmaker[Session]:
    return make_session_factory(target) if isinstance(target, Engine) else target


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
        # The worker holding it died or overran its lease.
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until <= now),
    )


def _claim(
    factory: sessionmaker[Session],
    *,
    worker_id: str,
    limit: int,
    now: datetime,
    policy: RetryPolicy,
) -> list[OutboxMessage]:
    """Lease due rows to `worker_id` and commit the lease before anything is sent."""
    with factory(expire_on_commit=False) as session, session.begin():
        candidates = (
            select(OutboxMessage.id)
            .where(_due(now))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Concurrent workers pass over each other's rows instead of queuing behind them.
            candidates = candidates.with_for_update(skip_locked=True)
        claimed = [
            outbox_id
            for outbox_id in session.scalars(candidates).all()
            if _lease(session, outbox_id, worker_id=worker_id, now=now, policy=policy)
        ]
        if not claimed:
            return []
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id)
        )
        return list(rows)


def _lease(
    session: Session, outbox_id: int, *, worker_id: str, now: datetime, policy: RetryPolicy
) -> bool:
    # SQLite has no SKIP LOCKED, so two workers may read the same id: the guarded UPDATE decides,
    # and "0 rows" means the other one got it.
    leased = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, _due(now))
        .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_until=now + policy.lease)
        .execution_options(synchronize_session=False)
    )
    return leased.rowcount == 1


def _release(
    factory: sessionmaker[Session], messages: list[OutboxMessage], *, worker_id: str
) -> int:
    """Hand unsent messages back to the queue, each only if its lease is still ours."""
    released = 0
    with factory() as session, session.begin():
        for message in messages:
            released += session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message.id,
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_by == worker_id,
                    OutboxMessage.claimed_until == message.claimed_until,
                )
                .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            ).rowcount
    return released


def _deliver(
    factory: sessionmaker[Session],
    message: OutboxMessage,
    report: DeliveryReport,
    *,
    worker_id: str,
    policy: RetryPolicy,
    sender: Sender,
    now: Callable[[], datetime],
    lock: threading.Lock,
) -> None:
    """Try the current channel, then the next ones at once while channels are given up."""
    while message.status == OutboxStatus.SENDING:
        if message.claimed_until is None or now() >= message.claimed_until:
            return  # the lease ran out: another worker may hold this row by now
        channel = message.channel_index
        outcome, error = _try(sender, message)
        report.attempts += 1
        at = now()
        with lock:
            recorded = _record_patiently(
                factory, message, outcome, error, worker_id=worker_id, at=at, policy=policy
            )
        if not recorded:
            return
        report.fell_back += message.channel_index != channel
    report.sent += message.status == OutboxStatus.SENT
    report.retrying += message.status == OutboxStatus.PENDING
    report.failed += message.status == OutboxStatus.FAILED


def _try(sender: Sender, message: OutboxMessage) -> tuple[AttemptOutcome, str | None]:
    try:
        url = with_idempotency_key(
            message.channels[message.channel_index], idempotency_key(message.id)
        )
        sender(url, message.subject, message.body)
    except DeliveryError as exc:
        permanent = AttemptOutcome.PERMANENT_ERROR
        return (permanent if exc.permanent else AttemptOutcome.TRANSIENT_ERROR), redact(str(exc))
    return AttemptOutcome.SENT, None


def _after(
    message: OutboxMessage,
    outcome: AttemptOutcome,
    error: str | None,
    *,
    at: datetime,
    policy: RetryPolicy,
) -> dict[str, Any]:
    """The row's new values after one attempt: the retry and fallback rules."""
    released = {"claimed_by": None, "claimed_until": None}
    values: dict[str, Any] = {"attempts": message.attempts + 1, "last_error": error}
    if outcome is AttemptOutcome.SENT:
        return {**values, **released, "status": OutboxStatus.SENT, "sent_at": at}
    failures = message.channel_attempts + 1
    if outcome is AttemptOutcome.TRANSIENT_ERROR and failures < policy.attempts_per_channel:
        retry_at = at + policy.delay(failures)
        pending = {"status": OutboxStatus.PENDING, "next_attempt_at": retry_at}
        return {**values, **released, **pending, "channel_attempts": failures}
    if message.channel_index + 1 < len(message.channels):
        # Still under this worker's lease: the next channel is tried in the same pass.
        return {**values, "channel_index": message.channel_index + 1, "channel_attempts": 0}
    return {**values, **released, "status": OutboxStatus.FAILED, "channel_attempts": failures}


def _record_patiently(
    factory: sessionmaker[Session],
    message: OutboxMessage,
    outcome: AttemptOutcome,
    error: str | None,
    *,
    worker_id: str,
    at: datetime,
    policy: RetryPolicy,
) -> bool:
    """`_record`, waiting out a database that went away (the send already happened)."""
    give_up = time.monotonic() + RECORD_PATIENCE.total_seconds()
    pause = 0.5
    while True:
        try:
            return _record(
                factory, message, outcome, error, worker_id=worker_id, at=at, policy=policy
            )
        except OperationalError:
            if time.monotonic() + pause > give_up:
                raise
            log.warning(
                "database unavailable; outbox %s sent, its outcome not yet recorded", message.id
            )
            time.sleep(pause)
            pause = min(pause * 2, 10.0)


def _record(
    factory: sessionmaker[Session],
    message: OutboxMessage,
    outcome: AttemptOutcome,
    error: str | None,
    *,
    worker_id: str,
    at: datetime,
    policy: RetryPolicy,
) -> bool:
    """Commit one attempt and the row's next state; False when the row is no longer ours."""
    values = _after(message, outcome, error, at=at, policy=policy)
    for retry in range(AUDIT_RETRIES):
        try:
            with factory() as session, session.begin():
                # The UPDATE comes first: on SQLite it takes the write lock before the trail reads
                # its tail, so concurrent workers append one after the other.
                still_ours = _apply(session, message, values, worker_id=worker_id)
                _attempt(
                    session, message, outcome, error, worker_id=worker_id, at=at, values=values
                )
        except IntegrityError:
            if retry == AUDIT_RETRIES - 1:
                raise
            continue
        if still_ours:
            for name, value in values.items():
                setattr(message, name, value)
        return still_ours
    raise AssertionError("unreachable")  # pragma: no cover


def _apply(
    session: Session, message: OutboxMessage, values: dict[str, Any], *, worker_id: str
) -> bool:
    applied = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == OutboxStatus.SENDING,
            # The lease we took, not merely our name: a restarted worker may reuse the id.
            OutboxMessage.claimed_by == worker_id,
            OutboxMessage.claimed_until == message.claimed_until,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return applied.rowcount == 1


def _attempt(
    session: Session,
    message: OutboxMessage,
    outcome: AttemptOutcome,
    error: str | None,
    *,
    worker_id: str,
    at: datetime,
    values: dict[str, Any],
) -> None:
    """The attempt row and its audit entry: the scheme of the URL, never the URL."""
    scheme = scheme_of(message.channels[message.channel_index])
    session.add(
        DeliveryAttempt(
            outbox_id=message.id,
            channel_index=message.channel_index,
            scheme=scheme,
            worker_id=worker_id,
            at=at,
            outcome=outcome,
            error=error,
        )
    )
    trail.record(
        session,
        actor=f"notifier/{worker_id}",
        action=f"delivery.{outcome.value}",
        subject=("outbox_message", message.id),
        detail={
            "recipient_id": message.recipient_id,
            "kind": message.kind,
            "alert_id": message.alert_id,
            "channel_index": message.channel_index,
            "scheme": scheme,
            "attempt": message.attempts + 1,
            "status": str(values.get("status", OutboxStatus.SENDING)),
            "error": error,
        },
    )


def process_worker_id(tag: str = "") -> str:
    """`host:pid:start[:tag]`: a restarted process never reuses its predecessor's id, even as
    pid 1 in a container, and `rescue_orphans` can tell whether the holder of a lease is alive."""
    host = socket.gethostname()[:40]
    pid = os.getpid()
    return f"{host}:{pid}:{_started(pid) or 0}" + (f":{tag}" if tag else "")


def _started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux); None when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def rescue_orphans(factory: sessionmaker[Session], *, now: datetime | None = None) -> int:
    """Make due at once the rows leased by a worker of this host that is no longer running
    (killed or crashed), instead of leaving them until their lease runs out. Returns the count.

    Resque prunes dead workers the same way: same host, process gone. Holders on other hosts,
    or without a start time, are left to their lease.
    """
    host = socket.gethostname()[:40]
    now = now or clock.now()
    with factory() as session, session.begin():
        holders = session.scalars(
            select(OutboxMessage.claimed_by)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by.like(f"{host}:%"),
                OutboxMessage.claimed_until > now,
            )
            .distinct()
        ).all()
        dead = [holder for holder in holders if holder and not _alive(holder)]
        if not dead:
            return 0
        rescued = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by.in_(dead),
            )
            .values(claimed_until=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    log.warning("rescued %d outbox rows leased by dead workers %s", rescued, ", ".join(dead))
    return rescued


def reclaim_own(
    factory: sessionmaker[Session], *, worker_id: str, now: datetime | None = None
) -> int:
    """Make due at once the rows still leased to `worker_id`, which holds none in hand: after a
    delivery that failed (a claim whose commit reply was lost, an outcome never recorded) they
    would otherwise wait out the whole lease, a pushed warning delayed by it. Returns the count.

    Only between calls of `deliver_due`, whose threads have all finished by then."""
    now = now or clock.now()
    with factory() as session, session.begin():
        reclaimed = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by == worker_id,
                OutboxMessage.claimed_until > now,
            )
            .values(claimed_until=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    if reclaimed:
        log.warning("reclaimed %d outbox rows this worker leased in a failed delivery", reclaimed)
    return reclaimed


def _alive(holder: str) -> bool:
    parts = holder.split(":")
    try:
        pid, started = int(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        return True  # not an id of ours: trust its lease
    if started == 0:
        return True
    return _started(pid) == started
