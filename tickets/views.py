"""The customer portal's ticket pages, and what staff do on the same pages.

Every action is a small POST view: it parses one form, calls the service, and redirects back to the ticket with a
message; when the service refuses, the ticket page is rendered again with the refusal beside the form (400 or 403).
The engineers' queue opens tickets in a side panel: it asks with `X-Requested-With: fetch`, and then the page and
every action answer with the panel fragment instead (the outcome on top, refusals beside their forms).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import ApplicationError
from tenancy.forms import PortalForm
from tenancy.models import User
from tenancy.selectors import access_grant_active_list, staff_list
from tenancy.services import organization_package
from tenancy.timezones import format_in_timezone, viewer_timezone
from tenancy.web import TenantRequest, tenant_view
from tickets import selectors, services
from tickets.api.views import attachment_response
from tickets.attachments import sanitized_filename
from tickets.entitlements import (
    GUIDANCE_ONLY_EXPLANATION,
    PREMIUM_ONLY_EXPLANATION,
    is_guidance_only,
    may_record_changes,
    ticket_types_for,
)
from tickets.filter_fields import FilterFieldsMemo
from tickets.forms import (
    AssignForm,
    ChangeRecordForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TicketFilterForm,
    TicketOpenForm,
    TypeForm,
    VideoCallDecideForm,
    VideoCallRequestForm,
)
from tickets.list_rows import ticket_list_rows_html
from tickets.models import Attachment, Message, Status, Ticket, TicketType, VideoCall
from tickets.notices import ticket_link, ticket_link_writer

PAGE_SIZE = 25
_FILTER_FIELDS = FilterFieldsMemo()


def _wants_panel(request: TenantRequest) -> bool:
    """The queue's side panel (staff only) fetches the ticket and posts its actions with this header."""
    return request.user.is_walt_staff and request.headers.get("X-Requested-With") == "fetch"


def _zone(request: TenantRequest) -> tzinfo:
    return viewer_timezone(user=request.user, organization=request.organization)


def _ticket(request: TenantRequest, ticket_id: UUID) -> Ticket:
    try:
        ticket = selectors.ticket_get(organization=request.organization, public_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404 from None  # unknown and foreign ids answer alike
    ticket.organization = request.organization  # already loaded: spares the services and selectors a query
    return ticket


def _refusal(error: ApplicationError) -> str:
    details = [str(item.get("detail", "")) for item in error.errors if item.get("detail")]
    return " ".join([error.message, *[detail for detail in details if detail != error.message]])


def _error_list(form: forms.Form) -> list[str]:
    """Every error of a form as one line each, for the summary at the top of the page."""
    lines: list[str] = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ").capitalize()) if field is not None else ""
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return lines


@tenant_view
@require_safe
def ticket_list_page(request: TenantRequest) -> HttpResponse:
    filters = TicketFilterForm(request.GET)
    valid = filters.is_valid()
    chosen = filters.cleaned_data  # only the valid filters apply; the invalid ones are shown with their error
    tickets = selectors.ticket_list(
        organization=request.organization,
        status=chosen.get("status") or None,
        priority=chosen.get("priority") or None,
        ticket_type=chosen.get("type") or None,
        text=(chosen.get("q") or "").strip() or None,
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "organization": request.organization,
        "filter_fields": _FILTER_FIELDS.html(filters),
        "filtered": any(chosen.values()),
        "page": page,
        "rows": ticket_list_rows_html(
            page, slug=request.organization.slug, link=ticket_link_writer(), zone=_zone(request)
        ),
        "may_file": not request.user.is_walt_staff,
    }
    return render(request, "tickets/ticket_list.html", context, status=200 if valid else 400)


@tenant_view
@require_http_methods(["GET", "HEAD", "POST"])
def ticket_new(request: TenantRequest) -> HttpResponse:
    organization = request.organization
    if request.user.is_walt_staff:
        return render(request, "tickets/ticket_new_staff.html", {"organization": organization}, status=403)
    package = organization_package(organization=organization)
    ticket_types = ticket_types_for(package=package)
    form = TicketOpenForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        ticket_types=ticket_types,
        guidance_only_changes=is_guidance_only(package=package, ticket_type=TicketType.CHANGE_REQUEST),
        zone=_zone(request),
    )
    if not form.is_bound:
        return _render_new(request, form, package=package, ticket_types=ticket_types)
    if not form.is_valid():
        return _render_new(request, form, package=package, ticket_types=ticket_types, status=400)
    data = form.cleaned_data
    try:
        ticket = services.ticket_open(
            organization=organization,
            requester=request.user,
            subject=data["subject"],
            description=data["description"],
            ticket_type=data["type"],
            priority=data["priority"],
            source="portal",
        )
    except ApplicationError as error:
        form.add_application_error(error)
        return _render_new(request, form, package=package, ticket_types=ticket_types, status=error.status_code)
    messages.success(request, f"{ticket.reference} is open. WALT Labs support answers here, on the ticket.")
    # The ticket exists whatever happens to its files: a refused file is reported, not a reason to lose the ticket.
    for upload in data["attachments"]:
        try:
            services.attachment_add(ticket=ticket, uploaded_by=request.user, upload=upload)
        except ApplicationError as refused:
            name = sanitized_filename(upload.name or "")
            messages.error(request, f"{name} was not attached: {_refusal(refused)} Add it again in a reply.")
    return redirect(ticket_link(ticket))


