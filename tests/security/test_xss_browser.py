"""Content attacks in a real browser: stored and reflected script payloads through every input the portal renders.

Each payload goes in through the input a person or a monitoring system really uses (the API as that person, the
alert intake, the portal's own upload form), then headless Chromium opens every page that shows it, as the customer,
the engineer and the support admin (Django admin included), plus the bell page and every e-mail sent.

The browser contexts bypass the Content-Security-Policy: escaping alone must keep the payloads inert, so a dialog
(`alert()`) would fire if any of them reached the page as markup. The policy is still checked on every response. On
each page the test also looks at the DOM for what a payload could leave behind without firing (event-handler
attributes, `javascript:`/`data:` links, frames, foreign scripts) and reads the payload back as visible text.
"""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from rest_framework.test import APIClient

from maintenance.models import Notice, RecurringWindow
from maintenance.services import calendar_feed_ensure, notice_create, notice_send_due, one_off_window_create
from monitoring.models import AlertGroup, InboundEvent
from monitoring.services import inbound_event_process
from notifications.models import Notification
from notifications.services import outbox_deliver_due
from sla.models import Record
from sla.services import sla_sweep
from tenancy.models import AccessGrant, Membership, Organization, User
from tests.factories import MembershipFactory, StaffFactory
from tests.security.routes import url_routes
from tickets.models import Attachment, Ticket
from tickets.services import ticket_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "xss"
CALL_LINK = "https://meet.example/x\"><svg/onload=alert('call-link')>"


def text_payload(label: str) -> str:
    """One line that breaks out of text, double- and single-quoted attributes, and carries its own label: every
    `alert()` names the field it came from. Under 200 characters, so it fits every name and title field."""
    assert len(label) <= 14, "a longer label would not fit a 200-character field"
    return (
        f"{label} \"><img src=x onerror=alert('{label}')><svg onload=alert('{label}')>"
        f"<script>alert('{label}')</script>' autofocus onfocus=alert('{label}') x='&lt;i&gt;"
    )


# Markdown fields go through the sanitizer, not escaping: what must survive is the marker, never the markup.
MARKDOWN_ATTACKS = "\n\n".join(
    [
        "[javascript link](javascript:alert('md-js'))",
        "[mixed-case link](JaVaScRiPt:alert('md-case'))",
        "[entity link](javascript&#58;alert('md-entity'))",
        "[tab link](java\tscript:alert('md-tab'))",
        "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgnbWQtZGF0YScpPC9zY3JpcHQ+)",
        "[vbscript link](vbscript:msgbox('md-vb'))",
        "![image](javascript:alert('md-image'))",
        "<javascript:alert('md-autolink')>",
        "[reference link][evil]\n\n[evil]: javascript:alert('md-reference')",
        "<a href=\"javascript:alert('md-anchor')\" onclick=\"alert('md-click')\">raw anchor</a>",
        "<img src=x onerror=alert('md-img')>",
        "<svg><animate onbegin=alert('md-svg') attributeName=x dur=1s></svg>",
        "<iframe srcdoc=\"<script>parent.alert('md-frame')</script>\"></iframe>",
        "<details open ontoggle=alert('md-toggle')><summary>x</summary></details>",
        "<script>alert('md-script')</script>",
        "<style>body{background:url(javascript:alert('md-style'))}</style>",
        "<form action=javascript:alert('md-form')><button>go</button></form>",
        "`<img src=x onerror=alert('md-code')>`",
        "&lt;script&gt;alert('md-escaped')&lt;/script&gt; &#60;img src=x onerror=alert('md-numeric')&#62;",
    ]
)


def markdown_payload(marker: str) -> str:
    return f"{marker}\n\n{MARKDOWN_ATTACKS}\n\nend of {marker}"


# What a payload could leave in the DOM without firing on its own: handlers, script URLs, frames, foreign scripts.
DOM_PROBLEMS = r"""() => {
  const problems = [];
  // The scheme as the browser itself resolves the URL (it drops tabs and line breaks, trims spaces): what a click runs.
  const scheme = (value) => {
    try { return new URL(value, location.href).protocol; } catch (error) { return ""; }
  };
  const urlAttributes = ["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"];
  for (const element of document.querySelectorAll("*")) {
    const tag = element.tagName.toLowerCase();
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name === "srcdoc") problems.push(`<${tag}> has ${name}`);
      const used = scheme(attribute.value);
      if (urlAttributes.includes(name) && ["javascript:", "vbscript:", "data:"].includes(used)) {
        if (!(tag === "img" && name === "src" && attribute.value.startsWith("data:image/"))) {
          problems.push(`<${tag} ${name}="${attribute.value.slice(0, 80)}">`);
        }
      }
    }
    // Django admin draws its own icons as inline SVG; what an injected SVG could do, it does with these elements.
    const active = ["iframe", "frame", "object", "embed", "base", "applet", "portal", "animate", "set"];
    active.push("foreignobject");
    if (active.includes(tag)) problems.push(`<${tag}> element`);
    const reference = element.getAttribute("href") || element.getAttribute("xlink:href") || "#";
    if (tag === "use" && !reference.startsWith("#")) problems.push(`<use href="${reference.slice(0, 80)}">`);
    if (tag === "script") {
      const src = element.getAttribute("src");
      const type = (element.getAttribute("type") || "").toLowerCase();
      const ours = src && new URL(src, location.href).origin === location.origin;
      if (src ? !ours : !type.includes("json")) problems.push(`<script> ${src || element.textContent.slice(0, 80)}`);
    }
    if (tag === "meta" && element.hasAttribute("http-equiv")) problems.push("<meta http-equiv>");
  }
  return problems;
}"""


