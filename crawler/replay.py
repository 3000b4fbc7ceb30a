"""Offline replay: saved pages stand in for the network, through a download handler.

A replay directory is laid out as ``<outlet>/<file>`` with an optional sidecar
``<file>.meta.json`` (``url``, ``fetched_at``).  The spiders request each file
under its real URL when the sidecar knows it, or under a stable
``fixture:<outlet>/<file>`` identifier; :class:`ReplayDownloadHandler` answers
every request from disk and never opens a connection.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import run_in_thread

from crawler.urls import web_address_problem

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
    # Scrapy starts this many asyncio tasks for the output of every response (default 100),
    # whatever that output holds; a replayed page yields at most one article, so 99 of
    # them only cost time (a tenth of a replay's CPU went to them).
    "CONCURRENT_ITEMS": 1,
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
    return f"{FIXTURE_SCHEME}:{outlet}/{_text_name(name)}"


def _text_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 percent-encoded (``bad%FFname.html``).

    Python keeps such bytes as lone surrogates (U+DC80..U+DCFF), which no URL, log
    line or database column can hold.
    """
    return "".join(f"%{ord(char) - 0xDC00:02X}" if "\udc80" <= char <= "\udcff" else char for char in name)


def request_url(page_url: str) -> str:
    """The URL a replay request is made under: Scrapy wants ``scheme://``, ids have ``scheme:``."""
    prefix = f"{FIXTURE_SCHEME}:"
    if page_url.startswith(prefix) and not page_url.startswith(prefix + "//"):
        return f"{FIXTURE_SCHEME}://{page_url[len(prefix):]}"
    return page_url


#: A sidecar larger than this is refused unread: it holds a URL and a time.
MAX_SIDECAR_BYTES = 64 * 1024


def outlet_folders(root: Path) -> Iterator[Path]:
    """Every entry of ``root`` a replay looks at (hidden and ``_`` names are skipped)."""
    for entry in sorted(root.iterdir()):
        if not entry.name.startswith((".", "_")) and (entry.is_dir() or entry.is_symlink()):
            yield entry


def folder_problem(folder: Path, root: Path) -> str | None:
    """Why ``folder`` may not be replayed: a link, or something resolving outside ``root``."""
    if folder.is_symlink() or not stat.S_ISDIR(folder.lstat().st_mode):
        return f"not a regular folder inside {root}"
    if not _inside(folder, root):
        return f"not a regular folder inside {root}"
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):  # gone meanwhile, or a symlink loop
        return False


def scan_outlet(folder: Path, outlet: str, now: datetime) -> Iterator[SavedPage | ReplayProblem]:
    """The pages of one outlet folder, or a problem for each entry that cannot be read.

    Only regular files whose resolved path lies inside ``folder`` are pages: a symbolic
    link, a device or a nested folder is reported, never followed.
    """
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        yield ReplayProblem(str(folder), f"cannot list folder: {exc.strerror or exc}")
        return
    for path in entries:
        if path.name.startswith(".") or path.name.endswith(SIDECAR_SUFFIXES):
            continue
        if not _is_regular_file_inside(path, folder):
            yield ReplayProblem(str(path), f"not a regular file inside {folder}")
            continue
        sidecar = path.with_name(path.name + ".meta.json")
        try:
            meta = read_sidecar(sidecar, folder) if os.path.lexists(sidecar) else {}
        except ValueError as exc:
            yield ReplayProblem(str(path), str(exc))
            continue
        yield SavedPage(
            path=path,
            outlet=outlet,
            url=meta.get("url") or fixture_id(outlet, path.name),
            fetched_at=meta.get("fetched_at") or now,
        )


def _is_regular_file_inside(path: Path, folder: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) and _inside(path, folder)


def read_sidecar(path: Path, folder: Path) -> dict[str, Any]:
    """The sidecar's ``url`` (an http(s) address) and ``fetched_at`` (aware, UTC), checked.

    Raises ``ValueError`` with a one-line reason for anything else.
    """
    if not _is_regular_file_inside(path, folder):
        raise ValueError(f"sidecar {path.name} is not a regular file inside {folder}")
    size = path.stat().st_size
    if size > MAX_SIDECAR_BYTES:
        raise ValueError(f"sidecar {path.name} is too large: {size:,} bytes (limit {MAX_SIDECAR_BYTES:,})")
    try:
        meta = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"sidecar {path.name} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"sidecar {path.name} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ValueError(f"sidecar {path.name} is nested too deeply to be a sidecar") from None
    if not isinstance(meta, dict):
        raise ValueError(f"sidecar {path.name} must hold a JSON object, not {type(meta).__name__}")
    url = meta.get("url")
    if url is not None:
        problem = web_address_problem(url)
        if problem:
            raise ValueError(f"sidecar {path.name}: url {problem}")
    fetched = meta.get("fetched_at")
    if fetched is not None:
        meta["fetched_at"] = _fetched_at(path.name, fetched)
    return meta


def _fetched_at(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"sidecar {name}: fetched_at must be an ISO 8601 time string, got {value!r}")
    shown = value[:80]
    try:
        parsed = datetime.fromisoformat(value)
        # To UTC here, where a time at the edge of the calendar (year 9999 with a
        # negative offset) is one bad sidecar, not an OverflowError in a pipeline.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"sidecar {name}: fetched_at must be an ISO 8601 time, got {shown!r}") from None
    except OverflowError:
        raise ValueError(f"sidecar {name}: fetched_at {shown!r} is outside the calendar in UTC") from None


class PageTooLarge(IgnoreRequest):
    """A replayed file over NEWSWATCH_MAX_PAGE_BYTES: refused before it is read."""


def read_page(path: str, limit: int) -> bytes:
    """The bytes of a regular file, never following a link, never more than ``limit``.

    The size is checked with ``fstat`` on the opened file before reading, and the read
    itself stops at ``limit + 1`` bytes, so a file that grows meanwhile is caught too.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise IgnoreRequest(f"not a regular file: {path}")
        if info.st_size > limit:
            raise PageTooLarge(f"page too large: {info.st_size:,} bytes (limit {limit:,})")
        chunks, size = [], 0
        while size <= limit and (chunk := handle.read(min(1 << 20, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise PageTooLarge(f"page too large: more than {limit:,} bytes")
        return b"".join(chunks)


class ReplayDownloadHandler(BaseDownloadHandler):
    """Answers requests from the replay directory; anything else is refused, never fetched."""

    async def download_request(self, request: Request) -> Response:
        path = request.meta.get(REPLAY_FILE)
        if path is None:
            raise IgnoreRequest(f"replay has no saved page for {request.url}")
        limit = self.crawler.settings.getint("NEWSWATCH_MAX_PAGE_BYTES")
        try:
            body = await run_in_thread(read_page, path, limit)
        except OSError as exc:
            raise IgnoreRequest(f"cannot read {path}: {exc.strerror or exc}") from None
        # A plain Response: the parser, not Scrapy, decides how to decode the bytes.
        return Response(url=request.url, body=body, request=request, flags=["replay"])
