"""The demo data `make run` seeds: two customers of different packages and regions, and WALT staff."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tenancy.models import Membership, Organization, Package, Region, User
from tenancy.services import organization_provision
from tickets.models import Priority, Source, TicketType
from tickets.selectors import ticket_list
from tickets.services import ticket_open, ticket_reply


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    slug: str
    region: str
    timezone: str
    package: str
    admin_email: str
    member_email: str


DEMO_ORGANIZATIONS = (
    DemoOrganization(
        "Acme Corp", "acme", Region.US, "America/New_York", Package.PREMIUM, "ada@acme.example", "max@acme.example"
    ),
    DemoOrganization(
        "Globex GmbH",
        "globex",
        Region.EU,
        "Europe/Berlin",
        Package.STANDARD,
        "greta@globex.example",
        "gus@globex.example",
    ),
)
DEMO_TICKETS = {
    "acme": [
        ("Checkout API returns 502 for every request", TicketType.INCIDENT, Priority.P1, timedelta(minutes=28)),
        ("Review of our multi-region failover design", TicketType.ARCHITECTURE_REVIEW, Priority.P3, timedelta(hours=2)),
        ("How long are database backups kept?", TicketType.QUESTION, Priority.P4, timedelta(minutes=5)),
    ],
    "globex": [
        ("Please resize the reporting database", TicketType.CHANGE_REQUEST, Priority.P3, timedelta(minutes=40)),
        ("Disk usage alert on web-2", TicketType.INCIDENT, Priority.P2, timedelta(hours=3)),
    ],
}
DEMO_DESCRIPTION = "Seen since this morning.\n\n* affects **all** users\n* started after the last deploy"
DEMO_ENGINEER = "eve@walt-labs.example"
DEMO_SUPPORT_ADMIN = "sam@walt-labs.example"


@transaction.atomic
def demo_seed(*, password: str) -> list[tuple[str, str]]:
    """Create what is missing of the demo and return (login, role) pairs. Running it again changes nothing."""
    engineer = _user(DEMO_ENGINEER, password, full_name="Eve Engineer", staff_role=User.StaffRole.SUPPORT_ENGINEER)
    if not engineer.on_duty:
        engineer.on_duty = True
        engineer.save(update_fields=["on_duty"])
    _user(DEMO_SUPPORT_ADMIN, password, full_name="Sam Support-Admin", staff_role=User.StaffRole.SUPPORT_ADMIN)
    logins = [(DEMO_ENGINEER, "support engineer"), (DEMO_SUPPORT_ADMIN, "support admin (Django admin too)")]
    for demo in DEMO_ORGANIZATIONS:
        organization = Organization.objects.filter(slug=demo.slug).first() or organization_provision(
            name=demo.name,
            slug=demo.slug,
            region=demo.region,
            timezone_name=demo.timezone,
            package=demo.package,
            provisioned_by=None,
        )
        for email, role in ((demo.admin_email, Membership.Role.ADMIN), (demo.member_email, Membership.Role.MEMBER)):
            user = _user(email, password, full_name=email.split("@")[0].capitalize())
            Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": role})
            logins.append((email, f"{demo.name} ({demo.package}, {demo.region}) customer {role}"))
        if not ticket_list(organization=organization).exists():
            _demo_tickets(organization, requester=user, engineer=engineer)  # the member, created last
    return logins


def _demo_tickets(organization: Organization, *, requester: User, engineer: User) -> None:
    """A few tickets per customer; one received 28 minutes ago, so its first response breaches two minutes after
    `make run` starts and the breach notice arrives."""
    now = timezone.now()
    for subject, ticket_type, priority, age in DEMO_TICKETS[organization.slug]:
        ticket = ticket_open(
            organization=organization,
            requester=requester,
            subject=subject,
            description=DEMO_DESCRIPTION,
            ticket_type=ticket_type,
            priority=priority,
            source=Source.PORTAL,
            received_at=now - age,
        )
        if age > timedelta(hours=1):
            ticket_reply(
                ticket=ticket, author=engineer, body="Thanks, we are looking into it and will update you here."
            )


def _user(email: str, password: str, **fields: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, **fields)
    return user