# ------------------------------------------------------------------------------------------------ the payload world


@dataclass
class PayloadWorld:
    organization: Organization
    customer_admin: User
    member: User
    engineer: User
    support_admin: User
    ticket: Ticket  # subject, description, replies, an internal note, an accepted video call, a change record
    declined: Ticket  # a declined video call
    alert_tickets: list[Ticket]
    source_id: str
    grant: AccessGrant
    notice: Notice
    texts: dict[str, str] = field(default_factory=dict)  # field → the payload stored in it
    url_values: dict[str, str] = field(default_factory=dict)  # a real object for each URL parameter

    def text(self, *labels: str) -> list[str]:
        return [self.texts[label] for label in labels]


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def created(response: Any) -> dict[str, Any]:
    assert response.status_code in {200, 201, 202}, (response.status_code, response.content[:2000])
    return dict(response.json())


def alertmanager_body(texts: dict[str, str]) -> dict[str, Any]:
    labels = {
        "alertname": texts["alertname"],
        "severity": "critical",
        "instance": texts["label-value"],
        "<img src=x onerror=alert('label-key')>": "key with markup",
    }
    annotations = {
        "summary": texts["alert-summary"],
        "description": markdown_payload("marker-annotation"),
        "runbook_url": "https://runbooks.example/disk\"><svg/onload=alert('runbook')>",
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": "firing",
        "receiver": "walt",
        "externalURL": "javascript:alert('external')",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": timezone.now().isoformat(),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "javascript:alert('generator')",
                "dashboardURL": "https://grafana.example/d/x?panel=\"><img src=x onerror=alert('dashboard')>",
                "fingerprint": "xss-fingerprint-1",
            }
        ],
    }


def pagerduty_body(texts: dict[str, str]) -> dict[str, Any]:
    return {
        "routing_key": "R0123456789abcdef0123456789abcde",
        "event_action": "trigger",
        "dedup_key": "<script>alert('dedup-key')</script>",
        "payload": {
            "summary": texts["pd-summary"],
            "source": "db-1\"><img src=x onerror=alert('pd-source')>",
            "severity": "critical",
            "custom_details": {"note": "<img src=x onerror=alert('pd-detail')>", "nested": {"x": "<svg onload=1>"}},
        },
        "links": [
            {"href": "javascript:alert('pd-link')", "text": texts["pd-link-text"]},
            {"href": "https://ok.example/\"><img src=x onerror=alert('pd-href')>", "text": "quoted href"},
        ],
    }


