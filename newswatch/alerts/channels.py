"""Notification channels: apprise URLs (mailto://, Slack, Telegram, ntfy …) and our webhooks.

``webhook+https://host/path`` POSTs the JSON of :mod:`newswatch.alerts.message`, signed with
the watch's secret; ``webhook+http://`` is accepted for 127.0.0.1/localhost only (tests,
a receiver on the same machine).  Every other URL goes to apprise, always with an explicit
plain-text body format (without it apprise reads the body as HTML and drops tags: a scraped
``<b>`` would vanish instead of being shown), and within the channel's own length limits.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newswatch.alerts.message import Notification

WEBHOOK_PREFIX = "webhook+"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TIMEOUT_S = 20


class ChannelError(ValueError):
    """A channel URL that cannot work; the message is one line, with secrets masked."""


class DeliveryError(Exception):
    """One send failed; the message is one line for ``watch show``."""


@dataclass(frozen=True, slots=True)
class Channel:
    url: str
    kind: str  # "webhook" or "apprise"

    @property
    def target(self) -> str:
        return self.url[len(WEBHOOK_PREFIX):] if self.kind == "webhook" else self.url


def parse_channel(url: str) -> Channel:
    """The channel of ``url``, or :class:`ChannelError` saying why it cannot work."""
    url = url.strip()
    if "://" not in url:
        raise ChannelError(f"{mask(url)}: not a URL (expected e.g. mailto://… or webhook+https://…)")
    if url.lower().startswith(WEBHOOK_PREFIX):
        target = urlsplit(url[len(WEBHOOK_PREFIX):])
        if target.scheme not in ("http", "https") or not target.hostname:
            raise ChannelError(f"{mask(url)}: a webhook must be webhook+https://host/path")
        if target.scheme == "http" and target.hostname not in LOOPBACK:
            raise ChannelError(f"{mask(url)}: plain http webhooks only to 127.0.0.1/localhost; use webhook+https://")
        return Channel(url, "webhook")
    plugin = _apprise_plugin(url)
    if not plugin:
        scheme = url.split("://", 1)[0]
        raise ChannelError(f"{mask(url)}: apprise cannot use this URL (scheme {scheme!r} unknown or fields missing)")
    return Channel(url, "apprise")


def _apprise_plugin(url: str) -> Any:
    """apprise's plugin for ``url`` or None, without apprise logging the URL (it may hold a token)."""
    import apprise

    quiet = logging.getLogger("apprise")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    finally:
        quiet.setLevel(level)


def mask(url: str) -> str:
    """The URL with passwords, tokens and query values hidden: safe to print or log."""
    prefix = WEBHOOK_PREFIX if url.lower().startswith(WEBHOOK_PREFIX) else ""
    if not prefix and "://" in url:
        plugin = _apprise_plugin(url)
        if plugin:  # apprise knows where each service keeps its tokens
            return str(plugin.url(privacy=True)).split("?", 1)[0]
        return url.split("://", 1)[0][:20] + "://…"  # unknown layout: anything may be a token
    rest = url[len(prefix):]
    try:
        parts = urlsplit(rest)
    except ValueError:
        return prefix + rest[:12] + "…"
    netloc = parts.netloc
    if "@" not in netloc and ":" in netloc and not netloc.rsplit(":", 1)[1].isdigit():
        netloc = _hide(netloc) + ":***"  # a bot token where a host would be
    elif "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{_hide(user)}:***@{host}" if ":" in userinfo else f"{_hide(user)}@{host}"
    path = "/".join(_hide(segment) if len(segment) > 12 else segment for segment in parts.path.split("/"))
    query = "&".join(
        f"{pair.split('=', 1)[0]}=***" if "=" in pair else pair for pair in parts.query.split("&") if pair
    )
    return prefix + urlunsplit((parts.scheme, netloc, path, query, ""))


def _hide(secret: str) -> str:
    return secret[:3] + "…" if len(secret) > 4 else "***"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook is POSTed to its own address only: urllib would follow a 301/302/303 as a
    GET without the body (and count it as delivered), and could leave 127.0.0.1 for plain http."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises the 3xx as an HTTPError


_WEBHOOK_OPENER = urllib.request.build_opener(_NoRedirects)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(channel: Channel, notification: Notification, *, secret: str) -> None:
    """Deliver once, or raise :class:`DeliveryError`."""
    if channel.kind == "webhook":
        _send_webhook(channel, notification, secret)
    else:
        _send_apprise(channel, notification)


def _send_webhook(channel: Channel, notification: Notification, secret: str) -> None:
    body = json.dumps(notification.payload(), ensure_ascii=False, sort_keys=True).encode("utf-8")
    request = urllib.request.Request(
        channel.target,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": notification.idempotency_key,
            "X-Newswatch-Signature": signature(secret, body),
            "X-Newswatch-Event": notification.kind,
            "User-Agent": "newswatch-webhook/1",
        },
    )
    try:
        with _WEBHOOK_OPENER.open(request, timeout=TIMEOUT_S) as response:  # http(s) only, checked
            response.read(1024)
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location") if 300 <= exc.code < 400 and exc.headers else None
        moved = f" (a redirect to {mask(location)}, not followed: give the final address)" if location else ""
        raise DeliveryError(f"HTTP {exc.code} from {mask(channel.url)}{moved}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"cannot reach {mask(channel.url)}: {reason}") from None


def _send_apprise(channel: Channel, notification: Notification) -> None:
    import apprise

    plugin = _apprise_plugin(channel.url)
    if not plugin:
        raise DeliveryError(f"{mask(channel.url)}: apprise cannot use this URL")
    title_limit = getattr(plugin, "title_maxlen", 250) or 0
    body_limit = getattr(plugin, "body_maxlen", 32768) or 32768
    subject = notification.subject()
    if title_limit and len(subject) > title_limit:
        subject = subject[: title_limit - 1] + "…"
    body = notification.text(limit=body_limit if not title_limit else body_limit)
    if not title_limit:  # a channel without titles: the subject leads the body
        body = notification.text(limit=max(40, body_limit - len(subject) - 1))
        body = f"{subject}\n{body}"[:body_limit]
    sender = apprise.Apprise()
    sender.add(plugin)
    with apprise.LogCapture(level=apprise.logging.WARNING, fmt="%(message)s") as log:  # type: ignore[no-untyped-call]
        ok = sender.notify(body=body, title=subject if title_limit else "", body_format=apprise.NotifyFormat.TEXT)
        captured = log.getvalue()
    if not ok:
        last = [line for line in captured.strip().splitlines() if line.strip()]
        raise DeliveryError(f"{mask(channel.url)}: " + (last[-1][:300] if last else "apprise reported a failure"))
