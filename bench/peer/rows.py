"""The peer's dataset as rows for PostgreSQL's COPY: tickets spread over queues, each with its follow-ups.

Pure Python (no Django, no peer installed), so that it is tested with the portal's suite. The columns are those of
django-helpdesk 2.6.1's `helpdesk_ticket` and `helpdesk_followup` tables, every NOT NULL column written explicitly
(Django's model defaults are not database defaults); the seed checks them against the migrated schema before loading.

As DESIGN.md's "Benchmarks" says the peer was measured: 100,000 tickets in 50 queues, 30 % of them open. Queues are
of uneven size, priorities follow the peer's five levels (3, "normal", most often), and a ticket's conversation is
what the peer writes: a "Ticket Opened" follow-up, replies and comments, and a follow-up that resolves or closes it.
"""

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.copytext import NULL, escape, ts

DAY = 86_400.0
RNG_SEED = 20_261_206
CHUNK = 20_000
OPEN, REOPENED, RESOLVED, CLOSED = 1, 2, 3, 4  # the peer's default status numbers
TICKET_COLUMNS = (
    "id",
    "title",
    "created",
    "modified",
    "submitter_email",
    "status",
    "on_hold",
    "description",
    "resolution",
    "priority",
    "due_date",
    "last_escalation",
    "assigned_to_id",
    "queue_id",
    "secret_key",
    "kbitem_id",
    "merged_to_id",
)
FOLLOWUP_COLUMNS = (
    "id",
    "date",
    "title",
    "comment",
    "public",
    "new_status",
    "ticket_id",
    "user_id",
    "message_id",
    "time_spent",
    "email_recipients",
)
_TITLES = tuple(
    escape(title)
    for title in (
        "Checkout returns 502 for some customers",
        "Database replica lag above 30 seconds",
        "VPN tunnel to the office flaps every hour",
        "How do we rotate the API keys safely?",
        "Disk usage on the log volume at 91 %",
        "Nightly backup job did not finish",
        "Grafana dashboards empty since this morning",
        "Upgrade PostgreSQL from 13 to 16",
    )
)
_TEXTS = tuple(
    escape(text)
    for text in (
        "Since 09:40 UTC the error rate is above 5 % on the checkout path.",
        "We did not change anything on our side since Friday's release.",
        "Logs show `connection reset by peer` from the load balancer.",
        "Thanks for the details. We are looking into it now.",
        "We restarted the connection pool; please retry.",
        "Confirmed, everything looks normal again. Thank you!",
    )
)


@dataclass(frozen=True)
class PeerScale:
    name: str
    tickets: int
    queues: int
    open_share: float

    @property
    def open_tickets(self) -> int:
        return round(self.tickets * self.open_share)


PEER_SCALES = {
    "tiny": PeerScale("tiny", 1_000, 5, 0.30),
    "peer": PeerScale("peer", 100_000, 50, 0.30),
}


@dataclass
class Chunk:
    tickets: list[str] = field(default_factory=list)
    followups: list[str] = field(default_factory=list)
    open: int = 0


def queue_rows(scale: PeerScale) -> list[dict[str, object]]:
    """The queues, as keyword arguments for the peer's Queue model."""
    return [
        {"title": f"Queue {n:02d}", "slug": f"queue-{n:02d}", "email_address": f"queue-{n:02d}@peer.bench.example"}
        for n in range(1, scale.queues + 1)
    ]


def queue_shares(scale: PeerScale, rng: random.Random) -> list[float]:
    """Uneven queue sizes (lognormal weights), normalised to 1."""
    weights = [math.exp(rng.gauss(0, 0.8)) for _ in range(scale.queues)]
    total = sum(weights)
    return [weight / total for weight in weights]


def _line(values: tuple[str, ...] | list[str]) -> str:
    return "\t".join(values) + "\n"


