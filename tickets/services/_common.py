from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from tenancy.models import AccessGrant, Membership, Organization, User
from tenancy.selectors import contract_active, membership_get_for_user
from tickets.models import Ticket, TicketEvent


def field_error(field: str, code: str, detail: str, message: str | None = None) -> ApplicationError:
    return ApplicationError(message or detail, errors=[{"field": field, "code": code, "detail": detail}])


def require_participant(*, user: User, organization: Organization) -> Membership | None:
    """Staff, or a member of the organization; anyone else is refused (the API has already answered 404)."""
    if user.is_walt_staff:
        return None
    membership = membership_get_for_user(user=user, organization=organization)
    if membership is None:
        raise PermissionDeniedError("Only members of the organization and WALT staff can do this.")
    return membership


def require_staff(*, user: User, action: str) -> None:
    if not user.is_walt_staff:
        raise PermissionDeniedError(f"Only WALT staff can {action}.")


def package_now(*, organization: Organization) -> str | None:
    contract = contract_active(organization=organization, at=timezone.now())
    return contract.package if contract else None


def locked(ticket: Ticket) -> Ticket:
    """The ticket row, locked for the rest of the transaction, as it is now (not as the caller last saw it)."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("organization", "requester", "assignee")
        .get(pk=ticket.pk)
    )


def record_event(
    *, ticket: Ticket, actor: User | None, kind: str, detail: dict[str, object], access_grant: AccessGrant | None = None
) -> TicketEvent:
    return TicketEvent.objects.create(
        organization_id=ticket.organization_id,
        ticket=ticket,
        actor=actor,
        kind=kind,
        detail=detail,
        access_grant=access_grant,
    )
