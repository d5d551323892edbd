import pytest

from tickets.services import ticket_open


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