@pytest.fixture
def payload_world(transactional_db, settings, tmp_path) -> PayloadWorld:
    settings.MEDIA_ROOT = tmp_path / "media"
    # Alerts received inside a maintenance window are held back: keep the region's daily windows out of this world.
    RecurringWindow.objects.all().delete()
    labels = [
        "org-name", "admin-name", "member-name", "engineer-name", "subject", "declined", "call-note",
        "call-reason", "grant-scope", "grant-cred", "change", "source-name", "alertname",
        "label-value", "alert-summary", "pd-summary", "pd-link-text", "window-title", "notice-title", "policy-reason",
    ]  # fmt: skip
    texts = {label: text_payload(label) for label in labels}

    support_admin = StaffFactory.create(staff_role=User.StaffRole.SUPPORT_ADMIN, full_name="Sam Admin")
    engineer = StaffFactory.create(
        staff_role=User.StaffRole.SUPPORT_ENGINEER, on_duty=True, full_name=texts["engineer-name"]
    )
    created(
        api(support_admin).post(
            "/api/v1/orgs/",
            {"name": texts["org-name"], "slug": SLUG, "region": "US", "timezone": "UTC", "package": "premium"},
            format="json",
        )
    )
    organization = Organization.objects.get(slug=SLUG)
    # Names are typed by admins in the Django admin: the model is what the admin form saves.
    customer_admin = MembershipFactory.create(
        organization=organization, role=Membership.Role.ADMIN, user__full_name=texts["admin-name"]
    ).user
    member = MembershipFactory.create(
        organization=organization, role=Membership.Role.MEMBER, user__full_name=texts["member-name"]
    ).user

    base = f"/api/v1/orgs/{SLUG}"
    customer, staff = api(customer_admin), api(engineer)
    created(
        staff.put(
            f"{base}/contract/",
            {"overrides": {"warning_threshold": 0.8}, "reason": texts["policy-reason"]},
            format="json",
        )
    )
    ticket_id = created(
        customer.post(
            f"{base}/tickets/",
            {
                "subject": texts["subject"],
                "description": markdown_payload("marker-description"),
                "type": "incident",
                "priority": "P1",
            },
            format="json",
        )
    )["id"]
    tickets = f"{base}/tickets/{ticket_id}"
    created(staff.patch(f"{tickets}/", {"assignee": str(engineer.public_id)}, format="json"))  # hears the customer
    created(customer.post(f"{tickets}/messages/", {"body": markdown_payload("marker-customer-reply")}, format="json"))
    created(staff.post(f"{tickets}/messages/", {"body": markdown_payload("marker-staff-reply")}, format="json"))
    created(
        staff.post(
            f"{tickets}/messages/", {"body": markdown_payload("marker-internal-note"), "internal": True}, format="json"
        )
    )
    created(api(member).post(f"{tickets}/video-call/", {"note": texts["call-note"]}, format="json"))
    created(
        staff.patch(
            f"{tickets}/video-call/",
            {
                "status": "accepted",
                "scheduled_at": (timezone.now() + timedelta(days=1)).isoformat(),
                "link": CALL_LINK,
            },
            format="json",
        )
    )
    grant = created(
        customer.post(
            f"{base}/access-grants/",
            {
                "scope": texts["grant-scope"],
                "credentials_reference": texts["grant-cred"],
                "valid_from": timezone.now().isoformat(),
                "valid_until": (timezone.now() + timedelta(days=7)).isoformat(),
            },
            format="json",
        )
    )
    created(
        staff.post(
            f"{tickets}/changes/",
            {"access_grant": grant["id"], "description": texts["change"]},
            format="json",
        )
    )
    declined_id = created(
        api(member).post(
            f"{base}/tickets/",
            {"subject": texts["declined"], "description": "", "type": "question", "priority": "P3"},
            format="json",
        )
    )["id"]
    created(api(member).post(f"{base}/tickets/{declined_id}/video-call/", {"note": "Can we talk?"}, format="json"))
    created(
        staff.patch(
            f"{base}/tickets/{declined_id}/video-call/",
            {"status": "declined", "reason": texts["call-reason"]},
            format="json",
        )
    )

    # Monitoring: a source named with a payload, two alerts through the real intake, and a refused delivery whose
    # body and error paths carry markup (the source page lists both).
    source = created(
        customer.post(
            f"{base}/monitoring/sources/", {"kind": "alertmanager", "name": texts["source-name"]}, format="json"
        )
    )
    pagerduty = created(
        customer.post(f"{base}/monitoring/sources/", {"kind": "pagerduty", "name": "PD"}, format="json")
    )
    intake = Client()
    for kind, token, body in (
        ("alertmanager", source["token"], alertmanager_body(texts)),
        ("pagerduty", pagerduty["token"], pagerduty_body(texts)),
    ):
        accepted = created(
            intake.post(f"/api/v1/integrations/{kind}/{token}/", data=body, content_type="application/json")
        )
        inbound_event_process(event_id=InboundEvent.objects.get(public_id=accepted["event_id"]).pk)
    refused = intake.post(
        f"/api/v1/integrations/alertmanager/{source['token']}/",
        data={"version": "4", "status": "firing", "alerts": {"<img src=x onerror=alert('error-path')>": 1}},
        content_type="application/json",
    )
    assert refused.status_code == 400, refused.content
    alert_tickets = list(Ticket.objects.filter(organization=organization, source="monitoring").order_by("pk"))
    assert len(alert_tickets) == 2, AlertGroup.objects.values_list("state", flat=True)

    # Maintenance: a window of this organization's own and a published notice about it, announced by e-mail.
    now = timezone.now()
    window = one_off_window_create(
        title=texts["window-title"],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        region="",
        organizations=[organization],
        created_by=support_admin,
    )
    notice = notice_create(
        title=texts["notice-title"],
        body=markdown_payload("marker-notice"),
        severity="major",
        occurrence_key=str(window.public_id),
        regions=[],
        organizations=[organization],
        lead_time=timedelta(days=2),
        created_by=support_admin,
        publish=True,
        now=now,
    )
    notice_send_due(now=now)
    # A file whose name is an attack, through the API (the portal's own form is the upload test's).
    attachment = created(
        customer.post(
            f"{tickets}/attachments/",
            {"file": SimpleUploadedFile("\"><img src=x onerror=alert('api-name')>.pdf", b"%PDF-1.4\n")},
            format="multipart",
        )
    )
    while outbox_deliver_due():  # every notice so far, in-app and by e-mail, as the worker would
        pass

    url_values = {
        "org_slug": SLUG,
        "ticket_id": ticket_id,
        "attachment_id": attachment["id"],
        "member_id": str(Membership.objects.get(user=member).public_id),
        "grant_id": grant["id"],
        "source_id": source["id"],
        "event_id": str(InboundEvent.objects.filter(source__public_id=source["id"]).earliest("pk").public_id),
        "notice_id": str(notice.public_id),
        "public_id": str(Notification.objects.filter(recipient=member).earliest("pk").public_id),
        "token": calendar_feed_ensure(organization=organization).token,
        "clock": "first_response",
        "epoch": "0",
    }
    return PayloadWorld(
        organization=organization,
        customer_admin=customer_admin,
        member=member,
        engineer=engineer,
        support_admin=support_admin,
        ticket=Ticket.objects.get(public_id=ticket_id),
        declined=Ticket.objects.get(public_id=declined_id),
        alert_tickets=alert_tickets,
        source_id=source["id"],
        grant=AccessGrant.objects.get(public_id=grant["id"]),
        notice=notice,
        texts=texts,
        url_values=url_values,
    )


