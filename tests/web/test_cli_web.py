"""`newswatch web` as a user runs it: a real process serving a real database on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

from tests.support.cli_helpers import NEWSWATCH, REPO, newswatch
from tests.web.conftest import Seeded


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_web_serves_the_database_read_only(seeded: Seeded) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_WEB_TOKEN"}
    process = subprocess.Popen(
        [str(NEWSWATCH), "web", "--port", str(port), "--db", seeded.url],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/search.json?q=%E6%99%AE%E4%BA%AC", timeout=5) as r:
                    result = json.load(r)
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "newswatch web did not start"
                time.sleep(0.3)
        assert {"rfi", "bbc"} <= {hit["outlet"] for hit in result["hits"]}
    finally:
        process.terminate()
        process.wait(20)


def test_web_refuses_a_public_address_without_a_token(seeded: Seeded) -> None:
    env = {"NEWSWATCH_WEB_TOKEN": ""}
    result = newswatch("web", "--host", "0.0.0.0", "--db", seeded.url, env=env)
    assert result.returncode == 2
    assert "NEWSWATCH_WEB_TOKEN" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_web_on_a_missing_database_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = newswatch("web", "--db", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert result.returncode == 2 and "Traceback" not in result.stderr
