"""The bench dataset: organizations, people, tickets with their conversations, SLA clocks and records.

Small tables (users, organizations, contracts, memberships, tokens, counters) go in with bulk_create; the big ones
(tickets, messages, ticket events, clocks, clock events, records) are generated in Python and streamed with COPY in
chunks. Rows are what the services would have written:

* every ticket has its reference (`<prefix>-<number>`, numbered in the order received), an "opened" event, a
  first-response and a resolution clock (epoch 0) whose policy snapshot is
  `sla.policy.effective_policy(package=…, overrides={})`, and the SLA summary columns copied from those clocks;
* closed and resolved tickets (the history, received 5 to 730 days before the seed) have met clocks, a few warned
  or breached ones with their records and clock events, and a conversation whose first public staff reply is the
  first response;
* open tickets (`new`, `open`, `waiting_on_customer`) were received recently enough that their running clocks are
  due after the seed moment and have not reached their warning point; some open tickets are already past their
  resolution deadline (breached, recorded), and waiting ones have a paused resolution clock.

All times are relative to the seed moment T0 (stored in the marker): scenarios that need "now" use T0, so a seed
reused days later behaves as on the day it was made. Outbox history (notices already delivered) is not generated.
"""

import io
import itertools
import json
import math
import queue
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from bench.config import SEED_PASSWORD, SEED_VERSION, Scale, api_token, source_token
from bench.copy import CopyTable
from bench.copytext import NULL, escape, num_or_null, ts, ts_or_null
from core.tokens import token_hash
from monitoring.models import Kind, MonitoringSource
from sla.models import Clock, ClockEvent, ClockKind, ClockState, Record
from sla.policy import effective_policy, first_response_target, resolution_target
from tenancy.models import ApiToken, Contract, Membership, Organization, Package, Region, User
from tickets.models import (
    SLA_WARNING_PART,
    Message,
    Priority,
    Source,
    Status,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketType,
)

DAY = 86_400.0
HOUR = 3_600.0
CHUNK_TICKETS = 20_000  # tickets generated between two rounds of COPY
ON_DUTY = 3
SUPPORT_ADMINS = 3
HISTORY_DAYS = (5.0, 730.0)
RNG_SEED = 20_260_301
# Plain strings: reading enum members and `Choices.values` in the inner loops costs more than the rest.
RUNNING, PAUSED, MET, BREACHED = (str(state.value) for state in ClockState)
NEW, OPEN, WAITING, RESOLVED, CLOSED = (str(status.value) for status in Status)
FIRST_RESPONSE, RESOLUTION = (str(kind.value) for kind in ClockKind)
TYPES = tuple(str(value) for value in TicketType.values)
STANDARD_TYPES = tuple(str(t.value) for t in (TicketType.QUESTION, TicketType.INCIDENT, TicketType.CHANGE_REQUEST))
PRIORITIES = tuple(str(value) for value in Priority.values)
SOURCES = tuple(str(value) for value in Source.values)
MONITORING, PREMIUM, STANDARD = str(Source.MONITORING.value), str(Package.PREMIUM.value), str(Package.STANDARD.value)
CHANGE_REQUEST, INCIDENT = str(TicketType.CHANGE_REQUEST.value), str(TicketType.INCIDENT.value)
EVENT = {kind.name: str(kind.value) for kind in ClockEvent.Kind}
SWEEP = str(Record.DetectedBy.SWEEP.value)
_SOURCE_DETAIL = {source: escape(json.dumps({"source": source})) for source in SOURCES}
_PAUSED_DETAIL = escape(json.dumps({"reason": "waiting_on_customer"}))
_BREACHED_DETAIL = escape(json.dumps({"detected_by": SWEEP}))

# Tables whose rows the scenarios add; their high-water marks let a run put the seed back as it was.
TRACKED_TABLES = (
    "tickets_ticket",
    "tickets_message",
    "tickets_ticketevent",
    "sla_clock",
    "sla_clockevent",
    "sla_record",
    "notifications_outboxmessage",
    "notifications_notification",
    "monitoring_inboundevent",
    "monitoring_delivery",
    "monitoring_alertgroup",
)

