"""pytest fixtures for the mirror site.

Re-export them from ``tests/conftest.py`` (``from mirror.fixtures import mirror,
mirror_factory  # noqa: F401``) or import them in a test module.

* ``mirror``: the full default site (every outlet, faults on), started on a
  free port of 127.0.0.1 for one test, stopped afterwards.
* ``mirror_factory``: ``mirror_factory(robots="503", outlets=("rfi",))`` builds and
  starts a mirror with those :class:`~mirror.site.MirrorConfig` fields; every
  mirror it made is stopped after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .server import MirrorServer

MirrorFactory = Callable[..., MirrorServer]


@pytest.fixture
def mirror_factory() -> Iterator[MirrorFactory]:
    started: list[MirrorServer] = []

    def make(**overrides: Any) -> MirrorServer:
        server = MirrorServer(**overrides).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def mirror(mirror_factory: MirrorFactory) -> MirrorServer:
    return mirror_factory()
