"""SSRF guard: no request to private or special addresses, nor to non-http(s) schemes.

Scrapy has no IP-range check anywhere, and its offsite filter skips start
requests and the redirects they produce (``dont_filter``); see
``../shared/design/reliability-anchors.md`` §0.1 and §6.1.  Two layers close that:

:class:`SSRFGuardMiddleware` (downloader middleware, ``process_request``)
    Sees *every* request, start requests and redirect-generated ones included.
    It refuses any scheme but ``http``/``https``; any IP-literal host in any
    spelling (``127.0.0.1``, ``[::1]``, ``[::ffff:127.0.0.1]``, ``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``…) in a refused range; and any hostname that
    resolves to one (it looks the name up before the download; with
    :class:`SSRFSafeResolver` installed the answer is cached and the connection
    uses exactly the checked addresses).  A refusal raises :class:`SSRFRefused`
    (an ``IgnoreRequest``), is logged once at WARNING with the URL and the
    reason, and is counted in ``newswatch/ssrf/refused`` and
    ``newswatch/ssrf/refused/<reason>``.

:class:`SSRFSafeResolver` (``TWISTED_DNS_RESOLVER``)
    An ``IHostnameResolver`` that asks ``getaddrinfo`` for *all* answers (A and
    AAAA; Scrapy's default ``CachingThreadedResolver`` only ever sees one IPv4
    address) and delivers none when *any* answer is in a refused range, so the
    connection fails with ``DNSLookupError`` instead of reaching the address.
    It runs at connect time, so DNS rebinding and URL-parser differentials are
    caught too.  It also enforces ``DNS_TIMEOUT`` (Twisted's resolver has none).
    Its refusals are logged at WARNING and copied into the stats of every
    crawler at close as ``newswatch/ssrf/resolver_refused``.

Allow-listing (tests, or an outlet configured with ``allow_private = true``):

* ``NEWSWATCH_ALLOW_PRIVATE_HOSTS``: a list of ``host`` or ``host:port`` entries
  (``localhost``, ``127.0.0.1:8080``, ``[::1]:8080``).  A URL whose host (and
  port, when the entry names one) matches may use a private address; the host
  is compared as written in the URL, after normalisation, never by the address
  it resolves to.  So allowing ``localhost`` does not allow a redirect to
  ``127.0.0.1``.
* A spider attribute ``allow_private_hosts`` (same entry syntax) adds to it when
  the spider opens.

There is deliberately no ``request.meta`` switch: redirects copy meta, so a
per-request allowance would follow a redirect to anywhere.  The resolver has no
request context; it is built from the *process* settings and the middleware
adds each crawler's allowances to it when the spider opens (one crawl per
process, so this is not a leak between outlets in practice).

``NEWSWATCH_SSRF_ENABLED = False`` turns both layers off; set it for the
offline replay, which opens no connection (and must not resolve names).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import attr
from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
)
from zope.interface import implementer, provider

from scrapy import signals
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from crawler.urls import strip_secrets

if TYPE_CHECKING:
    from twisted.internet.defer import Deferred

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

__all__ = [
    "ALLOWED_SCHEMES",
    "HostPolicy",
    "SSRFGuardMiddleware",
    "SSRFRefused",
    "SSRFSafeResolver",
    "classify_address",
    "installed_resolver",
    "parse_ip_literal",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})
STATS_PREFIX = "newswatch/ssrf"
_DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class SSRFRefused(IgnoreRequest):
    """A request refused by the SSRF guard; ``reason`` is the short stats key."""

    def __init__(self, url: str, reason: str, detail: str):
        super().__init__(f"SSRF guard refused {url}: {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail


# --------------------------------------------------------------------- addresses

_V4_TABLE: tuple[tuple[str, ipaddress.IPv4Network], ...] = tuple(
    (name, ipaddress.IPv4Network(net))
    for name, net in (
        ("unspecified", "0.0.0.0/8"),  # "this network"; 0.0.0.0 connects to localhost
        ("private", "10.0.0.0/8"),
        ("cgnat", "100.64.0.0/10"),  # Python's is_private misses it
        ("loopback", "127.0.0.0/8"),
        ("link-local", "169.254.0.0/16"),  # cloud metadata lives here
        ("private", "172.16.0.0/12"),
        ("reserved", "192.0.0.0/24"),
        ("documentation", "192.0.2.0/24"),
        ("reserved", "192.88.99.0/24"),  # deprecated 6to4 relay anycast
        ("private", "192.168.0.0/16"),
        ("benchmarking", "198.18.0.0/15"),
        ("documentation", "198.51.100.0/24"),
        ("documentation", "203.0.113.0/24"),
        ("multicast", "224.0.0.0/4"),
        ("broadcast", "255.255.255.255/32"),
        ("reserved", "240.0.0.0/4"),
    )
)

_V6_TABLE: tuple[tuple[str, ipaddress.IPv6Network], ...] = tuple(
    (name, ipaddress.IPv6Network(net))
    for name, net in (
        ("unspecified", "::/128"),
        ("loopback", "::1/128"),
        ("reserved", "::/8"),  # includes deprecated IPv4-compatible ::a.b.c.d
        ("reserved", "64:ff9b:1::/48"),  # local-use NAT64
        ("reserved", "100::/64"),  # discard-only
        ("documentation", "2001:db8::/32"),
        ("documentation", "3fff::/20"),
        ("private", "fc00::/7"),  # unique local
        ("link-local", "fe80::/10"),
        ("private", "fec0::/10"),  # deprecated site-local
        ("multicast", "ff00::/8"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def classify_address(ip: IPAddress) -> str | None:
    """The name of the refused range ``ip`` is in, or None for a public address.

    IPv4 embedded in IPv6 (mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``,
    6to4 ``2002::/16``) is unwrapped and checked as IPv4; anything else that is
    not globally routable is refused as ``non-global`` (Teredo included).
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return classify_address(embedded)
        for name, net in _V6_TABLE:
            if ip in net:
                return name
    else:
        for name, net in _V4_TABLE:
            if ip in net:
                return name
    if not ip.is_global:
        return "non-global"
    return None