# ------------------------------------------------------------------------------------------------ the browser side


@dataclass
class Viewer:
    """One person's browser: signed in by session cookie, every dialog recorded (and dismissed)."""

    page: Page
    dialogs: list[str]
    visited: list[str] = field(default_factory=list)

    def open(self, path: str, *, shows: list[str] | tuple[str, ...] = (), status: int | None = 200) -> Page:
        """Open `path` and check it; `status=None` accepts any answer but a server error."""
        response = self.page.goto(path)
        assert response is not None
        if status is None:
            assert response.status < 500, f"{path}: {response.status}"
        else:
            assert response.status == status, f"{path}: {response.status}"
        self.check(path, response.headers, shows=shows)
        return self.page

    def check(self, where: str, headers: dict[str, str], *, shows: list[str] | tuple[str, ...] = ()) -> None:
        policy = headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy, f"{where}: no CSP ({policy!r})"
        assert "object-src 'none'" in policy, where
        self.check_page(where, shows=shows)

    def check_page(self, where: str, *, shows: list[str] | tuple[str, ...] = ()) -> None:
        self.page.wait_for_load_state("load")
        problems = self.page.evaluate(DOM_PROBLEMS)
        assert problems == [], f"{where}: {problems}"
        # As rendered: CSS may show a table heading in capitals.
        visible = self.page.evaluate("() => document.body.innerText").casefold()
        for text in shows:
            assert text.casefold() in visible, f"{where}: {text!r} is not shown as text"
        assert self.dialogs == [], f"{where}: dialogs fired {self.dialogs}"
        self.visited.append(where)


@pytest.fixture
def viewer(browser: Browser, live_server) -> Iterator[Callable[[User | None], Viewer]]:
    contexts: list[BrowserContext] = []

    def make(user: User | None) -> Viewer:
        context = browser.new_context(base_url=live_server.url, bypass_csp=True, accept_downloads=True)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        page = context.new_page()
        page.set_default_timeout(10_000)
        dialogs: list[str] = []

        def record(dialog: Any) -> None:
            dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", record)
        return Viewer(page=page, dialogs=dialogs)

    yield make
    for context in contexts:
        context.close()


def ticket_path(ticket: Ticket) -> str:
    return f"/o/{SLUG}/tickets/{ticket.public_id}/"


# ------------------------------------------------------------------------------------------------ customers


