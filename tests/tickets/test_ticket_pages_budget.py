"""The ticket list and ticket page within their budget: at most 8 SQL queries per request, the same number whatever
the page, the conversation or the files, for a customer and for an engineer; and every part of the page still there.
"""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from notifications.models import Notification
from notifications.services import outbox_deliver_due
from sla.services import sla_sweep
from tenancy.access_grants import access_grant_create
from tenancy.timezones import format_in_timezone
from tests.factories import MembershipFactory, StaffFactory
from tickets.json_rows import moment, nested
from tickets.models import Attachment, Ticket, TicketEvent
from tickets.services import (
    attachment_add,
    ticket_change_record,
    ticket_reply,
    ticket_status_change,
    video_call_decide,
    video_call_request,
)
from tickets.templatetags.ticket_display import event_summary
from tickets.views import PAGE_SIZE

pytestmark = pytest.mark.django_db

PAGE_QUERIES = 8  # the pages' budget (docs/performance.md)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def customer(organization):
    return MembershipFactory.create(organization=organization, user__full_name="Ada Customer").user


@pytest.fixture
def staff_engineer(db):
    return StaffFactory.create(full_name="Sam Engineer")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def list_url(organization, **query: str) -> str:
    path = reverse("ticket-list", kwargs={"org_slug": organization.slug})
    return path + ("?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else "")


def detail_url(ticket) -> str:
    return reverse("ticket-detail", kwargs={"org_slug": ticket.organization.slug, "ticket_id": ticket.public_id})


def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(captured)


def text_file(name: str, size: int = 20):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"x" * size, content_type="text/plain")


def busy_ticket(organization, customer, engineer, org_admin, time_machine, *, replies: int, files: int) -> Ticket:
    """A Premium ticket with everything its page shows: files filed with it, a conversation with files and internal
    notes, a pause while waiting on the customer, a breached first response, an accepted video call, a change
    recorded under an access grant in force, and unread notices for both people."""
    time_machine.move_to(timezone.now(), tick=False)
    ticket = ticket_opened(organization, customer)
    for number in range(files):
        attachment_add(ticket=ticket, uploaded_by=customer, upload=text_file(f"filed-{number}.log"))
    time_machine.shift(timedelta(minutes=31))
    sla_sweep()  # the 30-minute first response is breached: a warning and a breach recorded
    for number in range(replies):
        staff_turn = number % 2 == 1
        author = engineer if staff_turn else customer
        internal = staff_turn and number % 4 == 3
        message = ticket_reply(ticket=ticket, author=author, body=f"Reply **{number}**", internal=internal)
        if number < files:
            attachment_add(ticket=ticket, uploaded_by=author, upload=text_file(f"reply-{number}.txt"), message=message)
        time_machine.shift(timedelta(minutes=1))
    ticket_status_change(ticket=ticket, actor=engineer, status="waiting_on_customer")
    time_machine.shift(timedelta(minutes=5))
    ticket_status_change(ticket=ticket, actor=engineer, status="open")
    video_call_request(ticket=ticket, requested_by=customer, note="Walk us through it")
    video_call_decide(
        ticket=ticket,
        decided_by=engineer,
        accept=True,
        scheduled_at=timezone.now() + timedelta(days=1),
        link="https://meet.example/abc",
    )
    grant = access_grant_create(
        organization=organization,
        created_by=org_admin,
        scope="Production cluster",
        credentials_reference="Vault item prod",
        valid_from=timezone.now() - timedelta(hours=1),
        valid_until=timezone.now() + timedelta(days=1),
    )
    ticket_change_record(ticket=ticket, actor=engineer, access_grant=grant, description="Scaled the shop to 6 pods")
    outbox_deliver_due()
    return Ticket.objects.get(pk=ticket.pk)


def ticket_opened(organization, requester, **fields: Any) -> Ticket:
    from tickets.services import ticket_open

    defaults = {
        "subject": "Checkout returns 502",
        "description": "Every request fails.",
        "ticket_type": "incident",
        "priority": "P2",
        "source": "portal",
    }
    return ticket_open(organization=organization, requester=requester, **(defaults | fields))


