"""crawler.inorder: a ticket's turn comes only when every earlier ticket is settled."""

from __future__ import annotations

from crawler.inorder import InOrder


def test_turns_come_in_ticket_order_whatever_order_pages_finish_in() -> None:
    order = InOrder()
    tickets = [order.ticket() for _ in range(4)]
    stored: list[int] = []
    for ticket in (3, 1, 2):  # later pages finish first and wait
        order.turn(ticket).addCallback(lambda _, t=ticket: (stored.append(t), order.settle(t)))
    assert stored == [] and order.pending == 4
    order.turn(tickets[0]).addCallback(lambda _: (stored.append(0), order.settle(0)))
    assert stored == [0, 1, 2, 3] and order.pending == 0


def test_a_dropped_page_settles_without_a_turn_and_settling_twice_changes_nothing() -> None:
    order = InOrder()
    first, second, third = order.ticket(), order.ticket(), order.ticket()
    waiting = order.turn(third)
    order.settle(second)  # dropped before its turn: does not let the third one jump the first
    assert not waiting.called
    order.settle(first)
    order.settle(first)
    assert waiting.called and order.pending == 1
