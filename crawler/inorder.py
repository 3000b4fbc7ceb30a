"""Articles reach storage in fetch order, whatever order their parses finish in.

Storage treats the first stored copy of a story as the original.  With parsing in
worker processes, pages finish in an order set by their size and the machine's load,
so the spider takes a *ticket* for each article page and stores its article only when
every earlier ticket is settled (stored, dropped or failed).  The same input then gives
the same records, outcomes and duplicate links with 0 or N workers.

Replay hands out tickets in the order of the replay listing (a fixed rule); a live
crawl in the order responses arrive (the fetch order: the network decides it, the
parse workers do not).
"""

from __future__ import annotations

from twisted.internet.defer import Deferred, succeed


class InOrder:
    """Tickets 0, 1, 2 …; :meth:`turn` fires when all earlier tickets are :meth:`settle`\\ d."""

    def __init__(self) -> None:
        self._issued = 0
        self._next = 0  # the lowest ticket not yet settled
        self._settled: set[int] = set()
        self._waiting: dict[int, Deferred[None]] = {}

    def ticket(self) -> int:
        ticket, self._issued = self._issued, self._issued + 1
        return ticket

    def turn(self, ticket: int) -> Deferred[None]:
        if ticket <= self._next:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._waiting[ticket] = waiter
        return waiter

    def settle(self, ticket: int) -> None:
        """``ticket``'s page is done with; a second call for it changes nothing."""
        if ticket < self._next or ticket in self._settled:
            return
        self._settled.add(ticket)
        while self._next in self._settled:
            self._settled.remove(self._next)
            self._next += 1
        waiter = self._waiting.pop(self._next, None)
        if waiter is not None:
            waiter.callback(None)

    @property
    def pending(self) -> int:
        """Tickets issued and not yet settled."""
        return self._issued - self._next - len(self._settled)
