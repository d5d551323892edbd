"""The intake URL: what each kind of delivery is answered, and what is (and is not) stored."""

import io
import json
import time

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from monitoring import tasks
from monitoring.api.intake import integration_intake
from monitoring.models import Delivery, InboundEvent, Kind
from monitoring.services import monitoring_source_update, sign
from tenancy.models import Package
from tenancy.services import contract_start
from tests.monitoring import payloads
from tests.monitoring.conftest import intake_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "body", "keys"),
    [
        (Kind.ALERTMANAGER, payloads.alertmanager(), ["a1b2c3d4e5f60718"]),
        (Kind.GRAFANA, payloads.grafana(), ["a1b2c3d4e5f60718"]),
        (Kind.PAGERDUTY, payloads.pagerduty(), ["disk-db-1"]),
        (Kind.DATADOG, payloads.datadog(), ["7134a0c9d1f2"]),
    ],
)
def test_a_valid_delivery_is_stored_raw_and_answered_202(organization, make_source, post, kind, body, keys):
    source, token = make_source(organization, kind=kind)

    response = post(kind, token, body)

    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == "accepted"
    assert answer["dedup_keys"] == keys
    event = InboundEvent.objects.get(public_id=answer["event_id"])
    assert event.payload == body  # unknown fields (notification_reason, orgId, values…) are kept
    assert event.status == InboundEvent.Status.PENDING
    assert event.organization == organization
    delivery = Delivery.objects.get(source=source)
    assert (delivery.result, delivery.status_code, delivery.event) == ("accepted", 202, event)


