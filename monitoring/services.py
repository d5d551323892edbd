"""Every write of the monitoring intake: sources, deliveries, events and the alerts that become tickets."""

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.exceptions import ApplicationError, PermissionDeniedError
from core.tokens import token_generate, token_hash
from maintenance.selectors import maintenance_ends_at
from monitoring.formats import ACKNOWLEDGED, FIRING, RESOLVED, Alert, parse
from monitoring.models import AlertGroup, Delivery, InboundEvent, Kind, MonitoringSource, ResolvePolicy
from monitoring.selectors import is_premium
from monitoring.tasks import process_event as process_event_task
from tenancy.models import Organization, User
from tickets.models import OPEN_STATUSES, Priority, Source, Status, Ticket, TicketType
from tickets.services import ticket_open, ticket_reply, ticket_status_change

logger = logging.getLogger(__name__)

PREMIUM_ONLY = (
    "Monitoring integrations are part of Premium support: on Standard, WALT Labs answers the tickets you open and "
    "does not watch your alerts."
)
SYSTEM_USER_EMAIL = "monitoring@walt-labs.example"
REPLAY_WINDOW = timedelta(minutes=5)
SIGNATURE_HEADERS = ("X-Grafana-Alerting-Signature", "X-Grafana-Alert-Signature")
TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"
EXCERPT_BYTES = 2048
MAX_REPORTED_ERRORS = 200
STALE_AFTER = timedelta(seconds=30)
SWEEP_BATCH = 500
MAX_ATTEMPTS = 5
SUBJECT_MAX = 200  # Ticket.subject's length
ACCEPTED = 202


def _new_token() -> tuple[str, str]:
    token = token_generate()
    return token, token_hash(token)


def _require_premium(organization: Organization) -> None:
    if not is_premium(organization=organization, at=timezone.now()):
        raise ApplicationError(
            PREMIUM_ONLY, errors=[{"field": "package", "code": "premium_only", "detail": PREMIUM_ONLY}], status_code=403
        )


def _validated_severity_map(severity_map: Any) -> dict[str, str]:
    errors = []
    if not isinstance(severity_map, dict) or not severity_map:
        errors.append(
            {"field": "severity_map", "code": "invalid", "detail": 'Map severities to P1–P4: {"critical": "P1"}.'}
        )
    else:
        for severity, priority in severity_map.items():
            if priority not in Priority.values:
                errors.append(
                    {
                        "field": f"severity_map.{severity}",
                        "code": "invalid_choice",
                        "detail": "Choose P1, P2, P3 or P4.",
                    }
                )
    if errors:
        raise ApplicationError("The severity mapping is invalid.", errors=errors)
    return {str(severity).lower(): str(priority) for severity, priority in severity_map.items()}


@transaction.atomic
def monitoring_source_create(
    *,
    organization: Organization,
    kind: str,
    name: str,
    severity_map: dict[str, str] | None = None,
    resolve_policy: str = ResolvePolicy.RESOLVE,
    hmac_secret: str = "",
) -> tuple[MonitoringSource, str]:
    """A new source and its token; the token is returned here only and stored as its SHA-256."""
    _require_premium(organization)
    errors = []
    if kind not in Kind.values:
        errors.append({"field": "kind", "code": "invalid_choice", "detail": f"Choose one of {', '.join(Kind.values)}."})
    if not name.strip():
        errors.append({"field": "name", "code": "blank", "detail": "Name the source, e.g. “Production Alertmanager”."})
    if resolve_policy not in ResolvePolicy.values:
        errors.append({"field": "resolve_policy", "code": "invalid_choice", "detail": "Choose resolve or note."})
    if errors:
        raise ApplicationError("The monitoring source was not created.", errors=errors)
    token, digest = _new_token()
    source = MonitoringSource(
        organization=organization,
        kind=kind,
        name=name.strip(),
        token_hash=digest,
        token_hint=token[-4:],
        token_issued_at=timezone.now(),
        resolve_policy=resolve_policy,
        hmac_secret=hmac_secret,
    )
    if severity_map is not None:
        source.severity_map = _validated_severity_map(severity_map)
    source.save()
    return source, token


