from datetime import timedelta

import pytest

from tickets.services import ticket_reply, ticket_status_change

pytestmark = pytest.mark.django_db


def page(client, user, ticket) -> str:
    client.force_login(user)
    return str(client.get(f"/o/{ticket.organization.slug}/tickets/{ticket.public_id}/").content.decode())


def test_the_customer_reads_when_walt_will_respond_in_their_timezone(
    client, at_received, organization, member, open_ticket
):
    organization.timezone = "America/New_York"
    organization.save()
    ticket = open_ticket(organization, member)

    html = page(client, member, ticket)

    assert "WALT will respond by 2026-03-02 05:42 EST (10:42 UTC) (your contract: 30 minutes)." in html
    assert "received 2026-03-02 05:12 EST (10:12 UTC) + 30 minutes" in html


def test_a_pause_is_explained(client, at_received, time_machine, organization, member, engineer, open_ticket):
    ticket = open_ticket(organization, member)
    time_machine.shift(timedelta(minutes=20))
    ticket_reply(ticket=ticket, author=engineer, body="Please send the logs")
    ticket_status_change(ticket=ticket, actor=engineer, status="waiting_on_customer")

    html = page(client, member, ticket)

    assert "Paused: waiting on customer" in html
    assert "3 h 40 min left when it resumes" in html
    assert "Responded at 2026-03-02 10:32 UTC, within 30 minutes." in html


def test_staff_see_the_breach_records_customers_do_not(
    client, at_received, time_machine, organization, member, engineer, open_ticket
):
    from sla.services import sla_sweep

    ticket = open_ticket(organization, member)
    time_machine.shift(timedelta(minutes=31))
    sla_sweep()

    assert "Warnings and breaches" in page(client, engineer, ticket)
    customer = page(client, member, ticket)
    assert "Warnings and breaches" not in customer
    assert "The 30 minutes target was missed" in customer