_WORDS_A = [
    "Blue",
    "Northern",
    "Silver",
    "Bright",
    "Rapid",
    "Quiet",
    "Golden",
    "Urban",
    "Alpine",
    "Coastal",
    "Prime",
    "Lunar",
    "Iron",
    "Green",
    "Crimson",
]
_WORDS_B = [
    "Harbor",
    "Peak",
    "Forge",
    "Field",
    "Bridge",
    "Stone",
    "River",
    "Cloud",
    "Signal",
    "Orbit",
    "Grove",
    "Summit",
    "Vector",
    "Canyon",
    "Delta",
]
_WORDS_C = [
    "Logistics",
    "Retail",
    "Health",
    "Media",
    "Systems",
    "Energy",
    "Foods",
    "Labs",
    "Finance",
    "Travel",
    "Insurance",
    "Mobility",
]
_ZONES = {
    Region.US: ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    Region.EU: ("Europe/Berlin", "Europe/Paris", "Europe/Amsterdam", "Europe/Dublin", "Europe/Madrid"),
}
_SUBJECTS = [
    escape(s)
    for s in (
        "Checkout returns 502 for some customers",
        "Database replica lag above 30 seconds",
        "TLS certificate renewal failed on the ingress",
        "Nightly backup job did not finish",
        "Kubernetes nodes NotReady after upgrade",
        "How do we rotate the API keys safely?",
        "Disk usage on the log volume at 91 %",
        "Latency spike on the search service",
        "Question about the maintenance window next week",
        "Please review our multi-region architecture",
        "Plan the deployment of the new billing service",
        "Increase the connection pool of the orders database",
        "Alert: HTTP 5xx rate above threshold",
        "Memory leak suspected in the worker pods",
        "VPN tunnel to the office flaps every hour",
        "DNS records for the new domain",
        "Cron jobs run twice after the failover",
        "Cost of the staging cluster doubled",
        "Upgrade PostgreSQL from 13 to 16",
        "S3 bucket policy blocks the reporting job",
        "Grafana dashboards empty since this morning",
        "Rate limiting for the public API",
        "Message queue backlog keeps growing",
        "Move the cache to a managed Redis",
    )
]
_SENTENCES = tuple(
    escape(s)
    for s in (
        "Since 09:40 UTC the error rate is above 5 % on the **checkout** path.",
        "We did not change anything on our side since Friday's release.",
        "The monitoring graph is attached; the spike starts at the same time every night.",
        "Customers in the EU region are affected first, the US region a few minutes later.",
        "Could you confirm whether this is related to last week's maintenance?",
        "Logs show `connection reset by peer` from the load balancer.",
        "This blocks our release planned for tomorrow morning.",
        "We would like to understand the root cause, not only the workaround.",
        "- restarted the pods\n- flushed the cache\n- rolled back the config",
        "The runbook says to page the on-call engineer, but nobody answered.",
        "Please advise on the safest order of operations.",
        "Our auditors ask for a written summary of the incident.",
    )
)
_REPLIES = (
    "Thanks for the details. We are looking into it now and will update you within the hour.",
    "We restarted the connection pool; please retry and tell us whether the errors persist.",
    "The root cause was an expired certificate on the internal proxy; it is renewed and monitored now.",
    "Could you send us the output of `kubectl get events` from the affected namespace?",
    "It still happens on our side, see the attached screenshot.",
    "Confirmed, everything looks normal again. Thank you!",
    "We applied the change in the maintenance window as agreed.",
    "Internal: customer's staging cluster shares the node pool with production; raise at the review.",
    "Internal: escalated to the database team, waiting for their analysis.",
    "Here is the plan we propose, step by step, with a rollback at every stage.",
)
_BODIES = [escape(s) for s in _REPLIES]
_FIRST_NAMES = [
    "Ada",
    "Max",
    "Greta",
    "Gus",
    "Lina",
    "Omar",
    "Sofia",
    "Jonas",
    "Mia",
    "Noah",
    "Elif",
    "Ravi",
    "Chloe",
    "Mateo",
    "Ines",
    "Felix",
]
_LAST_NAMES = [
    "Keller",
    "Novak",
    "Rossi",
    "Dubois",
    "Jansen",
    "Silva",
    "Berg",
    "Moreau",
    "Schmidt",
    "Lopez",
    "Weber",
    "Costa",
    "Laine",
]

