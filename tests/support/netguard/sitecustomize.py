"""Loaded by every Python process the tests start (tests/netguard is put on PYTHONPATH).

Refuses any socket connection or name lookup that leaves the machine, so no test
can reach the internet, and, when NEWSWATCH_NETLOG names a file, appends every
connection attempt to it (used to prove that replay opens no connection at all).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _audit(event: str, args: tuple) -> None:
    if event == "socket.connect":
        if getattr(args[0], "family", None) == socket.AF_UNIX:
            return  # a local IPC socket (multiprocessing's forkserver), not the network
        address = args[1]
        host = address[0] if isinstance(address, tuple) else address
        log = os.environ.get("NEWSWATCH_NETLOG")
        if log:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"connect {address!r}\n")
        if not _is_local(host):
            raise ConnectionRefusedError(f"tests may not connect to {address!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        # An IP literal needs no lookup; the connect check above decides about it.
        if host is not None and not _is_local(host) and not _is_ip(host):
            raise OSError(f"tests may not resolve {host!r}")


def install() -> None:
    if not getattr(sys, "_newswatch_netguard", False):
        sys.addaudithook(_audit)
        sys._newswatch_netguard = True  # type: ignore[attr-defined]


if os.environ.get("NEWSWATCH_NETGUARD") == "1":
    install()
