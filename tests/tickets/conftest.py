from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.models import Ticket
from tickets.services import ticket_assign, ticket_open, ticket_reply, ticket_status_change


@pytest.fixture
def open_ticket():
    """Open a ticket through the service, as the portal does, so clocks and notices follow the real path."""

    def make(organization, requester, **overrides):
        fields = {
            "subject": "Checkout returns 502",
            "description": "Every request fails since 09:40 UTC.",
            "ticket_type": "incident",
            "priority": "P2",
            "source": "portal",
        } | overrides
        return ticket_open(organization=organization, requester=requester, **fields)

    return make


@pytest.fixture
def queue(organization, other_organization, member, other_member, engineer):
    """Open work in two organizations, named by the test (A… Acme: Premium, US; G… Globex: Standard, EU).

    Ages and priorities are mixed so that neither alone gives the queue's order. States, now:
    G1 P1 question 25 min: first response in its last quarter (warning). A4 P1 20 min: assigned, answered in time.
    A2 P1 incident 10 min (API). A1 P2 50 min: first response breached, nobody answered. A6 P3 45 min: answered
    late. A3 P3 question 5 min (monitoring). G2 P4 1 min: waiting on customer. A5: resolved, not in the queue.
    """
    now = timezone.now()

    def make(name, organization, requester, priority, ticket_type, minutes, source="portal"):
        return ticket_open(
            organization=organization,
            requester=requester,
            subject=f"{name} subject",
            description="",
            ticket_type=ticket_type,
            priority=priority,
            source=source,
            received_at=now - timedelta(minutes=minutes),
        )

    tickets = {
        "G1": make("G1", other_organization, other_member, "P1", "question", 25),
        "A4": make("A4", organization, member, "P1", "incident", 20),
        "A2": make("A2", organization, member, "P1", "incident", 10, source="api"),
        "A1": make("A1", organization, member, "P2", "incident", 50),
        "A6": make("A6", organization, member, "P3", "incident", 45),
        "A3": make("A3", organization, None, "P3", "question", 5, source="monitoring"),
        "G2": make("G2", other_organization, other_member, "P4", "incident", 1),
        "A5": make("A5", organization, member, "P3", "question", 10),
    }
    ticket_assign(ticket=tickets["A4"], actor=engineer, assignee=engineer)
    ticket_reply(ticket=tickets["A4"], author=engineer, body="On it.")
    ticket_reply(ticket=tickets["A6"], author=engineer, body="Sorry for the wait.")
    ticket_status_change(ticket=tickets["G2"], actor=engineer, status="waiting_on_customer")
    ticket_status_change(ticket=tickets["A5"], actor=engineer, status="resolved")
    return {name: Ticket.objects.get(pk=ticket.pk) for name, ticket in tickets.items()}