TICKET_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "organization_id",
    "public_id",
    "number",
    "reference",
    "subject",
    "description",
    "type",
    "priority",
    "status",
    "guidance_only",
    "source",
    "requester_id",
    "assignee_id",
    "received_at",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "last_activity_at",
    "sla_first_response_state",
    "sla_first_response_due_at",
    "sla_first_response_remaining_seconds",
    "sla_resolution_state",
    "sla_resolution_due_at",
    "sla_resolution_remaining_seconds",
    "sla_policy_version",
    "sla_next_due_at",
    "sla_risk_due_at",
    "sla_at_risk_from",
]
MESSAGE_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "organization_id",
    "public_id",
    "ticket_id",
    "author_id",
    "body",
    "internal",
    "by_staff",
]
TICKET_EVENT_FIELDS = ["created_at", "updated_at", "organization_id", "ticket_id", "actor_id", "kind", "detail"]
CLOCK_FIELDS = [
    "id",
    "created_at",
    "updated_at",
    "organization_id",
    "ticket_id",
    "kind",
    "epoch",
    "state",
    "started_at",
    "target_seconds",
    "anchored_at",
    "remaining_seconds",
    "due_at",
    "warn_at",
    "warned_at",
    "paused_at",
    "pause_reason",
    "paused_seconds",
    "stopped_at",
    "breached_at",
    "contract_id",
    "policy_version",
    "policy",
]
CLOCK_EVENT_FIELDS = ["created_at", "updated_at", "organization_id", "clock_id", "kind", "at", "due_at", "detail"]
RECORD_FIELDS = [
    "created_at",
    "updated_at",
    "organization_id",
    "clock_id",
    "ticket_id",
    "kind",
    "clock_kind",
    "epoch",
    "due_at",
    "recorded_at",
    "detected_by",
]


@dataclass
class OrgSeed:
    pk: int
    prefix: str
    package: str
    contract_pk: int
    people: list[int]  # memberships' users, the admin first
    tickets: int
    open: int


@dataclass(slots=True)
class Plan:
    """One ticket's story, in epoch seconds; rows are derived from it."""

    received: float
    status: str
    ticket_type: str
    priority: str
    source: str
    requester: int | None
    assignee: int | None
    responded: float | None = None
    resolved: float | None = None
    closed: float | None = None
    paused: float | None = None
    conversation: tuple[tuple[float, int, bool, bool], ...] = ()  # (at, author, internal, by_staff)


@dataclass
class ClockRow:
    kind: str
    state: str
    target: float
    remaining: float
    due: float | None
    warn: float | None
    warned: float | None = None
    paused: float | None = None
    stopped: float | None = None
    breached: float | None = None
    updated: float = 0.0


