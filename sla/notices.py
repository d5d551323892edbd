"""Warning and breach notices: to the assignee (or the engineers on duty) and the support admins."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from notifications.services import Notice, notification_enqueue_many
from tenancy.models import User
from tenancy.selectors import staff_on_duty_list, support_admin_list
from tickets.notices import ticket_link

if TYPE_CHECKING:
    from sla.models import Clock, Record


def _duration(seconds: float) -> str:
    minutes = round(abs(seconds) / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def record_notice(*, record: "Record", clock: "Clock", on_duty: Iterable[User], admins: Iterable[User]) -> Notice:
    ticket = clock.ticket
    recipients = ({ticket.assignee} if ticket.assignee else set(on_duty)) | set(admins)
    clock_name = clock.get_kind_display().lower()
    deadline = f"{clock.due_at:%Y-%m-%d %H:%M} UTC" if clock.due_at else "—"
    where = f"{ticket.reference} ({ticket.organization.name}, {ticket.priority})"
    if record.kind == "breach":
        late = _duration(record.lateness_seconds)
        subject = f"[{ticket.reference}] SLA breached: {clock_name} was due {deadline}"
        body = f"The {clock_name} deadline of {where} was {deadline}; it was missed, recorded {late} after it."
    else:
        left = _duration((clock.due_at - record.recorded_at).total_seconds()) if clock.due_at else "little time"
        subject = f"[{ticket.reference}] SLA warning: {clock_name} due {deadline}"
        body = f"{where} has {left} left before its {clock_name} deadline at {deadline}."
    return Notice(
        event_key=f"sla-{record.kind}:{clock.pk}",
        recipients=recipients,
        subject=subject,
        body=f"{body}\n\n{ticket.subject}",
        link=ticket_link(ticket),
    )


def notify_records(records: list[tuple["Record", "Clock"]]) -> None:
    if not records:
        return
    on_duty, admins = list(staff_on_duty_list()), list(support_admin_list())
    notification_enqueue_many(
        notices=[record_notice(record=record, clock=clock, on_duty=on_duty, admins=admins) for record, clock in records]
    )
