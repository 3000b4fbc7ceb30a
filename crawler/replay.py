"""Offline replay: saved pages stand in for the network, through a download handler.

A replay directory is laid out as ``<outlet>/<file>`` with an optional sidecar
``<file>.meta.json`` (``url``, ``fetched_at``).  The spiders request each file
under its real URL when the sidecar knows it, or under a stable
``fixture:<outlet>/<file>`` identifier; :class:`ReplayDownloadHandler` answers
every request from disk and never opens a connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread

if TYPE_CHECKING:
    from scrapy import Request

#: Files next to a page that describe it rather than being pages themselves.
SIDECAR_SUFFIXES = (".meta.json", ".expected.json")
#: request.meta key holding the path of the file that answers the request.
REPLAY_FILE = "newswatch_replay_file"
FIXTURE_SCHEME = "fixture"

# Replay reads local files only: no robots.txt, no throttling, no retries,
# and every scheme a spider could request is answered from disk.
REPLAY_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_HANDLERS": {
        scheme: "crawler.replay.ReplayDownloadHandler"
        for scheme in ("http", "https", FIXTURE_SCHEME, "file", "data", "ftp", "s3")
    },
    "ROBOTSTXT_OBEY": False,
    # Nothing leaves the machine, and fixture: URLs are not web addresses to vet.
    "NEWSWATCH_SSRF_ENABLED": False,
    "AUTOTHROTTLE_ENABLED": False,
    "RETRY_ENABLED": False,
    "HTTPCACHE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
    # Pages leave the scheduler in listing order (whatever their domains), the order
    # their articles are stored in (crawler.inorder): no stored page waits on an unsent one.
    "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
}


@dataclass(frozen=True, slots=True)
class SavedPage:
    """One page file to replay and what its sidecar says about it."""

    path: Path
    outlet: str
    url: str
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class ReplayProblem:
    """A file or folder that cannot be replayed, with a one-line reason."""

    location: str
    reason: str


def fixture_id(outlet: str, name: str) -> str:
    return f"{FIXTURE_SCHEME}:{outlet}/{name}"


def request_url(page_url: str) -> str:
    """The URL a replay request is made under: Scrapy wants ``scheme://``, ids have ``scheme:``."""
    prefix = f"{FIXTURE_SCHEME}:"
    if page_url.startswith(prefix) and not page_url.startswith(prefix + "//"):
        return f"{FIXTURE_SCHEME}://{page_url[len(prefix):]}"
    return page_url


def outlet_folders(root: Path) -> Iterator[Path]:
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and not entry.name.startswith((".", "_")):
            yield entry


def scan_outlet(folder: Path, outlet: str, now: datetime) -> Iterator[SavedPage | ReplayProblem]:
    """The pages of one outlet folder, or a problem for each that cannot be read."""
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith(SIDECAR_SUFFIXES):
            continue
        if not path.is_file():
            yield ReplayProblem(str(path), "not a file (nested folders are not replayed)")
            continue
        sidecar = path.with_name(path.name + ".meta.json")
        try:
            meta = _read_sidecar(sidecar) if sidecar.exists() else {}
        except ValueError as exc:
            yield ReplayProblem(str(path), str(exc))
            continue
        yield SavedPage(
            path=path,
            outlet=outlet,
            url=meta.get("url") or fixture_id(outlet, path.name),
            fetched_at=meta.get("fetched_at") or now,
        )


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"sidecar {path.name} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"sidecar {path.name} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(meta, dict):
        raise ValueError(f"sidecar {path.name} must hold a JSON object, not {type(meta).__name__}")
    url = meta.get("url")
    if url is not None and (not isinstance(url, str) or ":" not in url):
        raise ValueError(f"sidecar {path.name}: url must be an absolute URL string, got {url!r}")
    fetched = meta.get("fetched_at")
    if fetched is not None:
        try:
            parsed = datetime.fromisoformat(fetched)
        except (TypeError, ValueError):
            raise ValueError(
                f"sidecar {path.name}: fetched_at must be an ISO 8601 time, got {fetched!r}"
            ) from None
        meta["fetched_at"] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return meta


class ReplayDownloadHandler(BaseDownloadHandler):
    """Answers requests from the replay directory; anything else is refused, never fetched."""

    async def download_request(self, request: Request) -> Response:
        path = request.meta.get(REPLAY_FILE)
        if path is None:
            raise IgnoreRequest(f"replay has no saved page for {request.url}")
        body = await run_in_thread(Path(path).read_bytes)
        # A plain Response: the parser, not Scrapy, decides how to decode the bytes.
        return Response(url=request.url, body=body, request=request, flags=["replay"])
