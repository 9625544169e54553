"""Fixtures for delivery tests: real receivers, started and stopped around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
