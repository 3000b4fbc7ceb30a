"""A real HTTP/1.1 server on 127.0.0.1 serving a :class:`~mirror.site.MirrorSite`.

``ThreadingHTTPServer`` in a daemon thread, bound to a free port; every request
is recorded in the site's statistics (hit count and body bytes per path).
Conditional GETs (``If-None-Match`` / ``If-Modified-Since``) get 304 with no body.
"""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .site import MirrorConfig, MirrorSite, Reply, etag_for, http_date, not_modified


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "newswatch-mirror/1.0"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except OSError:  # the peer (or our own reset) closed the socket
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _other(self) -> None:
        self._serve(head=False)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other

    def _serve(self, *, head: bool) -> None:
        site = self.server.site
        request_headers = dict(self.headers.items())
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        reply: Reply = site.respond(self.command, self.path, request_headers)
        if reply.delay > 0 and self.server.stopping.wait(reply.delay):
            self.close_connection = True
            return
        status, body = reply.status, reply.body
        headers: dict[str, str] = {}
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        if reply.last_modified is not None and status == 200:
            etag = etag_for(body)
            headers["ETag"] = etag
            headers["Last-Modified"] = http_date(reply.last_modified)
            if site.config.cache_control:
                headers["Cache-Control"] = site.config.cache_control
            if self.command in ("GET", "HEAD") and not_modified(
                request_headers, etag, reply.last_modified
            ):
                status, body = 304, b""
                headers.pop("Content-Type", None)
        headers.update(reply.headers)

        # Recorded before the first byte goes out: a client that has its response
        # must find it in the statistics (it counts the body bytes meant to be sent).
        if reply.reset_after is not None:
            planned = len(body[: reply.reset_after])
        else:
            planned = 0 if head or status == 304 else len(body)
        site.record(self.command, self.path, status, planned, request_headers)

        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()

        if reply.reset_after is not None:
            self._send_then_reset(body[: reply.reset_after])
        elif planned:
            try:
                self.wfile.write(body)
            except OSError:
                self.close_connection = True

    def _send_then_reset(self, chunk: bytes) -> int:
        """Write ``chunk``, then close with SO_LINGER 0 so the peer gets a TCP RST."""
        sent = 0
        try:
            self.wfile.write(chunk)
            self.wfile.flush()
            sent = len(chunk)
        except OSError:
            pass
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.rfile.close()  # the makefile reference would defer the real close
        sock.close()
        self.close_connection = True
        return sent


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: MirrorSite):
        self.site = site
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet resets
        pass


class MirrorServer:
    """Start with :meth:`start` (or ``with MirrorServer(...) as mirror:``); stop with :meth:`stop`.

    ``MirrorServer(robots="503", outlets=("rfi",))`` builds the site from
    :class:`~mirror.site.MirrorConfig` fields; or pass a ready ``site=``.
    """

    def __init__(self, site: MirrorSite | None = None, *, host: str = "127.0.0.1",
                 config: MirrorConfig | None = None, **overrides: Any):
        if site is None:
            site = MirrorSite(config, **overrides)
        elif config is not None or overrides:
            raise TypeError("pass either site= or config/overrides, not both")
        self.site = site
        self.host = host
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> MirrorServer:
        if self._server is not None:
            return self
        self._server = _Server((self.host, 0), self.site)
        self.site.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"mirror-{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.stopping.set()  # wakes slow handlers
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> MirrorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("mirror server not started")
        return self._server.server_address[1]

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.netloc}"

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host="localhost"`` reaches the same server by name."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{host or self.host}:{self.port}{path}"

    # -- statistics (delegated to the site) ----------------------------------------

    def hits(self, path: str) -> int:
        return self.site.hits(path)

    def bytes_sent(self, path: str | None = None) -> int:
        return self.site.bytes_sent(path)

    @property
    def bytes_sent_total(self) -> int:
        return self.site.bytes_sent_total

    def stats(self) -> dict[str, Any]:
        return self.site.stats()

    @property
    def requests(self) -> list[Any]:
        return self.site.requests

    def reset_stats(self) -> None:
        self.site.reset_stats()

    def reset_counters(self) -> None:
        self.site.reset_counters()
