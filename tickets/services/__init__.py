"""Every write to tickets goes through these services; each is one transaction."""

from tickets.services.attachments import attachment_add
from tickets.services.changes import ticket_change_record
from tickets.services.conversation import ticket_reply
from tickets.services.lifecycle import (
    ticket_assign,
    ticket_edit,
    ticket_priority_change,
    ticket_status_change,
    ticket_type_change,
)
from tickets.services.opening import ticket_open
from tickets.services.queue import ticket_take_next
from tickets.services.sla_summary import (
    ClockSummary,
    TicketSlaSummary,
    ticket_sla_summaries_set,
    ticket_sla_summary_preset,
    ticket_sla_summary_set,
)
from tickets.services.video_calls import video_call_decide, video_call_request

__all__ = [
    "ClockSummary",
    "TicketSlaSummary",
    "attachment_add",
    "ticket_assign",
    "ticket_change_record",
    "ticket_edit",
    "ticket_open",
    "ticket_priority_change",
    "ticket_reply",
    "ticket_sla_summaries_set",
    "ticket_sla_summary_preset",
    "ticket_sla_summary_set",
    "ticket_status_change",
    "ticket_take_next",
    "ticket_type_change",
    "video_call_decide",
    "video_call_request",
]
