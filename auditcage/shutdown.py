"""A stop request from SIGTERM (or SIGINT) that long-running loops check between units of work.

The handler only sets a flag: the batch or message in hand is finished and committed, leases not
yet used are released, and the process exits 0, instead of dying mid-transaction as Python's
default SIGTERM action does (docker stop, systemd and Kubernetes all send SIGTERM first).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)


class StopRequest:
    def __init__(self) -> None:
        self._event = threading.Event()

    def __call__(self) -> bool:
        """True once a stop was asked for: the `should_stop` callables take this form."""
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on a stop request; True when stopping."""
        return self._event.wait(seconds)

    def install(self) -> StopRequest:
        """Handle SIGTERM and SIGINT in this (main) thread's process from now on."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self._event.is_set():
            log.warning("%s received: finishing the work in hand, then exiting", _name(signum))
        self._event.set()


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