@transaction.atomic
def monitoring_source_update(
    *,
    source: MonitoringSource,
    name: str | None = None,
    enabled: bool | None = None,
    severity_map: dict[str, str] | None = None,
    resolve_policy: str | None = None,
    hmac_secret: str | None = None,
) -> MonitoringSource:
    source = MonitoringSource.objects.select_for_update().get(pk=source.pk)
    if name is not None:
        if not name.strip():
            raise ApplicationError(
                "The source needs a name.", errors=[{"field": "name", "code": "blank", "detail": "Name the source."}]
            )
        source.name = name.strip()
    if enabled is not None:
        if enabled and not source.enabled:
            _require_premium(source.organization)
            if source.token_hash is None:
                raise ApplicationError(
                    "The token was revoked: rotate it to issue a new one, which also enables the source.",
                    errors=[{"field": "enabled", "code": "revoked", "detail": "Rotate the token first."}],
                )
        source.enabled = enabled
    if severity_map is not None:
        source.severity_map = _validated_severity_map(severity_map)
    if resolve_policy is not None:
        if resolve_policy not in ResolvePolicy.values:
            raise ApplicationError(
                "Unknown resolve policy.",
                errors=[{"field": "resolve_policy", "code": "invalid_choice", "detail": "Choose resolve or note."}],
            )
        source.resolve_policy = resolve_policy
    if hmac_secret is not None:
        source.hmac_secret = hmac_secret
    source.save()
    return source


@transaction.atomic
def monitoring_source_rotate(*, source: MonitoringSource) -> tuple[MonitoringSource, str]:
    """Replace the token (the old URL answers 404 at once) and enable the source again."""
    _require_premium(source.organization)
    source = MonitoringSource.objects.select_for_update().get(pk=source.pk)
    token, digest = _new_token()
    source.token_hash = digest
    source.token_hint = token[-4:]
    source.token_issued_at = timezone.now()
    source.enabled = True
    source.save()
    return source, token


@transaction.atomic
def monitoring_source_revoke(*, source: MonitoringSource) -> MonitoringSource:
    source = MonitoringSource.objects.select_for_update().get(pk=source.pk)
    source.token_hash = None
    source.token_hint = ""
    source.enabled = False
    source.save()
    return source


def monitoring_sources_disable_for(*, organization: Organization) -> int:
    """A downgrade to Standard disables (never deletes) the organization's sources."""
    return MonitoringSource.objects.for_organization(organization).filter(enabled=True).update(enabled=False)


