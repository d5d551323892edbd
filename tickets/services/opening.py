from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from tenancy.models import Organization, User
from tenancy.selectors import contract_active
from tickets.entitlements import PREMIUM_ONLY_EXPLANATION, is_guidance_only, ticket_types_for
from tickets.models import Priority, Source, Ticket, TicketCounter, TicketEvent, TicketType
from tickets.notices import notify_ticket_opened
from tickets.services._common import record_event, require_participant
from tickets.signals import ticket_opened, ticket_opening

SUBJECT_MAX_LENGTH = Ticket._meta.get_field("subject").max_length or 200


def _next_number(*, organization: Organization) -> int:
    # One counter row per organization; the UPDATE's row lock serialises numbering inside this tenant only.
    # RETURNING hands back the number in the same statement (PostgreSQL and SQLite alike).
    table = connection.ops.quote_name(TicketCounter._meta.db_table)
    increment = f"UPDATE {table} SET last_number = last_number + 1 WHERE organization_id = %s RETURNING last_number"  # noqa: S608 (a model's table name)
    with connection.cursor() as cursor:
        cursor.execute(increment, [organization.pk])
        row = cursor.fetchone()
        if row is None:
            TicketCounter.objects.bulk_create([TicketCounter(organization=organization)], ignore_conflicts=True)
            cursor.execute(increment, [organization.pk])
            row = cursor.fetchone()
    return int(row[0])


@transaction.atomic
def ticket_open(
    *,
    organization: Organization,
    requester: User | None,
    subject: str,
    description: str,
    ticket_type: str,
    priority: str,
    source: str,
    received_at: datetime | None = None,
) -> Ticket:
    """Store a new ticket and announce it; the SLA clocks start from `received_at` (default: now).

    `requester` is the customer who asked (None for monitoring alerts). What may be filed follows the package
    in force: Standard change requests become guidance only; architecture reviews and deployment planning are
    Premium's.
    """
    if requester is not None:
        require_participant(user=requester, organization=organization)
    contract = contract_active(organization=organization, at=timezone.now())
    package = contract.package if contract else None
    errors = []
    if not subject.strip():
        errors.append({"field": "subject", "code": "blank", "detail": "Say in a few words what is wrong."})
    elif len(subject.strip()) > SUBJECT_MAX_LENGTH:
        errors.append({"field": "subject", "code": "max_length", "detail": f"At most {SUBJECT_MAX_LENGTH} characters."})
    if priority not in Priority.values:
        errors.append({"field": "priority", "code": "invalid_choice", "detail": "Choose P1, P2, P3 or P4."})
    if ticket_type not in TicketType.values:
        errors.append({"field": "type", "code": "invalid_choice", "detail": f"Unknown type “{ticket_type}”."})
    elif ticket_type not in ticket_types_for(package=package):
        detail = PREMIUM_ONLY_EXPLANATION if package else "The organization has no contract in force."
        errors.append({"field": "type", "code": "not_entitled", "detail": detail})
    if source not in Source.values:
        errors.append({"field": "source", "code": "invalid_choice", "detail": f"Unknown source “{source}”."})
    if errors:
        raise ApplicationError("The ticket was not opened.", errors=errors)

    now = timezone.now()
    number = _next_number(organization=organization)
    ticket = Ticket(
        organization=organization,
        number=number,
        reference=f"{organization.reference_prefix}-{number}",
        subject=subject.strip(),
        description=description,
        type=ticket_type,
        priority=priority,
        guidance_only=is_guidance_only(package=package, ticket_type=ticket_type),
        source=source,
        requester=requester,
        received_at=received_at or now,
        last_activity_at=now,
    )
    # The row goes in once with its SLA summary: written afterwards, it would rewrite every index of the row.
    ticket_opening.send(sender=Ticket, ticket=ticket, contract=contract)
    ticket.save()  # every field was checked above; full_clean would cost a query per constraint on this hot path
    record_event(ticket=ticket, actor=requester, kind=TicketEvent.Kind.OPENED, detail={"source": source})
    ticket_opened.send(sender=Ticket, ticket=ticket, contract=contract)
    notify_ticket_opened(ticket=ticket)
    return ticket
