from django.urls import path

from notifications import views

urlpatterns = [
    path("", views.notification_list_page, name="notifications"),
    path("read-all/", views.notification_read_all, name="notification-read-all"),
    path("<uuid:public_id>/read/", views.notification_read, name="notification-read"),
]
