"""Edge cases of the SSRF guard's address rules (crawler.middlewares.addresses).

Pure functions, no network: the spellings of an IP literal a browser accepts or
refuses (WHATWG URL host parsing), IPv6 zones as getaddrinfo and URLs (RFC 6874)
write them, and the ``NEWSWATCH_ALLOW_PRIVATE_HOSTS`` entries an operator types.
The middleware and resolver that use them are tested in test_ssrf.py.
"""

from __future__ import annotations

import ipaddress

import pytest

from crawler.middlewares.addresses import (
    HostPolicy,
    _refusal_for_addresses,
    classify_address,
    parse_ip_literal,
)

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


@pytest.mark.parametrize(
    ("host", "address"),
    [
        # A hex part may be empty: "0x" is 0 for a browser (WHATWG IPv4 number parser).
        ("0x7f.0x.0x.1", V4("127.0.0.1")),
        ("0X7F.1", V4("127.0.0.1")),
        # The last part fills the remaining bytes, up to its limit and no further.
        ("127.16777215", V4("127.255.255.255")),
        ("127.1.65535", V4("127.1.255.255")),
        ("4294967295", V4("255.255.255.255")),
        ("0", V4("0.0.0.0")),
        # A zone as getaddrinfo writes it, and as a URL must (the "%" percent-encoded).
        ("fe80::1%eth0", V6("fe80::1%eth0")),
        ("[fe80::1%25eth0]", V6("fe80::1%eth0")),
        ("[fe80::1%eth0]", V6("fe80::1%eth0")),
        ("[FE80::1]", V6("fe80::1")),
    ],
)
def test_ip_literal_spellings(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    parsed = parse_ip_literal(host)
    assert parsed == address
    assert str(parsed) == str(address)  # the zone too: it picks the interface


@pytest.mark.parametrize(
    ("host", "message"),
    [
        # One past each part's limit.
        ("127.16777216", "invalid IPv4 host '127.16777216'"),
        ("127.1.65536", "invalid IPv4 host '127.1.65536'"),
        ("4294967296", "invalid IPv4 host '4294967296'"),
        # Five parts, even when the fifth is 0.
        ("1.2.3.4.0", "invalid IPv4 host '1.2.3.4.0'"),
        ("0.0.0.0.0", "invalid IPv4 host '0.0.0.0.0'"),
        # Full-width digits: a browser maps them to 127.0.0.1 (IDNA), Python's int()
        # reads them too; the guard refuses the spelling instead of guessing.
        ("１２７.0.0.1", "invalid IPv4 host '１２７.0.0.1'"),
        ("٨.8.8.8", "invalid IPv4 host '٨.8.8.8'"),
        ("08.1.1.1", "invalid IPv4 host '08.1.1.1'"),  # not octal
        # Half a bracket is no IPv6 literal.
        ("[::1", "invalid IPv6 host '[::1'"),
        ("::1]", "invalid IPv6 host '::1]'"),
        ("[::g]", "invalid IPv6 host '::g'"),
    ],
)
def test_invalid_numeric_hosts_are_refused_by_name(host: str, message: str) -> None:
    # The message is what the refusal log shows: it must name the host as written.
    with pytest.raises(ValueError) as refused:
        parse_ip_literal(host)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("fe80::1%eth0", "link-local"),
        ("fe80::1%2", "link-local"),
        ("::ffff:169.254.169.254%eth0", "link-local"),
        ("::1%lo", "loopback"),
        ("2606:4700:4700::1111%eth0", None),
    ],
)
def test_a_zone_does_not_change_the_range(address: str, expected: str | None) -> None:
    assert classify_address(V6(address)) == expected


def test_resolver_answers_that_are_no_address_are_refused() -> None:
    assert _refusal_for_addresses("cdn.example", ["93.184.215.14", "not-an-ip"]) == (
        "invalid-host",
        "cdn.example resolves to an unparseable address 'not-an-ip'",
    )
    assert _refusal_for_addresses("cdn.example", ["93.184.215.14"]) is None


# ---------------------------------------------------------- the allow-list


@pytest.mark.parametrize(
    ("entries", "host", "port", "allowed"),
    [
        # A trailing dot and letter case name the same host, on either side.
        (["localhost."], "localhost", 8080, True),
        (["LocalHost"], "localhost.", 8080, True),
        (["localhost"], "LOCALHOST", 80, True),
        # A port, bracketed IPv6 with a port, or any port when none is given.
        (["[::1]:8080"], "::1", 8080, True),
        (["[::1]:8080"], "::1", 80, False),
        (["[::1]:8080"], "::1", None, False),
        (["[::1]"], "::1", 9, True),
        (["127.0.0.1:8080"], "127.1", 8080, True),
        (["127.0.0.1:8080"], "127.0.0.1", 8081, False),
        # Two invalid numeric hosts are not the same host.
        (["256.1.1.1"], "1.2.3.4.5", 80, False),
        (["256.1.1.1"], "256.1.1.1", 80, True),
        ([], "localhost", 80, False),
    ],
)
def test_allow_list_matching(entries: list[str], host: str, port: int | None, allowed: bool) -> None:
    assert HostPolicy(entries).allows(host, port) is allowed


def test_allow_list_is_shown_in_canonical_form() -> None:
    policy = HostPolicy(["LocalHost.", "[::1]:8080", "0x7f.1", "news.EXAMPLE.com:443"])
    assert policy.entries == ["127.0.0.1", "[::1]:8080", "localhost", "news.example.com:443"]


def test_a_single_entry_string_is_one_entry() -> None:
    # Not iterated character by character.
    policy = HostPolicy("localhost:8080")
    assert policy.entries == ["localhost:8080"]
    policy.add("127.0.0.1")
    assert policy.entries == ["127.0.0.1", "localhost:8080"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "empty allow-list entry"),
        ("   ", "empty allow-list entry"),
        ("host:port", "invalid port in allow-list entry 'host:port'"),
        ("[::1", "invalid allow-list entry '[::1'"),
        ("[::1]x", "invalid allow-list entry '[::1]x'"),
        ("[::1]]:8080", "invalid allow-list entry '[::1]]:8080'"),
        ("[::1]:http", "invalid port in allow-list entry '[::1]:http'"),
    ],
)
def test_bad_allow_list_entries_are_named(entry: str, message: str) -> None:
    # A typo in NEWSWATCH_ALLOW_PRIVATE_HOSTS stops the crawl with the entry named.
    with pytest.raises(ValueError) as refused:
        HostPolicy([entry])
    assert str(refused.value) == message