def test_customer_pages_show_every_payload_as_text_and_run_none(payload_world, viewer):
    world = payload_world
    admin = viewer(world.customer_admin)
    texts = world.texts

    admin.open("/", shows=world.text("org-name", "admin-name"))
    admin.open(f"/o/{SLUG}/", shows=world.text("org-name"))
    admin.open(f"/o/{SLUG}/tickets/", shows=world.text("subject", "declined", "source-name", "pd-summary"))
    admin.open(
        ticket_path(world.ticket),
        shows=[
            texts["subject"],
            texts["admin-name"],
            texts["engineer-name"],
            texts["call-note"],
            "marker-description",
            "end of marker-description",
            "marker-customer-reply",
            "marker-staff-reply",
        ],
    )
    page = admin.page
    assert "marker-internal-note" not in page.content(), "an internal note reached a customer"
    # The whole link stays inside the attribute: its quote and angle brackets are the URL's characters.
    expect(page.get_by_role("link", name="Join the call")).to_have_attribute("href", CALL_LINK)
    # Every link the Markdown kept resolves, as the browser reads it, to a web or mail address; the others lost href.
    schemes = page.locator(".markdown a[href]").evaluate_all("(anchors) => anchors.map((a) => a.protocol)")
    assert set(schemes) <= {"http:", "https:", "mailto:"}, schemes
    admin.open(ticket_path(world.declined), shows=world.text("declined", "call-reason", "member-name"))
    # An alert's labels, annotations and links are the sender's text: shown as sent, whatever markup they hold.
    alertmanager, pagerduty = world.alert_tickets
    admin.open(
        ticket_path(alertmanager),
        shows=[
            *world.text("source-name", "alertname", "label-value", "alert-summary"),
            "<img src=x onerror=alert('label-key')>",
            "[javascript link](javascript:alert('md-js'))",
            "<iframe srcdoc=\"<script>parent.alert('md-frame')</script>\"></iframe>",
        ],
    )
    hrefs = admin.page.locator(".markdown a").evaluate_all("(anchors) => anchors.map((a) => a.getAttribute('href'))")
    assert "https://runbooks.example/disk%22%3E%3Csvg/onload=alert('runbook')%3E" in hrefs, hrefs
    admin.open(
        ticket_path(pagerduty),
        shows=[*world.text("pd-summary", "pd-link-text"), "<img src=x onerror=alert('pd-detail')>", "quoted href"],
    )
    # Its javascript: link keeps its text and loses its target.
    assert admin.page.locator(".markdown a", has_text="pd-link-text").get_attribute("href") is None
    admin.open(f"/o/{SLUG}/members/", shows=world.text("admin-name", "member-name"))
    admin.open(f"/o/{SLUG}/access-grants/", shows=world.text("grant-scope"))
    admin.open(
        f"/o/{SLUG}/maintenance/", shows=[texts["notice-title"], texts["window-title"], "marker-notice", "org-name"]
    )
    admin.open(f"/o/{SLUG}/monitoring/", shows=world.text("source-name"))
    source_page = admin.open(f"/o/{SLUG}/monitoring/{world.source_id}/", shows=world.text("source-name"))
    source_page.locator("details summary").first.click()  # the refused body, shown on demand
    admin.check_page("source page, refused body open", shows=["<img src=x onerror=alert('error-path')>"])

    member = viewer(world.member)
    member.open(ticket_path(world.ticket), shows=world.text("subject", "call-note", "member-name"))
    member.open(f"/o/{SLUG}/maintenance/", shows=world.text("notice-title"))


def test_the_maintenance_banner_shows_the_title_as_text(payload_world, viewer):
    customer = viewer(payload_world.member)
    page = customer.open(f"/o/{SLUG}/tickets/")
    banner = page.locator(".maintenance-banner")
    expect(banner).to_contain_text(payload_world.texts["notice-title"])
    dismiss = banner.get_by_role("button", name="Dismiss")
    assert dismiss.get_attribute("aria-label") == f"Dismiss the notice “{payload_world.texts['notice-title']}”"


# ------------------------------------------------------------------------------------------------ engineers


def test_engineer_pages_queue_side_panel_and_live_rows_run_no_payload(payload_world, viewer):
    world = payload_world
    texts = world.texts
    engineer = viewer(world.engineer)

    queue = engineer.open(
        "/staff/queue/", shows=world.text("org-name", "subject", "declined", "source-name", "engineer-name")
    )
    expect(queue.locator("#queue-live-status")).to_contain_text("Live")
    queue.locator("tr.queue-row", has_text='subject "><img').locator("a.queue-open").first.click()
    panel = queue.locator("#queue-panel")
    expect(panel).to_contain_text("marker-internal-note")
    engineer.check_page("queue side panel", shows=[texts["subject"], "marker-description", "marker-staff-reply"])

    # A new ticket arrives while the queue is open: the live refresh swaps its row in as the server rendered it.
    live_subject = text_payload("live-subject")
    created(
        api(world.member).post(
            f"/api/v1/orgs/{SLUG}/tickets/",
            {"subject": live_subject, "description": "", "type": "incident", "priority": "P1"},
            format="json",
        )
    )
    expect(queue.locator("tr.queue-row", has_text="live-subject")).to_have_count(1, timeout=20_000)
    engineer.check_page("queue after a live refresh", shows=[live_subject])

    engineer.open(
        ticket_path(world.ticket),
        shows=[texts["subject"], texts["call-note"], texts["change"], "marker-internal-note"],
    )
    options = engineer.page.locator("select option").all_inner_texts()
    assert any(texts["engineer-name"] in option for option in options), "the assignee list shows names as text"
    assert any("grant-scope" in option for option in options), "the change form lists the grant's scope as text"
    engineer.open(f"/o/{SLUG}/tickets/?q={quote(texts['subject'][:40])}", shows=world.text("subject"))
    engineer.open("/staff/organizations/", shows=world.text("org-name"))
    engineer.open("/staff/maintenance/", shows=world.text("window-title", "notice-title"))
    engineer.open(f"/o/{SLUG}/monitoring/{world.source_id}/", shows=world.text("source-name"))


# ------------------------------------------------------------------------------------------------ the bell and e-mail


