"""Heartbeats: periodic tasks stamp the cache so /healthz can tell how long ago beat and a worker last ran."""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

_KEY = "heartbeat:{name}"
_KEEP = timedelta(days=1)


def heartbeat_record(*, name: str, at: datetime | None = None) -> None:
    cache.set(_KEY.format(name=name), (at or timezone.now()).isoformat(), timeout=int(_KEEP.total_seconds()))


def heartbeat_age(*, name: str, now: datetime | None = None) -> timedelta | None:
    stamp = cache.get(_KEY.format(name=name))
    if stamp is None:
        return None
    return (now or timezone.now()) - datetime.fromisoformat(stamp)
