"""SSRF guard, safe resolver and off-site redirect guard (docs/decisions.md, Crawling safety).

Unit tests call the middleware hooks directly (``get_crawler`` + ``build_from_crawler``)
and drive the resolver with a stub *DNS* (the resolver itself is real); crawl
tests run the real engine in a child process against the mirror on 127.0.0.1
and assert at the server what was fetched.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import scrapy
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.http import Request
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IHostnameResolver, IResolutionReceiver
from twisted.internet.task import Clock
from zope.interface import implementer, provider

from crawler.middlewares import resolver as ssrf_resolver
from crawler.middlewares.offsite import OffsiteRedirectMiddleware, OffsiteRedirectRefused
from crawler.middlewares.ssrf import (
    HostPolicy,
    SSRFGuardMiddleware,
    SSRFRefused,
    SSRFSafeResolver,
    classify_address,
    parse_ip_literal,
)
from tests.support.crawl_subprocess import run_crawl
from tests.support.mirror import SECRET_BODY, Paths

# ------------------------------------------------------------------ spiders


class ProbeSpider(scrapy.Spider):
    """Fetches its start_urls (dont_filter=True, like every start request) and records them."""

    name = "ssrf_probe"
    allowed_domains = ["localhost"]

    def parse(self, response):
        yield {"url": response.url, "status": response.status, "body": response.text[:200]}


class UnrestrictedProbeSpider(ProbeSpider):
    name = "ssrf_probe_unrestricted"
    allowed_domains: list[str] = []


# ------------------------------------------------------------------ helpers


@implementer(IHostnameResolver)
class StubDNS:
    """A fake *DNS server* for the real resolver: answers from a table, synchronously.

    A table value may be a list of addresses or a list of lists (one per lookup,
    to simulate rebinding); ``None`` means "never answers" (a hung lookup).
    """

    def __init__(self, table: dict[str, Any]):
        self.table = table
        self.calls: list[str] = []

    def resolveHostName(self, receiver, hostName, portNumber=0, addressTypes=None,
                        transportSemantics="TCP"):
        self.calls.append(hostName)
        receiver.resolutionBegan(None)
        answer = self.table.get(hostName, [])
        if answer is None:
            return None
        if answer and isinstance(answer[0], list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        for text in answer:
            cls = IPv6Address if ":" in text else IPv4Address
            receiver.addressResolved(cls("TCP", text, portNumber))
        receiver.resolutionComplete()
        return None


@provider(IResolutionReceiver)
class Receiver:
    def __init__(self):
        self.addresses: list[Any] = []
        self.complete = False

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.addresses.append(address)

    def resolutionComplete(self):
        self.complete = True


def make_resolver(table: dict[str, Any], **kwargs: Any) -> tuple[SSRFSafeResolver, StubDNS, Clock]:
    clock, dns = Clock(), StubDNS(table)
    return SSRFSafeResolver(clock, original=dns, **kwargs), dns, clock


def make_middleware(settings: dict[str, Any] | None = None, spider_cls=ProbeSpider):
    crawler = get_crawler(spider_cls, settings or {})
    crawler.spider = crawler._create_spider()
    mw = build_from_crawler(SSRFGuardMiddleware, crawler)
    return mw, crawler


def check(mw: SSRFGuardMiddleware, url: str, **request_kwargs: Any) -> None:
    asyncio.run(mw.process_request(Request(url, **request_kwargs)))


@pytest.fixture
def no_installed_resolver(monkeypatch):
    monkeypatch.setattr(ssrf_resolver, "_installed", None)


@pytest.fixture
def stub_dns(monkeypatch):
    """Install a real SSRFSafeResolver answering from a stub DNS table; returns the table."""
    table: dict[str, Any] = {}
    resolver, _, _ = make_resolver(table)
    monkeypatch.setattr(ssrf_resolver, "_installed", resolver)
    return table


# ------------------------------------------------------- address table (row 12)

IP_TABLE = [
    # (host as written in a URL, expected range)
    ("127.0.0.1", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("2130706433", "loopback"),
    ("0x7f.1", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("127.0.0.1.", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("[fd00::1]", "private"),
    ("169.254.169.254", "link-local"),
    ("[fe80::1]", "link-local"),
    ("100.64.0.1", "cgnat"),
    ("0.0.0.0", "unspecified"),
    ("[::]", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("[64:ff9b::a00:1]", "private"),  # NAT64 of 10.0.0.1
    ("[2002:a9fe:a9fe::1]", "link-local"),  # 6to4 of 169.254.169.254
    ("[2001::1]", "non-global"),  # Teredo
]


@pytest.mark.parametrize(("host", "expected"), IP_TABLE)
def test_ip_literal_forms_are_classified(host: str, expected: str) -> None:
    ip = parse_ip_literal(host)
    assert ip is not None
    assert classify_address(ip) == expected


@pytest.mark.parametrize("host", ["8.8.8.8", "93.184.215.14", "[2606:4700:4700::1111]"])
def test_public_addresses_pass(host: str) -> None:
    ip = parse_ip_literal(host)
    assert ip is not None and classify_address(ip) is None


@pytest.mark.parametrize("host", ["example.com", "news.sina.com.cn", "localhost", "a1.b2"])
def test_hostnames_are_not_ip_literals(host: str) -> None:
    assert parse_ip_literal(host) is None


@pytest.mark.parametrize("host", ["1.2.3.4.5", "256.1.1.1", "09.1.1.1", "1.0x100.1.1", "[::g]"])
def test_numeric_but_invalid_hosts_raise(host: str) -> None:
    with pytest.raises(ValueError):
        parse_ip_literal(host)


@pytest.mark.parametrize(("host", "expected"), IP_TABLE)
def test_middleware_refuses_ip_literal_urls_with_the_range_named(host, expected) -> None:
    mw, crawler = make_middleware()
    url = f"http://{host}:8080/secret"
    with pytest.raises(SSRFRefused) as info:
        check(mw, url, dont_filter=True)
    assert info.value.reason == expected
    assert expected in str(info.value)
    assert isinstance(info.value, IgnoreRequest)
    assert crawler.stats.get_value("newswatch/ssrf/refused") == 1
    assert crawler.stats.get_value(f"newswatch/ssrf/refused/{expected}") == 1


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("data:text/plain,hello", "data"),
        ("ftp://ftp.example.com/x", "ftp"),
        ("s3://bucket/key", "s3"),
    ],
)
def test_non_http_schemes_are_refused(url: str, scheme: str) -> None:
    mw, crawler = make_middleware()
    with pytest.raises(SSRFRefused, match=f"scheme not allowed: {scheme}"):
        check(mw, url)
    assert crawler.stats.get_value("newswatch/ssrf/refused/scheme") == 1


def test_refusal_is_logged_once_at_warning_with_url_and_reason(caplog) -> None:
    mw, _ = make_middleware()
    with caplog.at_level("WARNING"), pytest.raises(SSRFRefused):
        check(mw, "http://169.254.169.254/latest/meta-data/")
    lines = [r for r in caplog.records if r.name == "crawler.middlewares.ssrf"]
    assert len(lines) == 1 and lines[0].levelname == "WARNING"
    assert "http://169.254.169.254/latest/meta-data/" in lines[0].getMessage()
    assert "link-local" in lines[0].getMessage()


def test_redirect_refusal_names_the_origin() -> None:
    mw, _ = make_middleware()
    request_meta = {"redirect_urls": ["http://news.example/a"]}
    with pytest.raises(SSRFRefused, match="via redirect from http://news.example/a"):
        check(mw, "http://10.1.2.3/admin", meta=request_meta, dont_filter=True)


def test_secrets_are_stripped_from_the_refusal() -> None:
    mw, _ = make_middleware()
    with pytest.raises(SSRFRefused) as info:
        check(mw, "http://10.0.0.1/s?__biz=x&pass_ticket=SECRET123")
    assert "SECRET123" not in str(info.value)


def test_allow_list_setting_and_spider_attribute(no_installed_resolver) -> None:
    class OutletSpider(ProbeSpider):
        allow_private_hosts = ["10.0.0.7"]

    mw, crawler = make_middleware(
        {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["127.0.0.1:8080", "[::1]"]}, spider_cls=OutletSpider
    )
    check(mw, "http://127.0.0.1:8080/ok")
    check(mw, "http://2130706433:8080/same-address-other-spelling")
    check(mw, "http://[::1]:9/any-port")
    check(mw, "http://10.0.0.7/from-spider-attribute")
    with pytest.raises(SSRFRefused):
        check(mw, "http://127.0.0.1:8081/other-port")
    with pytest.raises(SSRFRefused):
        check(mw, "http://10.0.0.8/")
    assert crawler.stats.get_value("newswatch/ssrf/refused") == 2


def test_meta_cannot_allow_a_private_host() -> None:
    mw, _ = make_middleware()
    with pytest.raises(SSRFRefused):
        check(mw, "http://127.0.0.1/", meta={"allow_private": True, "allow_offsite": True})


def test_disabled_guard_is_not_configured() -> None:
    crawler = get_crawler(ProbeSpider, {"NEWSWATCH_SSRF_ENABLED": False})
    with pytest.raises(NotConfigured):
        build_from_crawler(SSRFGuardMiddleware, crawler)


@pytest.mark.parametrize(
    "entry", ["localhost", "LOCALHOST.", "localhost:8080", "127.0.0.1", "[::1]:80", "::1"]
)
def test_host_policy_entries_parse(entry: str) -> None:
    assert HostPolicy([entry])


@pytest.mark.parametrize("entry", ["", "host:port", "[::1", "[::1]x"])
def test_host_policy_rejects_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError):
        HostPolicy([entry])


# ------------------------------------------------ hostnames: middleware lookup


def test_hostname_resolving_to_loopback_is_refused(stub_dns) -> None:
    stub_dns["intranet.example"] = ["93.184.215.14", "127.0.0.1"]  # any bad answer refuses
    mw, crawler = make_middleware()
    with pytest.raises(SSRFRefused, match=r"intranet.example resolves to 127.0.0.1 \(loopback\)"):
        check(mw, "https://intranet.example/")
    assert crawler.stats.get_value("newswatch/ssrf/refused/loopback") == 1


def test_hostname_resolving_to_public_addresses_passes(stub_dns) -> None:
    stub_dns["news.example"] = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    mw, crawler = make_middleware()
    check(mw, "https://news.example/article")
    assert crawler.stats.get_value("newswatch/ssrf/refused") is None


def test_unresolvable_hostname_raises_cannot_resolve(stub_dns) -> None:
    mw, _ = make_middleware()
    with pytest.raises(CannotResolveHostError):
        check(mw, "http://nothing.invalid/")


def test_real_localhost_lookup_is_refused(no_installed_resolver) -> None:
    """No stub: the system resolver maps localhost to loopback."""
    mw, _ = make_middleware()
    with pytest.raises(SSRFRefused) as info:
        check(mw, "http://localhost:1/")
    assert info.value.reason == "loopback"


def test_allowed_hostname_is_not_looked_up(stub_dns) -> None:
    mw, _ = make_middleware({"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["localhost"]})
    check(mw, "http://localhost:8080/")  # the stub has no entry: a lookup would fail


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http:///x", "no host"),
        ("http://256.1.1.1/x", "invalid IPv4 host '256.1.1.1'"),
        ("http://1.2.3.4.5/x", "invalid IPv4 host '1.2.3.4.5'"),
    ],
)
def test_hosts_that_are_no_host_are_refused_without_a_lookup(stub_dns, caplog, url: str, detail: str) -> None:
    # stub_dns is empty: a lookup would end in CannotResolveHostError, not a refusal.
    mw, crawler = make_middleware()
    request = Request(url)
    with caplog.at_level("WARNING", logger="crawler.middlewares.ssrf"), pytest.raises(SSRFRefused) as info:
        asyncio.run(mw.process_request(request))
    refused = info.value
    assert (refused.url, refused.reason, refused.detail) == (request.url, "invalid-host", detail)
    assert str(refused) == f"SSRF guard refused {request.url}: {refused.detail}"
    assert [r.getMessage() for r in caplog.records] == [str(refused)]
    assert crawler.stats.get_value("newswatch/ssrf/refused/invalid-host") == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/x", "http://news.example:http/x"])
def test_a_bad_port_never_becomes_a_request(url: str) -> None:
    # So the guard's own "invalid netloc" refusal is a backstop no request reaches
    # (tests/mutation-equivalents.md).
    with pytest.raises(ValueError, match="Port"):
        Request(url)


def test_refusal_fields_and_log_line_with_and_without_a_redirect(caplog) -> None:
    mw, _ = make_middleware()
    with caplog.at_level("WARNING", logger="crawler.middlewares.ssrf"):
        with pytest.raises(SSRFRefused) as direct:
            check(mw, "http://10.1.2.3/admin")
        with pytest.raises(SSRFRefused) as redirected:
            check(mw, "http://10.1.2.3/admin", meta={"redirect_urls": ["http://news.example/a?token=s"]})
    assert (direct.value.url, direct.value.detail) == ("http://10.1.2.3/admin", "private address 10.1.2.3")
    assert redirected.value.detail == "private address 10.1.2.3 (via redirect from http://news.example/a)"
    assert [r.getMessage() for r in caplog.records] == [
        "SSRF guard refused http://10.1.2.3/admin: private address 10.1.2.3",
        "SSRF guard refused http://10.1.2.3/admin: private address 10.1.2.3"
        " (via redirect from http://news.example/a)",
    ]


def test_a_name_with_no_address_cannot_be_resolved(stub_dns) -> None:
    stub_dns["empty.example"] = []
    mw, _ = make_middleware()
    with pytest.raises(CannotResolveHostError, match=r"^(no address found for|DNS lookup of) empty\.example"):
        check(mw, "http://empty.example/")


def test_the_system_lookup_honours_dns_timeout(no_installed_resolver) -> None:
    # Without the pinned resolver the middleware asks getaddrinfo itself, within
    # DNS_TIMEOUT; a microsecond is too short even for /etc/hosts.
    mw, _ = make_middleware({"DNS_TIMEOUT": 0.000001})
    with pytest.raises(CannotResolveHostError, match=r"^DNS lookup of localhost failed: "):
        check(mw, "http://localhost/")


def test_spider_allowances_count_from_spider_opened_or_the_first_scheduled_request(
    no_installed_resolver, caplog
) -> None:
    class OutletSpider(ProbeSpider):
        allow_private_hosts = ["10.0.0.7"]

    mw, crawler = make_middleware(spider_cls=OutletSpider)
    with caplog.at_level("WARNING", logger="crawler.middlewares.ssrf"):
        mw.spider_opened(crawler.spider)
    assert mw.policy.allows("10.0.0.7", 80)
    # No SSRFSafeResolver installed: said once, since names are then not pinned.
    assert [r.getMessage() for r in caplog.records] == [
        "SSRF guard: TWISTED_DNS_RESOLVER is not crawler.middlewares.ssrf.SSRFSafeResolver;"
        " hostnames are checked before the download but not pinned at connect time"
    ]
    mw.spider_closed(crawler.spider)  # nothing to copy from a resolver that is not there
    assert crawler.stats.get_value("newswatch/ssrf/resolver_refused") is None

    mw, crawler = make_middleware(spider_cls=OutletSpider)
    mw.request_scheduled(Request("http://10.0.0.7/"), crawler.spider)
    with pytest.raises(SSRFRefused, match="scheme not allowed: file"):
        mw.request_scheduled(Request("file:///etc/passwd"), crawler.spider)
    mw.request_scheduled(Request("http://news.example/"), crawler.spider)  # no lookup here
    assert crawler.stats.get_value("newswatch/ssrf/refused") == 1


def test_no_warning_when_the_resolver_is_installed(stub_dns, caplog) -> None:
    mw, crawler = make_middleware()
    with caplog.at_level("WARNING", logger="crawler.middlewares.ssrf"):
        mw.spider_opened(crawler.spider)
    assert caplog.records == []


# --------------------------------------------------------- resolver (connect time)


def resolve(resolver: SSRFSafeResolver, host: str, port: int = 80) -> Receiver:
    receiver = Receiver()
    resolver.resolveHostName(receiver, host, port)
    return receiver


def test_resolver_refuses_when_any_answer_is_private() -> None:
    resolver, _, _ = make_resolver({"rebind.example": ["93.184.215.14", "10.0.0.5"]})
    receiver = resolve(resolver, "rebind.example")
    assert receiver.complete and receiver.addresses == []
    assert resolver.refused["private"] == 1


def test_resolver_delivers_public_answers_with_the_port() -> None:
    resolver, _, _ = make_resolver({"news.example": ["93.184.215.14", "2606:4700::1111"]})
    receiver = resolve(resolver, "news.example", 8443)
    assert [(a.host, a.port) for a in receiver.addresses] == [
        ("93.184.215.14", 8443),
        ("2606:4700::1111", 8443),
    ]


def test_resolver_refuses_numeric_spellings_resolved_by_getaddrinfo() -> None:
    resolver, _, _ = make_resolver({"0x7f.1": ["127.0.0.1"]})
    assert resolve(resolver, "0x7f.1").addresses == []


def test_resolver_honours_the_allow_list_by_host_and_port() -> None:
    table = {"localhost": ["127.0.0.1"]}
    resolver, _, _ = make_resolver(table, allow=["localhost:8080"])
    assert [a.host for a in resolve(resolver, "localhost", 8080).addresses] == ["127.0.0.1"]
    assert resolve(resolver, "localhost", 6379).addresses == []


def test_resolver_catches_rebinding_without_cache() -> None:
    table = {"flip.example": [["93.184.215.14"], ["127.0.0.1"]]}
    resolver, _, _ = make_resolver(table, cache_size=0)
    assert len(resolve(resolver, "flip.example").addresses) == 1
    assert resolve(resolver, "flip.example").addresses == []
    assert resolver.refused["loopback"] == 1


def test_resolver_cache_pins_the_checked_answer() -> None:
    table = {"flip.example": [["93.184.215.14"], ["127.0.0.1"]]}
    resolver, dns, _ = make_resolver(table)
    resolver.lookup("flip.example")  # the middleware's check
    receiver = resolve(resolver, "flip.example")  # the connection
    assert [a.host for a in receiver.addresses] == ["93.184.215.14"]
    assert dns.calls == ["flip.example"]


def test_resolver_times_out_instead_of_hanging() -> None:
    resolver, _, clock = make_resolver({"hang.example": None}, timeout=3)
    receiver = resolve(resolver, "hang.example")
    failures: list[Any] = []
    resolver.lookup("hang.example").addErrback(failures.append)  # joins the pending lookup
    assert not receiver.complete
    clock.advance(3)
    assert receiver.complete and receiver.addresses == []
    assert failures and failures[0].check(DNSLookupError)
    assert "timed out after 3s" in failures[0].getErrorMessage()


def test_resolver_disabled_passes_everything() -> None:
    resolver, _, _ = make_resolver({"localhost": ["127.0.0.1"]}, enabled=False)
    assert len(resolve(resolver, "localhost").addresses) == 1


def test_middleware_pushes_its_allowances_to_the_installed_resolver(monkeypatch) -> None:
    resolver, _, _ = make_resolver({})
    monkeypatch.setattr(ssrf_resolver, "_installed", resolver)
    mw, crawler = make_middleware({"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["localhost:8080"]})
    mw.spider_opened(crawler.spider)
    assert resolver.policy.allows("localhost", 8080)
    assert not resolver.policy.allows("127.0.0.1", 8080)


def test_connect_time_refusals_are_copied_into_the_stats(monkeypatch) -> None:
    resolver, _, _ = make_resolver({"flip.example": ["127.0.0.1"]})
    monkeypatch.setattr(ssrf_resolver, "_installed", resolver)
    resolve(resolver, "flip.example")
    mw, crawler = make_middleware()
    mw.spider_closed(crawler.spider)
    assert crawler.stats.get_value("newswatch/ssrf/resolver_refused") == 1
    assert crawler.stats.get_value("newswatch/ssrf/resolver_refused/loopback") == 1


def test_the_resolver_is_a_hostname_resolver() -> None:
    resolver, _, _ = make_resolver({})
    assert IHostnameResolver.providedBy(resolver)


# ------------------------------------------------------- off-site redirects (unit)


def make_offsite(spider_cls=ProbeSpider):
    crawler = get_crawler(spider_cls)
    crawler.spider = crawler._create_spider()
    mw = build_from_crawler(OffsiteRedirectMiddleware, crawler)
    mw.spider_opened(crawler.spider)
    return mw, crawler


def test_offsite_redirect_with_dont_filter_is_refused() -> None:
    mw, crawler = make_offsite()
    request = Request(
        "http://evil.example/x",
        dont_filter=True,
        meta={"redirect_urls": ["http://localhost/start"]},
    )
    with pytest.raises(OffsiteRedirectRefused, match="evil.example"):
        mw.process_request(request)
    assert crawler.stats.get_value("newswatch/offsite_redirect/refused") == 1


def test_offsite_refusal_names_both_urls_without_secrets(caplog) -> None:
    mw, _ = make_offsite()
    request = Request(
        "http://user:pw@evil.example/x?token=1",
        dont_filter=True,
        meta={"redirect_urls": ["http://localhost/start", "http://localhost/next"]},
    )
    with caplog.at_level("WARNING", logger="crawler.middlewares.offsite"), \
            pytest.raises(OffsiteRedirectRefused) as refused:
        mw.process_request(request)
    error = refused.value
    assert (error.host, error.origin) == ("evil.example", "http://localhost/start")
    assert "pw" not in error.url and error.url.startswith("http://evil.example/x")
    assert str(error) == f"redirect from http://localhost/start to off-site host 'evil.example' refused: {error.url}"
    [record] = [r for r in caplog.records if r.name == "crawler.middlewares.offsite"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        f"Refused redirect to off-site host 'evil.example': {error.url} (redirected from http://localhost/start)"
    )


def test_onsite_redirects_and_plain_requests_pass() -> None:
    mw, crawler = make_offsite()
    redirected = {"redirect_urls": ["http://localhost/start"]}
    mw.process_request(Request("http://sub.localhost/x", dont_filter=True, meta=redirected))
    mw.process_request(Request("http://localhost/y", dont_filter=True, meta=redirected))
    mw.process_request(Request("http://elsewhere.example/", dont_filter=True))  # not a redirect
    mw.process_request(
        Request("http://elsewhere.example/", meta={**redirected, "allow_offsite": True})
    )
    assert crawler.stats.get_value("newswatch/offsite_redirect/refused") is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http:///no-host", "data:text/html,hi"])
def test_offsite_redirect_to_a_url_without_a_host_is_refused(url: str) -> None:
    # Nothing without a host is inside allowed_domains; the refusal names the host as empty.
    mw, crawler = make_offsite()
    request = Request(url, dont_filter=True, meta={"redirect_urls": ["http://localhost/start"]})
    with pytest.raises(OffsiteRedirectRefused) as refused:
        mw.process_request(request)
    assert refused.value.host == ""
    assert "off-site host '' refused" in str(refused.value)
    assert crawler.stats.get_value("newswatch/offsite_redirect/refused") == 1


def test_spider_without_allowed_domains_is_not_restricted() -> None:
    mw, _ = make_offsite(UnrestrictedProbeSpider)
    mw.process_request(
        Request("http://anywhere.example/", meta={"redirect_urls": ["http://a.example/"]})
    )


# ------------------------------------------------------------ real crawls


def test_crawl_start_url_redirect_to_private_address_is_refused(mirror) -> None:
    """SSRF decision in docs/decisions.md: localhost start URL 302s to 127.0.0.1/secret."""
    result = run_crawl(
        ProbeSpider,
        {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["localhost"]},
        spider_kwargs={"start_urls": [mirror.url(Paths.redirect_offsite, host="localhost")]},
    )
    assert mirror.hits(Paths.redirect_offsite) == 1  # the allowed host was fetched
    assert mirror.hits(Paths.secret) == 0  # the secret never was
    assert not any(r.headers.get("host", "").startswith("127.0.0.1") for r in mirror.requests)
    assert result.stat("newswatch/ssrf/refused") == 1
    assert result.stat("newswatch/ssrf/refused/loopback") == 1
    assert not any(SECRET_BODY.decode() in item["body"] for item in result.items)
    assert "SSRF guard refused http://127.0.0.1:" in result.log
    assert "via redirect from http://localhost:" in result.log


def test_crawl_ip_table_nothing_reaches_the_server(mirror) -> None:
    """Row 12/13 with the real engine: every spelling refused before any connection."""
    port = mirror.port
    urls = {
        f"http://127.0.0.1:{port}/secret": "loopback",
        f"http://2130706433:{port}/secret": "loopback",
        f"http://0x7f.1:{port}/secret": "loopback",
        f"http://0177.0.0.1:{port}/secret": "loopback",
        f"http://[::ffff:127.0.0.1]:{port}/secret": "loopback",
        f"http://[::1]:{port}/secret": "loopback",
        f"http://0.0.0.0:{port}/secret": "unspecified",
        f"http://localhost:{port}/secret": "loopback",  # via DNS
        "http://10.0.0.1/": "private",
        "http://169.254.169.254/latest/meta-data/": "link-local",
        "http://100.64.0.1/": "cgnat",
        "file:///etc/passwd": "scheme",
        "ftp://127.0.0.1/": "scheme",
    }
    result = run_crawl(UnrestrictedProbeSpider, spider_kwargs={"start_urls": list(urls)})
    assert mirror.site.hits_total == 0
    assert result.items == []
    assert result.stat("newswatch/ssrf/refused") == len(urls)
    expected: dict[str, int] = {}
    for reason in urls.values():
        expected[reason] = expected.get(reason, 0) + 1
    for reason, count in expected.items():
        assert result.stat(f"newswatch/ssrf/refused/{reason}") == count, reason
    assert result.log.count("SSRF guard refused") == len(urls)


def test_crawl_allowed_private_host_is_fetched(mirror) -> None:
    """The allow-list works end to end (what the test outlets rely on)."""
    article = mirror.site.articles[0]
    result = run_crawl(
        UnrestrictedProbeSpider,
        {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": [f"127.0.0.1:{mirror.port}"]},
        spider_kwargs={"start_urls": [mirror.url(article.path)]},
    )
    assert mirror.hits(article.path) == 1
    assert [item["status"] for item in result.items] == [200]
    assert result.stat("newswatch/ssrf/refused") == 0


def test_crawl_resolver_refuses_at_connect_time_without_the_middleware(mirror) -> None:
    """The resolver alone (middleware removed) still keeps localhost unreachable."""
    result = run_crawl(
        UnrestrictedProbeSpider,
        {
            "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.ssrf.SSRFGuardMiddleware": None},
            "RETRY_TIMES": 0,
            "ROBOTSTXT_OBEY": False,
        },
        spider_kwargs={"start_urls": [mirror.url("/secret", host="localhost")]},
    )
    assert mirror.site.hits_total == 0
    assert "SSRF resolver refused to connect to localhost" in result.log
    assert result.stats_under("downloader/exception_type_count") == {
        "downloader/exception_type_count/scrapy.exceptions.CannotResolveHostError": 1
    }
    assert result.stat("newswatch/ssrf/refused") == 0  # the middleware was not there


def test_crawl_offsite_redirect_refused_even_with_dont_filter(mirror) -> None:
    """Both hosts may be private here: only the off-site rule stops the redirect."""
    settings = {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["localhost", "127.0.0.1"]}
    start = {"start_urls": [mirror.url(Paths.redirect_offsite, host="localhost")]}
    result = run_crawl(ProbeSpider, settings, spider_kwargs=start)
    assert mirror.hits(Paths.secret) == 0
    assert result.stat("newswatch/offsite_redirect/refused") == 1
    assert result.stat("newswatch/ssrf/refused") == 0

    # Control: without our middleware, Scrapy follows it (the gap docs/decisions.md describes).
    control = run_crawl(
        ProbeSpider,
        {**settings, "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.offsite.OffsiteRedirectMiddleware": None}},
        spider_kwargs=start,
    )
    assert mirror.hits(Paths.secret) == 1
    assert [item["body"] for item in control.items] == [SECRET_BODY.decode()]


def test_crawl_offsite_hostname_redirect_is_refused_before_any_dns_lookup(mirror_factory) -> None:
    """The off-site guard runs before the SSRF guard's lookup: the name is never resolved."""
    server = mirror_factory(offsite_host="offsite.example", outlets=("rfi",))
    result = run_crawl(
        ProbeSpider,
        {"NEWSWATCH_ALLOW_PRIVATE_HOSTS": ["localhost"]},
        spider_kwargs={"start_urls": [server.url(Paths.redirect_offsite, host="localhost")]},
    )
    assert result.stat("newswatch/offsite_redirect/refused") == 1
    assert result.stat("retry/count") == 0
    assert "offsite.example" not in "".join(result.stats_under("downloader/exception"))
    assert "Refused redirect to off-site host 'offsite.example'" in result.log
