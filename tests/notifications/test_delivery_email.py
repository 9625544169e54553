"""Delivery by e-mail: apprise's mailto:// to a real SMTP server started by the test."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from notifications.delivery import deliver_due
from notifications.models import OutboxStatus
from tests.notifications.builders import attempts, outbox, queue
from tests.notifications.receivers import SmtpReceiver

pytestmark = pytest.mark.db


def test_mailto_message_reaches_the_smtp_server_with_subject_body_and_recipient(
    committing_engine: Engine, smtp_receiver: SmtpReceiver, frozen_clock: None
) -> None:
    outbox_id = queue(committing_engine, [smtp_receiver.url("east.chief@jj.example")])

    report = deliver_due(committing_engine, worker_id="w1")

    assert (report.claimed, report.sent) == (1, 1)
    [mail] = smtp_receiver.mails
    assert mail.rcpt_tos == ["east.chief@jj.example"]
    assert mail.mail_from == "noreply@auditcage.test"
    assert mail.subject == "【红色预警】VIO-03 城东大队"
    assert mail.text == "经办人 张** 于 15:00 办理违法处理，请于 30 分钟内签收。"
    assert outbox(committing_engine, outbox_id).status == OutboxStatus.SENT
    assert [a.scheme for a in attempts(committing_engine)] == ["mailto"]
