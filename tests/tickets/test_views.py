"""The server-rendered ticket, member and access-grant pages."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage
from tenancy.access_grants import access_grant_create
from tenancy.models import AccessGrant, Membership
from tenancy.timezones import format_in_timezone, viewer_timezone
from tests.factories import MembershipFactory
from tickets.entitlements import GUIDANCE_ONLY_EXPLANATION, PREMIUM_ONLY_EXPLANATION
from tickets.models import Attachment, Message, Ticket, TicketEvent, VideoCall
from tickets.services import attachment_add, ticket_reply, ticket_status_change, video_call_request

pytestmark = pytest.mark.django_db

XSS_SUBJECT = "<img src=x onerror=alert(1)>"
XSS_BODY = "[x](javascript:alert(1)) <script>alert(2)</script>"
XSS_FILENAME = "<svg onload=alert(1)>.txt"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(name: str, organization, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


def detail_url(ticket) -> str:
    return url("ticket-detail", ticket.organization, ticket_id=ticket.public_id)


def action_url(name: str, ticket) -> str:
    return url(name, ticket.organization, ticket_id=ticket.public_id)


def text_file(name: str = "notes.txt", content: bytes = b"disk full at 09:40\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def html(response: Any) -> str:
    return str(response.content.decode())


# ------------------------------------------------------------------------------------------------ every page


def test_each_page_renders_for_a_member_and_an_admin(open_ticket, organization, member, org_admin):
    ticket = open_ticket(organization, member)
    attachment = attachment_add(ticket=ticket, uploaded_by=member, upload=text_file())

    member_pages = [
        url("ticket-list", organization),
        url("ticket-new", organization),
        detail_url(ticket),
        action_url("ticket-detail", ticket),
    ]
    for page in member_pages:
        assert client_for(member).get(page).status_code == 200, page
    for page in [url("member-list", organization), url("access-grant-list", organization)]:
        assert client_for(org_admin).get(page).status_code == 200, page
    download = client_for(member).get(
        url("ticket-attachment", organization, ticket_id=ticket.public_id, attachment_id=attachment.public_id)
    )
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert download.getvalue() == b"disk full at 09:40\n"


def test_staff_open_every_organization_s_ticket_pages(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)

    for page in [url("ticket-list", organization), detail_url(ticket), url("member-list", organization)]:
        assert client_for(engineer).get(page).status_code == 200, page


def _every_route(ticket, attachment, membership, grant):
    """Every page and action of the organization, with real ids of its tickets, members and grants."""
    organization = ticket.organization
    ticket_routes = [
        "ticket-detail",
        "ticket-reply",
        "ticket-status",
        "ticket-priority",
        "ticket-type",
        "ticket-assign",
        "ticket-video-call",
        "ticket-video-call-decide",
        "ticket-change-record",
    ]
    return [
        url("ticket-list", organization),
        url("ticket-new", organization),
        *[action_url(name, ticket) for name in ticket_routes],
        url("ticket-attachment", organization, ticket_id=ticket.public_id, attachment_id=attachment.public_id),
        url("member-list", organization),
        url("member-remove", organization, member_id=membership.public_id),
        url("access-grant-list", organization),
        url("access-grant-revoke", organization, grant_id=grant.public_id),
    ]


@pytest.fixture
def acme_objects(open_ticket, organization, member, org_admin):
    ticket = open_ticket(organization, member)
    attachment = attachment_add(ticket=ticket, uploaded_by=member, upload=text_file())
    membership = Membership.objects.get(user=member)
    grant = _grant(organization, org_admin)
    return ticket, attachment, membership, grant


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_route_is_404_for_a_member_of_another_organization(acme_objects, other_member, method):
    answers = {
        page: getattr(client_for(other_member), method)(page).status_code for page in _every_route(*acme_objects)
    }

    assert set(answers.values()) == {404}, answers


def test_another_organization_s_ids_are_404_under_my_own_organization(acme_objects, other_organization, other_member):
    ticket, attachment, _, grant = acme_objects
    mine = other_organization
    client = client_for(other_member)

    foreign = [
        url("ticket-detail", mine, ticket_id=ticket.public_id),
        url("ticket-attachment", mine, ticket_id=ticket.public_id, attachment_id=attachment.public_id),
    ]
    for page in foreign:
        assert client.get(page).status_code == 404, page
    assert client.post(url("ticket-reply", mine, ticket_id=ticket.public_id), {"body": "hi"}).status_code == 404
    assert client.post(url("access-grant-revoke", mine, grant_id=grant.public_id)).status_code == 404
    assert not Message.objects.exists()
    assert AccessGrant.objects.get(pk=grant.pk).revoked_at is None


def test_members_who_are_not_admins_cannot_manage_members_or_grants(organization, member):
    for page in [url("member-list", organization), url("access-grant-list", organization)]:
        assert client_for(member).get(page).status_code == 403, page


# ------------------------------------------------------------------------------------------------ the list


def test_the_list_shows_my_tickets_newest_first_with_the_viewer_s_time(open_ticket, organization, member):
    organization.timezone = "America/New_York"
    organization.save()
    first = open_ticket(organization, member, subject="First one")
    second = open_ticket(organization, member, subject="Second one", received_at=first.received_at + timedelta(hours=1))
    Ticket.objects.filter(pk=first.pk).update(received_at=datetime(2026, 11, 29, 15, 12, tzinfo=UTC))
    Ticket.objects.filter(pk=second.pk).update(received_at=datetime(2026, 11, 29, 16, 12, tzinfo=UTC))

    page = html(client_for(member).get(url("ticket-list", organization)))

    assert page.index("Second one") < page.index("First one")
    assert "2026-11-29 10:12 EST (15:12 UTC)" in page
    assert "New ticket" in page


def test_the_list_filters_by_status_priority_type_and_text(open_ticket, organization, member, engineer):
    incident = open_ticket(organization, member, subject="Checkout is down", priority="P1")
    question = open_ticket(organization, member, subject="How do backups work", ticket_type="question", priority="P4")
    ticket_status_change(ticket=question, actor=engineer, status="resolved")
    client = client_for(member)

    def subjects(**filters: str) -> set[str]:
        page = html(client.get(url("ticket-list", organization), filters))
        return {subject for subject in ("Checkout is down", "How do backups work") if subject in page}

    assert subjects() == {"Checkout is down", "How do backups work"}
    assert subjects(status="resolved") == {"How do backups work"}
    assert subjects(priority="P1") == {"Checkout is down"}
    assert subjects(type="question") == {"How do backups work"}
    assert subjects(q="backups") == {"How do backups work"}
    assert subjects(q=incident.reference) == {"Checkout is down"}


def test_an_invalid_filter_is_explained_with_400(organization, member):
    response = client_for(member).get(url("ticket-list", organization), {"status": "lost", "priority": "P9"})

    assert response.status_code == 400
    assert html(response).count("Select a valid choice") == 2


def test_the_list_pages_by_25_and_keeps_the_filters(open_ticket, organization, member):
    for number in range(27):
        open_ticket(organization, member, subject=f"Ticket number {number}")

    first = html(client_for(member).get(url("ticket-list", organization), {"priority": "P2"}))
    second = html(client_for(member).get(url("ticket-list", organization), {"priority": "P2", "page": "2"}))

    assert first.count("Ticket number") == 25
    assert "?priority=P2&amp;page=2" in first
    assert second.count("Ticket number") == 2


def _queries(client, page) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(page).status_code == 200
    return len(queries)


def test_the_list_takes_the_same_number_of_queries_for_3_and_30_tickets(open_ticket, organization, member, engineer):
    client = client_for(member)
    for _ in range(3):
        open_ticket(organization, member)
    few = _queries(client, url("ticket-list", organization))
    for _ in range(27):
        open_ticket(organization, member)

    assert _queries(client, url("ticket-list", organization)) == few


def test_the_detail_takes_the_same_number_of_queries_for_2_and_20_messages(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)
    attachment_add(ticket=ticket, uploaded_by=member, upload=text_file())

    def converse(count: int) -> None:
        for number in range(count):
            author = engineer if number % 2 else member
            message = ticket_reply(ticket=ticket, author=author, body=f"Message **{number}**")
            attachment_add(ticket=ticket, uploaded_by=author, upload=text_file(f"log-{number}.txt"), message=message)

    converse(2)
    customer_few, staff_few = (
        _queries(client_for(member), detail_url(ticket)),
        _queries(client_for(engineer), detail_url(ticket)),
    )
    converse(18)

    assert _queries(client_for(member), detail_url(ticket)) == customer_few
    assert _queries(client_for(engineer), detail_url(ticket)) == staff_few


# ------------------------------------------------------------------------------------------------ filing


def test_a_standard_organization_is_offered_guidance_only_changes_and_told_what_is_premium(
    other_organization, other_member
):
    page = html(client_for(other_member).get(url("ticket-new", other_organization)))

    assert re.findall(r'name="type" value="(\w+)"', page) == ["question", "incident", "change_request"]
    assert "guidance only" in page
    assert GUIDANCE_ONLY_EXPLANATION in page
    assert PREMIUM_ONLY_EXPLANATION in page
    assert "How to upgrade" in page
    for priority in ("P1", "P2", "P3", "P4"):
        assert f'value="{priority}"' in page


def test_a_premium_organization_is_offered_every_type(organization, member):
    page = html(client_for(member).get(url("ticket-new", organization)))

    assert re.findall(r'name="type" value="(\w+)"', page) == [
        "question",
        "incident",
        "change_request",
        "architecture_review",
        "deployment_planning",
    ]
    assert PREMIUM_ONLY_EXPLANATION not in page


def test_filing_a_ticket_opens_it_from_the_portal_with_its_files(organization, member):
    response = client_for(member).post(
        url("ticket-new", organization),
        {
            "type": "architecture_review",
            "priority": "P3",
            "subject": "Review our cluster layout",
            "description": "Three **regions**.",
            "attachments": [text_file("layout.md", b"# Layout\n"), text_file("plan.txt", b"plan\n")],
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(ticket)
    assert (ticket.source, ticket.requester, ticket.type) == ("portal", member, "architecture_review")
    assert sorted(Attachment.objects.values_list("filename", flat=True)) == ["layout.md", "plan.txt"]
    page = html(client_for(member).get(response["Location"]))
    assert "<strong>regions</strong>" in page
    assert "layout.md" in page


def test_a_refused_file_still_opens_the_ticket_and_says_so(organization, member):
    response = client_for(member).post(
        url("ticket-new", organization),
        {
            "type": "incident",
            "priority": "P2",
            "subject": "Broken",
            "attachments": [SimpleUploadedFile("tool.exe", b"MZ\x90\x00", content_type="application/octet-stream")],
        },
        follow=True,
    )

    assert response.status_code == 200
    assert Ticket.objects.count() == 1
    assert not Attachment.objects.exists()
    assert "tool.exe was not attached" in html(response)


def test_form_errors_rerender_with_400_and_list_every_field_error(organization, member):
    response = client_for(member).post(url("ticket-new", organization), {"type": "wish", "priority": "P9"})

    page = html(response)
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    assert "The ticket was not opened" in page
    for field in ("type", "priority", "subject"):
        assert f'id="id_{field}_error"' in page, field
    assert 'aria-invalid="true"' in page


def test_a_subject_with_a_line_break_inside_is_refused(organization, member):
    response = client_for(member).post(
        url("ticket-new", organization), {"type": "incident", "priority": "P3", "subject": "Checkout\r\nreturns 502"}
    )

    assert response.status_code == 400
    assert "Must be one line without control characters" in html(response)
    assert not Ticket.objects.exists()


def test_a_premium_only_type_is_refused_for_a_standard_organization(other_organization, other_member):
    response = client_for(other_member).post(
        url("ticket-new", other_organization), {"type": "architecture_review", "priority": "P3", "subject": "Review"}
    )

    assert response.status_code == 400
    assert 'id="id_type_error"' in html(response)
    assert not Ticket.objects.exists()


def test_staff_do_not_file_tickets_for_customers(organization, engineer):
    client = client_for(engineer)

    page = client.get(url("ticket-new", organization))
    posted = client.post(url("ticket-new", organization), {"type": "incident", "priority": "P1", "subject": "x"})

    assert page.status_code == posted.status_code == 403
    assert "Tickets are filed by the customer" in html(page)
    assert not Ticket.objects.exists()


# ------------------------------------------------------------------------------------------------ the conversation


def test_internal_notes_never_reach_the_customer(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)
    staff = client_for(engineer)
    staff.post(action_url("ticket-reply", ticket), {"body": "SECRET-NOTE: customer is on old kernel", "internal": "on"})
    note = Message.objects.get(internal=True)
    attachment_add(ticket=ticket, uploaded_by=engineer, upload=text_file("staff-only.txt"), message=note)
    staff.post(action_url("ticket-reply", ticket), {"body": "PUBLIC-REPLY: please upgrade"})

    customer_page = html(client_for(member).get(detail_url(ticket)))
    staff_page = html(staff.get(detail_url(ticket)))

    assert "PUBLIC-REPLY" in customer_page
    assert "SECRET-NOTE" not in customer_page
    assert "staff-only.txt" not in customer_page
    assert "Internal note" not in customer_page.replace("Internal note (WALT staff only", "")
    assert "SECRET-NOTE" in staff_page
    assert "Internal note · staff only" in staff_page
    internal_file = Attachment.objects.get(internal=True)
    download = url("ticket-attachment", organization, ticket_id=ticket.public_id, attachment_id=internal_file.public_id)
    assert client_for(member).get(download).status_code == 404
    assert staff.get(download).status_code == 200


def test_a_customer_cannot_write_an_internal_note(open_ticket, organization, member):
    ticket = open_ticket(organization, member)

    response = client_for(member).post(action_url("ticket-reply", ticket), {"body": "hidden?", "internal": "on"})

    assert response.status_code == 403
    assert "Internal notes are for WALT staff only" in html(response)
    assert not Message.objects.exists()


def test_a_reply_with_a_file_attaches_it_to_the_message(open_ticket, organization, member):
    ticket = open_ticket(organization, member)

    response = client_for(member).post(
        action_url("ticket-reply", ticket), {"body": "Here is the log", "file": text_file("app.log", b"boom\n")}
    )

    assert response.status_code == 302
    assert Attachment.objects.get().message == Message.objects.get()


def test_an_empty_reply_rerenders_the_ticket_with_400(open_ticket, organization, member):
    ticket = open_ticket(organization, member)

    response = client_for(member).post(action_url("ticket-reply", ticket), {"body": ""})

    assert response.status_code == 400
    assert "Your reply was not posted" in html(response)
    assert 'id="id_body_error"' in html(response)


def test_a_service_refusal_is_shown_on_the_ticket_not_a_500(open_ticket, organization, member):
    ticket = open_ticket(organization, member)
    ticket_status_change(ticket=ticket, actor=member, status="closed")

    response = client_for(member).post(action_url("ticket-reply", ticket), {"body": "one more thing"})

    assert response.status_code == 400
    assert "This ticket is closed" in html(response)


def test_xss_in_subject_body_and_file_name_is_escaped(organization, member, engineer):
    client = client_for(member)
    client.post(
        url("ticket-new", organization),
        {
            "type": "incident",
            "priority": "P3",
            "subject": XSS_SUBJECT,
            "description": XSS_BODY,
            "attachments": [text_file(XSS_FILENAME)],
        },
    )
    ticket = Ticket.objects.get()
    client.post(action_url("ticket-reply", ticket), {"body": XSS_BODY, "file": text_file(XSS_FILENAME)})

    pages = [
        html(client.get(detail_url(ticket))),
        html(client.get(url("ticket-list", organization))),
        html(client_for(engineer).get(detail_url(ticket))),
    ]

    for page in pages:
        assert "<img src=x" not in page
        assert "<svg" not in page
        assert "<script>alert" not in page
        assert "javascript:" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert Attachment.objects.count() == 2


# ------------------------------------------------------------------------------------------------ actions


def test_a_customer_closes_and_reopens(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)
    client = client_for(member)
    ticket_status_change(ticket=ticket, actor=engineer, status="resolved")

    assert "Reopen" in html(client.get(detail_url(ticket)))
    assert client.post(action_url("ticket-status", ticket), {"status": "open"}).status_code == 302
    assert client.post(action_url("ticket-status", ticket), {"status": "closed"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_a_customer_cannot_set_staff_fields(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)
    client = client_for(member)

    answers = [
        client.post(action_url("ticket-priority", ticket), {"priority": "P1"}).status_code,
        client.post(action_url("ticket-type", ticket), {"type": "question"}).status_code,
        client.post(action_url("ticket-assign", ticket), {"assignee": str(engineer.public_id)}).status_code,
        client.post(action_url("ticket-status", ticket), {"status": "resolved"}).status_code,
    ]

    assert answers == [403, 403, 403, 400]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.type, ticket.assignee, ticket.status) == ("P2", "incident", None, "new")


def test_staff_set_status_priority_type_and_assignee(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)
    client = client_for(engineer)

    for name, data in [
        ("ticket-priority", {"priority": "P1"}),
        ("ticket-type", {"type": "change_request"}),
        ("ticket-assign", {"assignee": str(engineer.public_id)}),
        ("ticket-status", {"status": "waiting_on_customer"}),
    ]:
        assert client.post(action_url(name, ticket), data).status_code == 302, name

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.type, ticket.assignee, ticket.status) == (
        "P1",
        "change_request",
        engineer,
        "waiting_on_customer",
    )
    page = html(client.get(detail_url(ticket)))
    assert "Priority: P2 — high → P1 — critical" in page


def test_staff_cannot_give_a_standard_ticket_a_premium_type(open_ticket, other_organization, other_member, engineer):
    ticket = open_ticket(other_organization, other_member)

    response = client_for(engineer).post(action_url("ticket-type", ticket), {"type": "architecture_review"})

    assert response.status_code == 400
    assert "The type did not change" in html(response)


def test_a_guidance_only_ticket_shows_the_banner_and_the_upgrade_path(open_ticket, other_organization, other_member):
    ticket = open_ticket(other_organization, other_member, ticket_type="change_request")

    page = html(client_for(other_member).get(detail_url(ticket)))

    assert GUIDANCE_ONLY_EXPLANATION in page
    assert "How to upgrade" in page


def test_video_call_request_and_decline(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)
    page = html(client_for(member).get(detail_url(ticket)))
    assert "not guaranteed; a request does not count as a response" in page

    assert (
        client_for(member).post(action_url("ticket-video-call", ticket), {"note": "Walk us through"}).status_code == 302
    )
    incomplete = client_for(engineer).post(action_url("ticket-video-call-decide", ticket), {"decision": "declined"})
    declined = client_for(engineer).post(
        action_url("ticket-video-call-decide", ticket),
        {"decision": "declined", "reason": "A written answer is faster."},
    )

    assert incomplete.status_code == 400
    assert 'id="id_reason_error"' in html(incomplete)
    assert declined.status_code == 302
    assert "Declined: A written answer is faster." in html(client_for(member).get(detail_url(ticket)))


def test_video_call_accepted_in_the_engineer_s_timezone(open_ticket, organization, member, engineer):
    engineer.timezone = "Europe/Berlin"
    engineer.save()
    ticket = open_ticket(organization, member)
    video_call_request(ticket=ticket, requested_by=member)
    when = (
        (timezone.now() + timedelta(days=2))
        .astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
        .replace(second=0, microsecond=0)
    )

    incomplete = client_for(engineer).post(action_url("ticket-video-call-decide", ticket), {"decision": "accepted"})
    accepted = client_for(engineer).post(
        action_url("ticket-video-call-decide", ticket),
        {"decision": "accepted", "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"), "link": "https://meet.example/x"},
    )

    assert incomplete.status_code == 400
    assert 'id="id_scheduled_at_error"' in html(incomplete)
    assert 'id="id_link_error"' in html(incomplete)
    assert accepted.status_code == 302
    call = VideoCall.objects.get()
    assert call.scheduled_at == when
    notice = OutboxMessage.objects.get(recipient=member, subject__contains="video call", channel="in_app")
    assert f"Scheduled for {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in notice.body
    assert 'href="https://meet.example/x"' in html(client_for(member).get(detail_url(ticket)))


def test_staff_cannot_request_a_video_call(open_ticket, organization, member, engineer):
    ticket = open_ticket(organization, member)

    assert client_for(engineer).post(action_url("ticket-video-call", ticket), {"note": ""}).status_code == 403


def _grant(organization, admin, **overrides) -> AccessGrant:
    fields: dict[str, Any] = {
        "scope": "Production cluster, namespace shop",
        "credentials_reference": "Vault item prod-k8s",
        "valid_from": timezone.now() - timedelta(hours=1),
        "valid_until": timezone.now() + timedelta(days=1),
    } | overrides
    return access_grant_create(organization=organization, created_by=admin, **fields)


def test_staff_record_a_change_under_an_active_grant(open_ticket, organization, member, org_admin, engineer):
    ticket = open_ticket(organization, member)
    grant = _grant(organization, org_admin)
    client = client_for(engineer)
    assert "Record change performed" in html(client.get(detail_url(ticket)))

    blank = client.post(action_url("ticket-change-record", ticket), {"access_grant": str(grant.public_id)})
    recorded = client.post(
        action_url("ticket-change-record", ticket),
        {"access_grant": str(grant.public_id), "description": "Scaled the shop deployment to 6 replicas"},
    )

    assert blank.status_code == 400
    assert recorded.status_code == 302
    event = TicketEvent.objects.get(kind="change_performed")
    assert event.access_grant == grant
    assert "Scaled the shop deployment" in html(client_for(member).get(detail_url(ticket)))


def test_no_change_can_be_recorded_on_standard(open_ticket, other_organization, other_member, engineer):
    ticket = open_ticket(other_organization, other_member)

    page = html(client_for(engineer).get(detail_url(ticket)))

    assert "no change can be recorded" in page
    assert 'name="access_grant"' not in page


# ------------------------------------------------------------------------------------------------ members


def test_an_admin_invites_a_colleague(organization, org_admin):
    response = client_for(org_admin).post(
        url("member-list", organization), {"email": "Grace@Acme.example", "role": "member"}, follow=True
    )

    assert response.status_code == 200
    assert Membership.objects.filter(organization=organization, user__email="grace@acme.example").exists()
    assert "grace@acme.example is now a member" in html(response)


def test_invitation_errors_rerender_with_400(organization, org_admin, member):
    client = client_for(org_admin)

    invalid = client.post(url("member-list", organization), {"email": "not-an-address", "role": "boss"})
    duplicate = client.post(url("member-list", organization), {"email": member.email, "role": "member"})

    assert invalid.status_code == 400
    assert 'id="id_email_error"' in html(invalid)
    assert 'id="id_role_error"' in html(invalid)
    assert duplicate.status_code == 400
    assert "Already a member." in html(duplicate)


def test_an_admin_removes_a_member_but_not_the_last_admin(organization, org_admin, member):
    client = client_for(org_admin)
    member_id = Membership.objects.get(user=member).public_id
    admin_id = Membership.objects.get(user=org_admin).public_id

    removed = client.post(url("member-remove", organization, member_id=member_id))
    last_admin = client.post(url("member-remove", organization, member_id=admin_id))

    assert removed.status_code == 302
    assert not Membership.objects.filter(user=member).exists()
    assert last_admin.status_code == 400
    assert "at least one customer admin" in html(last_admin)


# ------------------------------------------------------------------------------------------------ access grants


def test_an_admin_grants_access_in_the_organization_s_timezone(organization, org_admin):
    organization.timezone = "America/New_York"
    organization.save()

    response = client_for(org_admin).post(
        url("access-grant-list", organization),
        {
            "scope": "Production database: resize",
            "credentials_reference": "1Password vault 'WALT', item 'prod-db'",
            "valid_from": "2026-12-01T09:00",
            "valid_until": "2026-12-02T09:00",
        },
    )

    assert response.status_code == 302
    grant = AccessGrant.objects.get()
    assert grant.valid_from == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert grant.valid_until == datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


def test_a_pasted_secret_is_refused_beside_its_field(organization, org_admin):
    response = client_for(org_admin).post(
        url("access-grant-list", organization),
        {
            "scope": "Production database",
            "credentials_reference": "password=hunter2",
            "valid_from": "2026-12-02T09:00",
            "valid_until": "2026-12-01T09:00",
        },
    )

    page = html(response)
    assert response.status_code == 400
    assert 'id="id_credentials_reference_error"' in page
    assert 'id="id_valid_until_error"' in page
    assert "hunter2" in page  # the form keeps what was typed, so it can be corrected
    assert not AccessGrant.objects.exists()


def test_an_admin_revokes_a_grant(organization, org_admin):
    grant = _grant(organization, org_admin)

    response = client_for(org_admin).post(url("access-grant-revoke", organization, grant_id=grant.public_id))

    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_by == org_admin
    assert "Revoked" in html(client_for(org_admin).get(url("access-grant-list", organization)))


def test_a_standard_organization_sees_the_upgrade_path_instead_of_the_form(other_organization, other_member):
    client = client_for(other_member)

    page = html(client.get(url("access-grant-list", other_organization)))
    posted = client.post(
        url("access-grant-list", other_organization),
        {
            "scope": "x",
            "credentials_reference": "vault",
            "valid_from": "2026-12-01T09:00",
            "valid_until": "2026-12-02T09:00",
        },
    )

    assert "How to upgrade" in page
    assert 'name="scope"' not in page
    assert posted.status_code == 403
    assert not AccessGrant.objects.exists()


def test_staff_read_grants_but_do_not_grant_or_revoke(organization, org_admin, engineer):
    grant = _grant(organization, org_admin)
    client = client_for(engineer)

    page = html(client.get(url("access-grant-list", organization)))

    assert "Production cluster" in page
    assert 'name="scope"' not in page
    assert client.post(url("access-grant-list", organization), {}).status_code == 403
    assert client.post(url("access-grant-revoke", organization, grant_id=grant.public_id)).status_code == 403


# ------------------------------------------------------------------------------------------------ navigation and time


def test_the_overview_and_the_header_link_to_the_pages(organization, org_admin, member):
    admin_page = html(client_for(org_admin).get(url("organization-overview", organization)))
    member_page = html(client_for(member).get(url("organization-overview", organization)))

    for link in ("ticket-list", "ticket-new", "member-list", "access-grant-list"):
        assert url(link, organization) in admin_page, link
    assert url("ticket-list", organization) in member_page
    assert url("member-list", organization) not in member_page
    assert url("access-grant-list", organization) not in member_page


def test_times_read_in_the_viewer_s_timezone(organization, member, engineer):
    organization.timezone = "America/New_York"
    moment = datetime(2026, 11, 29, 15, 12, tzinfo=UTC)

    assert format_in_timezone(moment, viewer_timezone(user=member, organization=organization)) == (
        "2026-11-29 10:12 EST (15:12 UTC)"
    )
    assert format_in_timezone(moment, viewer_timezone(user=engineer, organization=organization)) == (
        "2026-11-29 15:12 UTC"
    )
    member.timezone = "Asia/Tokyo"
    assert format_in_timezone(moment, viewer_timezone(user=member, organization=organization)) == (
        "2026-11-30 00:12 JST (2026-11-29 15:12 UTC)"
    )


def test_a_member_of_two_organizations_sees_only_the_one_in_the_url(open_ticket, organization, other_organization):
    both = MembershipFactory.create(organization=organization).user
    MembershipFactory.create(organization=other_organization, user=both)
    open_ticket(other_organization, both, subject="Globex matter")

    page = html(client_for(both).get(url("ticket-list", organization)))

    assert "Globex matter" not in page
