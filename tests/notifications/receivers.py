"""Real local receivers for delivery tests: an SMTP server (aiosmtpd) and a JSON webhook.

Both run in the test process on free ports, store what they receive, and can be taken down to
simulate an outage. The lead's routing and escalation tests reuse them through conftest.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

HOST = "127.0.0.1"
SENDER = "noreply@auditcage.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content().strip() if part is not None else ""


class _StoringHandler:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), message))
        return "250 OK"


class SmtpReceiver:
    """A plain SMTP server (no TLS, no AUTH), like a relay inside the police network."""

    def __init__(self) -> None:
        self.port = free_port()
        self._handler = _StoringHandler()
        self._controller = Controller(self._handler, hostname=HOST, port=self.port)

    @property
    def mails(self) -> list[Mail]:
        return self._handler.mails

    def url(self, to: str, *, sender: str = SENDER) -> str:
        """The apprise URL that reaches this server: plain SMTP, so mode=insecure."""
        return f"mailto://{HOST}:{self.port}?from={quote(sender)}&to={quote(to)}&mode=insecure"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


class _WebhookHandler(BaseHTTPRequestHandler):
    server: _WebhookServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        status = self.server.receiver.answer
        if status == 200:
            self.server.receiver.record(self.path, json.loads(raw))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


class _WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: HttpReceiver) -> None:
        self.receiver = receiver
        super().__init__((HOST, receiver.port), _WebhookHandler)


class HttpReceiver:
    """A JSON webhook on a fixed port: answers 200 and stores the body, or `answer` if set.

    `stop()` and `start()` again on the same port simulate an outage and the recovery.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.answer = 200
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server: _WebhookServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        return f"json://{HOST}:{self.port}{path}"

    def record(self, path: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self.posts.append((path, payload))

    @property
    def bodies(self) -> list[str]:
        with self._lock:
            return [payload.get("message", "") for _, payload in self.posts]

    def start(self) -> None:
        self._server = _WebhookServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None
