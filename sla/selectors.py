from django.db.models import FilteredRelation, Q, QuerySet

from sla.models import ClockEvent, PolicyVersion, Record
from tenancy.models import Organization
from tickets.models import Ticket


def policy_version_list(*, organization: Organization) -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.for_organization(organization)
        .select_related("created_by", "contract")
        .order_by("-number")
    )


def clock_panel_event_list(*, ticket: Ticket, with_records: bool) -> QuerySet[ClockEvent]:
    """Every event of the ticket's clocks, in order, each with its clock: the SLA panel's one query. Every clock is
    armed with its STARTED event in the same transaction (sla.services.clocks), so the events name every clock.

    `with_records` (for staff) joins each event's clock's warning and breach records as `warning_record` and
    `breach_record`: a clock has one of each at most, so the join adds no row.
    """
    events = (
        ClockEvent.objects.for_organization(ticket.organization)
        .filter(clock__ticket=ticket)
        .select_related("clock")
        .order_by("at", "pk")
    )
    if not with_records:
        return events
    with_both = events.annotate(
        warning_record=FilteredRelation("clock__records", condition=Q(clock__records__kind=Record.Kind.WARNING)),
        breach_record=FilteredRelation("clock__records", condition=Q(clock__records__kind=Record.Kind.BREACH)),
    )
    return with_both.select_related("warning_record", "breach_record")  # type: ignore[misc]  # the stubs miss these
