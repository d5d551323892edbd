"""Who may call what: one rule per route of the project, read by the authorization matrix and the CSRF walk.

A rule names, per HTTP method, the roles the route serves, and a request body that the route accepts, so that an
allowed call really succeeds (2xx or 3xx) and a refused one is refused by its authorization, not by its validation.
Every other answer follows from the kind of route:

- anonymous callers are sent to sign in (pages: 302 to the login page; the API: 401 with `WWW-Authenticate`);
- outsiders learn nothing: a member of another organization gets 404 on a tenant route, with the same body as for
  an organization that does not exist, and customers get 404 on staff-only routes;
- a signed-in insider whose role does not allow the call gets 403;
- a method the route does not serve answers 405 (or 403, where the role check comes before the method check).

A route of the URL tree without a rule fails the matrix, naming the route.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.factories import TEST_PASSWORD
from tests.monitoring.payloads import alertmanager
from tests.security.world import (
    ADMIN_A,
    ANONYMOUS,
    CUSTOMERS_A,
    ENGINEER,
    MEMBER_A,
    OTHER_TENANT,
    ROLES,
    SIGNED_IN,
    STAFF,
    SUPPORT_ADMIN,
    World,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

ANYONE = frozenset(ROLES)
MEMBERS = CUSTOMERS_A | STAFF  # every member of A, and WALT staff
ADMINS = frozenset({ADMIN_A}) | STAFF  # A's customer admins, and WALT staff
CUSTOMER_ADMINS = frozenset({ADMIN_A})
SUPPORT_ADMINS = frozenset({SUPPORT_ADMIN})
CUSTOMERS = CUSTOMERS_A | OTHER_TENANT
OWNER = frozenset({MEMBER_A})  # the person the notification is for


class Surface(StrEnum):
    PAGE = "page"  # server-rendered: session cookie, login redirect
    API = "api"  # DRF: token header, 401
    ADMIN = "admin"  # Django admin: session cookie, admin login redirect


@dataclass(frozen=True)
class Send:
    """A request body; `format` is DRF's test format ("json" or "multipart"), None for the surface's default."""

    data: Any = None
    format: str | None = None


Payload = Callable[[World], Send]


def _empty(world: World) -> Send:
    return Send()


@dataclass(frozen=True)
class Rule:
    route: str  # the route template exactly as the URL walk spells it, or a prefix when `prefix` is set
    surface: Surface
    allow: Mapping[str, frozenset[str]]  # method → roles it serves
    payloads: Mapping[str, Payload] = field(default_factory=dict)
    outsiders: frozenset[str] = frozenset()  # roles to whom the route does not exist
    outsider_status: int = 404
    values: Callable[[World], dict[str, str]] | None = None  # URL parameters other than A's objects
    query: Callable[[World], str] | None = None
    success: Mapping[str, frozenset[int]] = field(default_factory=dict)  # when "allowed" is not 2xx/3xx
    answers: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (method, role) → status, by exception
    prefix: bool = False
    csrf_exempt: str = ""  # why a state-changing route needs no CSRF token
    # The route serves each person their own object: to others that object is missing (404), while a method the
    # route does not serve answers 405 to everyone.
    owned: bool = False

    def matches(self, template: str) -> bool:
        return template.startswith(self.route) if self.prefix else template == self.route

    @property
    def is_public(self) -> bool:
        return any(ANONYMOUS in roles for roles in self.allow.values())

    def payload(self, method: str, world: World) -> Send:
        return self.payloads.get(method, _empty)(world)


def _later(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def _iso_later(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def _rule(route: str, surface: Surface, methods: Mapping[str, Any], **options: Any) -> Rule:
    """`methods` maps a method to its roles, or to (roles, payload)."""
    allow: dict[str, frozenset[str]] = {}
    payloads: dict[str, Payload] = {}
    for method, spec in methods.items():
        roles, payload = spec if isinstance(spec, tuple) else (spec, None)
        allow[method] = frozenset(roles)
        if payload is not None:
            payloads[method] = payload
    if "<slug:org_slug>" in route:
        options.setdefault("outsiders", OTHER_TENANT)
    return Rule(route=route, surface=surface, allow=allow, payloads=payloads, **options)


def page(route: str, **options: Any) -> Callable[..., Rule]:
    return lambda **methods: _rule(route, Surface.PAGE, {m.upper(): s for m, s in methods.items()}, **options)


def api(route: str, **options: Any) -> Callable[..., Rule]:
    return lambda **methods: _rule(route, Surface.API, {m.upper(): s for m, s in methods.items()}, **options)


def staff_page(route: str, **options: Any) -> Callable[..., Rule]:
    return page(route, outsiders=CUSTOMERS, **options)


# ------------------------------------------------------------------------------------------------ request bodies


def _invite(world: World) -> Send:
    return Send({"email": "new.colleague@acme.example", "role": "member"})


def _grant_form(world: World) -> Send:
    return Send(
        {
            "scope": "Staging cluster, namespace shop: read logs",
            "credentials_reference": "Shared vault 'WALT support', item 'staging-k8s'",
            "valid_from": _later(1),
            "valid_until": _later(8),
        }
    )


def _grant_json(world: World) -> Send:
    return Send(
        {
            "scope": "Staging cluster, namespace shop: read logs",
            "credentials_reference": "Shared vault 'WALT support', item 'staging-k8s'",
            "valid_from": _iso_later(1),
            "valid_until": _iso_later(8),
        }
    )


def _new_ticket(world: World) -> Send:
    return Send({"subject": "Disk almost full on db-2", "description": "", "type": "incident", "priority": "P3"})


def _reply(world: World) -> Send:
    return Send({"body": "Any news on this?"})


def _status_closed(world: World) -> Send:
    return Send({"status": "closed"})


def _priority(world: World) -> Send:
    return Send({"priority": "P1"})


def _type(world: World) -> Send:
    return Send({"type": "question"})


def _assign(world: World) -> Send:
    return Send({"assignee": str(world.users[ENGINEER].public_id)})


def _call_request(world: World) -> Send:
    return Send({"note": "Could we talk it through?"})


def _call_decline_form(world: World) -> Send:
    return Send({"decision": "declined", "reason": "A written answer follows today."})


def _call_decline_json(world: World) -> Send:
    return Send({"status": "declined", "reason": "A written answer follows today."})


def _change_record(world: World) -> Send:
    return Send({"access_grant": str(world.grant.public_id), "description": "Restarted the checkout deployment."})


def _window_form(world: World) -> Send:
    return Send(
        {
            "title": "Kernel upgrade",
            "starts_at": _later(5),
            "ends_at": _later(5.04),
            "region": "",
            "organizations": [str(world.organization.pk)],
        }
    )


def _cancel_form(world: World) -> Send:
    return Send({"occurrence": world.window_key, "reason": "Postponed by the customer."})


def _notice_form(world: World) -> Send:
    return Send(
        {
            "title": "Failover test moved",
            "body": "The test now starts an hour later.",
            "severity": "info",
            "occurrence": world.window_key,
            "lead_hours": "24",
            "action": "save",
        }
    )


def _source_form(world: World) -> Send:
    return Send({"kind": "grafana", "name": "Grafana staging", "resolve_policy": "resolve"})


def _source_settings_form(world: World) -> Send:
    return Send({"name": "Production (renamed)", "resolve_policy": "resolve", "severity_map": '{"critical": "P1"}'})


def _disable(world: World) -> Send:
    return Send({"action": "disable"})


def _sign_in(world: World) -> Send:
    return Send({"email": world.users[MEMBER_A].email, "password": TEST_PASSWORD})


def _password_reset(world: World) -> Send:
    return Send({"email": world.users[MEMBER_A].email})


def _organization(world: World) -> Send:
    return Send({"name": "Initech", "slug": "initech", "region": "US", "timezone": "UTC", "package": "standard"})


def _rename_ticket(world: World) -> Send:
    return Send({"subject": "Checkout returns 502 on every request"})


def _upload(world: World) -> Send:
    return Send({"file": SimpleUploadedFile("trace.txt", b"GET /checkout 502\n")}, format="multipart")


def _contract(world: World) -> Send:
    return Send({"overrides": {}, "reason": "Confirmed at the quarterly review."})


def _preview(world: World) -> Send:
    return Send({"apply": False})


def _source_json(world: World) -> Send:
    return Send({"kind": "grafana", "name": "Grafana staging"})


def _rename_source(world: World) -> Send:
    return Send({"name": "Production (renamed)"})


def _alert(world: World) -> Send:
    return Send(alertmanager(), format="json")


def _exclude_form(world: World) -> Send:
    return Send({"action": "exclude", "category": "customer_delay", "reason": "We waited on the customer's logs."})


def _exclude_json(world: World) -> Send:
    return Send({"excluded": True, "category": "customer_delay", "reason": "We waited on the customer's logs."})


def _late_breach(world: World) -> dict[str, str]:
    return {"ticket_id": str(world.late_ticket.public_id)}


def _feed_token(world: World) -> dict[str, str]:
    return {"token": world.feed.token}


def _bad_reset_token(world: World) -> dict[str, str]:
    return {"token": "0-not-a-valid-token"}


def _occurrence(world: World) -> str:
    return f"occurrence={world.window_key}"


_HEALTH = frozenset({200, 503})  # 503 is the health check's answer while no Celery heartbeat is recorded

TICKET = "o/<slug:org_slug>/tickets/<uuid:ticket_id>/"
API_TICKET = "api/v1/orgs/<slug:org_slug>/tickets/<uuid:ticket_id>/"
MAINTENANCE = "o/<slug:org_slug>/maintenance/"
MONITORING = "o/<slug:org_slug>/monitoring/<uuid:source_id>/"
SOURCES = "api/v1/orgs/<slug:org_slug>/monitoring/sources/"
REPORT = "o/<slug:org_slug>/reports/sla/"
REPORT_API = "orgs/<slug:org_slug>/reports/sla/"
BREACH = "breaches/<uuid:ticket_id>/<slug:clock>/<int:epoch>/exclusion/"

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ sign-in and accounts (pages)
    page("")(get=SIGNED_IN),
    page("accounts/login/")(get=ANYONE, post=ANYONE),
    page("accounts/logout/")(post=ANYONE),
    page("accounts/password-reset/")(get=ANYONE, post=(ANYONE, _password_reset)),
    page("accounts/password-reset/sent/")(get=ANYONE),
    page("accounts/reset/<uidb64>/<token>/", values=_bad_reset_token)(get=ANYONE, post=ANYONE),
    page("accounts/reset/done/")(get=ANYONE),
    # ------------------------------------------------------------------ organizations, members, access grants
    page("o/<slug:org_slug>/")(get=MEMBERS),
    staff_page("staff/organizations/")(get=STAFF),
    page("o/<slug:org_slug>/members/")(get=ADMINS, post=(ADMINS, _invite)),
    page("o/<slug:org_slug>/members/<uuid:member_id>/remove/")(post=ADMINS),
    # Staff read the grants; only the customer's admins grant or revoke access.
    page("o/<slug:org_slug>/access-grants/")(get=ADMINS, post=(CUSTOMER_ADMINS, _grant_form)),
    page("o/<slug:org_slug>/access-grants/<uuid:grant_id>/revoke/")(post=CUSTOMER_ADMINS),
    # ------------------------------------------------------------------ tickets (pages)
    page("o/<slug:org_slug>/tickets/")(get=MEMBERS),
    page("o/<slug:org_slug>/tickets/new/")(get=CUSTOMERS_A, post=(CUSTOMERS_A, _new_ticket)),
    page(TICKET)(get=MEMBERS),
    page(f"{TICKET}reply/")(post=(MEMBERS, _reply)),
    page(f"{TICKET}status/")(post=(MEMBERS, _status_closed)),
    page(f"{TICKET}priority/")(post=(STAFF, _priority)),
    page(f"{TICKET}type/")(post=(STAFF, _type)),
    page(f"{TICKET}assign/")(post=(STAFF, _assign)),
    page(f"{TICKET}video-call/")(post=(CUSTOMERS_A, _call_request)),
    page(f"{TICKET}video-call/decide/")(post=(STAFF, _call_decline_form)),
    page(f"{TICKET}changes/")(post=(STAFF, _change_record)),
    page(f"{TICKET}attachments/<uuid:attachment_id>/")(get=MEMBERS),
    # ------------------------------------------------------------------ the engineers' queue (pages)
    staff_page("staff/queue/")(get=STAFF),
    staff_page("staff/queue/rows/")(get=STAFF),
    staff_page("staff/queue/take-next/")(post=STAFF),
    # ------------------------------------------------------------------ maintenance (pages)
    page(MAINTENANCE)(get=MEMBERS),
    page(f"{MAINTENANCE}calendar/rotate/")(post=ADMINS),
    page(f"{MAINTENANCE}notices/<uuid:notice_id>/dismiss/")(post=MEMBERS),
    # Calendar apps send no cookies: the secret in the URL is the feed's only credential.
    page("calendar/<str:token>.ics", values=_feed_token)(get=ANYONE),
    staff_page("staff/maintenance/")(get=STAFF),
    staff_page("staff/maintenance/windows/new/")(get=SUPPORT_ADMINS, post=(SUPPORT_ADMINS, _window_form)),
    staff_page("staff/maintenance/occurrences/cancel/", query=_occurrence)(
        get=SUPPORT_ADMINS, post=(SUPPORT_ADMINS, _cancel_form)
    ),
    staff_page("staff/maintenance/notices/new/")(get=SUPPORT_ADMINS, post=(SUPPORT_ADMINS, _notice_form)),
    staff_page("staff/maintenance/notices/<uuid:notice_id>/")(get=SUPPORT_ADMINS, post=(SUPPORT_ADMINS, _notice_form)),
    # ------------------------------------------------------------------ monitoring (pages)
    page("o/<slug:org_slug>/monitoring/")(get=ADMINS, post=(ADMINS, _source_form)),
    page(MONITORING)(get=ADMINS, post=(ADMINS, _source_settings_form)),
    page(f"{MONITORING}rotate/")(post=ADMINS),
    page(f"{MONITORING}state/")(post=(ADMINS, _disable)),
    page(f"{MONITORING}test/")(post=ADMINS),
    page(f"{MONITORING}events/<uuid:event_id>/replay/")(post=STAFF),
    # ------------------------------------------------------------------ SLA reports (pages)
    page(REPORT)(get=MEMBERS),
    page(f"{REPORT}report.csv")(get=MEMBERS),
    page(f"{REPORT}breaches.csv")(get=MEMBERS),
    # Staff decide exclusions; to customers the page does not exist, whatever the method.
    page(f"{REPORT}{BREACH}", values=_late_breach, outsiders=OTHER_TENANT | CUSTOMERS_A)(
        get=STAFF, post=(STAFF, _exclude_form)
    ),
    staff_page("staff/reports/sla/")(get=STAFF),
    # ------------------------------------------------------------------ notifications (pages): the caller's own
    page("notifications/")(get=SIGNED_IN),
    page("notifications/read-all/")(post=SIGNED_IN),
    page("notifications/<uuid:public_id>/read/", outsiders=SIGNED_IN - OWNER, owned=True)(post=OWNER),
    # ------------------------------------------------------------------ the API
    # Signing out revokes the token that authenticates the call: anonymous callers are asked for one.
    api(
        "api/v1/auth/token/",
        csrf_exempt="Signing in answers only the e-mail and password in its body, signing out acts only on the token "
        "in its header; neither reads a cookie, so a forged request can do nothing.",
        answers={("DELETE", ANONYMOUS): 401},
    )(post=(ANYONE, _sign_in), delete=SIGNED_IN),
    api("api/v1/orgs/", outsiders=CUSTOMERS, outsider_status=403)(get=STAFF, post=(STAFF, _organization)),
    api("api/v1/orgs/<slug:org_slug>/members/")(get=ADMINS, post=(ADMINS, _invite)),
    api("api/v1/orgs/<slug:org_slug>/members/<uuid:member_id>/")(get=ADMINS, delete=ADMINS),
    api("api/v1/orgs/<slug:org_slug>/access-grants/")(get=ADMINS, post=(CUSTOMER_ADMINS, _grant_json)),
    api("api/v1/orgs/<slug:org_slug>/access-grants/<uuid:grant_id>/")(get=ADMINS, delete=CUSTOMER_ADMINS),
    api("api/v1/notifications/")(get=SIGNED_IN),
    api("api/v1/notifications/read-all/")(post=SIGNED_IN),
    api("api/v1/notifications/<uuid:public_id>/read/", outsiders=SIGNED_IN - OWNER, owned=True)(post=OWNER),
    api("api/v1/orgs/<slug:org_slug>/tickets/")(get=MEMBERS, post=(MEMBERS, _new_ticket)),
    api(API_TICKET)(get=MEMBERS, patch=(MEMBERS, _rename_ticket)),
    api(f"{API_TICKET}messages/")(get=MEMBERS, post=(MEMBERS, _reply)),
    api(f"{API_TICKET}attachments/")(get=MEMBERS, post=(MEMBERS, _upload)),
    api(f"{API_TICKET}attachments/<uuid:attachment_id>/")(get=MEMBERS),
    # Customers ask for a call; staff accept or decline it.
    api(f"{API_TICKET}video-call/")(get=MEMBERS, post=(CUSTOMERS_A, _call_request), patch=(STAFF, _call_decline_json)),
    api(f"{API_TICKET}events/")(get=MEMBERS),
    api(f"{API_TICKET}changes/")(post=(STAFF, _change_record)),
    api("api/v1/queue/", outsiders=CUSTOMERS)(get=STAFF),
    api("api/v1/queue/counts/", outsiders=CUSTOMERS)(get=STAFF),
    api("api/v1/queue/take-next/", outsiders=CUSTOMERS)(post=STAFF),
    api("api/v1/orgs/<slug:org_slug>/contract/")(get=MEMBERS, put=(STAFF, _contract)),
    api("api/v1/orgs/<slug:org_slug>/contract/rebaseline/")(post=(STAFF, _preview)),
    api("api/v1/orgs/<slug:org_slug>/maintenance/")(get=MEMBERS),
    api(f"api/v1/{REPORT_API}")(get=MEMBERS),
    api(f"api/v1/{REPORT_API}breaches/")(get=MEMBERS),
    api(f"api/v1/{REPORT_API}{BREACH}", values=_late_breach, outsiders=OTHER_TENANT | CUSTOMERS_A)(
        get=STAFF, post=(STAFF, _exclude_json)
    ),
    api("api/v1/reports/sla/overview/", outsiders=CUSTOMERS)(get=STAFF),
    api(SOURCES)(get=ADMINS, post=(ADMINS, _source_json)),
    api(f"{SOURCES}<uuid:source_id>/")(get=ADMINS, patch=(ADMINS, _rename_source), delete=ADMINS),
    api(f"{SOURCES}<uuid:source_id>/rotate/")(post=ADMINS),
    # Monitoring systems authenticate with the secret token in the URL, never with a session.
    api(
        "api/v1/integrations/<str:kind>/<str:token>/",
        csrf_exempt="Monitoring systems post with the secret token in the URL and no cookie.",
    )(post=(ANYONE, _alert)),
    api("api/schema/")(get=ANYONE),
    api("api/docs/")(get=ANYONE),
    api("healthz", success={"GET": _HEALTH})(get=ANYONE),
    # ------------------------------------------------------------------ the Django admin: support admins only
    # Django's admin login treats PUT as POST (both CSRF-checked); staff who may not enter the admin are told so there.
    Rule(route="admin/login/", surface=Surface.ADMIN, allow={"GET": ANYONE, "POST": ANYONE, "PUT": ANYONE}),
    # Signed-in people who are not support admins are sent to the admin's own login page, like anonymous ones.
    Rule(
        route="admin/",
        surface=Surface.ADMIN,
        allow=dict.fromkeys(METHODS, SUPPORT_ADMINS),
        outsiders=SIGNED_IN - SUPPORT_ADMINS,
        prefix=True,
    ),
)


def rule_for(template: str) -> Rule | None:
    exact = [rule for rule in RULES if not rule.prefix and rule.matches(template)]
    prefixed = [rule for rule in RULES if rule.prefix and rule.matches(template)]
    found = exact or prefixed
    return found[0] if found else None
