from django.db.models import QuerySet

from sla.models import Clock, ClockEvent, PolicyVersion, Record
from tenancy.models import Organization
from tickets.models import Ticket


def policy_version_list(*, organization: Organization) -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.for_organization(organization)
        .select_related("created_by", "contract")
        .order_by("-number")
    )


def clock_list(*, ticket: Ticket) -> QuerySet[Clock]:
    return Clock.objects.for_organization(ticket.organization).filter(ticket=ticket).order_by("kind", "epoch")


def clock_event_list(*, ticket: Ticket) -> QuerySet[ClockEvent]:
    return (
        ClockEvent.objects.for_organization(ticket.organization)
        .filter(clock__ticket=ticket)
        .select_related("clock")
        .order_by("at", "pk")
    )


def record_list(*, ticket: Ticket) -> QuerySet[Record]:
    return Record.objects.for_organization(ticket.organization).filter(ticket=ticket).order_by("recorded_at")
