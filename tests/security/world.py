"""A small, real world for the security suites: two tenants, every kind of person, and one of each object of A.

Everything is made through the product's services, as the portal makes it, so URL parameters are filled with the
ids of real objects of organization A (Acme, Premium) and a refusal is a refusal of something that exists.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid4

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from maintenance.models import CalendarFeed, Notice, OneOffWindow
from maintenance.services import calendar_feed_ensure, notice_create, one_off_window_create
from monitoring.models import InboundEvent, MonitoringSource
from monitoring.services import monitoring_source_create, monitoring_test_alert
from notifications.models import Notification, OutboxMessage
from notifications.services import notification_enqueue, outbox_deliver_due
from sla.services.sweep import sla_sweep
from tenancy.access_grants import access_grant_create
from tenancy.models import AccessGrant, Membership, Organization, Package, Region, User
from tenancy.services import api_token_issue
from tests.factories import ContractFactory, MembershipFactory, OrganizationFactory, StaffFactory
from tickets.models import Attachment, Message, Ticket
from tickets.services import attachment_add, ticket_open, ticket_reply, video_call_decide, video_call_request

ANONYMOUS = "anonymous"
MEMBER_A = "member_a"
ADMIN_A = "admin_a"
MEMBER_B = "member_b"
ADMIN_B = "admin_b"
ENGINEER = "engineer"
SUPPORT_ADMIN = "support_admin"

ROLES = (ANONYMOUS, MEMBER_A, ADMIN_A, MEMBER_B, ADMIN_B, ENGINEER, SUPPORT_ADMIN)
SIGNED_IN = frozenset(ROLES) - {ANONYMOUS}
OTHER_TENANT = frozenset({MEMBER_B, ADMIN_B})
STAFF = frozenset({ENGINEER, SUPPORT_ADMIN})
CUSTOMERS_A = frozenset({MEMBER_A, ADMIN_A})


@dataclass
class World:
    organization: Organization  # A: Acme, Premium, US
    other_organization: Organization  # B: Globex, Standard, EU
    users: dict[str, User]
    ticket: Ticket  # with a conversation, a file and a declined video call (so one may be requested again)
    late_ticket: Ticket  # received two hours ago: its first response is a recorded breach
    message: Message
    attachment: Attachment
    grant: AccessGrant
    spare_membership: Membership  # a member of A that admins may remove
    source: MonitoringSource
    source_token: str
    event: InboundEvent
    window: OneOffWindow  # A's own one-off window, two days ahead
    notice: Notice  # published, about that window
    feed: CalendarFeed
    notification: Notification  # member_a's own in-app notice
    tokens: dict[str, str] = field(default_factory=dict)  # API token of each signed-in role

    @property
    def window_key(self) -> str:
        return str(self.window.public_id)

    @property
    def password_reset_uid(self) -> str:
        return urlsafe_base64_encode(force_bytes(self.users[MEMBER_A].pk))

    def url_values(self, organization: Organization | None = None) -> dict[str, str]:
        """What fills each URL parameter: A's objects, under `organization`'s slug (A by default)."""
        return {
            "org_slug": (organization or self.organization).slug,
            "ticket_id": str(self.ticket.public_id),
            "attachment_id": str(self.attachment.public_id),
            "member_id": str(self.spare_membership.public_id),
            "grant_id": str(self.grant.public_id),
            "source_id": str(self.source.public_id),
            "event_id": str(self.event.public_id),
            "notice_id": str(self.notice.public_id),
            "public_id": str(self.notification.public_id),
            "token": self.source_token,
            "kind": self.source.kind,
            "uidb64": self.password_reset_uid,
            "clock": "first_response",
            "epoch": "0",
        }


def seed_world() -> World:
    now = timezone.now()
    acme = OrganizationFactory.create(name="Acme Corp", slug="acme", region=Region.US, timezone="UTC")
    ContractFactory.create(organization=acme, package=Package.PREMIUM)
    globex = OrganizationFactory.create(name="Globex GmbH", slug="globex", region=Region.EU, timezone="UTC")
    ContractFactory.create(organization=globex, package=Package.STANDARD)
    users = {
        MEMBER_A: MembershipFactory.create(organization=acme, role=Membership.Role.MEMBER).user,
        ADMIN_A: MembershipFactory.create(organization=acme, role=Membership.Role.ADMIN).user,
        MEMBER_B: MembershipFactory.create(organization=globex, role=Membership.Role.MEMBER).user,
        ADMIN_B: MembershipFactory.create(organization=globex, role=Membership.Role.ADMIN).user,
        ENGINEER: StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ENGINEER),
        SUPPORT_ADMIN: StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ADMIN),
    }
    member, admin, engineer = users[MEMBER_A], users[ADMIN_A], users[ENGINEER]

    ticket = ticket_open(
        organization=acme,
        requester=member,
        subject="Checkout returns 502",
        description="Every request fails since 09:40 UTC.",
        ticket_type="incident",
        priority="P2",
        source="portal",
    )
    message = ticket_reply(ticket=ticket, author=member, body="It also fails on the staging shop.")
    attachment = attachment_add(
        ticket=ticket,
        uploaded_by=member,
        upload=SimpleUploadedFile("gateway.log", b"502 upstream timed out\n", content_type="text/plain"),
    )
    video_call_request(ticket=ticket, requested_by=member, note="Can we walk through it?")
    video_call_decide(ticket=ticket, decided_by=engineer, accept=False, reason="A reply will do for now.")
    # A second open ticket, so that the queue always has one to hand out.
    ticket_open(
        organization=acme,
        requester=admin,
        subject="Nightly backup is slow",
        description="",
        ticket_type="question",
        priority="P4",
        source="portal",
    )

    late_ticket = ticket_open(
        organization=acme,
        requester=member,
        subject="Search is down",
        description="",
        ticket_type="incident",
        priority="P1",
        source="portal",
        received_at=now - timedelta(hours=2),
    )
    sla_sweep(now=now)  # records the breach of its first response

    grant = access_grant_create(
        organization=acme,
        created_by=admin,
        scope="Production Kubernetes cluster, namespace shop: restart deployments",
        credentials_reference="Shared vault 'WALT support', item 'prod-k8s'",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=30),
    )
    spare = MembershipFactory.create(organization=acme, role=Membership.Role.MEMBER)

    source, source_token = monitoring_source_create(organization=acme, kind="alertmanager", name="Production")
    monitoring_test_alert(source=source)
    event = InboundEvent.objects.filter(source=source).latest("pk")

    window = one_off_window_create(
        title="Database failover test",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=1),
        region="",
        organizations=[acme],
        created_by=users[SUPPORT_ADMIN],
    )
    notice = notice_create(
        title="Failover test on Thursday",
        body="The shop database fails over once; expect **two minutes** of read-only mode.",
        severity="info",
        occurrence_key=str(window.public_id),
        regions=[],
        organizations=[],
        lead_time=timedelta(days=3),
        created_by=users[SUPPORT_ADMIN],
        publish=True,
        now=now,
    )
    # The maintenance page makes the feed on first view; made here, every GET of the page changes nothing.
    feed = calendar_feed_ensure(organization=acme)

    event_key = f"security:{uuid4()}"
    notification_enqueue(
        event_key=event_key,
        recipients=[member],
        subject=f"{ticket.reference} was updated",
        body="WALT Labs replied.",
        link=f"/o/acme/tickets/{ticket.public_id}/",
        channels=[OutboxMessage.Channel.IN_APP],
    )
    outbox_deliver_due()
    notification = Notification.objects.get(source__idempotency_key=f"{event_key}:in_app:{member.pk}")

    world = World(
        organization=acme,
        other_organization=globex,
        users=users,
        ticket=ticket,
        late_ticket=late_ticket,
        message=message,
        attachment=attachment,
        grant=grant,
        spare_membership=spare,
        source=source,
        source_token=source_token,
        event=event,
        window=window,
        notice=notice,
        feed=feed,
        notification=notification,
    )
    world.tokens = {role: api_token_issue(user=user) for role, user in users.items()}
    return world