def test_processing_is_enqueued_after_commit(am_source, post, django_capture_on_commit_callbacks, monkeypatch):
    _source, token = am_source
    queued: list[int] = []
    monkeypatch.setattr(tasks.process_event, "delay", queued.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = post("alertmanager", token, payloads.alertmanager())

    assert queued == [InboundEvent.objects.get(public_id=response.json()["event_id"]).pk]


def test_a_broker_outage_still_accepts_the_stored_event(
    am_source, post, django_capture_on_commit_callbacks, monkeypatch
):
    _source, token = am_source

    def broker_down(event_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.process_event, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post("alertmanager", token, payloads.alertmanager())

    assert response.status_code == 202  # stored durably: the sweep processes it
    assert InboundEvent.objects.filter(status="pending").count() == 1


def test_a_pagerduty_trigger_without_a_key_gets_one(organization, make_source, post):
    _source, token = make_source(organization, kind=Kind.PAGERDUTY)

    response = post("pagerduty", token, payloads.pagerduty(dedup_key=None))

    assert response.status_code == 202
    [key] = response.json()["dedup_keys"]
    assert len(key) == 32
    assert InboundEvent.objects.get().dedup_keys == [key]


def test_an_unknown_token_is_404(am_source, post):
    assert post("alertmanager", "not-a-token", payloads.alertmanager()).status_code == 404
    assert not Delivery.objects.exists()


def test_a_token_is_only_valid_for_its_own_kind(am_source, post):
    _source, token = am_source
    assert post("grafana", token, payloads.grafana()).status_code == 404


def test_get_is_not_allowed(am_source, client):
    _source, token = am_source
    assert client.get(intake_url("alertmanager", token)).status_code == 405


def test_a_disabled_source_is_403_and_only_counted(am_source, post):
    source, token = am_source
    monitoring_source_update(source=source, enabled=False)

    response = post("alertmanager", token, payloads.alertmanager())

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "source_disabled"
    assert "disabled" in response.json()["message"]
    assert not InboundEvent.objects.exists()
    assert not Delivery.objects.exists()
    source.refresh_from_db()
    assert source.refused_count == 1


def test_a_standard_organization_is_403_and_only_counted(am_source, organization, post):
    source, token = am_source
    contract_start(organization=organization, package=Package.STANDARD, effective_from=timezone.now(), created_by=None)

    response = post("alertmanager", token, payloads.alertmanager())

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "premium_only"
    assert not InboundEvent.objects.exists()
    assert not Delivery.objects.exists()
    source.refresh_from_db()
    assert source.refused_count == 1


def test_a_revoked_token_is_404(am_source, post):
    from monitoring.services import monitoring_source_revoke

    source, token = am_source
    monitoring_source_revoke(source=source)
    assert post("alertmanager", token, payloads.alertmanager()).status_code == 404


# ------------------------------------------------------------------------------------------------- size cap


def test_an_oversized_body_is_413_before_parsing(am_source, post, settings):
    _source, token = am_source
    body = b"{" + b" " * (settings.MONITORING_MAX_BODY_BYTES + 10)  # not even JSON: it is never parsed

    started = time.perf_counter()
    response = post("alertmanager", token, body)
    elapsed = time.perf_counter() - started

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "too_large"
    assert elapsed < 0.5
    delivery = Delivery.objects.get()
    assert delivery.result == "too_large"
    assert delivery.size == len(body)
    assert delivery.body_excerpt == ""  # the body was not even read
    assert not InboundEvent.objects.exists()


def test_a_five_mib_body_is_refused_fast(am_source, post):
    _source, token = am_source
    body = json.dumps(payloads.alertmanager(*[payloads.am_alert(f"{i:016x}") for i in range(14000)])).encode()
    assert len(body) > 5 * 1024 * 1024

    started = time.perf_counter()
    response = post("alertmanager", token, body)

    assert response.status_code == 413
    assert time.perf_counter() - started < 0.2


class _Stream(io.BytesIO):
    """A de-chunked body whose length nobody declared; it counts what the view reads from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def _chunked_request(url: str, body: bytes) -> tuple[WSGIRequest, _Stream]:
    stream = _Stream(body)
    request = RequestFactory().generic("POST", url, data=b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request.META["wsgi.input"] = stream
    request.META["wsgi.input_terminated"] = True
    request.META["HTTP_TRANSFER_ENCODING"] = "chunked"
    return request, stream


def test_a_chunked_oversized_body_is_413_after_reading_at_most_the_cap(am_source, settings):
    _source, token = am_source
    cap = settings.MONITORING_MAX_BODY_BYTES
    request, stream = _chunked_request(intake_url("alertmanager", token), b"x" * (cap * 5))

    response = integration_intake(request, kind="alertmanager", token=token)

    assert response.status_code == 413
    assert stream.consumed == cap + 1
    assert Delivery.objects.get().body_excerpt == "x" * 2048  # rejected bodies are kept truncated


def test_a_chunked_body_within_the_cap_is_accepted(am_source):
    _source, token = am_source
    request, _stream = _chunked_request(intake_url("alertmanager", token), json.dumps(payloads.alertmanager()).encode())

    response = integration_intake(request, kind="alertmanager", token=token)

    assert response.status_code == 202


# ------------------------------------------------------------------------------------------------- outages


def test_a_database_outage_is_503_with_retry_after(am_source, post, monkeypatch):
    _source, token = am_source

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("monitoring.api.intake.source_by_token", down)

    response = post("alertmanager", token, payloads.alertmanager())

    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_a_database_outage_while_storing_is_503(am_source, post, monkeypatch):
    _source, token = am_source

    def down(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("monitoring.services.inbound_event_accept", down)

    response = post("alertmanager", token, payloads.alertmanager())

    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0


# ------------------------------------------------------------------------------------------------- signatures


@pytest.fixture
def signed_grafana(organization, make_source):
    return make_source(organization, kind=Kind.GRAFANA, hmac_secret="s3cret-shared-with-grafana")


def _signed_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "HTTP_X_GRAFANA_ALERTING_SIGNATURE": sign(secret=secret, body=body, timestamp=timestamp),
        "HTTP_X_GRAFANA_ALERTING_TIMESTAMP": str(timestamp),
    }


def test_a_correctly_signed_grafana_delivery_is_accepted(signed_grafana, post):
    source, token = signed_grafana
    body = json.dumps(payloads.grafana()).encode()

    response = post("grafana", token, body, **_signed_headers(source.hmac_secret, body, int(time.time())))

    assert response.status_code == 202


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("missing", "required"),
        ("wrong_secret", "invalid"),
        ("old", "expired"),
        ("changed_body", "invalid"),
    ],
)
def test_a_badly_signed_delivery_is_401_and_audited(signed_grafana, post, tamper, code):
    source, token = signed_grafana
    body = json.dumps(payloads.grafana()).encode()
    now = int(time.time())
    headers = {
        "missing": {},
        "wrong_secret": _signed_headers("another", body, now),
        "old": _signed_headers(source.hmac_secret, body, now - 301),
        "changed_body": _signed_headers(source.hmac_secret, body + b" ", now),
    }[tamper]

    response = post("grafana", token, body, **headers)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == code
    assert Delivery.objects.get().result == "bad_signature"
    assert not InboundEvent.objects.exists()


# ------------------------------------------------------------------------------------------------- validation


def test_invalid_json_is_400_with_its_position(am_source, post):
    _source, token = am_source

    response = post("alertmanager", token, b'{"version": "4", "status": "firing",\n "alerts": [}')

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_json"
    assert "line 2" in error["detail"]
    delivery = Delivery.objects.get()
    assert delivery.result == "invalid"
    assert delivery.body_excerpt.startswith('{"version"')


def test_every_alertmanager_error_is_listed_with_its_path(am_source, post):
    _source, token = am_source
    good = payloads.am_alert()
    no_labels = payloads.am_alert("b" * 16)
    del no_labels["labels"]
    body = payloads.alertmanager(
        good,
        {**payloads.am_alert("c" * 16), "status": "burning", "startsAt": "yesterday"},
        no_labels,
        {**payloads.am_alert("d" * 16, status="resolved"), "endsAt": 17},
        {**payloads.am_alert("e" * 16), "labels": {"alertname": "X", "severity": 3}},
        "not an alert",  # type: ignore[arg-type]
    )
    body["status"] = "maybe"
    del body["version"]

    response = post("alertmanager", token, body)

    assert response.status_code == 400
    found = {(error["path"], error["code"]) for error in response.json()["errors"]}
    assert found == {
        ("version", "required"),
        ("status", "invalid_choice"),
        ("alerts[1].status", "invalid_choice"),
        ("alerts[1].startsAt", "invalid_datetime"),
        ("alerts[2].labels", "required"),
        ("alerts[3].endsAt", "invalid_type"),
        ("alerts[4].labels.severity", "invalid_type"),
        ("alerts[5]", "invalid_type"),
    }
    assert Delivery.objects.get().errors == response.json()["errors"]
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([], {("$", "invalid_type")}),
        ({"version": "4", "status": "firing"}, {("alerts", "required")}),
        ({"version": "4", "status": "firing", "alerts": []}, {("alerts", "empty")}),
        ({"version": "4", "status": "firing", "alerts": {}}, {("alerts", "invalid_type")}),
    ],
)
def test_alertmanager_shape_errors(am_source, post, body, expected):
    _source, token = am_source
    response = post("alertmanager", token, body)
    assert response.status_code == 400
    assert {(error["path"], error["code"]) for error in response.json()["errors"]} == expected


def test_every_pagerduty_error_is_listed(organization, make_source, post):
    _source, token = make_source(organization, kind=Kind.PAGERDUTY)
    body = {
        "event_action": "trigger",
        "dedup_key": "",
        "payload": {"summary": "x" * 1025, "severity": "disaster", "timestamp": "later", "custom_details": []},
        "links": [{"text": "no href"}, 5],
    }

    response = post("pagerduty", token, body)

    assert response.status_code == 400
    found = {(error["path"], error["code"]) for error in response.json()["errors"]}
    assert found == {
        ("dedup_key", "invalid_length"),
        ("payload.summary", "max_length"),
        ("payload.source", "required"),
        ("payload.severity", "invalid_choice"),
        ("payload.timestamp", "invalid_datetime"),
        ("payload.custom_details", "invalid_type"),
        ("links[0].href", "required"),
        ("links[1]", "invalid_type"),
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"event_action": "explode"}, {("event_action", "invalid_choice")}),
        ({"event_action": "resolve"}, {("dedup_key", "required")}),
        ({"event_action": "trigger", "dedup_key": "k"}, {("payload", "required")}),
    ],
)
def test_pagerduty_action_errors(organization, make_source, post, body, expected):
    _source, token = make_source(organization, kind=Kind.PAGERDUTY)
    response = post("pagerduty", token, body)
    assert {(error["path"], error["code"]) for error in response.json()["errors"]} == expected


def test_every_datadog_error_is_listed(organization, make_source, post):
    _source, token = make_source(organization, kind=Kind.DATADOG)
    body = {"alert_transition": "", "alert_title": 5, "alert_cycle_key": "", "alert_id": ""}

    response = post("datadog", token, body)

    assert response.status_code == 400
    found = {(error["path"], error["code"]) for error in response.json()["errors"]}
    assert found == {
        ("id", "required"),
        ("alert_transition", "blank"),
        ("alert_title", "invalid_type"),
        ("alert_cycle_key", "required"),
    }
