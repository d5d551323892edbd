"""The demo data `make run` seeds: two customers of different packages and regions, and WALT staff."""

from dataclasses import dataclass

from django.db import transaction

from tenancy.models import Membership, Organization, Package, Region, User
from tenancy.services import organization_provision


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
    return logins


def _user(email: str, password: str, **fields: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, **fields)
    return user
