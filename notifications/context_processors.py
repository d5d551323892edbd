from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.selectors import notification_bell
from tenancy.models import User


def unread(request: HttpRequest) -> dict[str, object]:
    """The header's bell: one indexed, capped COUNT when a page shows it, nothing for anonymous visitors.

    Lazy, so that a page which read the count with its own data (the ticket page does) passes it in its context and
    this query never runs.
    """
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {"notifications_unread": SimpleLazyObject(lambda: notification_bell(user=user))}