# ------------------------------------------------------------------------------------------------ the list


def test_the_list_takes_the_same_few_queries_for_any_page_for_a_customer_and_an_engineer(
    organization, customer, staff_engineer
):
    for number in range(3):
        ticket_opened(organization, customer, subject=f"Early {number}")
    few = {who: queries(client_for(who), list_url(organization)) for who in (customer, staff_engineer)}
    for number in range(2 * PAGE_SIZE):
        ticket_opened(organization, customer, subject=f"Later {number}", priority="P3" if number % 2 else "P1")

    for who in (customer, staff_engineer):
        client = client_for(who)
        counts = [
            queries(client, list_url(organization)),
            queries(client, list_url(organization, page="2")),
            queries(client, list_url(organization, page="3")),
            queries(client, list_url(organization, priority="P1", status="new")),
            queries(client, list_url(organization, q="Later")),
        ]
        assert set(counts) == {few[who]}, (who, counts)
        assert few[who] <= PAGE_QUERIES


# ------------------------------------------------------------------------------------------------ the ticket page


@pytest.mark.parametrize("viewer", ["customer", "staff_engineer"])
def test_the_ticket_page_takes_the_same_few_queries_however_long_the_ticket(
    viewer, organization, customer, staff_engineer, org_admin, time_machine, request
):
    short = busy_ticket(organization, customer, staff_engineer, org_admin, time_machine, replies=2, files=1)
    long = busy_ticket(organization, customer, staff_engineer, org_admin, time_machine, replies=24, files=8)
    bare = ticket_opened(organization, customer)
    client = client_for(request.getfixturevalue(viewer))
    client.get(detail_url(bare))  # a first use of JSON on a connection makes SQLite check its support, once

    counts = {name: queries(client, detail_url(ticket)) for name, ticket in {"short": short, "long": long}.items()}

    assert counts["short"] == counts["long"] <= PAGE_QUERIES, counts
    assert queries(client, detail_url(bare)) <= counts["long"]


def test_the_page_shows_every_file_the_viewer_may_see_with_its_reply(
    organization, customer, staff_engineer, org_admin, time_machine
):
    ticket = busy_ticket(organization, customer, staff_engineer, org_admin, time_machine, replies=8, files=4)
    customer_page = client_for(customer).get(detail_url(ticket)).content.decode()
    staff_page = client_for(staff_engineer).get(detail_url(ticket)).content.decode()

    for attachment in Attachment.objects.filter(ticket=ticket).select_related("uploaded_by", "message"):
        link = reverse(
            "ticket-attachment",
            kwargs={
                "org_slug": organization.slug,
                "ticket_id": ticket.public_id,
                "attachment_id": attachment.public_id,
            },
        )
        side_entry = f'<li><a href="{link}">{attachment.filename}</a>\n          <span class="hint">20\xa0bytes · '
        side_entry += escape(attachment.uploaded_by.display_name)
        assert (side_entry + (" · staff only" if attachment.internal else "") + "</span></li>") in staff_page
        assert (link in customer_page) is not attachment.internal
        if attachment.message is not None:  # listed under its reply too
            reply = _reply(staff_page, attachment.message.public_id)
            assert f'<a href="{link}">{attachment.filename}</a> <span class="hint">(20\xa0bytes)</span>' in reply
    assert Attachment.objects.filter(ticket=ticket, internal=True).exists()
    assert Attachment.objects.filter(ticket=ticket, message__isnull=True).count() == 4


def test_the_queue_panel_takes_the_page_s_queries_and_lists_each_reply_s_files(
    organization, customer, staff_engineer, org_admin, time_machine
):
    short = busy_ticket(organization, customer, staff_engineer, org_admin, time_machine, replies=2, files=1)
    long = busy_ticket(organization, customer, staff_engineer, org_admin, time_machine, replies=24, files=8)
    client = client_for(staff_engineer)

    def panel_queries(ticket: Ticket) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(detail_url(ticket), headers={"X-Requested-With": "fetch"})
        assert response.status_code == 200
        return len(captured)

    counts = {"short": panel_queries(short), "long": panel_queries(long), "page": queries(client, detail_url(long))}
    panel = client.get(detail_url(long), headers={"X-Requested-With": "fetch"}).content.decode()

    assert counts["short"] == counts["long"] == counts["page"], counts
    for attachment in Attachment.objects.filter(ticket=long, message__isnull=False):
        link = reverse(
            "ticket-attachment",
            kwargs={"org_slug": organization.slug, "ticket_id": long.public_id, "attachment_id": attachment.public_id},
        )
        assert f'<li><a href="{link}">{attachment.filename}</a></li>' in panel