def monitoring_system_user() -> User:
    """The staff account monitoring acts as when it resolves tickets or leaves notes; nobody can sign in as it."""
    user, created = User.objects.get_or_create(
        email=SYSTEM_USER_EMAIL,
        defaults={
            "full_name": "Monitoring",
            "staff_role": User.StaffRole.SUPPORT_ENGINEER,
            "on_duty": False,
            "is_service_account": True,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# ---------------------------------------------------------------------------------------------------- intake


@dataclass
class IntakeResult:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _rejected(message: str, errors: list[dict[str, str]], status_code: int) -> IntakeResult:
    return IntakeResult(status_code, {"message": message, "errors": errors})


def _signature_errors(
    source: MonitoringSource, *, body: bytes, headers: dict[str, str], now: float
) -> list[dict[str, str]]:
    signature = next((headers[name] for name in SIGNATURE_HEADERS if headers.get(name)), "")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    if not signature:
        return [{"path": f"headers.{SIGNATURE_HEADERS[0]}", "code": "required", "detail": "The signature is missing."}]
    if not stamp.isdigit():
        return [{"path": f"headers.{TIMESTAMP_HEADER}", "code": "required", "detail": "Send the Unix timestamp."}]
    if abs(now - int(stamp)) > REPLAY_WINDOW.total_seconds():
        # An old signed body replayed later is refused even though its signature is genuine.
        return [{"path": f"headers.{TIMESTAMP_HEADER}", "code": "expired", "detail": "Older than 5 minutes."}]
    expected = hmac.new(source.hmac_secret.encode(), stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return [
            {"path": f"headers.{SIGNATURE_HEADERS[0]}", "code": "invalid", "detail": "The signature does not match."}
        ]
    return []


def sign(*, secret: str, body: bytes, timestamp: int) -> str:
    """Grafana's signature: hex HMAC-SHA256 of "<timestamp>:<body>"."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b":" + body, hashlib.sha256).hexdigest()


def intake_refusal(*, source: MonitoringSource, at: datetime) -> IntakeResult | None:
    """403 for a disabled source or a Standard organization; only a counter remembers the attempt."""
    premium = is_premium(organization=source.organization, at=at)
    if source.enabled and premium:
        return None
    MonitoringSource.objects.filter(pk=source.pk).update(refused_count=F("refused_count") + 1)
    # The package first: a downgrade also disables the sources, and "enable it" would be no answer on Standard.
    if not premium:
        message = PREMIUM_ONLY
        code = "premium_only"
    else:
        message = "This monitoring source is disabled. An admin of the organization can enable it in the portal."
        code = "source_disabled"
    return _rejected(message, [{"path": "$", "code": code, "detail": message}], 403)


def intake_too_large(*, source: MonitoringSource, size: int, received_at: datetime, head: bytes) -> IntakeResult:
    cap = settings.MONITORING_MAX_BODY_BYTES
    detail = f"The body is larger than {cap} bytes. Send fewer alerts per notification (e.g. max_alerts: 100)."
    errors = [{"path": "$", "code": "too_large", "detail": detail}]
    delivery_record_rejected(
        source=source,
        received_at=received_at,
        size=size,
        result=Delivery.Result.TOO_LARGE,
        status_code=413,
        errors=errors,
        body=head,
    )
    return _rejected("The request body is too large.", errors, 413)


def intake_receive(
    *, source: MonitoringSource, body: bytes, headers: dict[str, str], received_at: datetime, signed: bool = True
) -> IntakeResult:
    """Validate a delivery's body and store it raw, or record why it was rejected.

    The portal's own "send test alert" passes `signed=False`: it never left the server, so there is nothing to verify.
    """
    if signed and source.hmac_secret:
        errors = _signature_errors(source, body=body, headers=headers, now=time.time())
        if errors:
            delivery_record_rejected(
                source=source,
                received_at=received_at,
                size=len(body),
                result=Delivery.Result.BAD_SIGNATURE,
                status_code=401,
                errors=errors,
                body=body,
            )
            return _rejected("The signature was not accepted.", errors, 401)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        where = f" at line {error.lineno}, column {error.colno}" if isinstance(error, json.JSONDecodeError) else ""
        errors = [{"path": "$", "code": "invalid_json", "detail": f"The body is not JSON{where}."}]
    except RecursionError:
        errors = [{"path": "$", "code": "too_deep", "detail": "The body nests arrays or objects too deeply."}]
    else:
        errors = _nul_character_errors(payload)
    if not errors:
        fallback_key = None
        if source.kind == Kind.PAGERDUTY and isinstance(payload, dict) and not payload.get("dedup_key"):
            # Like PagerDuty, a trigger without a key gets one, returned to the sender for its resolve.
            fallback_key = secrets.token_hex(16)
        alerts, errors = parse(kind=source.kind, payload=payload, fallback_key=fallback_key)
    if errors:
        delivery_record_rejected(
            source=source,
            received_at=received_at,
            size=len(body),
            result=Delivery.Result.INVALID,
            status_code=400,
            errors=errors,
            body=body,
        )
        return _rejected("The payload is not a valid " + source.get_kind_display() + " notification.", errors, 400)
    dedup_keys = list(dict.fromkeys(alert.dedup_key for alert in alerts))
    event = inbound_event_accept(
        source=source, received_at=received_at, payload=payload, size=len(body), dedup_keys=dedup_keys
    )
    return IntakeResult(ACCEPTED, {"status": "accepted", "event_id": str(event.public_id), "dedup_keys": dedup_keys})


def _nul_character_errors(payload: Any) -> list[dict[str, str]]:
    """Each place in the payload whose text holds a NUL character, which PostgreSQL keeps in neither text nor JSON."""
    errors: list[dict[str, str]] = []
    pending: list[tuple[str, Any]] = [("", payload)]  # a stack, not recursion: the payload may nest deeply
    while pending and len(errors) < MAX_REPORTED_ERRORS:
        path, value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            errors.append(_nul_error(path))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                if "\x00" in key:
                    errors.append(_nul_error(child))
                pending.append((child, item))
    return errors


def _nul_error(path: str) -> dict[str, str]:
    return {
        "path": path.replace("\x00", "\ufffd") or "$",
        "code": "nul_character",
        "detail": "Text may not contain the NUL character (\\u0000).",
    }


@transaction.atomic
def delivery_record_rejected(
    *,
    source: MonitoringSource,
    received_at: datetime,
    size: int,
    result: str,
    status_code: int,
    errors: list[dict[str, str]],
    body: bytes,
) -> Delivery:
    return Delivery.objects.create(
        organization_id=source.organization_id,
        source=source,
        received_at=received_at,
        size=size,
        result=result,
        status_code=status_code,
        errors=errors[:MAX_REPORTED_ERRORS],
        # PostgreSQL keeps no NUL character in text: show it as the replacement character, like undecodable bytes.
        body_excerpt=body[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
    )


def _enqueue_processing(event_id: int) -> None:
    try:
        process_event_task.delay(event_id)
    except Exception:
        # The event is stored: the sweep processes it within a minute even when the broker is unreachable.
        logger.warning("Could not enqueue monitoring event %s; the sweep will pick it up", event_id, exc_info=True)


@transaction.atomic
def inbound_event_accept(
    *,
    source: MonitoringSource,
    received_at: datetime,
    payload: Any,
    size: int,
    dedup_keys: list[str],
    replay_of: InboundEvent | None = None,
) -> InboundEvent:
    event = InboundEvent.objects.create(
        organization_id=source.organization_id,
        source=source,
        received_at=received_at,
        payload=payload,
        size=size,
        dedup_keys=dedup_keys,
        replay_of=replay_of,
    )
    Delivery.objects.create(
        organization_id=source.organization_id,
        source=source,
        received_at=received_at,
        size=size,
        result=Delivery.Result.ACCEPTED,
        status_code=202,
        event=event,
    )
    transaction.on_commit(lambda: _enqueue_processing(event.pk))
    return event


@transaction.atomic
def inbound_event_replay(*, event: InboundEvent, replayed_by: User) -> InboundEvent:
    """Staff run an accepted event through processing again, as a new event received now."""
    if not replayed_by.is_walt_staff:
        raise PermissionDeniedError("Only WALT staff can replay an event.")
    return inbound_event_accept(
        source=event.source,
        received_at=timezone.now(),
        payload=event.payload,
        size=event.size,
        dedup_keys=list(event.dedup_keys),
        replay_of=event,
    )


def test_payload(*, kind: str, now: datetime) -> dict[str, Any]:
    """A synthetic firing alert in the source's own format, for the "send test alert" button."""
    stamp = now.isoformat().replace("+00:00", "Z")
    labels = {"alertname": "PortalTestAlert", "severity": "info", "source": "walt-portal"}
    annotations = {"summary": "Test alert sent from the WALT Labs Support Portal"}
    if kind in (Kind.ALERTMANAGER, Kind.GRAFANA):
        alert = {
            "status": FIRING,
            "labels": labels,
            "annotations": annotations,
            "startsAt": stamp,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": f"portaltest{int(now.timestamp())}",
        }
        return {
            "version": "4" if kind == Kind.ALERTMANAGER else "1",
            "groupKey": '{}:{alertname="PortalTestAlert"}',
            "truncatedAlerts": 0,
            "status": FIRING,
            "receiver": "walt-portal",
            "groupLabels": {"alertname": "PortalTestAlert"},
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": "",
            "alerts": [alert],
        }
    if kind == Kind.PAGERDUTY:
        return {
            "event_action": "trigger",
            "dedup_key": f"portal-test-{int(now.timestamp())}",
            "payload": {"summary": annotations["summary"], "source": "walt-portal", "severity": "info"},
        }
    return {
        "id": f"portal-test-{int(now.timestamp())}",
        "alert_id": "0",
        "alert_cycle_key": f"portal-test-{int(now.timestamp())}",
        "alert_transition": "Triggered",
        "alert_title": annotations["summary"],
        "alert_type": "info",
        "body": "Nothing is wrong: this checks the integration.",
    }


def monitoring_test_alert(*, source: MonitoringSource) -> IntakeResult:
    """Send a synthetic alert through the same intake as a real delivery."""
    now = timezone.now()
    body = json.dumps(test_payload(kind=source.kind, now=now)).encode()
    refusal = intake_refusal(source=source, at=now)
    if refusal is not None:
        return refusal
    return intake_receive(source=source, body=body, headers={}, received_at=now, signed=False)


# ---------------------------------------------------------------------------------------------------- processing


def _subject(source: MonitoringSource, alert: Alert) -> str:
    subject = f"[{source.name}] {alert.title}".replace("\n", " ")
    return subject if len(subject) <= SUBJECT_MAX else subject[: SUBJECT_MAX - 1] + "…"


def _description(source: MonitoringSource, group: AlertGroup, *, extra: str = "") -> str:
    head = (
        f"Alert from **{source.name}** ({source.get_kind_display()}), dedup key `{group.dedup_key}`, "
        f"first received {group.first_seen_at:%Y-%m-%d %H:%M:%S} UTC."
    )
    return "\n\n".join(part for part in (head, extra, group.details) if part)


def _open_ticket(*, group: AlertGroup, received_at: datetime, extra: str = "") -> Ticket:
    return ticket_open(
        organization=group.source.organization,
        requester=None,
        subject=group.title,
        description=_description(group.source, group, extra=extra),
        ticket_type=TicketType.INCIDENT,
        priority=group.priority,
        source=Source.MONITORING,
        received_at=received_at,
    )


def _release(group: AlertGroup) -> None:
    """A suppressed alert still firing when the maintenance ended becomes a ticket, received at the window's end."""
    assert group.suppressed_until is not None
    until = group.suppressed_until
    note = (
        f"This alert fired at {group.first_seen_at:%Y-%m-%d %H:%M} UTC during a maintenance window and was still "
        f"firing when the window ended at {until:%Y-%m-%d %H:%M} UTC, so the ticket opened then."
    )
    group.ticket = _open_ticket(group=group, received_at=until, extra=f"*{note}*")
    group.state = AlertGroup.State.FIRING
    group.save(update_fields=["ticket", "state", "updated_at"])
    ticket_reply(ticket=group.ticket, author=monitoring_system_user(), body=note, internal=True)


def _locked_open_group(source: MonitoringSource, dedup_key: str) -> AlertGroup | None:
    return (
        AlertGroup.objects.select_for_update(of=("self",))
        .select_related("ticket", "source__organization")
        .filter(source=source, dedup_key=dedup_key, open=True)
        .first()
    )


_UNKNOWN = object()


@dataclass
class _Batch:
    """One event's processing: its open alerts (locked up front in one query), and the counts still to write."""

    event: InboundEvent
    now: datetime
    groups: dict[str, AlertGroup]
    counted: dict[int, AlertGroup] = field(default_factory=dict)
    _maintenance_end: Any = _UNKNOWN

    def maintenance_end(self) -> datetime | None:
        # Every alert of an event was received at the same moment: ask the maintenance calendar once.
        if self._maintenance_end is _UNKNOWN:
            source = self.event.source
            self._maintenance_end = maintenance_ends_at(organization=source.organization, at=self.event.received_at)
        return self._maintenance_end  # type: ignore[no-any-return]

    def count(self, group: AlertGroup) -> None:
        """A repeat only counts; the counts are written together at the end of the event."""
        group.last_seen_at = max(group.last_seen_at, self.event.received_at)
        self.counted[group.pk] = group

    def flush(self) -> None:
        if not self.counted:
            return
        for group in self.counted.values():
            group.updated_at = self.now
        AlertGroup.objects.bulk_update(list(self.counted.values()), ["occurrences", "last_seen_at", "updated_at"])


def _fire(batch: _Batch, alert: Alert) -> dict[str, Any]:
    event, source = batch.event, batch.event.source
    group = batch.groups.get(alert.dedup_key)
    if group is not None and group.ticket is not None and group.ticket.status not in OPEN_STATUSES:
        # A person resolved or closed the ticket while the alert kept firing: it is a new problem now.
        group.open = False
        group.state = AlertGroup.State.RESOLVED
        group.save(update_fields=["open", "state", "updated_at"])
        del batch.groups[alert.dedup_key]
        group = None
    if group is None:
        ends_at = batch.maintenance_end()
        try:
            with transaction.atomic():  # a savepoint: a concurrent twin may have opened the same key
                group = AlertGroup.objects.create(
                    organization_id=source.organization_id,
                    source=source,
                    dedup_key=alert.dedup_key,
                    state=AlertGroup.State.SUPPRESSED if ends_at else AlertGroup.State.FIRING,
                    first_seen_at=event.received_at,
                    last_seen_at=event.received_at,
                    suppressed_until=ends_at,
                    title=_subject(source, alert),
                    priority=source.priority_for(alert.severity),
                    details=alert.details_markdown(),
                )
        except IntegrityError:
            group = _locked_open_group(source, alert.dedup_key)
            if group is None:  # resolved between the conflict and the re-read: nothing left to join
                raise
            batch.groups[alert.dedup_key] = group
        else:
            batch.groups[alert.dedup_key] = group
            if ends_at is None:
                group.ticket = _open_ticket(group=group, received_at=event.received_at)
                group.save(update_fields=["ticket", "updated_at"])
                return {"action": "opened", "ticket": group.ticket.reference}
            if ends_at <= batch.now:
                _release(group)
                return {"action": "opened_after_maintenance", "ticket": _reference(group)}
            return {"action": "suppressed", "until": ends_at.isoformat()}
    group.occurrences += 1
    batch.count(group)
    if group.state == AlertGroup.State.SUPPRESSED and group.suppressed_until and group.suppressed_until <= batch.now:
        _release(group)
        return {"action": "opened_after_maintenance", "ticket": _reference(group)}
    return {"action": "duplicate", "ticket": _reference(group)}


def _reference(group: AlertGroup) -> str | None:
    return group.ticket.reference if group.ticket is not None else None


def _resolve(batch: _Batch, alert: Alert) -> dict[str, Any]:
    event, source = batch.event, batch.event.source
    group = batch.groups.pop(alert.dedup_key, None)
    if group is None:
        return {"action": "resolved_without_open_alert"}
    group.open = False
    group.resolved_at = event.received_at
    group.last_seen_at = max(group.last_seen_at, event.received_at)
    if group.state == AlertGroup.State.SUPPRESSED:
        group.state = AlertGroup.State.RESOLVED_IN_MAINTENANCE
        group.save(update_fields=["open", "resolved_at", "last_seen_at", "state", "updated_at"])
        return {"action": "resolved_in_maintenance"}
    group.state = AlertGroup.State.RESOLVED
    group.save(update_fields=["open", "resolved_at", "last_seen_at", "state", "updated_at"])
    ticket = group.ticket
    if ticket is None or ticket.status == Status.CLOSED:
        return {"action": "resolved", "ticket": _reference(group)}
    system = monitoring_system_user()
    stamp = f"{event.received_at:%Y-%m-%d %H:%M:%S} UTC"
    if source.resolve_policy == ResolvePolicy.RESOLVE and ticket.status in OPEN_STATUSES:
        ticket_reply(
            ticket=ticket, author=system, body=f"{source.name} reported the alert resolved at {stamp}.", internal=True
        )
        ticket_status_change(ticket=ticket, actor=system, status=Status.RESOLVED)
        return {"action": "resolved", "ticket": ticket.reference}
    ticket_reply(
        ticket=ticket,
        author=system,
        body=f"{source.name} reported the alert resolved at {stamp}. The ticket stays open for a person to confirm.",
        internal=True,
    )
    return {"action": "noted_resolved", "ticket": ticket.reference}


def _acknowledge(batch: _Batch, alert: Alert) -> dict[str, Any]:
    group = batch.groups.get(alert.dedup_key)
    if group is None:
        return {"action": "acknowledged_without_open_alert"}
    batch.count(group)
    return {"action": "acknowledged", "ticket": _reference(group)}


@transaction.atomic
def inbound_event_process(*, event_id: int) -> InboundEvent | None:
    """Turn a stored event's alerts into ticket changes; idempotent, so a redelivered task changes nothing.

    The event row stays locked for the whole transaction, so the task and the sweep never process it twice.
    """
    event = (
        InboundEvent.objects.select_for_update(of=("self",), skip_locked=True)
        .select_related("source__organization")
        .filter(pk=event_id, status=InboundEvent.Status.PENDING)
        .first()
    )
    if event is None:
        return None
    fallback = event.dedup_keys[0] if event.source.kind == Kind.PAGERDUTY and event.dedup_keys else None
    alerts, errors = parse(kind=event.source.kind, payload=event.payload, fallback_key=fallback)
    now = timezone.now()
    event.attempts += 1
    if errors:
        event.status = InboundEvent.Status.FAILED
        event.last_error = json.dumps(errors)[:5000]
        event.processed_at = now
        event.save(update_fields=["status", "last_error", "attempts", "processed_at", "updated_at"])
        return event
    # Locks are taken in key order (the open alerts in one query, new ones as they are inserted), so two events
    # sharing keys cannot deadlock; alerts with equal keys keep their order in the payload.
    alerts.sort(key=lambda alert: alert.dedup_key)
    open_groups = (
        AlertGroup.objects.select_for_update(of=("self",))
        .select_related("ticket", "source__organization")
        .filter(source=event.source, open=True, dedup_key__in={alert.dedup_key for alert in alerts})
        .order_by("dedup_key")
    )
    batch = _Batch(event=event, now=now, groups={group.dedup_key: group for group in open_groups})
    outcome = []
    for alert in alerts:
        if alert.status == FIRING:
            result = _fire(batch, alert)
        elif alert.status == RESOLVED:
            result = _resolve(batch, alert)
        else:
            assert alert.status == ACKNOWLEDGED
            result = _acknowledge(batch, alert)
        outcome.append({"dedup_key": alert.dedup_key, "status": alert.status, **result})
    batch.flush()
    event.status = InboundEvent.Status.PROCESSED
    event.processed_at = now
    event.outcome = outcome
    event.save(update_fields=["status", "processed_at", "outcome", "attempts", "updated_at"])
    return event


def inbound_event_fail(*, event_id: int, error: str) -> None:
    """Count a failed attempt; after a few the event is parked as failed for staff to look at and replay."""
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status != InboundEvent.Status.PENDING:
            return
        event.attempts += 1
        event.last_error = error[:5000]
        if event.attempts >= MAX_ATTEMPTS:
            event.status = InboundEvent.Status.FAILED
        event.save(update_fields=["attempts", "last_error", "status", "updated_at"])


def inbound_event_sweep(*, now: datetime) -> int:
    """Process events still pending 30 s after receipt: their task message was lost or failed."""
    stale = list(
        InboundEvent.objects.filter(status=InboundEvent.Status.PENDING, received_at__lte=now - STALE_AFTER)
        .order_by("received_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    done = 0
    for event_id in stale:
        try:
            if inbound_event_process(event_id=event_id) is not None:
                done += 1
        except Exception as error:
            logger.exception("Monitoring event %s failed", event_id)
            inbound_event_fail(event_id=event_id, error=repr(error))
    return done


def alert_release_suppressed(*, now: datetime) -> int:
    """Open tickets for suppressed alerts still firing now that their maintenance window has ended."""
    released = 0
    held = list(
        AlertGroup.objects.filter(state=AlertGroup.State.SUPPRESSED, open=True, suppressed_until__lte=now)
        .order_by("suppressed_until")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    for group_id in held:
        with transaction.atomic():
            group = (
                AlertGroup.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("source__organization")
                .filter(pk=group_id, state=AlertGroup.State.SUPPRESSED, open=True)
                .first()
            )
            if group is not None:
                _release(group)
                released += 1
    return released
