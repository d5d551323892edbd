import uuid

import pytest

from notifications.services import notification_mark_read

pytestmark = pytest.mark.django_db


def test_signed_in_users_list_only_their_own_notices_unread_first(api_client, member, other_member, notify):
    read = notify(member, subject="read")
    unread = notify(member, subject="unread", link="/o/acme/")
    notify(other_member, subject="someone else's")
    notification_mark_read(notification=read, user=member)
    read.refresh_from_db()

    response = api_client(member).get("/api/v1/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"][0] == {
        "id": str(unread.public_id),
        "subject": "unread",
        "body": "Ada replied.",
        "link": "/o/acme/",
        "created_at": unread.created_at.isoformat().replace("+00:00", "Z"),
        "read_at": None,
    }
    assert [item["id"] for item in body["results"]] == [str(unread.public_id), str(read.public_id)]
    assert body["results"][1]["read_at"] is not None


def test_staff_have_notices_too(api_client, engineer, notify):
    notify(engineer)

    assert api_client(engineer).get("/api/v1/notifications/").json()["count"] == 1


def test_the_list_is_paginated(api_client, member, notify):
    for _ in range(3):
        notify(member)

    body = api_client(member).get("/api/v1/notifications/?page_size=2").json()

    assert (body["count"], len(body["results"])) == (3, 2)
    assert body["next"] is not None


def test_marking_a_notice_read(api_client, member, notify):
    notification = notify(member)

    response = api_client(member).post(f"/api/v1/notifications/{notification.public_id}/read/")

    assert response.status_code == 204
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.parametrize("whose", ["another user's", "a missing"])
def test_another_users_notice_is_404_like_a_missing_one(api_client, member, other_member, notify, whose):
    theirs = notify(other_member)
    public_id = theirs.public_id if whose == "another user's" else uuid.uuid4()

    response = api_client(member).post(f"/api/v1/notifications/{public_id}/read/")

    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "errors": []}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_all_read_leaves_other_peoples_notices_alone(api_client, member, other_member, notify):
    mine = [notify(member), notify(member)]
    theirs = notify(other_member)

    response = api_client(member).post("/api/v1/notifications/read-all/")

    assert response.status_code == 204
    assert all(notification.read_at for notification in _refreshed(mine))
    assert _refreshed([theirs])[0].read_at is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/notifications/"),
        ("post", f"/api/v1/notifications/{uuid.uuid4()}/read/"),
        ("post", "/api/v1/notifications/read-all/"),
    ],
)
def test_anonymous_callers_get_401(api_client, db, method, path):
    response = getattr(api_client(), method)(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def _refreshed(notifications):
    for notification in notifications:
        notification.refresh_from_db()
    return notifications