def test_the_bell_page_and_every_email_keep_payloads_inert(payload_world, viewer):
    world = payload_world
    texts = world.texts
    notified = Notification.objects.filter(recipient=world.engineer)
    assert notified.exists()
    engineer = viewer(world.engineer)
    engineer.open("/notifications/", shows=[texts["subject"], texts["org-name"], "marker-customer-reply"])
    customer = viewer(world.member)
    customer.open("/notifications/", shows=[texts["notice-title"], "marker-notice"])

    assert mail.outbox, "the notices went out by e-mail"
    shown = viewer(None)
    page = shown.page
    bodies: dict[str, tuple[str, str]] = {}

    def serve(route: Route) -> None:
        content_type, body = bodies[route.request.url]
        route.fulfill(status=200, content_type=content_type, body=body)

    page.context.route("https://mail.invalid/**", serve)
    kinds: dict[str, int] = {}
    for number, message in enumerate(mail.outbox):
        assert not set(message.subject) & {"\n", "\r"}, message.subject
        parsed = message_from_bytes(message.message().as_bytes())
        for part in parsed.walk():
            content_type = part.get_content_type()
            if part.is_multipart():
                continue
            kinds[content_type] = kinds.get(content_type, 0) + 1
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            url = f"https://mail.invalid/{number}/{hashlib.sha256(payload).hexdigest()[:8]}"
            # As a mail client shows it: HTML parts as documents, text parts as text.
            bodies[url] = (f"{content_type}; charset=utf-8", payload.decode(part.get_content_charset() or "utf-8"))
            page.goto(url)
            shown.check_page(f"e-mail {number} ({content_type}): {message.subject[:60]}")
    assert kinds.get("text/plain", 0) == len(mail.outbox), kinds
    everything = "\n".join(f"{message.subject}\n{message.body}" for message in mail.outbox)
    for label in ("subject", "org-name", "notice-title"):
        assert texts[label] in everything, f"the {label} payload is carried verbatim (as text) in e-mail"


# ------------------------------------------------------------------------------------------------ Django admin


ADMIN_PAGES = {
    "tickets/ticket": ("subject", "org-name"),
    "tickets/videocall": (),
    "tenancy/user": ("admin-name", "member-name", "engineer-name"),
    "tenancy/organization": ("org-name",),
    "tenancy/membership": ("org-name",),
    "tenancy/accessgrant": ("org-name",),
    "tenancy/contract": ("org-name",),
    "maintenance/oneoffwindow": ("window-title",),
    "maintenance/notice": ("notice-title",),
    "monitoring/monitoringsource": ("source-name",),
    "monitoring/inboundevent": (),
    "monitoring/delivery": (),
    "monitoring/alertgroup": ("source-name", "pd-summary"),
    "notifications/outboxmessage": (),
    "notifications/notification": ("subject",),
    "sla/clock": ("subject",),
    "sla/policyversion": ("org-name", "policy-reason"),
}


def test_admin_change_lists_and_forms_show_payloads_as_text(payload_world, viewer):
    world = payload_world
    admin = viewer(world.support_admin)
    admin.open("/admin/")
    for model, labels in ADMIN_PAGES.items():
        page = admin.open(f"/admin/{model}/", shows=world.text(*labels))
        rows = page.locator("#result_list tbody tr th a")
        assert rows.count() > 0, f"{model}: the change list is empty"
        for index in range(min(rows.count(), 3)):
            page.goto(f"/admin/{model}/")
            link = page.locator("#result_list tbody tr th a").nth(index)
            target = link.get_attribute("href")
            assert target is not None
            admin.open(target)
    admin.open(f"/admin/tickets/ticket/?q={quote(world.texts['subject'][:30])}", shows=world.text("subject"))
    admin.open(f"/admin/tickets/ticket/{world.ticket.pk}/change/")
    # Support admins edit notices on the portal's own staff pages too: the form and its rendered preview.
    admin.open(
        f"/staff/maintenance/notices/{world.notice.public_id}/",
        shows=[world.texts["notice-title"], "marker-notice", "end of marker-notice"],
    )
    expect(admin.page.get_by_label("Title")).to_have_value(world.texts["notice-title"])


# ------------------------------------------------------------------------------------------------ reflected input


def test_reflected_parameters_and_refused_forms_echo_payloads_as_text(payload_world, viewer):
    world = payload_world
    reflected = text_payload("reflected")
    customer = viewer(world.customer_admin)
    customer.open(f"/o/{SLUG}/tickets/?q={quote(reflected)}")
    expect(customer.page.locator("input[name=q]")).to_have_value(reflected)
    customer.open(f"/o/{SLUG}/tickets/?status={quote(reflected)}&priority={quote(reflected)}", status=400)
    customer.open(f"/o/{SLUG}/tickets/?page={quote(reflected)}")

    # A refused form is shown again with what was typed: in attributes and text areas, never as markup.
    page = customer.open(f"/o/{SLUG}/tickets/new/")
    page.get_by_label("Subject").fill(reflected)
    page.get_by_label("Description").fill(reflected)
    page.get_by_role("button", name="Open ticket").click()  # no type chosen: refused, and shown again
    customer.check_page("the refused new-ticket form")
    expect(page.locator("textarea[name=description]")).to_have_value(reflected)
    expect(page.locator("input[name=subject]")).to_have_value(reflected)
    assert not Ticket.objects.filter(subject=reflected).exists()

    engineer = viewer(world.engineer)
    for name in ("q", "sort", "view", "organization", "region", "assignee", "page", "since"):
        engineer.open(f"/staff/queue/?{name}={quote(reflected)}", status=None)
        engineer.open(f"/staff/queue/rows/?{name}={quote(reflected)}", status=None)
    anonymous = viewer(None)
    anonymous.open(f"/accounts/login/?next={quote(reflected)}")
    anonymous.open(f"/accounts/login/?next={quote('javascript:alert(1)')}")


