"""The soak's own settings and defaults. No Django imports here."""

from dataclasses import dataclass

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/walt_portal_soak"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
# A process whose RSS grows more than this after the warm-up is reported as growing (and fails the run).
RSS_GROWTH_LIMIT_PERCENT = 10.0
# Organizations whose contract gets deadlines of minutes for the run, so the sweeper records breaches all along.
SHORT_TARGET_ORGANIZATIONS = 2
SHORT_FIRST_RESPONSE_SECONDS = 120
SHORT_RESOLUTION_SECONDS = 600
# Tickets opened before the load starts, for the engineers to reply to (the seed's own tickets stay as seeded).
TICKETS_TO_WORK = 120
# After the load, how long the worker may take to deliver every notice still queued.
DRAIN_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class SoakSettings:
    think_seconds: float  # each client's pause between two requests
    sample_every: float  # seconds between two RSS and health samples
