from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from tenancy.models import User
from tickets.models import Status, Ticket, TicketEvent, VideoCall
from tickets.notices import notify_video_call_decided
from tickets.services._common import locked, record_event, require_participant, require_staff


@transaction.atomic
def video_call_request(*, ticket: Ticket, requested_by: User, note: str = "") -> VideoCall:
    """A customer asks for a video call. WALT decides at its discretion; the request never counts as a response."""
    if require_participant(user=requested_by, organization=ticket.organization) is None:
        raise PermissionDeniedError("Video calls are requested by the customer.")
    ticket = locked(ticket)
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        raise ApplicationError(
            "Video calls can be requested on open tickets only.",
            errors=[{"field": "ticket", "code": "not_open", "detail": f"{ticket.reference} is not open."}],
        )
    call = VideoCall.objects.filter(ticket=ticket).first()
    if call is not None and call.state != VideoCall.State.DECLINED:
        raise ApplicationError(
            "A video call is already requested on this ticket.",
            errors=[{"field": "ticket", "code": "already_requested", "detail": f"State: {call.state}."}],
        )
    call = call or VideoCall(organization_id=ticket.organization_id, ticket=ticket, requested_by=requested_by)
    call.requested_by = requested_by
    call.note = note
    call.state = VideoCall.State.REQUESTED
    call.scheduled_at, call.link, call.reason, call.decided_by, call.decided_at = None, "", "", None, None
    call.save()
    record_event(ticket=ticket, actor=requested_by, kind=TicketEvent.Kind.VIDEO_CALL, detail={"state": call.state})
    return call


@transaction.atomic
def video_call_decide(
    *,
    ticket: Ticket,
    decided_by: User,
    accept: bool,
    scheduled_at: datetime | None = None,
    link: str = "",
    reason: str = "",
) -> VideoCall:
    require_staff(user=decided_by, action="accept or decline video calls")
    ticket = locked(ticket)
    call = VideoCall.objects.select_for_update().filter(ticket=ticket).first()
    if call is None:
        raise ApplicationError(
            "No video call was requested on this ticket.",
            errors=[{"field": "ticket", "code": "not_requested", "detail": "Nothing to decide."}],
        )
    errors = []
    now = timezone.now()
    if accept:
        if scheduled_at is None:
            errors.append({"field": "scheduled_at", "code": "required", "detail": "When does the call take place?"})
        elif scheduled_at <= now:
            errors.append({"field": "scheduled_at", "code": "in_past", "detail": "Choose a time in the future."})
        if not link.startswith("https://"):
            errors.append({"field": "link", "code": "invalid", "detail": "Give the https:// link to join the call."})
    elif not reason.strip():
        errors.append({"field": "reason", "code": "required", "detail": "Tell the customer why, in a sentence."})
    if errors:
        raise ApplicationError("The video call decision is incomplete.", errors=errors)
    call.state = VideoCall.State.ACCEPTED if accept else VideoCall.State.DECLINED
    call.scheduled_at, call.link = (scheduled_at, link) if accept else (None, "")
    call.reason = "" if accept else reason.strip()
    call.decided_by, call.decided_at = decided_by, now
    call.save()
    record_event(ticket=ticket, actor=decided_by, kind=TicketEvent.Kind.VIDEO_CALL, detail={"state": call.state})
    # The caller's datetime may be aware in any zone (the portal reads the engineer's own): label it truly as UTC.
    detail = (
        f"Scheduled for {scheduled_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {link}"
        if accept and scheduled_at
        else call.reason
    )
    notify_video_call_decided(
        ticket=ticket, accepted=accept, detail=detail, event_key=f"video-call:{call.pk}:{now.isoformat()}"
    )
    return call
