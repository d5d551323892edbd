"""Keeping a reused seed as it was: scenarios add tickets, records and notices; these go again before the next one.

Rows above the seed's high-water marks are deleted, clocks that a scenario made due are put back (their deadline
follows from their anchor and remaining time), and ticket counters return to the highest number left.
"""

from typing import Any

from django.db import connection, transaction

from bench.seed import TRACKED_TABLES
from tickets.models import SLA_WARNING_PART

# Children first: each table is cleared before the rows it points to.
_DELETE_ORDER = (
    "notifications_notification",
    "notifications_outboxmessage",
    "sla_record",
    "sla_clockevent",
    "sla_clock",
    "monitoring_alertgroup",
    "monitoring_delivery",
    "monitoring_inboundevent",
    "tickets_ticketevent",
    "tickets_message",
    "tickets_ticket",
)
assert set(_DELETE_ORDER) == set(TRACKED_TABLES)
# The seed signs nobody in: the HTML scenarios' sessions and sign-in records go entirely.
_SIGN_IN_TABLES = ("django_session", "axes_accesslog")

_RESTORE_CLOCKS = """
UPDATE sla_clock c SET
    state = 'running', breached_at = NULL, warned_at = NULL, stopped_at = NULL, updated_at = c.created_at,
    due_at = c.anchored_at + make_interval(secs => c.remaining_seconds),
    warn_at = c.anchored_at + make_interval(secs => GREATEST(
        c.remaining_seconds - (1 - (c.policy ->> 'warning_threshold')::float) * c.target_seconds, 0))
FROM bench_dirty_clock d WHERE d.clock_id = c.id
"""

SUMMARIES_FROM_CLOCKS = f"""
UPDATE tickets_ticket t SET
    sla_first_response_state = fr.state,
    sla_first_response_due_at = fr.due_at,
    sla_first_response_remaining_seconds = CASE WHEN fr.state = 'paused' THEN fr.remaining_seconds END,
    sla_resolution_state = rs.state,
    sla_resolution_due_at = rs.due_at,
    sla_resolution_remaining_seconds = CASE WHEN rs.state = 'paused' THEN rs.remaining_seconds END,
    sla_policy_version = rs.policy_version,
    sla_next_due_at = LEAST(CASE WHEN fr.state = 'running' THEN fr.due_at END,
                            CASE WHEN rs.state = 'running' THEN rs.due_at END),
    sla_risk_due_at = LEAST(
        CASE WHEN fr.state IN ('running', 'breached') AND t.first_responded_at IS NULL THEN fr.due_at END,
        CASE WHEN rs.state IN ('running', 'breached') THEN rs.due_at END),
    sla_at_risk_from = LEAST(
        CASE WHEN fr.state IN ('running', 'breached') AND t.first_responded_at IS NULL
             THEN fr.due_at - (fr.due_at - t.received_at) / {SLA_WARNING_PART} END,
        CASE WHEN rs.state IN ('running', 'breached')
             THEN rs.due_at - (rs.due_at - t.received_at) / {SLA_WARNING_PART} END)
FROM sla_clock fr, sla_clock rs
WHERE fr.ticket_id = t.id AND fr.kind = 'first_response' AND fr.epoch = 0
  AND rs.ticket_id = t.id AND rs.kind = 'resolution' AND rs.epoch = 0
  AND t.id IN (SELECT c.ticket_id FROM sla_clock c JOIN bench_dirty_clock d ON d.clock_id = c.id)
"""  # noqa: S608 (our own constant, no input)

_RESTORE_COUNTERS = """
UPDATE tickets_ticketcounter c SET last_number = m.last
FROM (SELECT organization_id, max(number) AS last FROM tickets_ticket GROUP BY organization_id) m
WHERE m.organization_id = c.organization_id AND c.last_number <> m.last
"""


def seed_restore(marker: dict[str, Any]) -> dict[str, int]:
    """Put the database back to the seed; returns how many rows each step changed."""
    marks: dict[str, int] = marker["high_water"]
    changed: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RESTORE_CLOCKS)
        changed["clocks_restored"] = cursor.rowcount
        if cursor.rowcount:
            cursor.execute(SUMMARIES_FROM_CLOCKS)
            changed["summaries_restored"] = cursor.rowcount
        cursor.execute("DELETE FROM bench_dirty_clock")
        for table in _DELETE_ORDER:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)} WHERE id > %s", [marks[table]])  # noqa: S608
            if cursor.rowcount:
                changed[table] = cursor.rowcount
        if changed.get("tickets_ticket"):
            cursor.execute(_RESTORE_COUNTERS)
            changed["counters_restored"] = cursor.rowcount
        for table in _SIGN_IN_TABLES:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
            if cursor.rowcount:
                changed[table] = cursor.rowcount
    if any(changed.values()):
        with connection.cursor() as cursor:
            for table in ("tickets_ticket", "sla_clock", *_DELETE_ORDER[:4]):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return {key: value for key, value in changed.items() if value}


