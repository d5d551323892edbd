"""The load driver: `python -m bench.driver < spec.json`, a process of its own that never imports Django.

Each client is a thread with its own keep-alive `http.client.HTTPConnection` (gunicorn's sync workers close the
connection after every response, and the client then opens a new one: both are counted). Requests are issued back to
back for warmup + duration seconds; only requests started after the warmup are counted. The result is one JSON object
on standard output.
"""

import http.client
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.procinfo import memory
from bench.stats import summarize

SUBJECTS = (
    "Checkout returns 502 for some customers",
    "Nightly backup job did not finish",
    "Latency spike on the search service",
    "How do we rotate the API keys safely?",
    "Disk usage on the log volume at 91 %",
)
TYPES = {
    "standard": ("question", "incident", "change_request"),
    "premium": ("question", "incident", "change_request", "architecture_review", "deployment_planning"),
}
MAX_ERRORS_KEPT = 5
HTTP_OK_MAX = 299


@dataclass
class Client:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    connections: int = 0
    requests: int = 0
    all_requests: int = 0


def _request(scenario: str, identity: dict[str, Any], rng: random.Random) -> tuple[str, str, bytes | None]:
    base = f"/api/v1/orgs/{identity['slug']}/tickets/"
    if scenario == "open_ticket_api":
        body = {
            "subject": rng.choice(SUBJECTS),
            "description": "Since 09:40 UTC every **checkout** request fails.\n\nNothing changed on our side.",
            "type": rng.choice(TYPES[identity["package"]]),
            "priority": rng.choice(("P1", "P2", "P3", "P3", "P4")),
        }
        return "POST", base, json.dumps(body).encode()
    if scenario == "ticket_list_api":
        return "GET", base, None
    if scenario == "ticket_detail_api":
        return "GET", f"{base}{rng.choice(identity['tickets'])}/", None
    raise ValueError(f"unknown scenario {scenario}")


def _client(spec: dict[str, Any], index: int, start: list[float], gate: threading.Barrier, out: Client) -> None:
    rng = random.Random(spec.get("seed", 0) * 1000 + index)  # noqa: S311 (request mix, not secrets)
    connection: http.client.HTTPConnection | None = None
    gate.wait()
    begin = start[0]
    measure_from = begin + spec["warmup"]
    deadline = measure_from + spec["duration"]
    while (now := time.perf_counter()) < deadline:
        identity = rng.choice(spec["identities"])
        method, path, body = _request(spec["scenario"], identity, rng)
        headers = {"Authorization": f"Token {identity['token']}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if connection is None:
            connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=60)
            out.connections += 1
        current = connection
        try:
            current.request(method, path, body=body, headers=headers)
            response = current.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - now
            status = response.status
            if response.will_close:  # gunicorn's sync workers close after every response
                current.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            elapsed, status, payload = time.perf_counter() - now, 0, repr(error).encode()
            current.close()
            connection = None
        out.all_requests += 1
        if now < measure_from:
            continue
        out.requests += 1
        out.statuses[str(status)] = out.statuses.get(str(status), 0) + 1
        if 0 < status <= HTTP_OK_MAX:
            out.latencies.append(elapsed)
        elif len(out.errors) < MAX_ERRORS_KEPT:
            out.errors.append(f"{method} {path} -> {status}: {payload[:300].decode(errors='replace')}")
    if connection is not None:
        connection.close()


def drive(spec: dict[str, Any]) -> dict[str, Any]:
    clients = [Client() for _ in range(spec["clients"])]
    start = [0.0]
    gate = threading.Barrier(len(clients) + 1)
    threads = [
        threading.Thread(target=_client, args=(spec, index, start, gate, client), daemon=True)
        for index, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    start[0] = time.perf_counter()
    gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start[0] - spec["warmup"]
    latencies = [value for client in clients for value in client.latencies]
    statuses: dict[str, int] = {}
    for client in clients:
        for status, count in client.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "clients": spec["clients"],
        "duration_s": round(elapsed, 3),
        "requests": sum(client.requests for client in clients),
        "ok": len(latencies),
        "errors": sum(client.requests for client in clients) - len(latencies),
        "statuses": statuses,
        "throughput_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency": summarize(latencies),
        "connections_opened": sum(client.connections for client in clients),
        "error_samples": [error for client in clients for error in client.errors][:MAX_ERRORS_KEPT],
        "requests_including_warmup": sum(client.all_requests for client in clients),
        "driver_cpu_s": round(time.process_time(), 2),
        "driver_memory": memory(),
    }


def main() -> int:
    spec = json.load(sys.stdin)
    json.dump(drive(spec), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