class Generator:
    """Plans each organization's tickets, then writes their rows into COPY buffers."""

    def __init__(self, *, t0: float, engineers: list[int], contracts: dict[str, dict[str, Any]]) -> None:
        self.t0 = t0
        self.engineers = engineers
        self.rng = random.Random(RNG_SEED)  # noqa: S311 (reproducible data, not secrets)
        self.policies = contracts
        self.policy_json = {package: escape(json.dumps(policy)) for package, policy in contracts.items()}
        self.tables = {
            "ticket": CopyTable(Ticket, TICKET_FIELDS),
            "message": CopyTable(Message, MESSAGE_FIELDS),
            "ticket_event": CopyTable(TicketEvent, TICKET_EVENT_FIELDS),
            "clock": CopyTable(Clock, CLOCK_FIELDS),
            "clock_event": CopyTable(ClockEvent, CLOCK_EVENT_FIELDS),
            "record": CopyTable(Record, RECORD_FIELDS),
        }
        self.ids = {"ticket": 0, "message": 0, "clock": 0}
        self._started_detail: dict[int, str] = {}

    # ------------------------------------------------------------------ plans
    def _type_and_priority(self, org: OrgSeed, source: str) -> tuple[str, str]:
        rng = self.rng
        if source == MONITORING:
            return INCIDENT, rng.choices(PRIORITIES[:3], (20, 40, 40))[0]
        if org.package == PREMIUM:
            ticket_type = rng.choices(TYPES, (35, 40, 12, 6.5, 6.5))[0]
        else:
            ticket_type = rng.choices(STANDARD_TYPES, (40, 45, 15))[0]
        return ticket_type, rng.choices(PRIORITIES, (5, 20, 50, 25))[0]

    def _plan(self, org: OrgSeed, status: str) -> Plan:
        rng = self.rng
        source = rng.choices(SOURCES, (55, 30, 15))[0]
        ticket_type, priority = self._type_and_priority(org, source)
        requester = None if source == MONITORING else rng.choice(org.people)
        plan = Plan(0.0, status, ticket_type, priority, source, requester, rng.choice(self.engineers))
        policy = self.policies[org.package]
        first_target = float(first_response_target(policy, priority=priority))
        res_target = float(resolution_target(policy, ticket_type=ticket_type, priority=priority))
        threshold = float(policy["warning_threshold"])
        if status == NEW:
            plan.received = self.t0 - rng.uniform(30, 0.9 * threshold * first_target)
            plan.assignee = plan.assignee if rng.random() < 0.3 else None  # noqa: PLR2004
        elif status == OPEN:
            if rng.random() < 0.15:  # noqa: PLR2004 (past its resolution deadline, breached)
                age = res_target + rng.uniform(600, 3 * DAY)
            else:
                age = rng.uniform(120, 0.9 * threshold * res_target)
            plan.received = self.t0 - age
            plan.responded = plan.received + rng.uniform(30, min(0.7 * first_target, age - 10))
        elif status == WAITING:
            used = rng.uniform(0.1, 0.7) * res_target
            plan.received = self.t0 - used - rng.uniform(60, 3 * DAY)
            plan.paused = plan.received + used
            plan.responded = plan.received + rng.uniform(30, min(0.7 * first_target, 0.8 * used))
        else:
            plan.received = self.t0 - rng.uniform(*HISTORY_DAYS) * DAY
            plan.responded = plan.received + self._delay(first_target, (0.90, 0.96), late=4.0)
            resolve = max(self._delay(res_target, (0.88, 0.95), late=1.5), plan.responded - plan.received + 60)
            plan.resolved = plan.received + resolve
            plan.closed = plan.resolved + rng.uniform(HOUR, 3 * DAY) if status == CLOSED else None
        plan.conversation = self._conversation(plan, org)
        return plan

    def _delay(self, target: float, shares: tuple[float, float], *, late: float) -> float:
        """How long a clock ran before it stopped: mostly met early, some after the warning, a few late."""
        draw = self.rng.random()
        if draw < shares[0]:
            return self.rng.uniform(0.05, 0.74) * target
        if draw < shares[1]:
            return self.rng.uniform(0.76, 0.99) * target
        return self.rng.uniform(1.01, late) * target

    def _conversation(self, plan: Plan, org: OrgSeed) -> tuple[tuple[float, int, bool, bool], ...]:
        rng = self.rng
        staff = plan.assignee or rng.choice(self.engineers)
        customer = plan.requester or org.people[0]
        if plan.responded is None:  # new: at most a customer follow-up
            if rng.random() < 0.2:  # noqa: PLR2004
                return ((rng.uniform(plan.received, self.t0), customer, False, False),)
            return ()
        end = plan.resolved or plan.paused or self.t0
        messages = [(plan.responded, staff, False, True)]
        extras = min(int(rng.expovariate(1 / 1.5)), 12) if plan.resolved else min(int(rng.expovariate(1.0)), 6)
        for _ in range(extras):
            at = rng.uniform(plan.responded + 1, max(end - 1, plan.responded + 2))
            kind = rng.random()
            if kind < 0.5:  # noqa: PLR2004
                messages.append((at, customer, False, False))
            elif kind < 0.8:  # noqa: PLR2004
                messages.append((at, staff, False, True))
            else:
                messages.append((at, staff, True, True))
        if (plan.resolved or plan.paused) and end - plan.responded > 120:  # noqa: PLR2004
            messages.append((end, staff, False, True))  # "fixed" / "could you check…?"
        messages.sort()
        return tuple(messages)

    def org_plans(self, org: OrgSeed) -> list[Plan]:
        """The organization's tickets in the order received (their numbers follow that order)."""
        rng = self.rng
        open_statuses = rng.choices((NEW, OPEN, WAITING), (30, 55, 15), k=org.open)
        history = rng.choices((CLOSED, RESOLVED), (80, 20), k=org.tickets - org.open)
        plans = [self._plan(org, status) for status in itertools.chain(history, open_statuses)]
        plans.sort(key=lambda plan: plan.received)
        return plans

    # ------------------------------------------------------------------ rows
    def _clock(self, *, kind: str, plan: Plan, target: float, threshold: float, stop: float | None) -> ClockRow:
        start = plan.received
        due, warn = start + target, start + threshold * target
        clock = ClockRow(kind, RUNNING, target, target, due, warn, updated=start)
        if kind == RESOLUTION and plan.paused is not None:
            clock.state, clock.paused, clock.remaining = PAUSED, plan.paused, target - (plan.paused - start)
            clock.due = clock.warn = None
            clock.updated = plan.paused
            return clock
        end = stop if stop is not None else self.t0
        if warn <= end:
            clock.warned = warn + min(2.0, (end - warn) / 2)
            clock.updated = clock.warned
        if due < end:
            clock.state, clock.breached = BREACHED, due
            clock.updated = due + min(3.0, (end - due) / 2)
        if stop is not None:
            clock.stopped = stop
            clock.state = MET if clock.state != BREACHED else clock.state
            clock.updated = stop
        return clock

    def emit(self, org: OrgSeed, number: int, plan: Plan) -> None:
        self.ids["ticket"] += 1
        ticket_id = str(self.ids["ticket"])
        org_id = str(org.pk)
        rng = self.rng
        policy = self.policies[org.package]
        threshold = float(policy["warning_threshold"])
        first = self._clock(
            kind=FIRST_RESPONSE,
            plan=plan,
            target=float(first_response_target(policy, priority=plan.priority)),
            threshold=threshold,
            stop=plan.responded,
        )
        resolution = self._clock(
            kind=RESOLUTION,
            plan=plan,
            target=float(resolution_target(policy, ticket_type=plan.ticket_type, priority=plan.priority)),
            threshold=threshold,
            stop=plan.resolved,
        )
        last_activity = max(
            plan.received,
            plan.conversation[-1][0] if plan.conversation else 0.0,
            plan.resolved or 0.0,
            plan.closed or 0.0,
        )
        running = [clock.due for clock in (first, resolution) if clock.state == RUNNING and clock.due]
        # As the summary writer derives them: deadlines still to be met (an answered first response is not).
        pending = [
            clock.due
            for clock in (first, resolution)
            if clock.state in (RUNNING, BREACHED) and clock.due and not (clock is first and plan.responded)
        ]
        risk_due = min(pending) if pending else None
        at_risk_from = min(due - (due - plan.received) / SLA_WARNING_PART for due in pending) if pending else None
        received = ts(plan.received)
        self.tables["ticket"].add(
            ticket_id,
            received,
            ts(last_activity),
            org_id,
            _uuid(rng),
            str(number),
            f"{org.prefix}-{number}",
            rng.choice(_SUBJECTS),
            "\\n\\n".join(rng.sample(_SENTENCES, rng.randint(1, 4))),
            plan.ticket_type,
            plan.priority,
            plan.status,
            "t" if org.package == STANDARD and plan.ticket_type == CHANGE_REQUEST else "f",
            plan.source,
            _id_or_null(plan.requester),
            _id_or_null(plan.assignee),
            received,
            ts_or_null(plan.responded),
            ts_or_null(plan.resolved),
            ts_or_null(plan.closed),
            ts(last_activity),
            first.state,
            ts_or_null(first.due),
            NULL,  # a first-response clock never pauses
            resolution.state,
            ts_or_null(resolution.due),
            num_or_null(resolution.remaining if resolution.state == PAUSED else None),
            "0",
            ts_or_null(min(running) if running else None),
            ts_or_null(risk_due),
            ts_or_null(at_risk_from),
        )
        self.tables["ticket_event"].add(
            received, received, org_id, ticket_id, _id_or_null(plan.requester), "opened", _SOURCE_DETAIL[plan.source]
        )
        messages = self.tables["message"]
        for at, author, internal, by_staff in plan.conversation:
            self.ids["message"] += 1
            moment = ts(at)
            messages.add(
                str(self.ids["message"]),
                moment,
                moment,
                org_id,
                _uuid(rng),
                ticket_id,
                str(author),
                rng.choice(_BODIES),
                "t" if internal else "f",
                "t" if by_staff else "f",
            )
        for clock in (first, resolution):
            self._emit_clock(org, ticket_id, received, plan, clock)

    def _emit_clock(self, org: OrgSeed, ticket_id: str, received: str, plan: Plan, clock: ClockRow) -> None:
        self.ids["clock"] += 1
        clock_id = str(self.ids["clock"])
        org_id = str(org.pk)
        target = int(clock.target)
        self.tables["clock"].add(
            clock_id,
            received,
            ts(clock.updated),
            org_id,
            ticket_id,
            clock.kind,
            "0",
            clock.state,
            received,
            str(target),
            received,
            repr(clock.remaining),
            ts_or_null(clock.due),
            ts_or_null(clock.warn),
            ts_or_null(clock.warned),
            ts_or_null(clock.paused),
            "waiting_on_customer" if clock.paused is not None else "",
            "0.0",
            ts_or_null(clock.stopped),
            ts_or_null(clock.breached),
            str(org.contract_pk),
            "0",
            self.policy_json[org.package],
        )
        due = ts(plan.received + clock.target)
        events = self.tables["clock_event"]
        started = self._started_detail.get(target)
        if started is None:
            started = self._started_detail[target] = escape(json.dumps({"target_seconds": target}))
        events.add(received, received, org_id, clock_id, EVENT["STARTED"], received, due, started)
        if clock.paused is not None:
            at = ts(clock.paused)
            events.add(at, at, org_id, clock_id, EVENT["PAUSED"], at, NULL, _PAUSED_DETAIL)
        if clock.warned is not None:
            assert clock.warn is not None
            at = ts(clock.warned)
            events.add(at, at, org_id, clock_id, EVENT["WARNED"], at, due, "{}")
            self._record(org_id, clock_id, ticket_id, clock.kind, "warning", due=ts(clock.warn), at=at)
        if clock.breached is not None:
            at = ts(clock.breached + min(3.0, ((clock.stopped or self.t0) - clock.breached) / 2))
            events.add(at, at, org_id, clock_id, EVENT["BREACHED"], at, due, _BREACHED_DETAIL)
            self._record(org_id, clock_id, ticket_id, clock.kind, "breach", due=due, at=at)
        if clock.stopped is not None:
            kind = EVENT["STOPPED"] if clock.breached is not None else EVENT["MET"]
            at = ts(clock.stopped)
            events.add(at, at, org_id, clock_id, kind, at, due, "{}")

    def _record(
        self, org_id: str, clock_id: str, ticket_id: str, clock_kind: str, kind: str, *, due: str, at: str
    ) -> None:
        self.tables["record"].add(at, at, org_id, clock_id, ticket_id, kind, clock_kind, "0", due, at, SWEEP)

    def take(self) -> list[tuple[CopyTable, io.StringIO, int]]:
        """The buffered rows of every table, in the order they must be copied (parents first)."""
        return [(table, *table.take()) for table in self.tables.values()]


