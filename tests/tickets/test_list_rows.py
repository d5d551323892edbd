"""The ticket list's rows, built in Python: every value escaped, cells as the shared templates write them."""

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from tickets.html_cells import priority_badge, status_badge
from tickets.list_rows import ticket_list_row_html, ticket_list_rows_html
from tickets.models import Priority, Status, Ticket
from tickets.notices import ticket_link, ticket_link_writer

HOSTILE = "<script>alert(1)</script> \" ' & <img src=x onerror=alert(2)>"


@pytest.mark.parametrize("priority", Priority.values)
def test_the_priority_cell_is_what_the_priority_template_writes(priority):
    assert (
        priority_badge(priority)
        == render_to_string("tickets/_priority.html", {"ticket": Ticket(priority=priority)}).strip()
    )


@pytest.mark.parametrize("status", Status.values)
def test_the_status_cell_is_what_the_status_template_writes(status):
    assert status_badge(status) == render_to_string("tickets/_status.html", {"ticket": Ticket(status=status)}).strip()


@pytest.mark.django_db
def test_a_row_escapes_what_people_wrote(open_ticket, organization, member):
    member.full_name = HOSTILE
    member.save()
    ticket = open_ticket(organization, member, subject=HOSTILE)
    row = ticket_list_row_html(ticket, link=ticket_link(ticket), zone=UTC)
    assert "<script>" not in row
    assert "<img" not in row
    assert (
        row.count("&lt;script&gt;alert(1)&lt;/script&gt; &quot; &#x27; &amp; &lt;img src=x onerror=alert(2)&gt;") == 2
    )
    assert f'<a href="{ticket_link(ticket)}">{ticket.reference}</a>' in row


@pytest.mark.django_db
def test_a_row_names_the_requester_else_the_source_and_marks_guidance_only(open_ticket, organization, member):
    by_person = open_ticket(organization, member)
    by_monitoring = open_ticket(organization, None, source="monitoring", ticket_type="question")
    Ticket.objects.filter(pk=by_monitoring.pk).update(guidance_only=True)
    by_monitoring.refresh_from_db()
    person_row = ticket_list_row_html(by_person, link="/a", zone=UTC)
    monitoring_row = ticket_list_row_html(by_monitoring, link="/b", zone=UTC)
    assert f"<td>{member.display_name}</td>" in person_row
    assert "Guidance only" not in person_row
    assert "<td>Monitoring</td>" in monitoring_row
    assert '<span class="badge badge-guidance">Guidance only</span>' in monitoring_row


@pytest.mark.django_db
def test_a_row_writes_when_it_was_received_in_the_viewers_timezone_with_utc_beside_it(
    open_ticket, organization, member
):
    received = datetime(2026, 11, 29, 15, 12, tzinfo=UTC)
    ticket = open_ticket(organization, member, received_at=received)
    new_york = zoneinfo.ZoneInfo("America/New_York")
    with timezone.override(new_york):
        row = ticket_list_row_html(ticket, link="/a", zone=new_york)
    assert '<time datetime="2026-11-29T10:12:00-05:00">2026-11-29 10:12 EST (15:12 UTC)</time>' in row


@pytest.mark.django_db
def test_a_page_of_rows_links_each_ticket_of_the_organization(open_ticket, organization, member):
    tickets = [open_ticket(organization, member, subject=f"Ticket {n}") for n in range(3)]
    rows = ticket_list_rows_html(tickets, slug=organization.slug, link=ticket_link_writer(), zone=UTC)
    assert [f'href="{ticket_link(ticket)}"' in row for ticket, row in zip(tickets, rows, strict=True)] == [True] * 3