def _reply(page: str, message_id) -> str:
    match = re.search(
        rf'<li class="message[^"]*" id="message-{message_id}">(.*?)</li>\s*(<li class="message|</ol>)', page, re.S
    )
    assert match, message_id
    return match.group(1)


def test_the_page_shows_the_audit_trail_the_clocks_the_call_and_the_bell(
    organization, customer, staff_engineer, org_admin, time_machine
):
    ticket = busy_ticket(organization, customer, staff_engineer, org_admin, time_machine, replies=4, files=1)
    staff_page = client_for(staff_engineer).get(detail_url(ticket)).content.decode()
    customer_page = client_for(customer).get(detail_url(ticket)).content.decode()

    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor").order_by("created_at", "pk")
    trail = [
        (
            event.created_at.isoformat(),
            format_in_timezone(event.created_at, UTC),
            event.actor.display_name if event.actor else "System",
            event_summary(event),
        )
        for event in events
    ]
    assert "Change performed under the access grant “Production cluster”: Scaled the shop to 6 pods" in trail[-1][3]
    assert {"Opened through the portal", "Status: Open → Waiting on customer", "Video call accepted"} <= {
        line[3] for line in trail
    }
    for page in (staff_page, customer_page):
        assert _audit_rows(page) == trail
        assert "Requested by Ada Customer" in page
        assert "Paused: waiting on customer" not in page  # resumed since
        assert "The 30 minutes target was missed" in page
    assert staff_page.count("<li>Warning · First response") == 1
    assert staff_page.count("<li>Breach · First response") == 1
    assert "Warnings and breaches" not in customer_page
    for who, page in ((customer, customer_page), (staff_engineer, staff_page)):
        unread = Notification.objects.filter(recipient=who, read_at__isnull=True).count()
        assert unread > 0
        assert f'aria-label="Notifications, {unread} unread"' in page
    assert 'name="access_grant"' in staff_page  # a grant is in force: the change form offers it


def _audit_rows(page: str) -> list[tuple[str, str, str, str]]:
    table = page[page.index('id="audit"') :]
    row = re.compile(
        r'<tr><td class="nowrap"><time datetime="([^"]+)">([^<]+)</time></td>\s*'
        r"<td>([^<]+)</td>\s*<td>([^<]*)</td></tr>"
    )
    return [
        (datetime.fromisoformat(at).isoformat(), when, who, unescape(what))
        for at, when, who, what in row.findall(table)
    ]


def test_a_ticket_without_a_grant_in_force_says_so_instead_of_the_form(organization, customer, staff_engineer):
    ticket = ticket_opened(organization, customer)

    page = client_for(staff_engineer).get(detail_url(ticket)).content.decode()

    assert "No access grant of Acme Corp is in force now" in page
    assert 'name="access_grant"' not in page


# ------------------------------------------------------------------------------------------------ reading JSON rows


def test_json_datetimes_read_the_same_from_postgresql_and_sqlite():
    expected = datetime(2026, 3, 2, 10, 31, 5, 123456, tzinfo=UTC)

    assert moment("2026-03-02T10:31:05.123456+00:00") == expected  # PostgreSQL
    assert moment("2026-03-02 10:31:05.123456") == expected  # SQLite stores UTC without an offset
    assert moment("2026-03-02T11:31:05.123456+01:00") == expected


def test_a_json_column_reads_the_same_from_postgresql_and_sqlite():
    assert nested({"from": "new", "to": "open"}) == {"from": "new", "to": "open"}
    assert nested('{"from": "new", "to": "open"}') == {"from": "new", "to": "open"}
