from django.urls import path

from maintenance import views

customer = "o/<slug:org_slug>/maintenance/"
staff = "staff/maintenance/"

urlpatterns = [
    path(customer, views.maintenance_page, name="maintenance-page"),
    path(f"{customer}calendar/rotate/", views.calendar_feed_rotate_page, name="maintenance-calendar-rotate"),
    path(f"{customer}notices/<uuid:notice_id>/dismiss/", views.notice_dismiss_page, name="maintenance-notice-dismiss"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="maintenance-calendar-feed"),
    path(staff, views.staff_calendar, name="maintenance-staff-calendar"),
    path(f"{staff}windows/new/", views.staff_window_new, name="maintenance-staff-window-new"),
    path(f"{staff}occurrences/cancel/", views.staff_occurrence_cancel, name="maintenance-staff-occurrence-cancel"),
    path(f"{staff}notices/new/", views.staff_notice_new, name="maintenance-staff-notice-new"),
    path(f"{staff}notices/<uuid:notice_id>/", views.staff_notice_edit, name="maintenance-staff-notice-edit"),
]
