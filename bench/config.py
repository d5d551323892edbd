"""Scales, defaults and the environment the bench runs the portal with. No Django imports here."""

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/walt_portal_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
# The key the test suite uses: the bench database holds nothing but generated data.
DEFAULT_SECRET_KEY = "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105 (the test suite's)
SEED_PASSWORD = "walt-bench-2026"  # noqa: S105 (every seeded user's password: generated data only)
# Bump when the generated data changes shape: a database seeded by another version is seeded again.
SEED_VERSION = 3
# gunicorn.conf.py's own default, so the bench measures the portal as production serves it (a test holds them equal).
GUNICORN_WORKERS = 4


def api_token(email: str) -> str:
    """The API token of a seeded customer admin or engineer (stored hashed, as the portal does)."""
    return f"bench-api-{email}"


def source_token(slug: str) -> str:
    """The intake token of the seeded monitoring source of an organization (stored hashed, as the portal does)."""
    return f"bench-alertmanager-{slug}"


@dataclass(frozen=True)
class Scale:
    name: str
    organizations: int
    tickets: int
    open_share: float
    duration: float  # measured seconds per HTTP scenario
    warmup: float  # seconds of each HTTP scenario that are not counted
    sweep_repeats: int  # idle sweeps timed
    due_clocks: int  # clocks made due at once for the breach sweep
    alert_sources: int  # monitoring sources whose alerts one Celery worker processes
    alert_events: int  # deliveries of 100 alerts each, spread over those sources
    alert_keys: int  # distinct alerts firing per source (a delivery repeats them up to 100)
    breach_clocks: int  # deadlines a few seconds ahead, recorded by the real worker and beat

    @property
    def open_tickets(self) -> int:
        return round(self.tickets * self.open_share)


SCALES = {
    "tiny": Scale(
        "tiny", 10, 1_000, 0.10, duration=1.5, warmup=0.5, sweep_repeats=50, due_clocks=50,
        alert_sources=2, alert_events=4, alert_keys=10, breach_clocks=5,
    ),
    "small": Scale(
        "small", 100, 100_000, 0.10, duration=15, warmup=3, sweep_repeats=200, due_clocks=10_000,
        alert_sources=4, alert_events=40, alert_keys=100, breach_clocks=50,
    ),
    "full": Scale(
        "full", 1_000, 1_000_000, 0.10, duration=20, warmup=3, sweep_repeats=200, due_clocks=10_000,
        alert_sources=4, alert_events=40, alert_keys=100, breach_clocks=50,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Options:
    scale: Scale
    database_url: str
    redis_url: str
    out_dir: Path
    scenarios: tuple[str, ...]
    duration: float
    warmup: float
    clients: int  # concurrent clients opening tickets
    read_clients: int  # concurrent clients reading lists and details
    workers: int  # gunicorn workers
    sweep_repeats: int
    due_clocks: int
    alert_events: int
    breach_clocks: int
    reseed: bool


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def portal_environment(options: Options) -> dict[str, str]:
    """The variables the portal reads, as the test suite sets them, pointed at the bench database and Redis."""
    secret = os.environ.get("DJANGO_SECRET_KEY", "")
    if len(secret) < 32 or secret.startswith("insecure"):  # noqa: PLR2004 (the settings' own minimum)
        secret = DEFAULT_SECRET_KEY
    return {
        "DJANGO_SETTINGS_MODULE": "walt_portal.settings",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "CELERY_BROKER_URL": options.redis_url,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secret,
        "DJANGO_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
        "DJANGO_HTTPS": "false",
        "DJANGO_MANIFEST_STATIC": "false",
        "LOG_LEVEL": "WARNING",
    }
