"""The SSRF-safe DNS resolver (``TWISTED_DNS_RESOLVER``): :class:`SSRFSafeResolver`.

It delivers no address when *any* answer for a name is in a refused range, so the
connection fails with ``DNSLookupError``; see :mod:`crawler.middlewares.ssrf` for how
it works with the middleware.  :func:`installed_resolver` is the one on the reactor.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attr
from scrapy.utils.datatypes import LocalCache
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

from crawler.middlewares.addresses import HostPolicy, _canonical_host, _refusal_for_addresses

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings
    from twisted.internet.defer import Deferred

# The SSRF guard's logger, as when the resolver lived in ssrf.py: one name for both
# layers' refusals, so log filters and alerts on it keep seeing them.
logger = logging.getLogger("crawler.middlewares.ssrf")

__all__ = ["SSRFSafeResolver", "installed_resolver"]

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
