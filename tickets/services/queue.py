from django.db import transaction

from core.exceptions import ApplicationError
from tenancy.models import User
from tickets.models import OPEN_STATUSES, TakeNextSkip, Ticket
from tickets.queue import queue_head
from tickets.services._common import field_error, require_staff
from tickets.services.lifecycle import ticket_assign


def _head_claimed(*, exclude: Ticket | None) -> Ticket | None:
    """Lock the first candidate nobody else holds. With two engineers pressing at once, the second skips the row the
    first has locked and gets the next one. SQLite has no row locks and ignores this, which is right there: its
    IMMEDIATE transactions already run one at a time."""
    return queue_head(exclude=exclude).select_for_update(skip_locked=True).first()


@transaction.atomic
def ticket_take_next(*, engineer: User, skip: Ticket | None = None, reason: str = "") -> Ticket:
    """Assign `engineer` the head of the queue: the highest-priority, oldest unassigned open ticket.

    Passing over the head needs a reason, recorded with who and when: `skip` is the ticket passed over (it goes back
    to the queue if it was assigned to `engineer`, e.g. just taken), and the engineer gets the next one after it.
    Nothing is recorded when there is nothing to take.
    """
    require_staff(user=engineer, action="take tickets from the queue")
    reason = reason.strip()
    if skip is None and reason:
        raise field_error("skip", "required", "Name the ticket you skip.")
    if skip is not None:
        if not reason:
            raise field_error(
                "reason",
                "required",
                "Say why you skip the head of the queue; the reason is recorded.",
                message="Skipping the head of the queue needs a reason.",
            )
        if skip.status not in OPEN_STATUSES or skip.assignee_id not in (None, engineer.pk):
            raise field_error("skip", "not_skippable", f"{skip.reference} is not open and unassigned (or yours).")
        TakeNextSkip.objects.create(organization_id=skip.organization_id, ticket=skip, engineer=engineer, reason=reason)
        if skip.assignee_id == engineer.pk:
            ticket_assign(ticket=skip, actor=engineer, assignee=None)
    head = _head_claimed(exclude=skip)
    if head is None:
        raise ApplicationError(
            "Nothing to take: every open ticket has an engineer.",
            errors=[{"field": "queue", "code": "empty", "detail": "No unassigned open ticket."}],
            status_code=409,
        )
    return ticket_assign(ticket=head, actor=engineer, assignee=engineer)