def _render_new(
    request: TenantRequest,
    form: TicketOpenForm,
    *,
    package: str | None,
    ticket_types: tuple[str, ...],
    status: int = 200,
) -> HttpResponse:
    context = {
        "organization": request.organization,
        "form": form,
        "package": package,
        "missing_types": [label for value, label in TicketType.choices if value not in ticket_types],
        "premium_only_explanation": PREMIUM_ONLY_EXPLANATION,
        "errors": _error_list(form) if form.is_bound else [],
    }
    return render(request, "tickets/ticket_new.html", context, status=status)


@tenant_view
@require_safe
def ticket_detail(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    return _render_detail(request, ticket_id)


@dataclass(frozen=True)
class ConversationEntry:
    message: Message
    files: list[Attachment]
    posted: str  # in the viewer's timezone, UTC beside it
    posted_iso: str  # for the <time> element, as Django's `date:'c'` writes it


def _conversation(page: selectors.TicketPage, *, include_internal: bool, zone: tzinfo) -> list[ConversationEntry]:
    """The replies (and notes, for staff) with their files, which the page's row already holds, and when each was
    posted, made once here rather than by template filters."""
    files_by_message: dict[int, list[Attachment]] = defaultdict(list)
    for attachment in page.files:
        if attachment.message_id is not None:
            files_by_message[attachment.message_id].append(attachment)
    return [
        ConversationEntry(
            message=message,
            files=files_by_message[message.pk],
            posted=format_in_timezone(message.created_at, zone),
            posted_iso=timezone.localtime(message.created_at).isoformat(),
        )
        for message in selectors.conversation_list(ticket=page.ticket, include_internal=include_internal)
    ]


def _render_detail(
    request: TenantRequest,
    ticket_id: UUID,
    *,
    status: int = 200,
    failed: tuple[str, PortalForm, str] | None = None,
) -> HttpResponse:
    """The ticket page, or the queue's side panel, as the ticket is now; `failed` is (form name, bound form with its
    errors, what did not happen)."""
    organization = request.organization
    staff = request.user.is_walt_staff
    zone = _zone(request)
    now = timezone.now()
    try:
        page = selectors.ticket_page_get(
            organization=organization, public_id=ticket_id, viewer=request.user, include_internal=staff, at=now
        )
    except Ticket.DoesNotExist:
        raise Http404 from None  # unknown and foreign ids answer alike
    ticket = page.ticket
    ticket.organization = organization  # already loaded: spares the SLA panel a query
    panel = _wants_panel(request)
    context: dict[str, Any] = {
        "organization": organization,
        "package": page.package,
        "ticket": ticket,
        "is_staff": staff,
        "notifications_unread": page.unread_notifications,  # read with the ticket: the bell costs no query of its own
        "conversation": _conversation(page, include_internal=staff, zone=zone),
        "attachments": page.files,
        "events": page.events,
        "video_call": page.video_call,
        "guidance_only_explanation": GUIDANCE_ONLY_EXPLANATION,
        "is_closed": ticket.status == Status.CLOSED,
        "may_reopen": ticket.status == Status.RESOLVED,
        "may_request_call": not staff and ticket.status not in (Status.RESOLVED, Status.CLOSED),
        "reply_form": ReplyForm(zone=zone),
        "video_call_request_form": VideoCallRequestForm(zone=zone),
    }
    if staff:
        may_change = may_record_changes(package=page.package)
        context |= {
            "status_form": StatusForm(initial={"status": ticket.status}),
            "priority_form": PriorityForm(initial={"priority": ticket.priority}),
            "type_form": TypeForm(initial={"type": ticket.type}),
            "assign_form": AssignForm(
                initial={"assignee": ticket.assignee.public_id if ticket.assignee else None}, staff=staff_list()
            ),
            "decide_form": VideoCallDecideForm(zone=zone),
            "may_record_changes": may_change,
            "grants_in_force": page.grants_in_force,
            "change_form": ChangeRecordForm(
                zone=zone, grants=access_grant_active_list(organization=organization, at=now)
            )
            if may_change
            else None,
        }
    if failed is not None:
        name, form, what = failed
        context[name] = form
        context["problem"] = {"title": what, "errors": _error_list(form), "anchor": name.removesuffix("_form")}
    template = "tickets/queue_panel.html" if panel else "tickets/ticket_detail.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["X-Requested-With"])  # one URL, two representations: caches must tell them apart
    return response


def _act(
    request: TenantRequest,
    ticket_id: UUID,
    *,
    form: PortalForm,
    name: str,
    failure: str,
    perform: Callable[[Ticket, dict[str, Any]], str],
) -> HttpResponse:
    """Validate `form`, let `perform` call the service and say what happened; on refusal show the ticket again."""
    ticket = _ticket(request, ticket_id)
    status = 400
    if form.is_valid():
        try:
            done = perform(ticket, form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
            status = error.status_code
        else:
            messages.success(request, done)
            if _wants_panel(request):
                return _render_detail(request, ticket_id)
            return redirect(ticket_link(ticket))
    return _render_detail(request, ticket_id, status=status, failed=(name, form, failure))


@tenant_view
@require_POST
def ticket_reply(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        message = services.ticket_reply(
            ticket=ticket, author=request.user, body=data["body"], internal=bool(data["internal"])
        )
        if data["file"] is not None:
            # The message stands even when its file is refused: say so rather than pretend nothing was posted.
            try:
                services.attachment_add(ticket=ticket, uploaded_by=request.user, upload=data["file"], message=message)
            except ApplicationError as refused:
                name = sanitized_filename(data["file"].name or "")
                messages.error(request, f"{name} was not attached: {_refusal(refused)}")
        return "Internal note added." if message.internal else "Reply posted."

    form = ReplyForm(request.POST, request.FILES, zone=_zone(request))
    return _act(request, ticket_id, form=form, name="reply_form", failure="Your reply was not posted", perform=perform)


@tenant_view
@require_POST
def ticket_status(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        ticket = services.ticket_status_change(ticket=ticket, actor=request.user, status=data["status"])
        return f"{ticket.reference} is now {ticket.get_status_display().lower()}."

    form = StatusForm(request.POST)
    return _act(request, ticket_id, form=form, name="status_form", failure="The status did not change", perform=perform)


@tenant_view
@require_POST
def ticket_priority(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        ticket = services.ticket_priority_change(ticket=ticket, actor=request.user, priority=data["priority"])
        return f"{ticket.reference} is now {ticket.priority}."

    form = PriorityForm(request.POST)
    return _act(
        request, ticket_id, form=form, name="priority_form", failure="The priority did not change", perform=perform
    )


@tenant_view
@require_POST
def ticket_type(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        ticket = services.ticket_type_change(ticket=ticket, actor=request.user, ticket_type=data["type"])
        return f"{ticket.reference} is now a {ticket.get_type_display().lower()}."

    form = TypeForm(request.POST)
    return _act(request, ticket_id, form=form, name="type_form", failure="The type did not change", perform=perform)


@tenant_view
@require_POST
def ticket_assign(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        assignee: User | None = data["assignee"]
        ticket = services.ticket_assign(ticket=ticket, actor=request.user, assignee=assignee)
        return f"{ticket.reference} is assigned to {assignee.display_name}." if assignee else "Unassigned."

    form = AssignForm(request.POST, staff=staff_list())
    return _act(
        request, ticket_id, form=form, name="assign_form", failure="The assignee did not change", perform=perform
    )


@tenant_view
@require_POST
def ticket_video_call(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        services.video_call_request(ticket=ticket, requested_by=request.user, note=data["note"])
        return "Video call requested. WALT Labs will accept or decline it here."

    form = VideoCallRequestForm(request.POST)
    return _act(
        request,
        ticket_id,
        form=form,
        name="video_call_request_form",
        failure="The video call was not requested",
        perform=perform,
    )


@tenant_view
@require_POST
def ticket_video_call_decide(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        call = services.video_call_decide(
            ticket=ticket,
            decided_by=request.user,
            accept=data["decision"] == VideoCall.State.ACCEPTED,
            scheduled_at=data["scheduled_at"],
            link=data["link"],
            reason=data["reason"],
        )
        return f"Video call {call.get_state_display().lower()}; the customer is notified."

    form = VideoCallDecideForm(request.POST, zone=_zone(request))
    return _act(
        request, ticket_id, form=form, name="decide_form", failure="The video call was not decided", perform=perform
    )


@tenant_view
@require_POST
def ticket_change_record(request: TenantRequest, ticket_id: UUID) -> HttpResponse:
    def perform(ticket: Ticket, data: dict[str, Any]) -> str:
        services.ticket_change_record(
            ticket=ticket, actor=request.user, access_grant=data["access_grant"], description=data["description"]
        )
        return "Change recorded in the audit trail."

    grants = access_grant_active_list(organization=request.organization, at=timezone.now())
    form = ChangeRecordForm(request.POST, grants=grants, zone=_zone(request))
    return _act(
        request, ticket_id, form=form, name="change_form", failure="The change was not recorded", perform=perform
    )


@tenant_view
@require_safe
def ticket_attachment(request: TenantRequest, ticket_id: UUID, attachment_id: UUID) -> HttpResponseBase:
    ticket = _ticket(request, ticket_id)
    try:
        attachment = selectors.attachment_get(
            ticket=ticket, public_id=attachment_id, include_internal=request.user.is_walt_staff
        )
    except Attachment.DoesNotExist:
        raise Http404 from None  # a customer asking for an internal file learns nothing either
    return attachment_response(attachment)
