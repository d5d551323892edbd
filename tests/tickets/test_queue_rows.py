"""What a queue page's rows share is worked out once: the ticket links and the organization links."""

import pytest
from django.http import QueryDict

from tickets.notices import ticket_link, ticket_link_writer
from tickets.queue_rows import _only_organization_writer


@pytest.mark.django_db
def test_links_written_from_one_reversed_url_are_the_reversed_links(
    open_ticket, organization, other_organization, member, other_member
):
    tickets = [open_ticket(organization, member), open_ticket(other_organization, other_member)]
    write = ticket_link_writer()
    written = [write(ticket.organization.slug, ticket.public_id) for ticket in tickets]
    assert written == [ticket_link(ticket) for ticket in tickets]


@pytest.mark.parametrize(
    ("page_query", "narrowed"),
    [
        ("", "?organization=acme"),
        ("page=2&since=1733500000", "?organization=acme"),  # a page number or a change marker would mislead
        ("organization=globex&view=at_risk", "?organization=acme&view=at_risk"),  # replaced where it stood
        ("view=mine&priority=P1&priority=P2&page=3", "?view=mine&priority=P1&priority=P2&organization=acme"),
        ("sort=caf%C3%A9+%26+more", "?sort=caf%C3%A9+%26+more&organization=acme"),  # encoded as Django encodes
    ],
)
def test_the_organization_link_narrows_the_page_query_to_that_organization(page_query, narrowed):
    assert _only_organization_writer(QueryDict(page_query))("acme") == narrowed
