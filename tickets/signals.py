"""Ticket lifecycle events.

Sent only by tickets.services, inside the service's transaction and after the ticket row is written, so a
receiver's writes commit or roll back with the change itself. Higher apps (sla, monitoring) connect receivers in
their AppConfig.ready(); tickets never imports them. Every signal is sent with sender=Ticket.

    ticket_opening           ticket, contract                               the one exception: just before a new
                                                                            ticket is stored (no pk yet). Receivers
                                                                            only set fields derived from it (sla:
                                                                            its SLA summary) and write nothing
    ticket_opened            ticket, contract                               any source: portal, API, monitoring;
                                                                            contract: the one in force as it opened
    ticket_replied           ticket, message, first_response: bool         public replies and internal notes
    ticket_status_changed    ticket, old_status, new_status, actor          includes reopen (resolved → open)
    ticket_priority_changed  ticket, old_priority, new_priority, actor
    ticket_type_changed      ticket, old_type, new_type, actor
    ticket_assigned          ticket, old_assignee, new_assignee, actor      assignee may be None (unassigned)
"""

from django.dispatch import Signal

ticket_opening = Signal()
ticket_opened = Signal()
ticket_replied = Signal()
ticket_status_changed = Signal()
ticket_priority_changed = Signal()
ticket_type_changed = Signal()
ticket_assigned = Signal()
