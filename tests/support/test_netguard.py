"""The test-wide network guard refuses every way out of the machine, and lets loopback through.

Each refusal is proven here in this process (conftest installs the guard) and once in a
child process (which gets it from sitecustomize on PYTHONPATH).  The addresses are
documentation ranges (RFC 5737, RFC 3849) and reserved names (RFC 2606): even if the
guard failed, nothing real would be reached.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

PUBLIC_V4 = ("192.0.2.1", 53)
PUBLIC_V6 = ("2001:db8::1", 53)


def _refused_lookup(call, *args) -> str:
    with pytest.raises(socket.gaierror) as caught:
        call(*args)
    assert "tests may not resolve" in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (socket.getaddrinfo, ("example.com", 80)),
        (socket.getaddrinfo, (b"example.org", "https")),
        (socket.gethostbyname, ("example.com",)),
        (socket.gethostbyname_ex, ("example.net",)),
        (socket.gethostbyaddr, ("192.0.2.1",)),  # a reverse lookup asks DNS too
        (socket.gethostbyaddr, ("example.com",)),
        (socket.getnameinfo, (("192.0.2.1", 80), socket.NI_NAMEREQD)),
    ],
    ids=["getaddrinfo", "getaddrinfo-bytes", "gethostbyname", "gethostbyname_ex",
         "gethostbyaddr-ip", "gethostbyaddr-name", "getnameinfo"],
)
def test_lookups_leaving_the_machine_are_refused(call, args) -> None:
    _refused_lookup(call, *args)


def test_loopback_lookups_and_ip_literals_are_allowed() -> None:
    assert socket.gethostbyname("localhost").startswith("127.")
    assert {info[4][0] for info in socket.getaddrinfo("127.0.0.1", 80)} == {"127.0.0.1"}
    # A literal needs no lookup; connecting to it is what the guard judges.
    assert {info[4][0] for info in socket.getaddrinfo("192.0.2.1", 80)} == {"192.0.2.1"}
    assert socket.getaddrinfo(None, 0)  # the local wildcard


@pytest.mark.parametrize("address", [PUBLIC_V4, ("10.0.0.1", 80), ("0.0.0.0", 80)])
def test_tcp_connect_is_refused_before_any_packet(address) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(ConnectionRefusedError, match="tests may not connect"):
            sock.connect(address)
        with pytest.raises(ConnectionRefusedError, match="tests may not connect"):
            sock.connect_ex(address)


def test_create_connection_by_name_is_refused_at_the_lookup() -> None:
    with pytest.raises(socket.gaierror, match="tests may not resolve"):
        socket.create_connection(("example.com", 80), timeout=1)


def test_ipv6_connect_is_refused() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        pytest.skip("no IPv6 socket on this machine")
    with sock, pytest.raises(ConnectionRefusedError, match="tests may not connect"):
        sock.connect(PUBLIC_V6)


def test_udp_datagrams_leaving_the_machine_are_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(ConnectionRefusedError, match="tests may not sendto"):
            sock.sendto(b"\x00" * 12, PUBLIC_V4)  # a DNS-sized query
        with pytest.raises(ConnectionRefusedError, match="tests may not sendmsg"):
            sock.sendmsg([b"\x00"], [], 0, PUBLIC_V4)
        with pytest.raises(ConnectionRefusedError, match="tests may not connect"):
            sock.connect(PUBLIC_V4)  # then send() would need no address


def test_loopback_traffic_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        sender.sendto(b"ping", receiver.getsockname())
        assert receiver.recv(16) == b"ping"
    with socket.create_server(("127.0.0.1", 0)) as server:
        accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
        accepted.start()
        with socket.create_connection(server.getsockname(), timeout=10):
            pass
        accepted.join(10)
    left, right = socket.socketpair()  # AF_UNIX: stays on the machine
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"


def test_a_child_process_is_guarded_and_logs_its_attempts(tmp_path: Path) -> None:
    log = tmp_path / "net.log"
    code = (
        "import socket\n"
        "for call in (lambda: socket.gethostbyname('example.com'),\n"
        "             lambda: socket.gethostbyaddr('192.0.2.1'),\n"
        "             lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('192.0.2.1', 53)),\n"
        "             lambda: socket.create_connection(('192.0.2.1', 80), timeout=1)):\n"
        "    try:\n"
        "        call()\n"
        "    except OSError as exc:\n"
        "        print(type(exc).__name__, exc)\n"
        "    else:\n"
        "        print('NOT REFUSED')\n"
    )
    env = {**os.environ, "NEWSWATCH_NETLOG": str(log)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and "NOT REFUSED" not in result.stdout, result.stdout + result.stderr
    assert lines[0].startswith("gaierror") and "tests may not resolve 'example.com'" in lines[0]
    assert lines[1].startswith("gaierror") and "192.0.2.1" in lines[1]
    assert lines[2].startswith("ConnectionRefusedError") and "sendto" in lines[2]
    assert lines[3].startswith("ConnectionRefusedError") and "connect" in lines[3]
    assert log.read_text().splitlines() == ["sendto ('192.0.2.1', 53)", "connect ('192.0.2.1', 80)"]
