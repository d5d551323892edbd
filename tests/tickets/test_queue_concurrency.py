"""Two engineers press "take next" at the same moment: each gets a different ticket (real PostgreSQL row locks)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import StaffFactory
from tickets.models import Ticket
from tickets.services import queue as take_next_service
from tickets.services import ticket_open, ticket_take_next

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three_tickets(organization, member):
    now = timezone.now()
    return [
        ticket_open(
            organization=organization,
            requester=member,
            subject=f"Ticket {minutes}",
            description="",
            ticket_type="incident",
            priority="P1",
            source="portal",
            received_at=now - timedelta(minutes=minutes),
        )
        for minutes in (30, 20, 10)
    ]


def take_at_once(engineers, monkeypatch) -> list[Ticket | Exception | None]:
    """Each engineer takes next in a thread of its own, with its own database connection. Both claims happen before
    either transaction commits: the claimed rows stay locked until both engineers hold one."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite runs one write transaction at a time")
    both_claimed = threading.Barrier(len(engineers), timeout=10)
    claim = take_next_service._head_claimed

    def claim_then_wait(*, exclude):
        head = claim(exclude=exclude)
        both_claimed.wait()  # without SKIP LOCKED the second claim would block on the first's row, and this times out
        return head

    monkeypatch.setattr(take_next_service, "_head_claimed", claim_then_wait)
    results: list[Ticket | Exception | None] = [None] * len(engineers)

    def take(index, engineer):
        try:
            results[index] = ticket_take_next(engineer=engineer)
        except Exception as error:  # reported by the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(i, engineer)) for i, engineer in enumerate(engineers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_engineers_taking_next_at_once_get_different_tickets(three_tickets, monkeypatch):
    eve, sam = StaffFactory.create(), StaffFactory.create()

    taken = take_at_once([eve, sam], monkeypatch)

    tickets = [ticket for ticket in taken if isinstance(ticket, Ticket)]
    assert len(tickets) == 2, taken
    assert {ticket.pk for ticket in tickets} == {three_tickets[0].pk, three_tickets[1].pk}  # the two oldest
    assignees = dict(Ticket.objects.filter(assignee__isnull=False).values_list("pk", "assignee"))
    assert assignees == {tickets[0].pk: eve.pk, tickets[1].pk: sam.pk}
