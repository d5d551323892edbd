import uuid

import pytest

from notifications.selectors import BELL_COUNT_CAP
from notifications.services import notification_mark_read
from tickets.services import ticket_open

pytestmark = pytest.mark.django_db


def test_the_page_needs_a_sign_in(client):
    response = client.get("/notifications/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_lists_my_notices_with_the_unread_ones_emphasised(client, member, other_member, notify):
    read = notify(member, subject="An old reply")
    notify(member, subject="A new reply", link="/o/acme/")
    notify(other_member, subject="Globex's secret")
    notification_mark_read(notification=read, user=member)
    client.force_login(member)

    page = client.get("/notifications/").content.decode()

    assert "Globex&#x27;s secret" not in page
    assert "Globex's secret" not in page
    assert page.index("A new reply") < page.index("An old reply")
    assert '<li class="notification notification-unread">' in page
    assert '<a href="/o/acme/">A new reply</a>' in page
    assert page.count('class="notification-mark-read"') == 1
    assert "Mark all read" in page


def test_marking_one_read_without_javascript(client, member, notify):
    notification = notify(member)
    client.force_login(member)

    response = client.post(f"/notifications/{notification.public_id}/read/")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_all_read_without_javascript(client, member, notify):
    notifications = [notify(member), notify(member)]
    client.force_login(member)

    response = client.post("/notifications/read-all/")

    assert response.status_code == 302
    for notification in notifications:
        notification.refresh_from_db()
        assert notification.read_at is not None
    assert "Mark all read" not in client.get("/notifications/").content.decode()


@pytest.mark.parametrize("whose", ["another user's", "a missing"])
def test_another_users_notice_is_404(client, member, other_member, notify, whose):
    theirs = notify(other_member)
    public_id = theirs.public_id if whose == "another user's" else uuid.uuid4()
    client.force_login(member)

    response = client.post(f"/notifications/{public_id}/read/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_reading_is_a_post_only(client, member, notify):
    notification = notify(member)
    client.force_login(member)

    assert client.get(f"/notifications/{notification.public_id}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405


def test_an_empty_page_says_so(client, member):
    client.force_login(member)

    assert "No notifications yet." in client.get("/notifications/").content.decode()


def test_the_header_bell_shows_the_unread_count_on_every_page(client, member, notify):
    notify(member)
    read = notify(member)
    notify(member)
    notification_mark_read(notification=read, user=member)
    client.force_login(member)

    page = client.get("/o/acme/").content.decode()

    assert 'href="/notifications/" class="bell" aria-label="Notifications, 2 unread"' in page
    assert '<span class="bell-count">2</span>' in page


def test_past_99_unread_notices_the_bell_says_99_plus_on_every_page(client, member, organization, notify):
    for _ in range(BELL_COUNT_CAP + 1):
        notify(member)
    ticket = ticket_open(
        organization=organization,
        requester=member,
        subject="Checkout returns 502",
        description="Every request fails.",
        ticket_type="incident",
        priority="P2",
        source="portal",
    )
    client.force_login(member)

    # The ticket page reads the bell with the ticket; every other page reads it on its own.
    for path in ("/o/acme/", f"/o/acme/tickets/{ticket.public_id}/"):
        page = client.get(path).content.decode()

        assert 'aria-label="Notifications, 99+ unread"' in page, path
        assert '<span class="bell-count">99+</span>' in page, path


def test_the_bell_has_no_badge_when_everything_is_read(client, member):
    client.force_login(member)

    page = client.get("/o/acme/").content.decode()

    assert 'aria-label="Notifications, 0 unread"' in page
    assert "bell-count" not in page


def test_anonymous_visitors_get_no_bell_and_no_count_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        page = client.get("/accounts/login/").content.decode()

    assert 'class="bell"' not in page
