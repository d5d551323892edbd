from datetime import UTC, datetime

import pytest

from tickets.services import ticket_open

RECEIVED = datetime(2026, 3, 2, 10, 12, tzinfo=UTC)  # a Monday


@pytest.fixture
def at_received(time_machine):
    time_machine.move_to(RECEIVED, tick=False)
    return RECEIVED


@pytest.fixture
def open_ticket():
    def make(organization, requester, **overrides):
        fields = {
            "subject": "Checkout returns 502",
            "description": "",
            "ticket_type": "incident",
            "priority": "P2",
            "source": "portal",
        } | overrides
        return ticket_open(organization=organization, requester=requester, **fields)

    return make
