"""The engineers' queue in the browser: the page, its live rows, take-next and the side panel, and who may see them."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tickets import queue as queue_module
from tickets import queue_views
from tickets.models import Message, TakeNextSkip, Ticket
from tickets.services import ticket_assign, video_call_request

pytestmark = pytest.mark.django_db

QUEUE = "/staff/queue/"
ROWS = "/staff/queue/rows/"
TAKE_NEXT = "/staff/queue/take-next/"
FETCH = {"X-Requested-With": "fetch"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response) -> str:
    return str(response.content.decode())


def references(page: str) -> list[str]:
    return re.findall(r'<a class="queue-open" href="[^"]+">([A-Z0-9-]+-\d+)</a>', page)


def order_of(page: str, queue) -> list[str]:
    by_reference = {ticket.reference: name for name, ticket in queue.items()}
    return [by_reference[reference] for reference in references(page)]


def detail_url(ticket) -> str:
    return reverse("ticket-detail", kwargs={"org_slug": ticket.organization.slug, "ticket_id": ticket.public_id})


def action_url(name: str, ticket) -> str:
    return reverse(name, kwargs={"org_slug": ticket.organization.slug, "ticket_id": ticket.public_id})


def test_staff_land_on_the_queue_and_find_it_in_the_navigation(engineer):
    client = client_for(engineer)

    home = client.get("/")
    page = html(client.get(home["Location"]))

    assert home.status_code == 302
    assert home["Location"] == QUEUE
    assert f'<a href="{QUEUE}">Queue</a>' in page


def test_the_page_lists_open_work_in_the_slas_order_and_says_so(engineer, queue):
    response = client_for(engineer).get(QUEUE)
    page = html(response)

    assert response.status_code == 200
    assert order_of(page, queue) == ["G1", "A4", "A2", "A1", "A6", "A3", "G2"]
    assert "Priority (P1 first), then time received (oldest first): the SLA&#x27;s order" in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_another_order_is_named_with_a_way_back(engineer, queue):
    page = html(client_for(engineer).get(QUEUE, {"sort": "due", "region": "US"}))

    assert order_of(page, queue) == ["A2", "A3", "A1", "A6", "A4"]
    assert "Time to breach: the soonest running deadline first (you picked this order)" in page
    assert '<a href="?region=US">Back to the SLA\'s order</a>' in page


def test_filters_live_in_the_url(engineer, queue):
    page = html(client_for(engineer).get(QUEUE, {"organization": "globex", "view": "at_risk"}))

    assert order_of(page, queue) == ["G1"]
    assert 'value="globex"' in page
    assert f'data-rows-url="{ROWS}?organization=globex&amp;view=at_risk"' in page


def test_rows_show_organization_package_region_and_coloured_countdowns(engineer, queue):
    page = html(client_for(engineer).get(QUEUE))
    rows = {match[0]: match[1] for match in re.findall(r'data-ticket="([0-9a-f-]+)">(.*?)</tr>', page, re.S)}

    g1, a1, g2 = (rows[str(queue[name].public_id)] for name in ("G1", "A1", "G2"))
    assert "Globex GmbH" in g1
    assert '<span class="badge badge-standard">Standard</span> <span class="badge">EU</span>' in g1
    assert re.search(r'class="clock clock-warning" data-due="\d+" data-warn="\d+"', g1)
    assert "At risk" in g1
    assert re.search(r'class="clock clock-breached" data-due="\d+"', a1)
    assert re.search(r"\d+ min \d+ s late", a1)
    assert 'class="clock clock-paused"' in g2
    assert "Paused · " in g2


def test_counts_and_todays_compliance_are_on_the_page(engineer, queue):
    page = html(client_for(engineer).get(QUEUE))
    section = re.search(r'<section class="queue-counts".*?</section>', page, re.S)
    assert section is not None
    counts = re.sub(r"\s+", " ", section.group())

    assert '<span class="count-label">At risk</span> <strong>2</strong>' in counts
    assert '<span class="count-label">Breached</span> <strong>1</strong>' in counts
    assert '<span class="count-label">Unassigned</span> <strong>6</strong>' in counts
    assert '<span class="badge badge-p1">P1</span> <strong>3</strong>' in counts
    assert "the share that met their deadline" in counts
    assert "first response <strong>50 %</strong> (1 of 2)" in counts
    assert "resolution <strong>100 %</strong> (1 of 1)" in counts


def test_a_long_queue_says_how_far_it_counts(engineer, queue, monkeypatch):
    monkeypatch.setattr(queue_module, "COUNT_CAP", 3)

    page = html(client_for(engineer).get(QUEUE))

    assert "3+ open tickets: the pages show the first 3; narrow the filters for the rest." in page
    assert len(references(page)) == 3


def test_bad_filters_are_400_with_their_errors_and_no_rows(engineer, queue):
    response = client_for(engineer).get(QUEUE, {"priority": "P9", "organization": "nowhere"})
    page = html(response)

    assert response.status_code == 400
    assert "These filters are not valid" in page
    assert "Organization: No organization has this slug." in page
    assert "Priority: Select a valid choice." in page
    assert references(page) == []
    assert "data-rows-url" not in page


def test_the_page_and_its_refresh_take_a_constant_number_of_queries(engineer, queue, monkeypatch):
    client = client_for(engineer)
    client.get(QUEUE)  # the session is warm, as for an engineer who works here all day
    counts = {}
    for size in (2, 7):
        monkeypatch.setattr(queue_views, "PAGE_SIZE", size)
        for name, path, params in [
            ("page", QUEUE, {}),
            ("filtered", QUEUE, {"organization": "acme", "view": "at_risk", "sort": "due"}),
            ("rows", ROWS, {"organization": "acme"}),
        ]:
            cache.clear()  # the worst case: the counts at a glance are computed, not read from the cache
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path, params).status_code == 200
            counts[name, size] = len(queries)
    version = client.get(ROWS)["X-Queue-Version"]
    with CaptureQueriesContext(connection) as unchanged:
        assert client.get(ROWS, {"since": version}).status_code == 204

    assert counts["page", 2] == counts["page", 7]
    assert counts["filtered", 2] == counts["filtered", 7]
    assert max(counts.values()) <= 8, counts
    assert len(unchanged) <= 3  # session, user, the change marker


def test_the_refresh_answers_204_until_something_changes(engineer, queue):
    client = client_for(engineer)
    first = client.get(ROWS)
    version = first["X-Queue-Version"]

    unchanged = client.get(ROWS, {"since": version})
    ticket_assign(ticket=queue["A3"], actor=engineer, assignee=engineer)
    changed = client.get(ROWS, {"since": version})

    assert first.status_code == 200
    assert "<html" not in html(first)
    assert unchanged.status_code == 204
    assert changed.status_code == 200
    assert changed["X-Queue-Version"] != version
    assert "<strong>You</strong>" in html(changed)


def test_the_refresh_sees_a_clock_the_sla_sweep_changed(engineer, queue, time_machine):
    from sla.services.sweep import sla_sweep  # the test drives the sweep; tickets itself never imports sla

    client = client_for(engineer)
    version = client.get(ROWS)["X-Queue-Version"]
    time_machine.move_to(timezone.now() + timedelta(minutes=6), tick=False)  # G1's first response is now late
    sla_sweep()

    assert client.get(ROWS, {"since": version}).status_code == 200


def test_a_refresh_with_bad_filters_is_400(engineer):
    response = client_for(engineer).get(ROWS, {"view": "everything"})

    assert response.status_code == 400
    assert "These filters are not valid" in html(response)


# ---------------------------------------------------------------- take next


def test_take_next_assigns_the_head_and_opens_it(engineer, queue):
    response = client_for(engineer).post(TAKE_NEXT)

    assert response.status_code == 302
    assert response["Location"] == detail_url(queue["G1"])
    assert Ticket.objects.get(pk=queue["G1"].pk).assignee == engineer


def test_take_next_from_the_page_script_lands_in_the_side_panel(engineer, queue):
    response = client_for(engineer).post(TAKE_NEXT, follow=True, headers=FETCH)
    page = html(response)

    assert response.status_code == 200
    assert "<html" not in page
    assert f'data-ticket="{queue["G1"].public_id}"' in page
    assert f"{queue['G1'].reference} is yours now." in page


def test_skipping_needs_a_reason_and_the_refusal_says_so(engineer, queue):
    client = client_for(engineer)

    refused = client.post(TAKE_NEXT, {"skip": str(queue["G1"].public_id), "reason": " "}, headers=FETCH)
    taken = client.post(TAKE_NEXT, {"skip": str(queue["G1"].public_id), "reason": "Needs German."})

    assert refused.status_code == 400
    assert "Skipping the head of the queue needs a reason." in html(refused)
    assert "<html" not in html(refused)
    assert taken["Location"] == detail_url(queue["A2"])
    assert TakeNextSkip.objects.get().reason == "Needs German."


def test_take_next_on_an_empty_queue_says_so(engineer, queue):
    for name in ("G1", "A2", "A1", "A6", "A3", "G2"):
        ticket_assign(ticket=queue[name], actor=engineer, assignee=engineer)

    response = client_for(engineer).post(TAKE_NEXT)

    assert response.status_code == 409
    assert "Nothing to take: every open ticket has an engineer." in html(response)


# ---------------------------------------------------------------- the side panel


def test_the_ticket_page_answers_the_panel_when_the_queue_asks(engineer, queue):
    ticket = queue["A1"]

    panel = client_for(engineer).get(detail_url(ticket), headers=FETCH)
    page = client_for(engineer).get(detail_url(ticket))

    assert panel.status_code == 200
    assert "<html" not in html(panel)
    assert 'id="panel-title"' in html(panel)
    assert f'action="{action_url("ticket-reply", ticket)}"' in html(panel)
    assert "Add internal note" in html(panel)
    assert "Acme Corp" in html(panel)
    assert '<span class="badge badge-premium">Premium</span>' in html(panel)
    assert "<html" in html(page)
    assert panel["Vary"] == page["Vary"]
    assert "X-Requested-With" in panel["Vary"]


def test_customers_never_get_the_panel(member, queue):
    response = client_for(member).get(detail_url(queue["A1"]), headers=FETCH)

    assert response.status_code == 200
    assert "<html" in html(response)
    assert "Skip this ticket" not in html(response)


def test_reply_and_note_from_the_panel(engineer, queue):
    client = client_for(engineer)
    ticket = queue["A1"]

    replied = client.post(action_url("ticket-reply", ticket), {"body": "Restarted the pool."}, headers=FETCH)
    noted = client.post(action_url("ticket-reply", ticket), {"body": "Pool size 5.", "internal": "on"}, headers=FETCH)

    assert replied.status_code == 200
    assert "Reply posted." in html(replied)
    assert "Restarted the pool." in html(replied)
    assert "<html" not in html(replied)
    assert "Internal note added." in html(noted)
    assert list(Message.objects.filter(ticket=ticket).values_list("internal", flat=True)) == [False, True]


def test_a_refused_panel_action_says_why_in_the_panel(engineer, queue):
    response = client_for(engineer).post(action_url("ticket-reply", queue["A1"]), {"body": ""}, headers=FETCH)

    assert response.status_code == 400
    assert "<html" not in html(response)
    assert "Your reply was not posted" in html(response)
    assert "This field is required." in html(response)


def test_priority_status_assign_and_resolve_from_the_panel(engineer, queue):
    client = client_for(engineer)
    ticket = queue["A2"]

    priority = client.post(action_url("ticket-priority", ticket), {"priority": "P2"}, headers=FETCH)
    assigned = client.post(action_url("ticket-assign", ticket), {"assignee": str(engineer.public_id)}, headers=FETCH)
    waiting = client.post(action_url("ticket-status", ticket), {"status": "waiting_on_customer"}, headers=FETCH)
    resolved = client.post(action_url("ticket-status", ticket), {"status": "resolved"}, headers=FETCH)

    assert [r.status_code for r in (priority, assigned, waiting, resolved)] == [200] * 4
    assert f"{ticket.reference} is now P2." in html(priority)
    assert f"is assigned to {engineer.display_name}." in html(assigned)
    assert f"{ticket.reference} is now resolved." in html(resolved)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, ticket.status) == ("P2", engineer, "resolved")


def test_accept_and_decline_a_video_call_from_the_panel(engineer, member, queue):
    client = client_for(engineer)
    ticket = queue["A1"]
    video_call_request(ticket=ticket, requested_by=member, note="Can we talk?")
    decide = action_url("ticket-video-call-decide", ticket)

    incomplete = client.post(decide, {"decision": "accepted"}, headers=FETCH)
    when = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    accepted = client.post(
        decide, {"decision": "accepted", "scheduled_at": when, "link": "https://meet.example/x"}, headers=FETCH
    )

    assert incomplete.status_code == 400
    assert "The video call was not decided" in html(incomplete)
    assert accepted.status_code == 200
    assert "Video call accepted; the customer is notified." in html(accepted)


# ---------------------------------------------------------------- who may see it


@pytest.mark.parametrize("path", [QUEUE, ROWS, TAKE_NEXT])
@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_customers_get_404_from_every_queue_page(member, org_admin, path, method):
    for customer in (member, org_admin):
        assert getattr(client_for(customer), method)(path).status_code == 404


@pytest.mark.parametrize("path", [QUEUE, ROWS, TAKE_NEXT])
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_queue_page_needs_no_inline_script_or_style(engineer, queue):
    page = html(client_for(engineer).get(QUEUE))

    assert re.findall(r"<script(?![^>]*\bsrc=)", page) == []
    assert " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)


def test_every_value_in_a_row_is_escaped(engineer, organization, member, open_ticket):
    hostile = "\"><img src=x onerror=alert(1)> & 'quoted'"
    organization.name = f"Acme {hostile}"
    organization.save()
    engineer.full_name = f"Eve {hostile}"
    engineer.save()
    ticket = open_ticket(organization, member, subject=f"Down {hostile}")
    ticket_assign(ticket=ticket, actor=engineer, assignee=engineer)

    page = html(client_for(engineer).get(ROWS, {"priority": "P2", "q": hostile}))

    assert "<img" not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#x27;quoted&#x27;" in page
    assert page.count("Acme &quot;&gt;&lt;img") == 2  # the link's text and its title
    assert "Down &quot;&gt;&lt;img" in page
