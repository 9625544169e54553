"""`auditcage notifier` killed with SIGKILL while a message is in flight, then restarted.

Delivery is at-least-once: the message the receiver had taken but not yet answered when the
notifier died goes out again, and the receiver drops the copy by its Idempotency-Key. The test
measures the copies rather than hiding them: exactly that one message arrives twice, every other
message once, and after deduplication by key each message is seen exactly once. The restarted
notifier takes over the dead one's leases at once (same host, process gone), not ten minutes
later when they run out.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from auditcage.storage.session import make_session_factory
from notifications import delivery
from notifications.models import OutboxMessage, OutboxStatus
from tests.faults.conftest import kill9, run, start, wait_for
from tests.faults.receivers import KeyedReceiver
from tests.notifications.receivers import SmtpReceiver

pytestmark = pytest.mark.db
WEBHOOK_MESSAGES = 24
MAIL_MESSAGES = 8


def _queue(engine: Engine, channels: list[str], count: int, kind: str) -> list[int]:
    with make_session_factory(engine).begin() as session:
        return [
            delivery.enqueue(
                session,
                recipient_id=f"P32010{n:02d}",
                channels=channels,
                subject=f"【红色预警】{kind} {n}",
                body=f"{kind} {n}",
                kind="alert",
                dedupe_key=f"alert:{n}:push:{kind}",
            ).id
            for n in range(count)
        ]


def _rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_notifier_killed_mid_delivery_and_restarted_delivers_each_message_once_by_key(
    committing_engine: Engine, database_url: str, smtp_receiver: SmtpReceiver
) -> None:
    with KeyedReceiver(answer_after=0.25) as webhook:
        hooks = _queue(committing_engine, [webhook.url()], WEBHOOK_MESSAGES, "webhook")
        mails = _queue(
            committing_engine, [smtp_receiver.url("chief@unit.test")], MAIL_MESSAGES, "mail"
        )
        notifier = start(database_url, "notifier", "--idle", "0.2")
        try:
            wait_for(lambda: len(webhook.messages) >= 8, timeout=60, what="8 webhook messages")
            webhook.in_flight.clear()
            wait_for(webhook.in_flight.is_set, timeout=10, what="a message in flight")
        finally:
            kill9(notifier)  # the receiver holds that message; the notifier never hears back
        orphaned = [row for row in _rows(committing_engine) if row.status == OutboxStatus.SENDING]
        assert orphaned, "the dead notifier held leases"
        assert len({row.claimed_by for row in orphaned}) == 1

        restarted = run(database_url, "notifier", "--once", timeout=90)
        assert "deliveries:" in restarted.stdout
        wait_for(
            lambda: len(set(webhook.keys())) == WEBHOOK_MESSAGES,
            timeout=10,
            what="every webhook message",
        )
        hook_copies = webhook.keys()
    wait_for(lambda: len(smtp_receiver.mails) >= MAIL_MESSAGES, timeout=10, what="every mail")
    mail_copies = Counter(str(mail.message["Idempotency-Key"]) for mail in smtp_receiver.mails)

    rows = _rows(committing_engine)
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert set(hook_copies) == {delivery.idempotency_key(i) for i in hooks}
    assert set(mail_copies) == {delivery.idempotency_key(i) for i in mails}
    # The one message in flight at the kill arrived twice (same key, same body); no other did.
    twice = [key for key, n in hook_copies.items() if n > 1]
    assert len(twice) == 1 and hook_copies[twice[0]] == 2
    bodies = {body for key, body, _ in webhook.messages if key == twice[0]}
    assert len(bodies) == 1
    # A mail is duplicated only if one was in flight at that instant too; never twice over.
    assert max(mail_copies.values()) <= 2 and sum(mail_copies.values()) - MAIL_MESSAGES <= 1
