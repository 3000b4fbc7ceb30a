"""Loaded by every Python process the tests start (tests/support/netguard is put on PYTHONPATH).

Refuses, by raising, everything that could leave the machine, so no test can reach the
internet: name lookups (``getaddrinfo``, ``gethostbyname(_ex)``, ``gethostbyaddr``,
``getnameinfo``) of anything but loopback, and ``connect``/``connect_ex``, ``sendto``
and ``sendmsg`` (UDP included) to anything but loopback or a local socket.  A refused
lookup raises ``socket.gaierror``, as on a machine without DNS, so the code under
test takes its ordinary "cannot resolve" path; a refused connection or datagram raises
``ConnectionRefusedError`` before any packet is sent.  When NEWSWATCH_NETLOG names a
file, every connection attempt and datagram is appended to it (used to prove that
replay opens no connection at all).  tests/support/test_netguard.py proves each refusal.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}
#: Audit events that send to an address: (socket, address).
_SENDS = {"socket.connect", "socket.sendto", "socket.sendmsg"}
#: Audit events that look a name (or an address) up: the name is the first argument.
_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}


def _host_text(host: object) -> str | None:
    if isinstance(host, bytes):
        return host.decode("ascii", "replace")
    return host if isinstance(host, str) else None


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOCAL_NAMES:
        return True
    address = _ip(host)
    return address is not None and address.is_loopback


def _refuse_send(event: str, address: object) -> None:
    if address is None:  # sendto/sendmsg on a connected socket: connect was checked
        return
    if not isinstance(address, tuple):
        return  # an AF_UNIX path (str or bytes) stays on this machine
    host = _host_text(address[0])
    if host is None or not _is_loopback(host):
        raise ConnectionRefusedError(f"tests may not {event.split('.')[1]} to {address!r}")


def _refuse_lookup(event: str, args: tuple) -> None:
    target = args[0]
    if event == "socket.getnameinfo":  # (sockaddr, flags): a reverse lookup
        target = target[0] if isinstance(target, tuple) and target else target
    host = _host_text(target)
    if host is None:  # getaddrinfo(None, port): the local wildcard address
        return
    # A forward lookup of an IP literal sends nothing: connect/sendto decide about it.
    # A reverse lookup (gethostbyaddr, getnameinfo) of anything but loopback asks DNS.
    reverse = event in ("socket.gethostbyaddr", "socket.getnameinfo")
    if _is_loopback(host) or (not reverse and _ip(host) is not None):
        return
    raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host!r} ({event})")


def _audit(event: str, args: tuple) -> None:
    if event in _SENDS:
        address = args[1]
        log = os.environ.get("NEWSWATCH_NETLOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{event.split('.')[1]} {address!r}\n")
        _refuse_send(event, address)
    elif event in _LOOKUPS:
        _refuse_lookup(event, args)


def install() -> None:
    if not getattr(sys, "_newswatch_netguard", False):
        sys.addaudithook(_audit)
        sys._newswatch_netguard = True  # type: ignore[attr-defined]


if os.environ.get("NEWSWATCH_NETGUARD") == "1":
    install()