# ------------------------------------------------------------------------------------------------ SLA reports


def test_sla_report_pages_show_breached_subjects_and_exclusion_reasons_as_text(payload_world, viewer):
    world = payload_world
    subject, reason = text_payload("breached"), text_payload("exclusion")
    breached = ticket_open(
        organization=world.organization,
        requester=world.member,
        subject=subject,
        description="",
        ticket_type="incident",
        priority="P1",
        source="portal",
        received_at=timezone.now() - timedelta(hours=2),
    )
    sla_sweep()
    record = Record.objects.get(ticket=breached, kind=Record.Kind.BREACH, clock_kind="first_response")
    breach = f"breaches/{breached.public_id}/first_response/0/exclusion/"
    created(
        api(world.engineer).post(
            f"/api/v1/orgs/{SLUG}/reports/sla/{breach}", {"category": "other", "reason": reason}, format="json"
        )
    )
    month = f"?month={record.due_at:%Y-%m}"

    customer = viewer(world.customer_admin)
    customer.open(f"/o/{SLUG}/reports/sla/{month}", shows=[subject, reason, world.texts["org-name"]])
    for query in (f"?month={quote(reason)}", f"?from={quote(reason)}&to={quote(reason)}", f"{month}&page=x"):
        customer.open(f"/o/{SLUG}/reports/sla/{query}", status=None)

    engineer = viewer(world.engineer)
    engineer.open(f"/o/{SLUG}/reports/sla/{month}", shows=[subject, reason])
    engineer.open(f"/o/{SLUG}/reports/sla/{breach}", shows=[subject, reason])
    engineer.open(f"/o/{SLUG}/reports/sla/{breach}?back={quote(reason)}", shows=[subject])
    engineer.open(f"/staff/reports/sla/?month={record.due_at:%Y-%m}", shows=world.text("org-name"))
    engineer.open(f"/staff/reports/sla/?month={quote(reason)}", status=None)


# ------------------------------------------------------------------------------------------------ every route


def test_every_route_answers_every_role_inert(payload_world, viewer):
    """Every URL pattern but the Django admin's (walked above by model), with the payload world's real objects in its
    parameters, as each kind of person: no server error, nosniff everywhere; pages are checked in the browser as
    above, everything else must be a type a browser does not run (JSON, CSV, the calendar, the schema, files)."""
    world = payload_world
    routes = [route for route in url_routes() if not route.template.startswith("admin/")]
    people = [None, world.member, world.customer_admin, world.engineer, world.support_admin]
    pages = 0
    for person in people:
        browser = viewer(person)
        for route in routes:
            path = route.path(world.url_values)
            response = browser.page.context.request.get(path, max_redirects=0)
            where = f"{path} as {person or 'anonymous'}"
            assert response.status < 500 or route.name == "healthz", where  # 503: no beat runs here
            headers = response.headers
            assert headers.get("x-content-type-options") == "nosniff", where
            kind = headers.get("content-type", "").split(";")[0]
            if kind != "text/html" or "attachment" in headers.get("content-disposition", ""):
                assert kind in INERT_TYPES, f"{where}: {kind}"
            elif response.status not in {301, 302, 303, 307, 308} and response.body():
                browser.open(path, status=response.status)
                pages += 1
    assert pages > 3 * len(people), "the walk rendered hardly any page"


# ------------------------------------------------------------------------------------------------ uploads

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REFUSED_UPLOADS = {
    "page.html": (b"<html><body><script>alert('upload-html')</script></body></html>", "text/html"),
    "image.svg": (b"<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('upload-svg')\"/>", "image/svg+xml"),
    "app.js": (b"alert('upload-js')", "application/javascript"),
    "setup.exe": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "application/octet-stream"),
    ".htaccess": (b"AddType text/html .png", "text/plain"),
    "photo.png": (b"<html><script>alert('upload-fake-png')</script></html>", "image/png"),
    "report.pdf.html": (b"<script>alert('upload-double')</script>", "text/html"),
    "notes.txt": (b"fine\n<script>alert('upload-txt-script')</script>\n", "text/plain"),
    "data.json": (b'{"x": "<svg onload=alert(1)>"}', "application/json"),
}
ACCEPTED_UPLOADS = {
    # The name is an attack on every page that lists files; the content is a real (if tiny) PDF.
    "\"><img src=x onerror=alert('upload-name')>.pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    # Polyglots: a real signature, then markup and script a sniffing browser might run.
    "polyglot.png": (PNG_SIGNATURE + b"<html><script>alert('upload-polyglot-png')</script></html>", "image/png"),
    "polyglot.gif": (b"GIF89a/*\x01\x00\x01\x00*/=1;alert('upload-polyglot-gif');//", "image/gif"),
    "log.txt": (b"<img src=x onerror=alert('upload-txt')>\nalert('upload-txt-js')\n", "text/plain"),
}
SAFE_TYPES = {"application/pdf", "image/png", "image/gif", "text/plain"}
# What a route may answer besides a page: types no browser runs as a document of the portal's origin.
INERT_TYPES = SAFE_TYPES | {"application/json", "text/csv", "text/calendar", "application/vnd.oai.openapi", ""}


