"""The intake URL monitoring systems post to: a plain Django view, not DRF.

Plain, because the body must be capped before anything parses it (DRF reads JSON from the raw stream), and because
senders authenticate with the token in the URL, never with a session: the view is CSRF-exempt, and nothing else is.
"""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from monitoring.models import MonitoringSource
from monitoring.selectors import source_by_token
from monitoring.services import IntakeResult, intake_receive, intake_refusal, intake_too_large

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
READ_CHUNK = 64 * 1024


def _answer(result: IntakeResult) -> JsonResponse:
    response = JsonResponse(result.body, status=result.status_code)
    for name, value in result.headers.items():
        response[name] = value
    return response


def _unavailable() -> JsonResponse:
    # 503, never 429 or another 4xx: Alertmanager and Grafana drop a notification answered 4xx.
    response = JsonResponse(
        {"message": "The portal cannot take alerts right now; retry shortly.", "errors": []}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _read_body(request: HttpRequest, cap: int) -> tuple[bytes, int | None]:
    """At most `cap + 1` bytes of the body, and the declared length (None for a chunked body).

    Django's stream stops at CONTENT_LENGTH and reads nothing when there is none, so a chunked body that the server
    has de-chunked (`wsgi.input_terminated`) is read from `wsgi.input` itself, still never beyond `cap + 1` bytes.
    """
    declared = request.META.get("CONTENT_LENGTH")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            length = 0
        if length > cap:
            return b"", length
        return request.read(length), length
    if not request.META.get("wsgi.input_terminated"):
        return b"", None
    stream = request.META["wsgi.input"]
    chunks: list[bytes] = []
    total = 0
    while total <= cap:
        chunk = stream.read(min(READ_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks), None


@csrf_exempt
@require_POST
def integration_intake(request: HttpRequest, kind: str, token: str) -> JsonResponse:
    received_at = timezone.now()
    cap = settings.MONITORING_MAX_BODY_BYTES
    body, declared = _read_body(request, cap)
    try:
        try:
            source = source_by_token(kind=kind, token=token)
        except MonitoringSource.DoesNotExist:
            return JsonResponse({"message": "No monitoring source has this URL.", "errors": []}, status=404)
        refusal = intake_refusal(source=source, at=received_at)
        if refusal is not None:
            return _answer(refusal)
        if (declared or 0) > cap or len(body) > cap:
            size = declared if declared is not None else len(body)
            return _answer(intake_too_large(source=source, size=size, received_at=received_at, head=body))
        headers = {name: value for name, value in request.headers.items() if name.lower().startswith("x-grafana")}
        return _answer(intake_receive(source=source, body=body, headers=headers, received_at=received_at))
    except DatabaseError:
        logger.exception("Monitoring intake could not reach the database")
        return _unavailable()