def _uuid(rng: random.Random) -> str:
    value = rng.getrandbits(128) & ~(0xF000 << 64) | (0x4000 << 64)  # version 4
    value = value & ~(0xC000 << 48) | (0x8000 << 48)  # RFC 4122 variant
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _id_or_null(value: int | None) -> str:
    return NULL if value is None else str(value)


def _allocate(total: int, weights: list[float], *, minimum: int = 0, caps: list[int] | None = None) -> list[int]:
    """Split `total` by weight with the largest remainders, each share at least `minimum` (and at most its cap)."""
    shares = [minimum] * len(weights)
    left = total - minimum * len(weights)
    scale = sum(weights)
    exact = [left * weight / scale for weight in weights]
    for index, value in enumerate(exact):
        shares[index] += int(value)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for index in order[: total - sum(shares)]:
        shares[index] += 1
    if caps is not None:  # move any excess to the shares with room, largest first
        excess = 0
        for index, cap in enumerate(caps):
            if shares[index] > cap:
                excess, shares[index] = excess + shares[index] - cap, cap
        for index in sorted(range(len(weights)), key=lambda i: caps[i] - shares[i], reverse=True):
            move = min(excess, caps[index] - shares[index])
            shares[index], excess = shares[index] + move, excess - move
    return shares


