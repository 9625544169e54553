"""Receivers for fault tests: a webhook that notes each message's Idempotency-Key and can hold
its answer (so a sender can be killed while a message is in flight), and an endpoint that
accepts connections and never answers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        receiver = self.server.receiver
        receiver.received(self.headers.get("Idempotency-Key", ""), json.loads(raw))
        time.sleep(receiver.answer_after)  # stored, not yet answered: the sender's crash window
        receiver.in_flight.clear()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: KeyedReceiver) -> None:
        self.receiver = receiver
        super().__init__((HOST, 0), _Handler)


class KeyedReceiver:
    """A JSON webhook storing (Idempotency-Key, message, arrival time) and answering 200 after
    `answer_after` seconds; `in_flight` is set while a stored message waits for its answer."""

    def __init__(self, *, answer_after: float = 0.0) -> None:
        self.answer_after = answer_after
        self.in_flight = threading.Event()
        self.messages: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))

    def url(self, path: str = "/hook") -> str:
        return f"json://{HOST}:{self.port}{path}"

    def received(self, key: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append((key, str(payload.get("message", "")), time.monotonic()))
            self.in_flight.set()

    def keys(self) -> Counter[str]:
        with self._lock:
            return Counter(key for key, _, _ in self.messages)

    def __enter__(self) -> KeyedReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class HangingEndpoint:
    """Accepts every TCP connection and never sends a byte: a receiver that hangs."""

    def __init__(self) -> None:
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept)

    def url(self, path: str = "/hook") -> str:
        return f"json://{HOST}:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)  # held open, never read, never answered

    def __enter__(self) -> HangingEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)
        for connection in self.connections:
            connection.close()
        self._listener.close()
