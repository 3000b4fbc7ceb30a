"""Which addresses the SSRF guard refuses, and which hosts may use them anyway.

Pure functions, no I/O: :func:`classify_address` (the refused ranges),
:func:`parse_ip_literal` (every IP-literal spelling a browser accepts) and
:class:`HostPolicy` (the ``NEWSWATCH_ALLOW_PRIVATE_HOSTS`` allow-list).  Used by
:class:`~crawler.middlewares.ssrf.SSRFGuardMiddleware` and
:class:`~crawler.middlewares.resolver.SSRFSafeResolver`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

__all__ = ["HostPolicy", "IPAddress", "classify_address", "parse_ip_literal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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
        for name, net4 in _V4_TABLE:
            if ip in net4:
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