# ---------------------------------------------------------------------- the small tables
def _api_token_row(user: User) -> ApiToken:
    token = api_token(user.email)
    return ApiToken(user=user, token_hash=token_hash(token), token_hint=token[-4:])


def _people(*, scale: Scale, t0: datetime, rng: random.Random) -> tuple[list[OrgSeed], list[int]]:
    password = make_password(SEED_PASSWORD)
    staff = [
        User(
            email=f"engineer{n}@walt-labs.bench.example",
            full_name=f"Engineer {n}",
            staff_role=User.StaffRole.SUPPORT_ENGINEER,
            on_duty=n <= ON_DUTY,
            password=password,
        )
        for n in range(1, max(5, scale.organizations // 20) + 1)
    ] + [
        User(
            email=f"admin{n}@walt-labs.bench.example",
            full_name=f"Support admin {n}",
            staff_role=User.StaffRole.SUPPORT_ADMIN,
            password=password,
        )
        for n in range(1, SUPPORT_ADMINS + 1)
    ]
    User.objects.bulk_create(staff, batch_size=1000)
    engineers = [user.pk for user in staff if user.staff_role == User.StaffRole.SUPPORT_ENGINEER]

    weights = [math.exp(rng.gauss(0, 1)) for _ in range(scale.organizations)]
    tickets = _allocate(scale.tickets, weights, minimum=1)
    opens = _allocate(scale.open_tickets, weights, caps=tickets)
    organizations = []
    for n in range(1, scale.organizations + 1):
        region = Region.US if rng.random() < 0.7 else Region.EU  # noqa: PLR2004
        words = (rng.choice(_WORDS_A), rng.choice(_WORDS_B), rng.choice(_WORDS_C))
        organizations.append(
            Organization(
                name=" ".join(words) + f" {n}",
                slug=f"{words[0]}-{words[1]}-{n}".lower(),
                reference_prefix=f"{words[0][0]}{words[1][0]}{words[2][0]}{n}",
                region=region,
                timezone=rng.choice(_ZONES[region]),
            )
        )
    Organization.objects.bulk_create(organizations, batch_size=1000)
    contracts = [
        Contract(
            organization=organization,
            package=Package.PREMIUM if rng.random() < 0.4 else Package.STANDARD,  # noqa: PLR2004
            effective_from=t0 - timedelta(days=3 * 365),
            note="Bench seed",
        )
        for organization in organizations
    ]
    Contract.objects.bulk_create(contracts, batch_size=1000)

    customers: list[tuple[int, User]] = []
    for index, organization in enumerate(organizations):
        for k in range(1 + min(9, 1 + tickets[index] // 1500)):
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            email = f"{'admin' if k == 0 else f'member{k}'}@{organization.slug}.bench.example"
            customers.append((index, User(email=email, full_name=f"{first} {last}", password=password)))
    User.objects.bulk_create([user for _, user in customers], batch_size=2000)
    Membership.objects.bulk_create(
        [
            Membership(
                organization=organizations[index],
                user=user,
                role=Membership.Role.ADMIN if user.email.startswith("admin@") else Membership.Role.MEMBER,
            )
            for index, user in customers
        ],
        batch_size=2000,
    )
    # Every customer admin and every engineer has an API token: the HTTP scenarios sign in with these.
    ApiToken.objects.bulk_create(
        [_api_token_row(user) for _, user in customers if user.email.startswith("admin@")]
        + [_api_token_row(user) for user in staff if user.pk in engineers],
        batch_size=2000,
    )
    TicketCounter.objects.bulk_create(
        [
            TicketCounter(organization=organization, last_number=tickets[index])
            for index, organization in enumerate(organizations)
        ],
        batch_size=2000,
    )
    people: dict[int, list[int]] = {}
    for index, user in customers:
        people.setdefault(index, []).append(user.pk)
    seeds = [
        OrgSeed(
            pk=organization.pk,
            prefix=organization.reference_prefix,
            package=contracts[index].package,
            contract_pk=contracts[index].pk,
            people=people[index],
            tickets=tickets[index],
            open=opens[index],
        )
        for index, organization in enumerate(organizations)
    ]
    return seeds, engineers


def _monitoring_sources(organizations: list[OrgSeed], *, t0: datetime) -> None:
    """An Alertmanager source for every Premium organization, stored as the service stores one: the SHA-256 of its
    token. The token follows from the organization's slug (`bench.config.source_token`), so the alert scenarios can
    post to it without keeping a secret anywhere."""
    slugs = dict(Organization.objects.filter(pk__in=[org.pk for org in organizations]).values_list("pk", "slug"))
    MonitoringSource.objects.bulk_create(
        [
            MonitoringSource(
                organization_id=org.pk,
                kind=Kind.ALERTMANAGER,
                name="Production Alertmanager",
                token_hash=token_hash(source_token(slugs[org.pk])),
                token_hint=source_token(slugs[org.pk])[-4:],
                token_issued_at=t0,
            )
            for org in organizations
            if org.package == PREMIUM
        ],
        batch_size=1000,
    )


# ---------------------------------------------------------------------- seeding
def _superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def _chunks(organizations: list[OrgSeed]) -> Iterator[list[OrgSeed]]:
    chunk: list[OrgSeed] = []
    size = 0
    for organization in organizations:
        chunk.append(organization)
        size += organization.tickets
        if size >= CHUNK_TICKETS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def migrations_state() -> list[str]:
    """The project's migrations (app.name): a seed is only valid for the schema they make."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(f"{app}.{name}" for app, name in loader.graph.nodes)


_SECONDARY_INDEXES = """
SELECT t.relname, i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid)
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid AND c.contype IN ('u', 'x')
WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace AND NOT x.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = i.oid)
"""


def _indexes_drop(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the secondary indexes (and unique constraints) of `tables`; returns the statements that recreate them.

    Primary keys stay (foreign keys point at them, and ids arrive in order); so does any index a foreign key uses.
    """
    quote = connection.ops.quote_name
    cursor.execute(_SECONDARY_INDEXES, [tables])
    recreate = []
    for table, index, index_sql, constraint, constraint_sql in cursor.fetchall():
        if constraint:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(constraint)}")
            recreate.append(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint)} {constraint_sql}")
        else:
            cursor.execute(f"DROP INDEX {quote(index)}")
            recreate.append(index_sql)
    return recreate


