"""Small HTTP sites on 127.0.0.1 for crawl tests: a quiet request handler, served in a thread."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.cli_helpers import newswatch

#: Crawl settings for a local site: no politeness delays, no retries.
FAST = ("-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0")


class SiteHandler(BaseHTTPRequestHandler):
    """A handler that answers through :meth:`reply` and logs nothing."""

    #: The paths asked for, where a subclass records them (each sets its own list).
    hits: list[str]

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` on a free port of 127.0.0.1 while the block runs; yields ``127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def crawl_local(
    directory: Path,
    db_url: str,
    start_url: str,
    *,
    spider: str = "portal",
    article_pattern: str = "^http",
    extra: str = "",
    settings: Sequence[str] = FAST,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """``newswatch crawl --json`` of one outlet on 127.0.0.1 (``extra``: more config lines).

    Whatever the site does, the crawl must not end in a traceback.
    """
    config = directory / "outlets.toml"
    config.write_text(
        f'[outlets.local]\nspider = "{spider}"\nstart_urls = ["{start_url}"]\nallowed_domains = ["127.0.0.1"]\n'
        f'allow_private = true\narticle_patterns = ["{article_pattern}"]\n{extra}',
        encoding="utf-8",
    )
    result = newswatch("--config", str(config), "crawl", "--db", db_url, "--json", *settings, timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result
