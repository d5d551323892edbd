from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.heartbeat import heartbeat_age
from notifications.selectors import outbox_backlog
from sla.services import sweeper_lag_seconds
from sla.services.sweep import SWEEPER_HEARTBEAT
from walt_portal.celery import app as celery_app


def _database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # any failure means "not healthy", and is reported
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


def _broker() -> dict[str, Any]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as error:
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True, "transport": conn.transport_cls}


def _beat() -> dict[str, Any]:
    try:
        age = heartbeat_age(name="beat", now=timezone.now())
    except Exception as error:  # the cache may be the broken part
        return {"ok": False, "error": type(error).__name__, "heartbeat_age_seconds": None}
    if age is None:
        return {"ok": False, "heartbeat_age_seconds": None}
    return {"ok": age <= settings.HEARTBEAT_MAX_AGE, "heartbeat_age_seconds": round(age.total_seconds(), 1)}


def _outbox() -> dict[str, Any]:
    # Informational only: a backlog grows while the mail server is down, which must not take the web out of rotation.
    try:
        backlog = outbox_backlog(now=timezone.now())
    except Exception as error:  # the database check above reports the cause
        return {"ok": True, "error": type(error).__name__}
    return {"ok": True, **backlog}


def _sla_sweeper() -> dict[str, Any]:
    now = timezone.now()
    try:
        age = heartbeat_age(name=SWEEPER_HEARTBEAT, now=now)
        lag = sweeper_lag_seconds(now=now)
    except Exception as error:  # the database or the cache may be the broken part
        return {"ok": False, "error": type(error).__name__}
    limit = settings.HEARTBEAT_MAX_AGE.total_seconds()
    return {
        "ok": age is not None and age.total_seconds() <= limit and lag <= limit,
        "heartbeat_age_seconds": None if age is None else round(age.total_seconds(), 1),
        "lag_seconds": round(lag, 1),
    }


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness in one answer: 200 when every part is healthy, else 503. No secrets."""
    checks = {
        "database": _database(),
        "broker": _broker(),
        "beat": _beat(),
        "outbox": _outbox(),
        "sla_sweeper": _sla_sweeper(),
    }
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unhealthy", **checks}, status=200 if healthy else 503)
