"""The engineers' queue in the browser: the page, its live rows, and take-next. WALT staff only: 404 for anyone else.

Tickets open in a side panel, which is the ticket page's own fragment (tickets/views.py answers with it when asked with
`X-Requested-With: fetch`), so every action in the panel goes through the same views and services as the ticket page.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from core.exceptions import ApplicationError
from tenancy.selectors import organization_list_for_user
from tenancy.timezones import viewer_timezone
from tenancy.web import TenantRequest, staff_view
from tickets import services
from tickets.filter_fields import FilterFieldsMemo
from tickets.forms import QueueFilterForm, TakeNextForm
from tickets.models import Ticket
from tickets.notices import ticket_link
from tickets.queue import (
    QueueFilters,
    QueuePaginator,
    epoch_ms,
    queue_list,
    queue_ticket_get,
    queue_version,
)
from tickets.queue_counts import queue_counts_recent, queue_day_start
from tickets.queue_rows import QueueRowWriter

PAGE_SIZE = 50
POLL_SECONDS = 5  # new tickets and changes show within this plus one request; the issue asks for 10 s at most
_FILTER_FIELDS = FilterFieldsMemo()


def _fetched(request: TenantRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _filter_form(request: TenantRequest) -> QueueFilterForm:
    # Prefixed ids: the side panel's forms have fields of the same names on the same page.
    return QueueFilterForm(
        request.GET, organizations=organization_list_for_user(user=request.user), auto_id="filter_%s"
    )


def _queue_context(request: TenantRequest, filters: QueueFilters, *, version: str) -> dict[str, Any]:
    """Rows, counts and the change marker. `version` is read before the rows, so a write that lands in between
    makes the next poll fetch again instead of being missed."""
    now = timezone.now()
    page = QueuePaginator(queue_list(user=request.user, filters=filters, now=now), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    zone = viewer_timezone(user=request.user, organization=None)
    writer = QueueRowWriter(viewer=request.user, filters=request.GET, now=now, zone=zone)
    rows = [writer.row(ticket) for ticket in page.object_list]
    day_start = queue_day_start(now=now, zone=zone)
    return {
        "queue_filters": filters,
        "page": page,
        "rows": rows,
        "counts": queue_counts_recent(now=now, day_start=day_start),
        "day_label": f"{day_start:%H:%M} {day_start.tzname()}",
        "zone_name": str(zone),
        "now_ms": epoch_ms(now),
        "version": version,
    }


def _render_queue(
    request: TenantRequest, form: QueueFilterForm, *, status: int = 200, problem: dict[str, Any] | None = None
) -> HttpResponse:
    context: dict[str, Any] = {"filter_fields": _FILTER_FIELDS.html(form), "problem": problem}
    if form.is_valid():
        context |= _queue_context(request, form.queue_filters(), version=queue_version())
        context["poll_seconds"] = POLL_SECONDS
    else:
        # Never rows under filters that did not apply: the engineer would read them as the filtered queue.
        status = 400
        context["problem"] = {"title": "These filters are not valid", "errors": _form_errors(form), "anchor": ""}
    return render(request, "tickets/queue.html", context, status=status)


def _form_errors(form: forms.Form) -> list[str]:
    """Each error on one line, named after its field."""
    lines: list[str] = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.capitalize()) if field is not None else ""
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return lines


@never_cache
@staff_view
@require_safe
def queue_page(request: TenantRequest) -> HttpResponse:
    return _render_queue(request, _filter_form(request))


@never_cache
@staff_view
@require_safe
def queue_rows(request: TenantRequest) -> HttpResponse:
    """What the page polls: 204 when nothing changed since the marker in `since`, else the rows and counts with the
    new marker in `X-Queue-Version`."""
    form = _filter_form(request)
    if not form.is_valid():
        problem = {"title": "These filters are not valid", "errors": _form_errors(form), "anchor": ""}
        return render(request, "tickets/_problem.html", {"problem": problem}, status=400)
    version = queue_version()
    if request.GET.get("since") == version:
        return HttpResponse(status=204)
    response = render(
        request, "tickets/queue_rows.html", _queue_context(request, form.queue_filters(), version=version)
    )
    response["X-Queue-Version"] = version
    return response


@staff_view
@require_POST
def queue_take_next(request: TenantRequest) -> HttpResponse:
    """Assign the caller the head of the queue and go to it (the side panel follows the redirect)."""
    form = TakeNextForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            skip = queue_ticket_get(user=request.user, public_id=data["skip"]) if data["skip"] else None
            ticket = services.ticket_take_next(engineer=request.user, skip=skip, reason=data["reason"])
        except Ticket.DoesNotExist:
            form.add_error("skip", "No such ticket.")
        except ApplicationError as error:
            form.add_application_error(error)
            status = error.status_code
        else:
            messages.success(request, f"{ticket.reference} is yours now.")
            return redirect(ticket_link(ticket))
    problem = {"title": "Nothing was assigned to you", "errors": _form_errors(form), "anchor": ""}
    if _fetched(request):
        return render(request, "tickets/_problem.html", {"problem": problem}, status=status)
    return _render_queue(request, _filter_form(request), status=status, problem=problem)
