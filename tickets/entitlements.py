"""What each package entitles an organization to file, in the SLA's words."""

from tenancy.models import Package
from tickets.models import TicketType

TYPES_BY_PACKAGE: dict[str, tuple[str, ...]] = {
    Package.STANDARD: (TicketType.QUESTION, TicketType.INCIDENT, TicketType.CHANGE_REQUEST),
    Package.PREMIUM: tuple(TicketType.values),
}

GUIDANCE_ONLY_EXPLANATION = (
    "On the Standard package WALT Labs gives guidance for change requests but does not perform changes or actions "
    "in your environment. Upgrade to Premium to have WALT engineers carry out changes and fixes for you."
)
PREMIUM_ONLY_EXPLANATION = "Architecture reviews and deployment planning are included in the Premium package."


def ticket_types_for(*, package: str | None) -> tuple[str, ...]:
    return TYPES_BY_PACKAGE.get(package or "", ())


def is_guidance_only(*, package: str | None, ticket_type: str) -> bool:
    return package == Package.STANDARD and ticket_type == TicketType.CHANGE_REQUEST


def may_record_changes(*, package: str | None) -> bool:
    return package == Package.PREMIUM
