"""A small month built through the real services, whose report is computed by hand in test_figures.py.

Acme Europe works in Europe/Berlin (UTC+1 until 29 March 2026, UTC+2 after) on a Premium contract since January.
On 16 March a new SLA policy version makes P1 first responses 15 minutes. All times below are UTC.

    T0  10 Feb 09:00  P2 incident   reply +40 min (breach), resolved +1 h               February
    T8  28 Feb 23:30  P4 question   reply +5 min, resolved +30 min                        1 March 00:30 in Berlin
    T1   2 Mar 09:00  P2 incident   reply +10 min, resolved +2 h
    T2   3 Mar 09:00  P3 question   reply +45 min (breach, 15 min late), resolved +50 min
    T3   4 Mar 09:00  P2 incident   reply +5 min, waiting on customer +1 h to +3 h, resolved +4 h
    T4   5 Mar 09:00  P1 incident   reply +20 min, resolved +1 h, reopened 12:00, resolved 17:00 (breach, 1 h late)
    T5  17 Mar 09:00  P3 incident   reply +31 min (breach, excluded: customer delay), resolved +1 h     policy v1
    T6  18 Mar 09:00  P4 question   reply +10 min, resolved +20 min                                    policy v1
    T7  31 Mar 18:00  P2 incident   reply +15 min, waiting on customer from 19:00, still waiting       policy v1
    T9  31 Mar 22:30  P1 incident   received 1 April 00:30 in Berlin: not in March
    X    3 Mar 09:00  another organization's ticket: never in Acme's figures

The report is read at 1 April 2026 06:00 UTC.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from reports.services import breach_exclude
from sla.models import Record
from sla.services import policy_version_create
from tenancy.models import Membership, Organization, Package, User
from tests.factories import ContractFactory, MembershipFactory, OrganizationFactory
from tickets.models import Ticket
from tickets.services import ticket_open, ticket_reply, ticket_status_change

READ_AT = datetime(2026, 4, 1, 6, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Month:
    organization: Organization
    other: Organization
    customer: User
    customer_admin: User
    outsider: User
    engineer: User
    admin: User
    tickets: dict[str, Ticket]


@pytest.fixture
def berlin(db) -> Organization:
    organization = OrganizationFactory.create(
        name="Acme Europe", slug="acme-eu", reference_prefix="ACMEEU", region="EU", timezone="Europe/Berlin"
    )
    ContractFactory.create(organization=organization, package=Package.PREMIUM, effective_from=at(1, 1, 0))
    return organization


class Timeline:
    """Runs the ticket services at given moments, as the people of the story."""

    def __init__(self, time_machine, *, organization: Organization, customer: User, engineer: User) -> None:
        self.time_machine = time_machine
        self.organization, self.customer, self.engineer = organization, customer, engineer
        self.tickets: dict[str, Ticket] = {}

    def move(self, moment: datetime) -> None:
        self.time_machine.move_to(moment, tick=False)

    def open(self, name: str, received: datetime, ticket_type: str, priority: str, *, organization=None, by=None):
        self.move(received)
        self.tickets[name] = ticket_open(
            organization=organization or self.organization,
            requester=by or self.customer,
            subject=f"{name}: {ticket_type}",
            description="",
            ticket_type=ticket_type,
            priority=priority,
            source="portal",
        )

    def reply(self, name: str, moment: datetime, author: User | None = None) -> None:
        self.move(moment)
        ticket_reply(ticket=self.tickets[name], author=author or self.engineer, body="On it")

    def status(self, name: str, moment: datetime, new_status: str, actor: User | None = None) -> None:
        self.move(moment)
        ticket_status_change(ticket=self.tickets[name], actor=actor or self.engineer, status=new_status)

    def answered(self, name: str, received: datetime, ticket_type: str, priority: str, reply: int, resolve: int):
        """Opened, answered `reply` minutes later, resolved `resolve` minutes after it was received."""
        self.open(name, received, ticket_type, priority)
        self.reply(name, received + reply * MINUTE)
        self.status(name, received + resolve * MINUTE, "resolved")


def _before_the_new_policy(timeline: Timeline, *, other: Organization, outsider: User) -> None:
    timeline.answered("T0", at(2, 10, 9), "incident", "P2", reply=40, resolve=60)
    timeline.answered("T8", at(2, 28, 23, 30), "question", "P4", reply=5, resolve=30)
    timeline.answered("T1", at(3, 2, 9), "incident", "P2", reply=10, resolve=120)
    timeline.answered("T2", at(3, 3, 9), "question", "P3", reply=45, resolve=50)
    timeline.open("X", at(3, 3, 9), "incident", "P1", organization=other, by=outsider)
    timeline.reply("X", at(3, 3, 11))

    received = at(3, 4, 9)
    timeline.open("T3", received, "incident", "P2")
    timeline.reply("T3", received + 5 * MINUTE)
    timeline.status("T3", received + HOUR, "waiting_on_customer")
    timeline.reply("T3", received + 3 * HOUR, author=timeline.customer)
    timeline.status("T3", received + 4 * HOUR, "resolved")

    timeline.answered("T4", at(3, 5, 9), "incident", "P1", reply=20, resolve=60)
    timeline.status("T4", at(3, 5, 12), "open", actor=timeline.customer)
    timeline.status("T4", at(3, 5, 17), "resolved")


def _under_the_new_policy(timeline: Timeline, *, admin: User) -> None:
    timeline.move(at(3, 16, 10))
    policy_version_create(
        organization=timeline.organization,
        overrides={"first_response_seconds": {"*": 1800, "P1": 900}},
        created_by=admin,
        reason="Amendment 3: P1 first response in 15 minutes",
        at=at(3, 16, 10),
    )
    timeline.answered("T5", at(3, 17, 9), "incident", "P3", reply=31, resolve=60)
    timeline.answered("T6", at(3, 18, 9), "question", "P4", reply=10, resolve=20)

    timeline.move(at(3, 20, 12))
    breach_exclude(
        record=Record.objects.get(ticket=timeline.tickets["T5"], kind="breach"),
        actor=timeline.engineer,
        category="customer_delay",
        reason="The customer asked us to hold the answer until their call at 09:30.",
        now=at(3, 20, 12),
    )

    received = at(3, 31, 18)
    timeline.open("T7", received, "incident", "P2")
    timeline.reply("T7", received + 15 * MINUTE)
    timeline.status("T7", received + HOUR, "waiting_on_customer")
    timeline.open("T9", at(3, 31, 22, 30), "incident", "P1")


@pytest.fixture
def month(berlin, engineer, support_admin, time_machine) -> Month:
    customer = MembershipFactory.create(organization=berlin, role=Membership.Role.MEMBER).user
    customer_admin = MembershipFactory.create(organization=berlin, role=Membership.Role.ADMIN).user
    other = OrganizationFactory.create(name="Globex", slug="globex", region="EU", timezone="Europe/Berlin")
    ContractFactory.create(organization=other, package=Package.PREMIUM, effective_from=at(1, 1, 0))
    outsider = MembershipFactory.create(organization=other, role=Membership.Role.ADMIN).user
    timeline = Timeline(time_machine, organization=berlin, customer=customer, engineer=engineer)

    _before_the_new_policy(timeline, other=other, outsider=outsider)
    _under_the_new_policy(timeline, admin=support_admin)

    timeline.move(READ_AT)
    return Month(
        organization=berlin,
        other=other,
        customer=customer,
        customer_admin=customer_admin,
        outsider=outsider,
        engineer=engineer,
        admin=support_admin,
        tickets=timeline.tickets,
    )