def _produce(
    generator: Generator,
    organizations: list[OrgSeed],
    chunks: "queue.Queue[list[tuple[CopyTable, io.StringIO, int]] | BaseException | None]",
) -> None:
    try:
        for chunk in _chunks(organizations):
            for organization in chunk:
                for number, plan in enumerate(generator.org_plans(organization), start=1):
                    generator.emit(organization, number, plan)
            chunks.put(generator.take())
        chunks.put(None)
    except BaseException as error:  # handed to the loading thread, which raises it
        chunks.put(error)


def seed(*, scale: Scale, log: Any) -> dict[str, Any]:
    """Fill an empty, migrated database at `scale`; returns the marker written into bench_seed."""
    started = time.perf_counter()
    t0_moment = datetime.now(UTC).replace(microsecond=0)
    t0 = t0_moment.timestamp()
    rng = random.Random(RNG_SEED)  # noqa: S311 (reproducible data, not secrets)
    with transaction.atomic():
        organizations, engineers = _people(scale=scale, t0=t0_moment, rng=rng)
        _monitoring_sources(organizations, t0=t0_moment)
    log(f"seed: {len(organizations)} organizations, staff and customers in {time.perf_counter() - started:.1f} s")

    generator = Generator(
        t0=t0,
        engineers=engineers,
        contracts={package: effective_policy(package=package, overrides={}) for package in Package.values},
    )
    counts = dict.fromkeys(generator.tables, 0)
    copy_seconds: dict[str, float] = {}
    chunks: queue.Queue[list[tuple[CopyTable, io.StringIO, int]] | BaseException | None] = queue.Queue(maxsize=1)
    producer = threading.Thread(target=_produce, args=(generator, organizations, chunks), daemon=True)
    producer.start()
    with transaction.atomic(), connection.cursor() as cursor:
        if _superuser():
            # Foreign keys are not checked row by row while loading (seed_verify checks them once afterwards).
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # Indexes are built once at the end, by sorting, rather than row by row (random UUIDs above all).
        indexes = _indexes_drop(cursor, [table.table for table in generator.tables.values()])
        # Rows of one chunk are copied while the next chunk is generated.
        while (chunk := chunks.get()) is not None:
            if isinstance(chunk, BaseException):
                raise chunk
            for table, buffer, rows in chunk:
                copy_started = time.perf_counter()
                table.copy(cursor.cursor, buffer)
                copy_seconds[table.table] = copy_seconds.get(table.table, 0.0) + time.perf_counter() - copy_started
                counts[next(name for name, known in generator.tables.items() if known is table)] += rows
            log(f"seed: {counts['ticket']:,} of {scale.tickets:,} tickets ({time.perf_counter() - started:.0f} s)")
        log(f"seed: rows copied in {time.perf_counter() - started:.0f} s; building {len(indexes)} indexes")
        for statement in indexes:
            cursor.execute(statement)
        for table_name in TRACKED_TABLES[:6]:
            name = connection.ops.quote_name(table_name)
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT max(id) FROM {name}), 1))",  # noqa: S608
                [table_name],
            )
    producer.join()
    loaded = time.perf_counter()
    log(f"seed: rows loaded in {loaded - started:.1f} s; vacuum and analyze")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    marker = {
        "scale": scale.name,
        "version": SEED_VERSION,
        "migrations": migrations_state(),
        "t0": t0_moment.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "load_seconds": round(loaded - started, 1),
        "copy_seconds": {table: round(seconds, 1) for table, seconds in copy_seconds.items()},
        "counts": counts,
        "high_water": high_water_marks(),
        "database": settings.DATABASES["default"]["NAME"],
    }
    marker_save(marker)
    log(f"seed: done in {marker['seconds']} s")
    return marker


def marker_table_create() -> None:
    """The bench's own tables: the seed's marker, and the clocks a scenario changed (see bench.state)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_seed (id integer PRIMARY KEY, marker jsonb NOT NULL)")
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dirty_clock (clock_id bigint PRIMARY KEY)")


def marker_save(marker: dict[str, Any]) -> None:
    marker_table_create()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_seed (id, marker) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET marker = EXCLUDED.marker",
            [json.dumps(marker)],
        )


def high_water_marks() -> dict[str, int]:
    marks = {}
    with connection.cursor() as cursor:
        for table in TRACKED_TABLES:
            cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            row = cursor.fetchone()
            marks[table] = int(row[0]) if row else 0
    return marks