def uploads(files: dict[str, tuple[bytes, str]]) -> list[dict[str, Any]]:
    return [{"name": name, "mimeType": mime, "buffer": content} for name, (content, mime) in files.items()]


def test_uploads_are_refused_or_downloaded_inert(payload_world, viewer):
    world = payload_world
    customer = viewer(world.customer_admin)
    page = customer.open(f"/o/{SLUG}/tickets/new/")
    page.get_by_label("Incident").check()
    page.get_by_label("Subject").fill("Files of every kind")
    first, *others = REFUSED_UPLOADS  # the form takes five files at most: the rest go with replies
    page.locator("input[type=file]").set_input_files(uploads(ACCEPTED_UPLOADS | {first: REFUSED_UPLOADS[first]}))
    page.get_by_role("button", name="Open ticket").click()
    expect(page.locator("h1")).to_have_text("Files of every kind")
    ticket = Ticket.objects.get(subject="Files of every kind")
    stored = {attachment.filename: attachment for attachment in Attachment.objects.filter(ticket=ticket)}
    assert len(stored) == len(ACCEPTED_UPLOADS), sorted(stored)
    named = next(name for name in stored if "upload-name" in name)  # the browser sends " as %22
    assert not set(named) & set("<>\"'=&"), named
    customer.check_page("the new ticket with its files", shows=sorted(stored))
    refusals = page.locator(".message-error").all_inner_texts()
    for name in others:
        page.get_by_label("Your reply").fill(f"Here is {name}")
        page.get_by_label("Attach a file").set_input_files(uploads({name: REFUSED_UPLOADS[name]}))
        page.get_by_role("button", name="Post reply").click()
        expect(page.get_by_text("Reply posted.")).to_be_visible()
        customer.check_page(f"a reply with {name}")
        refusals += page.locator(".message-error").all_inner_texts()
    assert len(refusals) == len(REFUSED_UPLOADS), refusals
    assert all("was not attached" in refusal for refusal in refusals), refusals

    assert {"polyglot.png", "polyglot.gif", "log.txt"} < set(stored)
    assert set(Attachment.objects.filter(ticket=ticket).values_list("filename", flat=True)) == set(stored)

    # The API refuses exactly what the form refused.
    client = api(world.customer_admin)
    for name, (content, mime) in REFUSED_UPLOADS.items():
        response = client.post(
            f"/api/v1/orgs/{SLUG}/tickets/{ticket.public_id}/attachments/",
            {"file": SimpleUploadedFile(name, content, content_type=mime)},
            format="multipart",
        )
        assert response.status_code == 400, (name, response.status_code)
        assert response.json()["errors"][0]["field"] == "file"

    for attachment in stored.values():
        assert attachment.content_type in SAFE_TYPES
        path = f"{ticket_path(ticket)}attachments/{attachment.public_id}/"
        api_path = f"/api/v1/orgs/{SLUG}/tickets/{ticket.public_id}/attachments/{attachment.public_id}/"
        for url in (path, api_path):
            response = page.context.request.get(url)
            assert response.status == 200, url
            headers = response.headers
            assert headers["content-disposition"].startswith("attachment;"), headers
            assert headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in headers["content-security-policy"]
            assert headers["content-type"].split(";")[0] in SAFE_TYPES, headers["content-type"]
        # Followed in the browser, the link downloads the file and the ticket page stays where it was.
        page.goto(ticket_path(ticket))
        with page.expect_download() as download:
            page.get_by_role("link", name=attachment.filename).click()
        assert download.value.suggested_filename == attachment.filename
        customer.check_page(f"after downloading {attachment.filename}")
        # Loaded as a script by a page of the same origin (the CSP allows 'self'), nosniff keeps it from running.
        outcome = page.evaluate(
            """(url) => new Promise((resolve) => {
                 const script = document.createElement("script");
                 script.src = url;
                 script.onload = () => resolve("ran");
                 script.onerror = () => resolve("refused");
                 document.head.appendChild(script);
               })""",
            path,
        )
        assert outcome == "refused", attachment.filename
        assert customer.dialogs == [], customer.dialogs
