"""Real receivers on 127.0.0.1 for the watch tests: an SMTP server (aiosmtpd) and a webhook endpoint."""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """aiosmtpd on a free port; ``messages`` holds every mail it accepted (``received_at`` when)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.received_at: list[datetime] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received_at.append(datetime.now(UTC))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=watch@example.org&to=analyst@example.org"

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    status: int
    #: When the request arrived (UTC).
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    method: str = "POST"

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers POST /hook with the next status of ``script`` (then 200); records every request.

    With ``moved_to``, a POST to any other path is answered 301 to it, and a GET with a
    page (as a web server whose hook has moved would).
    """

    port: int = field(default_factory=free_port)
    script: list[int] = field(default_factory=list)
    moved_to: str | None = None
    #: Seconds each POST is held before it is answered (a slow receiver).
    hold_s: float = 0
    hits: list[Hit] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"webhook+http://127.0.0.1:{self.port}/hook"

    @property
    def accepted(self) -> list[Hit]:
        return [h for h in self.hits if h.status == 200 and h.method == "POST"]

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.moved_to and self.path != receiver.moved_to:
                    receiver.hits.append(Hit(dict(self.headers.items()), body, 301))
                    self.send_response(301)
                    self.send_header("Location", receiver.moved_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = receiver.script.pop(0) if receiver.script else 200
                time.sleep(receiver.hold_s)
                receiver.hits.append(Hit(dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                receiver.hits.append(Hit(dict(self.headers.items()), b"", 200, method="GET"))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
