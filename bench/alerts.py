"""Alertmanager deliveries as a Prometheus Alertmanager sends them (webhook version 4), for the alert scenarios.

A source has a fixed set of firing alerts, each with its own fingerprint (the dedup key). Alertmanager sends a group's
firing alerts again at every group interval, so a storm is mostly repeats: a delivery of `size` alerts cycles through
the source's alerts, and only the first delivery of each alert opens a ticket. No Django here.
"""

import hashlib
import json
import random
from datetime import datetime
from typing import Any

ALERTS_PER_DELIVERY = 100
_NAMES = (
    ("HighErrorRate", "critical", "HTTP 5xx rate above 5 % on {instance}"),
    ("NodeDiskFull", "warning", "Disk of {instance} is 91 % full"),
    ("PostgresReplicationLag", "critical", "Replica {instance} lags 45 s behind"),
    ("PodCrashLooping", "warning", "A pod on {instance} restarts every minute"),
    ("CertificateExpiry", "info", "The certificate served by {instance} expires in 6 days"),
)


def fingerprint(slug: str, index: int) -> str:
    """Alertmanager's fingerprint is 16 hex digits; ours follows from the source and the alert's number."""
    return hashlib.sha256(f"{slug}:{index}".encode()).hexdigest()[:16]


def _alert(slug: str, index: int, starts_at: str) -> dict[str, Any]:
    name, severity, summary = _NAMES[index % len(_NAMES)]
    instance = f"node-{index:03d}.{slug}.bench.example:9100"
    return {
        "status": "firing",
        "labels": {"alertname": name, "instance": instance, "job": "node", "severity": severity},
        "annotations": {
            "summary": summary.format(instance=instance),
            "description": f"{name} has been firing since {starts_at}.",
        },
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.{slug}.bench.example/graph?g0.expr=up",
        "fingerprint": fingerprint(slug, index),
    }


def delivery(*, slug: str, keys: int, now: datetime, size: int = ALERTS_PER_DELIVERY, offset: int = 0) -> str:
    """One webhook body of `size` firing alerts of the source, cycling through its `keys` alerts from `offset`."""
    starts_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    alerts = [_alert(slug, (offset + n) % keys, starts_at) for n in range(size)]
    body = {
        "version": "4",
        "groupKey": '{}:{job="node"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "walt-portal",
        "groupLabels": {"job": "node"},
        "commonLabels": {"job": "node"},
        "commonAnnotations": {},
        "externalURL": f"http://alertmanager.{slug}.bench.example",
        "alerts": alerts,
    }
    return json.dumps(body)


def deliveries(*, slugs: list[str], count: int, keys: int, now: datetime, seed: int = 0) -> list[tuple[str, str]]:
    """`count` deliveries spread evenly over the sources, each at a random offset: (slug, body) pairs."""
    rng = random.Random(seed)  # noqa: S311 (data, not secrets)
    return [
        (slugs[n % len(slugs)], delivery(slug=slugs[n % len(slugs)], keys=keys, now=now, offset=rng.randrange(keys)))
        for n in range(count)
    ]