def generate(
    *, scale: PeerScale, queue_ids: list[int], staff_ids: list[int], t0: float, chunk: int = CHUNK
) -> Iterator[Chunk]:
    """COPY lines of every ticket and follow-up, `chunk` tickets at a time (ids from 1, in creation order)."""
    if len(queue_ids) != scale.queues or not staff_ids:
        raise ValueError("one queue id per queue and at least one staff user are needed")
    rng = random.Random(RNG_SEED)  # noqa: S311 (reproducible data, not secrets)
    queues = rng.choices(queue_ids, queue_shares(scale, rng), k=scale.tickets)
    open_flags = [True] * scale.open_tickets + [False] * (scale.tickets - scale.open_tickets)
    rng.shuffle(open_flags)
    followup_id = 0
    current = Chunk()
    for number, (queue_id, is_open) in enumerate(zip(queues, open_flags, strict=True), start=1):
        created = t0 - (rng.uniform(0.01, 30) if is_open else rng.uniform(5, 730)) * DAY
        if is_open:
            status = REOPENED if rng.random() < 0.15 else OPEN  # noqa: PLR2004
        else:
            status = rng.choices((RESOLVED, CLOSED), (20, 80))[0]
        assignee = None if is_open and rng.random() < 0.3 else rng.choice(staff_ids)  # noqa: PLR2004
        events = _conversation(rng, created=created, t0=t0, status=status, staff=staff_ids, assignee=assignee)
        for at, title, comment, public, new_status, user in events:
            followup_id += 1
            current.followups.append(
                _line(
                    (
                        str(followup_id),
                        ts(at),
                        title,
                        comment,
                        "t" if public else "f",
                        NULL if new_status is None else str(new_status),
                        str(number),
                        NULL if user is None else str(user),
                        NULL,
                        NULL,
                        NULL,
                    )
                )
            )
        current.tickets.append(
            _line(
                (
                    str(number),
                    rng.choice(_TITLES),
                    ts(created),
                    ts(events[-1][0]),
                    f"customer{number % 997}@queue-{queue_id}.bench.example",
                    str(status),
                    "f",
                    "\\n\\n".join(rng.sample(_TEXTS[:3], rng.randint(1, 3))),
                    NULL if is_open else escape("Fixed: the proxy certificate was renewed."),
                    str(rng.choices((1, 2, 3, 4, 5), (5, 15, 50, 20, 10))[0]),
                    NULL,
                    NULL,
                    NULL if assignee is None else str(assignee),
                    str(queue_id),
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    NULL,
                    NULL,
                )
            )
        )
        current.open += is_open
        if len(current.tickets) >= chunk:
            yield current
            current = Chunk()
    if current.tickets:
        yield current


def _conversation(
    rng: random.Random, *, created: float, t0: float, status: int, staff: list[int], assignee: int | None
) -> list[tuple[float, str, str, bool, int | None, int | None]]:
    """(at, title, comment, public, new_status, user) of each follow-up, in time order."""
    engineer = assignee or rng.choice(staff)
    end = created + rng.uniform(0.02, 3) * DAY if status in (RESOLVED, CLOSED) else t0
    events: list[tuple[float, str, str, bool, int | None, int | None]] = [
        (created, "Ticket Opened", rng.choice(_TEXTS[:3]), True, None, None)
    ]
    for _ in range(min(int(rng.expovariate(1 / 1.3)), 8)):
        at = rng.uniform(created, max(end - 1, created + 1))
        events.append((at, "Comment", rng.choice(_TEXTS[3:]), rng.random() < 0.8, None, engineer))  # noqa: PLR2004
    if status == REOPENED:
        events.append((rng.uniform(created, t0), "Ticket Re-Opened", rng.choice(_TEXTS[:3]), True, REOPENED, None))
    if status in (RESOLVED, CLOSED):
        events.append((end, "Resolved", rng.choice(_TEXTS[3:]), True, RESOLVED, engineer))
        if status == CLOSED:
            events.append((end + rng.uniform(1, 5) * DAY, "Closed", "", True, CLOSED, engineer))
    events.sort(key=lambda event: event[0])
    return [(min(at, t0), title, comment, public, new, user) for at, title, comment, public, new, user in events]
