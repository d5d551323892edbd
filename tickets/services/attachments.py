import hashlib
import uuid

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from tenancy.models import User
from tickets.attachments import RefusedUploadError, classify_upload
from tickets.models import Attachment, Message, Status, Ticket
from tickets.services._common import locked, require_participant


@transaction.atomic
def attachment_add(
    *, ticket: Ticket, uploaded_by: User, upload: UploadedFile, message: Message | None = None, internal: bool = False
) -> Attachment:
    """Store an allow-listed file outside the web root under a random name; it is only ever downloaded."""
    require_participant(user=uploaded_by, organization=ticket.organization)
    if internal and not uploaded_by.is_walt_staff:
        raise PermissionDeniedError("Internal attachments are for WALT staff only.")
    if message is not None and message.ticket_id != ticket.pk:
        raise ApplicationError(
            "The message belongs to another ticket.",
            errors=[{"field": "message", "code": "does_not_exist", "detail": "No such message on this ticket."}],
        )
    try:
        filename, kind = classify_upload(upload, max_bytes=settings.ATTACHMENT_MAX_BYTES)
    except RefusedUploadError as refused:
        raise ApplicationError(
            "The file was not attached.", errors=[{"field": "file", "code": "refused", "detail": str(refused)}]
        ) from refused
    ticket = locked(ticket)
    if ticket.status == Status.CLOSED:
        raise ApplicationError(
            "Closed tickets are final.", errors=[{"field": "ticket", "code": "closed", "detail": "Closed."}]
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    upload.name = f"{uuid.uuid4().hex}.bin"  # the stored name says nothing a browser could act on
    attachment = Attachment(
        organization_id=ticket.organization_id,
        ticket=ticket,
        message=message,
        uploaded_by=uploaded_by,
        file=upload,
        filename=filename,
        content_type=kind.content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        internal=internal or (message is not None and message.internal),
    )
    ticket.last_activity_at = timezone.now()
    ticket.save(update_fields=["last_activity_at", "updated_at"])
    attachment.save()  # last, so nothing in this service can fail after the file is written
    return attachment