_NUMERIC_LABEL = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


def _ipv4_number(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)  # raises ValueError on 8 or 9, like a browser
    return int(label)


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address an IP-literal host names, or None when ``host`` is a hostname.

    Accepts every spelling a browser or ``inet_aton`` accepts (WHATWG URL host
    parsing): dotted quads, fewer parts (``127.1``), one 32-bit number
    (``2130706433``), hex (``0x7f.1``) and octal (``0177.0.0.1``) parts, a trailing
    dot, and bracketed or bare IPv6 with an optional zone.  Raises ValueError
    for a host that ends in a number but is no valid address (``1.2.3.4.5``,
    ``256.1.1.1``, ``09.1.1.1``): no resolver should be asked about those.
    """
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if ":" in host:
        address, _, zone = host.partition("%")
        if zone.startswith("25"):  # percent-encoded "%" in a URL
            zone = zone[2:]
        try:
            return ipaddress.IPv6Address(f"{address}%{zone}" if zone else address)
        except ValueError:
            raise ValueError(f"invalid IPv6 host {host!r}") from None
    if host.endswith("."):
        host = host[:-1]
    labels = host.split(".")
    if not labels or not _NUMERIC_LABEL.match(labels[-1]):
        return None
    # The host ends in a number, so it must be an IPv4 address (WHATWG §3.5).
    if len(labels) > 4 or not all(_NUMERIC_LABEL.match(label) for label in labels):
        raise ValueError(f"invalid IPv4 host {host!r}")
    try:
        numbers = [_ipv4_number(label) for label in labels]
    except ValueError:
        raise ValueError(f"invalid IPv4 host {host!r}") from None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        raise ValueError(f"invalid IPv4 host {host!r}")
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _canonical_host(host: str) -> str:
    """Lower-case, no brackets or trailing dot; IP literals in their standard form."""
    host = host.strip().lower()
    try:
        ip = parse_ip_literal(host)
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip)
    return host.strip("[]").rstrip(".")


# ------------------------------------------------------------------------ policy


class HostPolicy:
    """The hosts allowed to use private addresses: ``host`` or ``host:port`` entries."""

    def __init__(self, entries: Iterable[str] = ()):
        self._entries: set[tuple[str, int | None]] = set()
        self.add(entries)

    @staticmethod
    def parse_entry(entry: str) -> tuple[str, int | None]:
        text = str(entry).strip()
        if not text:
            raise ValueError("empty allow-list entry")
        port: str | None = None
        if text.startswith("["):
            host, sep, rest = text[1:].partition("]")
            if not sep or (rest and not rest.startswith(":")):
                raise ValueError(f"invalid allow-list entry {entry!r}")
            port = rest[1:] or None
        elif text.count(":") == 1:
            host, port = text.split(":")
        else:  # a hostname, an IPv4 address or a bare IPv6 address
            host = text
        if port is not None and not port.isdigit():
            raise ValueError(f"invalid port in allow-list entry {entry!r}")
        return _canonical_host(host), int(port) if port is not None else None

    def add(self, entries: Iterable[str]) -> None:
        if isinstance(entries, str):
            entries = [entries]
        for entry in entries:
            self._entries.add(self.parse_entry(entry))

    def allows(self, host: str, port: int | None) -> bool:
        if not self._entries:
            return False
        canonical = _canonical_host(host)
        return (canonical, None) in self._entries or (canonical, port) in self._entries

    @property
    def entries(self) -> list[str]:
        out = []
        for host, port in sorted(self._entries, key=lambda e: (e[0], e[1] or 0)):
            shown = f"[{host}]" if ":" in host else host
            out.append(shown if port is None else f"{shown}:{port}")
        return out

    def __bool__(self) -> bool:
        return bool(self._entries)


def _refusal_for_addresses(host: str, addresses: Iterable[str]) -> tuple[str, str] | None:
    """(reason, detail) when any of ``addresses`` is refused, else None."""
    for text in addresses:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return "invalid-host", f"{host} resolves to an unparseable address {text!r}"
        reason = classify_address(ip)
        if reason is not None:
            return reason, f"{host} resolves to {ip} ({reason})"
    return None


# ---------------------------------------------------------------------- resolver

_installed: SSRFSafeResolver | None = None


def installed_resolver() -> SSRFSafeResolver | None:
    """The :class:`SSRFSafeResolver` installed on the reactor, if any."""
    return _installed


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - Twisted never calls it
        raise NotImplementedError


@provider(IResolutionReceiver)
class _Collector:
    """Receives every answer of one lookup and fires ``deferred`` with them."""

    def __init__(self, deferred: Deferred[list[IAddress]]):
        self.deferred = deferred
        self.addresses: list[IAddress] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        if not self.deferred.called:
            self.deferred.callback(self.addresses)


@implementer(IHostnameResolver)
class SSRFSafeResolver:
    """Resolves through ``getaddrinfo`` (all answers) and refuses private ones.

    Install with ``TWISTED_DNS_RESOLVER = "crawler.middlewares.ssrf.SSRFSafeResolver"``.
    Caches answers per hostname (``DNSCACHE_ENABLED``/``DNSCACHE_SIZE``) so the
    connection uses the addresses the middleware checked; applies ``DNS_TIMEOUT``.
    """

    def __init__(
        self,
        reactor: Any,
        *,
        enabled: bool = True,
        allow: Iterable[str] = (),
        cache_size: int = 10000,
        timeout: float = 60.0,
        original: IHostnameResolver | None = None,
    ):
        self.reactor = reactor
        self.enabled = enabled
        self.policy = HostPolicy(allow)
        self.timeout = timeout
        self.cache: LocalCache[str, tuple[IAddress, ...]] = LocalCache(cache_size)
        if original is None:
            from twisted.internet._resolver import GAIResolver

            original = GAIResolver(reactor, reactor.getThreadPool)
        self.original = original
        self.refused: Counter[str] = Counter()
        self._pending: dict[str, list[Deferred[tuple[IAddress, ...]]]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> SSRFSafeResolver:
        # Scrapy passes the CrawlerProcess here, not a Crawler: only .settings exists.
        settings: BaseSettings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(
            reactor,
            enabled=settings.getbool("NEWSWATCH_SSRF_ENABLED", True),
            allow=settings.getlist("NEWSWATCH_ALLOW_PRIVATE_HOSTS"),
            cache_size=cache_size,
            timeout=settings.getfloat("DNS_TIMEOUT", 60.0),
        )

    def install_on_reactor(self) -> None:
        global _installed
        self.reactor.installNameResolver(self)
        _installed = self

    # -- lookups -------------------------------------------------------------

    def lookup(self, host: str) -> Deferred[tuple[IAddress, ...]]:
        """Every address ``host`` resolves to (port 0), unchecked; cached.

        Fails with ``DNSLookupError`` on timeout; an unknown name gives ``()``.
        """
        key = _canonical_host(host)
        if key in self.cache:
            return defer.succeed(self.cache[key])
        result: Deferred[tuple[IAddress, ...]] = defer.Deferred()
        waiters = self._pending.get(key)
        if waiters is not None:
            waiters.append(result)
            return result
        self._pending[key] = [result]

        raw: Deferred[list[IAddress]] = defer.Deferred()
        timer = None
        if self.timeout and self.timeout > 0:

            def on_timeout() -> None:
                if not raw.called:
                    raw.errback(
                        DNSLookupError(f"DNS lookup of {host} timed out after {self.timeout:g}s")
                    )

            timer = self.reactor.callLater(self.timeout, on_timeout)

        def finish(outcome: Any) -> None:
            if timer is not None and timer.active():
                timer.cancel()
            waiters = self._pending.pop(key, [])
            if isinstance(outcome, list):
                answers = tuple(_with_port(address, 0) for address in outcome)
                if answers:
                    self.cache[key] = answers
                for waiter in waiters:
                    waiter.callback(answers)
            else:
                for waiter in waiters:
                    waiter.errback(outcome)

        raw.addBoth(finish)
        try:
            self.original.resolveHostName(_Collector(raw), host, 0)
        except Exception as exc:  # pragma: no cover - defensive
            if not raw.called:
                raw.errback(DNSLookupError(f"DNS lookup of {host} failed: {exc}"))
        return result

    def refusal(self, host: str, port: int, addresses: Iterable[str]) -> tuple[str, str] | None:
        """(reason, detail) if ``host`` may not connect to ``addresses``, else None."""
        if not self.enabled or self.policy.allows(host, port):
            return None
        return _refusal_for_addresses(host, addresses)

    # -- IHostnameResolver ---------------------------------------------------

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(addresses: tuple[IAddress, ...]) -> None:
            refused = self.refusal(hostName, portNumber, (a.host for a in addresses))  # type: ignore[attr-defined]
            if refused is not None:
                reason, detail = refused
                self.refused[reason] += 1
                logger.warning(
                    "SSRF resolver refused to connect to %s:%s: %s", hostName, portNumber, detail
                )
                addresses = ()
            for address in addresses:
                if addressTypes is None or type(address) in addressTypes:
                    resolutionReceiver.addressResolved(_with_port(address, portNumber))
            resolutionReceiver.resolutionComplete()

        def failed(failure: Any) -> None:
            logger.warning("DNS lookup of %s failed: %s", hostName, failure.getErrorMessage())
            resolutionReceiver.resolutionComplete()

        self.lookup(hostName).addCallbacks(deliver, failed)
        return resolution


def _with_port(address: IAddress, port: int) -> IAddress:
    if isinstance(address, IPv4Address | IPv6Address) and address.port != port:
        return attr.evolve(address, port=port)
    return address


# -------------------------------------------------------------------- middleware


class SSRFGuardMiddleware:
    """Refuses non-http(s) schemes and private or special destinations (see module doc).

    Put it before every other downloader middleware that may fetch (robots.txt
    at 100): ``"crawler.middlewares.ssrf.SSRFGuardMiddleware": 40``.  It also
    runs on ``request_scheduled`` for the checks that need no DNS, so a refused
    request is never queued.
    """

    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        if not settings.getbool("NEWSWATCH_SSRF_ENABLED", True):
            raise NotConfigured  # no message: Scrapy would log a warning for a deliberate choice
        self.crawler = crawler
        self.stats = crawler.stats
        self.policy = HostPolicy(settings.getlist("NEWSWATCH_ALLOW_PRIVATE_HOSTS"))
        self.dns_timeout = settings.getfloat("DNS_TIMEOUT", 60.0)
        self._spider_synced = False
        self._warned_unpinned = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SSRFGuardMiddleware:
        o = cls(crawler)
        crawler.signals.connect(o.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(o.request_scheduled, signal=signals.request_scheduled)
        return o

    # -- signals -------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self._sync_policy(spider)
        if installed_resolver() is None:
            logger.warning(
                "SSRF guard: TWISTED_DNS_RESOLVER is not crawler.middlewares.ssrf.SSRFSafeResolver;"
                " hostnames are checked before the download but not pinned at connect time"
            )
            self._warned_unpinned = True

    def spider_closed(self, spider: Spider) -> None:
        resolver = installed_resolver()
        if resolver is not None and resolver.refused:
            self.stats.set_value(f"{STATS_PREFIX}/resolver_refused", sum(resolver.refused.values()))
            for reason, count in resolver.refused.items():
                self.stats.set_value(f"{STATS_PREFIX}/resolver_refused/{reason}", count)

    def _sync_policy(self, spider: Spider | None) -> None:
        if self._spider_synced:
            return
        self._spider_synced = True
        extra = getattr(spider, "allow_private_hosts", None) or ()
        if extra:
            self.policy.add(extra)
        resolver = installed_resolver()
        if resolver is not None and self.policy:
            resolver.policy.add(self.policy.entries)

    # -- the check -----------------------------------------------------------

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        """Refuse what needs no DNS before the request is even queued."""
        self._sync_policy(spider)
        self._static_check(request)

    async def process_request(self, request: Request) -> None:
        self._sync_policy(self.crawler.spider)
        pending = self._static_check(request)
        if pending is None:
            return None
        host, port = pending
        addresses = await self._resolve(host, port)
        if addresses is None:
            return None
        if not addresses:
            raise CannotResolveHostError(f"no address found for {host}")
        refused = _refusal_for_addresses(host, addresses)
        if refused is not None:
            self._refuse(request, *refused)
        return None

    def _static_check(self, request: Request) -> tuple[str, int] | None:
        """Check scheme, host syntax and IP literals; raises :class:`SSRFRefused`.

        Returns ``(host, port)`` when the host is a name that still needs a DNS check.
        """
        parsed = urlparse_cached(request)
        scheme = (parsed.scheme or "").lower()
        if scheme not in ALLOWED_SCHEMES:
            self._refuse(request, "scheme", f"scheme not allowed: {scheme or '(none)'}")
        try:
            host = parsed.hostname or ""
            port = parsed.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:  # a port out of range or not a number
            self._refuse(request, "invalid-host", f"invalid netloc {parsed.netloc!r}: {exc}")
        if not host:
            self._refuse(request, "invalid-host", "no host")
        if self.policy.allows(host, port):
            return None
        try:
            ip = parse_ip_literal(host)
        except ValueError as exc:
            self._refuse(request, "invalid-host", str(exc))
        if ip is not None:
            reason = classify_address(ip)
            if reason is not None:
                self._refuse(request, reason, f"{reason} address {ip}")
            return None
        return host, port

    async def _resolve(self, host: str, port: int) -> list[str] | None:
        """The addresses ``host`` resolves to; None when no lookup is possible here."""
        resolver = installed_resolver()
        try:
            if resolver is not None:
                answers = await maybe_deferred_to_future(resolver.lookup(host))
                return [a.host for a in answers]  # type: ignore[attr-defined]
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return None  # a non-asyncio reactor: only the resolver (if any) checks
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.dns_timeout or None
            )
            return [str(info[4][0]) for info in infos]
        except (DNSLookupError, OSError, asyncio.TimeoutError) as exc:
            raise CannotResolveHostError(f"DNS lookup of {host} failed: {exc}") from None

    def _refuse(self, request: Request, reason: str, detail: str) -> NoReturn:
        redirects = request.meta.get("redirect_urls")
        via = f" (via redirect from {strip_secrets(redirects[0])})" if redirects else ""
        url = strip_secrets(request.url)
        logger.warning("SSRF guard refused %s: %s%s", url, detail, via)
        self.stats.inc_value(f"{STATS_PREFIX}/refused")
        self.stats.inc_value(f"{STATS_PREFIX}/refused/{reason}")
        raise SSRFRefused(url, reason, detail + via)