def mark_dirty(clock_ids_sql: str, params: list[Any]) -> None:
    """Remember clocks a scenario is about to change (`clock_ids_sql` selects their ids)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO bench_dirty_clock (clock_id) {clock_ids_sql} ON CONFLICT DO NOTHING", params)


_CHECKS = {
    "messages_without_their_ticket": """
        SELECT count(*) FROM tickets_message m LEFT JOIN tickets_ticket t ON t.id = m.ticket_id
        WHERE t.id IS NULL OR t.organization_id <> m.organization_id""",
    "clocks_without_their_ticket": """
        SELECT count(*) FROM sla_clock c LEFT JOIN tickets_ticket t ON t.id = c.ticket_id
        WHERE t.id IS NULL OR t.organization_id <> c.organization_id""",
    "tickets_without_two_clocks": """
        SELECT count(*) FROM tickets_ticket t
        WHERE NOT EXISTS (SELECT 1 FROM sla_clock c WHERE c.ticket_id = t.id AND c.kind = 'first_response')
           OR NOT EXISTS (SELECT 1 FROM sla_clock c WHERE c.ticket_id = t.id AND c.kind = 'resolution')""",
    "summaries_unlike_their_clocks": """
        SELECT count(*) FROM tickets_ticket t
        JOIN sla_clock fr ON fr.ticket_id = t.id AND fr.kind = 'first_response'
        JOIN sla_clock rs ON rs.ticket_id = t.id AND rs.kind = 'resolution'
        WHERE t.sla_first_response_state <> fr.state OR t.sla_resolution_state <> rs.state
           OR t.sla_first_response_due_at IS DISTINCT FROM fr.due_at
           OR t.sla_resolution_due_at IS DISTINCT FROM rs.due_at
           OR t.sla_next_due_at IS DISTINCT FROM LEAST(CASE WHEN fr.state = 'running' THEN fr.due_at END,
                                                       CASE WHEN rs.state = 'running' THEN rs.due_at END)""",
    "requesters_not_members": """
        SELECT count(*) FROM tickets_ticket t WHERE t.requester_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM tenancy_membership m
            WHERE m.user_id = t.requester_id AND m.organization_id = t.organization_id)""",
    "open_tickets_with_stopped_resolution": """
        SELECT count(*) FROM tickets_ticket t JOIN sla_clock c ON c.ticket_id = t.id AND c.kind = 'resolution'
        WHERE t.status IN ('new', 'open', 'waiting_on_customer') AND c.state = 'met'""",
    "breaches_without_a_record": """
        SELECT count(*) FROM sla_clock c WHERE c.state = 'breached'
        AND NOT EXISTS (SELECT 1 FROM sla_record r WHERE r.clock_id = c.id AND r.kind = 'breach')""",
    "first_responses_unlike_the_conversation": """
        SELECT count(*) FROM tickets_ticket t WHERE t.first_responded_at IS DISTINCT FROM (
            SELECT min(m.created_at) FROM tickets_message m
            WHERE m.ticket_id = t.id AND m.by_staff AND NOT m.internal)""",
    "references_unlike_numbers": """
        SELECT count(*) FROM tickets_ticket t JOIN tenancy_organization o ON o.id = t.organization_id
        WHERE t.reference <> o.reference_prefix || '-' || t.number""",
    "clocks_due_at_seed_moment": """
        SELECT count(*) FROM sla_clock WHERE state = 'running'
        AND (due_at <= %(t0)s OR (warned_at IS NULL AND warn_at <= %(t0)s))""",
}


def seed_verify(*, t0: str) -> dict[str, int]:
    """Counts of rows that break the seed's promises: every value should be 0."""
    problems = {}
    with connection.cursor() as cursor:
        for name, query in _CHECKS.items():
            cursor.execute(query, {"t0": t0})
            row = cursor.fetchone()
            problems[name] = int(row[0]) if row else -1
    return problems


def seed_counts() -> dict[str, int]:
    queries = {
        "organizations": "SELECT count(*) FROM tenancy_organization",
        "users": "SELECT count(*) FROM tenancy_user",
        "tickets": "SELECT count(*) FROM tickets_ticket",
        "open_tickets": "SELECT count(*) FROM tickets_ticket WHERE status IN ('new', 'open', 'waiting_on_customer')",
        "messages": "SELECT count(*) FROM tickets_message",
        "clocks": "SELECT count(*) FROM sla_clock",
        "running_clocks": "SELECT count(*) FROM sla_clock WHERE state = 'running'",
        "records": "SELECT count(*) FROM sla_record",
        "clock_events": "SELECT count(*) FROM sla_clockevent",
    }
    counts = {}
    with connection.cursor() as cursor:
        for name, query in queries.items():
            cursor.execute(query)
            row = cursor.fetchone()
            counts[name] = int(row[0]) if row else 0
    return counts
