from django.http import HttpRequest

from notifications.selectors import notification_unread_count
from tenancy.models import User


def unread(request: HttpRequest) -> dict[str, int]:
    """The unread count of the header's bell: one indexed COUNT per page, nothing for anonymous visitors."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {}
    return {"notifications_unread": notification_unread_count(user=user)}
