from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from notifications.models import Notification
from notifications.selectors import notification_get, notification_list
from notifications.services import notification_mark_all_read, notification_mark_read
from tenancy.models import User

PAGE_SIZE = 50


@login_required
@require_safe
def notification_list_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    page = Paginator(notification_list(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, public_id: UUID) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        notification = notification_get(user=user, public_id=public_id)
    except Notification.DoesNotExist:
        raise Http404 from None  # another person's notice is as missing as one that never existed
    notification_mark_read(notification=notification, user=user)
    return redirect("notifications")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    notification_mark_all_read(user=user)
    return redirect("notifications")
