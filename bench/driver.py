"""The load driver: `python -m bench.driver < spec.json`, a process of its own that never imports Django.

The spec names the server, the clients, the seconds to run and a pool of prepared requests (method, path, headers,
body, and a label). Each client is a thread that goes round its own shuffle of the pool, from a random place in it,
so the mix follows the pool exactly and any len(pool) requests in a row issue each one once (a random pick per
request leaves some out of a short run). It issues them back to back (or `think_seconds` apart) for warmup + duration
seconds, over its own keep-alive `http.client.HTTPConnection` (gunicorn's sync workers close the connection after
every response, and the client then opens a new one: both are counted). Only requests started after the warm-up are
counted, and only answers with an expected status count as served. A request whose body is given as a size
(`body_bytes`) is streamed over a plain socket and stops sending as soon as the server answers, as a careful HTTP
client does when a server refuses a body early. The result is one JSON object on standard output.
"""

import http.client
import itertools
import json
import random
import select
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.procinfo import memory
from bench.stats import summarize

MAX_ERRORS_KEPT = 5
STREAM_CHUNK = 64 * 1024
DEFAULT_TIMEOUT = 60.0


@dataclass
class Client:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    requests: int = 0
    all_requests: int = 0


def padding_body(size: int) -> bytes:
    """A JSON object of exactly `size` bytes (at least 14): what an oversized alert delivery looks like on the wire."""
    return b'{"padding":"' + b"x" * max(size - 14, 0) + b'"}'


def _response_complete(received: bytes) -> bool:
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False  # no length: the server closes when it is done


def stream_request(
    host: str, port: int, *, method: str, path: str, headers: dict[str, str], body: bytes, timeout: float
) -> tuple[int, bytes]:
    """Send `body` in chunks and stop as soon as the server answers; the status and the answer's bytes."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    received = bytearray()
    deadline = time.perf_counter() + timeout
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        view, sent, sending = memoryview(body), 0, True
        while (left := deadline - time.perf_counter()) > 0:
            readable, writable, _ = select.select([sock], [sock] if sending else [], [], left)
            if readable:
                try:
                    chunk = sock.recv(STREAM_CHUNK)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                received += chunk
                if _response_complete(bytes(received)):
                    break
            elif writable:
                try:
                    sent += sock.send(view[sent : sent + STREAM_CHUNK])
                except (BrokenPipeError, ConnectionResetError):
                    sending = False  # refused mid-body: the answer may still be waiting to be read
                    continue
                sending = sent < len(body)
    status_line = bytes(received).split(b"\r\n", 1)[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    return status, bytes(received)


def _prepared(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The request pool with bodies as bytes (a sized body is built once, here)."""
    prepared = []
    for request in spec["requests"]:
        body = request.get("body")
        entry = dict(request, body=body.encode() if isinstance(body, str) else None, stream=False)
        if request.get("body_bytes"):
            entry["body"], entry["stream"] = padding_body(int(request["body_bytes"])), True
        prepared.append(entry)
    return prepared


def _issue(
    spec: dict[str, Any], request: dict[str, Any], connection: http.client.HTTPConnection
) -> tuple[int, bytes, bool]:
    """One request over `connection`; the status, the body and whether the server closed the connection."""
    headers = dict(request.get("headers") or {})
    if request["stream"]:
        timeout = float(spec.get("timeout", DEFAULT_TIMEOUT))
        status, payload = stream_request(
            spec["host"],
            spec["port"],
            method=request["method"],
            path=request["path"],
            headers=headers,
            body=request["body"],
            timeout=timeout,
        )
        return status, payload, False
    connection.request(request["method"], request["path"], body=request["body"], headers=headers)
    response = connection.getresponse()
    payload = response.read()
    return response.status, payload, response.will_close


def _client(spec: dict[str, Any], index: int, start: list[float], gate: threading.Barrier, out: Client) -> None:
    rng = random.Random(spec.get("seed", 0) * 1000 + index)  # noqa: S311 (request mix, not secrets)
    pool = _prepared(spec)
    rounds = itertools.cycle(rng.sample(pool, len(pool)))
    for _ in range(rng.randrange(len(pool))):  # clients start at different places in their rounds
        next(rounds)
    expected = set(spec.get("expect") or range(200, 300))
    timeout = float(spec.get("timeout", DEFAULT_TIMEOUT))
    think = float(spec.get("think_seconds", 0))  # a pause after each request: a paced client, not a flood
    connection: http.client.HTTPConnection | None = None
    gate.wait()
    measure_from = start[0] + spec["warmup"]
    deadline = measure_from + spec["duration"]
    while (now := time.perf_counter()) < deadline:
        request = next(rounds)
        if connection is None:
            connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=timeout)
            out.connections += 1
        current = connection
        try:
            status, payload, closed = _issue(spec, request, current)
            if closed:  # gunicorn's sync workers close after every response
                current.close()
                connection = None
        except (OSError, http.client.HTTPException) as error:
            status, payload = 0, repr(error).encode()
            current.close()
            connection = None
        elapsed = time.perf_counter() - now
        if think:
            time.sleep(think)
        out.all_requests += 1
        if now < measure_from:
            continue
        out.requests += 1
        out.statuses[str(status)] = out.statuses.get(str(status), 0) + 1
        label = request.get("label", "")
        if status in expected:
            out.latencies.setdefault(label, []).append(elapsed)
        else:
            out.failed[label] = out.failed.get(label, 0) + 1
            if len(out.errors) < MAX_ERRORS_KEPT:
                text = payload[:300].decode(errors="replace")
                out.errors.append(f"{request['method']} {request['path']} -> {status}: {text}")
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
    # Requests still running at the deadline finish: the measured time runs until the last one did.
    elapsed = max(time.perf_counter() - start[0] - spec["warmup"], spec["duration"])
    by_label: dict[str, list[float]] = {}
    failed: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for client in clients:
        for label, values in client.latencies.items():
            by_label.setdefault(label, []).extend(values)
        for label, count in client.failed.items():
            failed[label] = failed.get(label, 0) + count
        for status, count in client.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    latencies = [value for values in by_label.values() for value in values]
    requests = sum(client.requests for client in clients)
    result: dict[str, Any] = {
        "clients": spec["clients"],
        "duration_s": round(elapsed, 3),
        "requests": requests,
        "ok": len(latencies),
        "errors": requests - len(latencies),
        "statuses": statuses,
        "throughput_per_s": round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency": summarize(latencies),
        "connections_opened": sum(client.connections for client in clients),
        "error_samples": [error for client in clients for error in client.errors][:MAX_ERRORS_KEPT],
        "requests_including_warmup": sum(client.all_requests for client in clients),
        "driver_cpu_s": round(time.process_time(), 2),
        "driver_memory": memory(),
    }
    if len({request.get("label", "") for request in spec["requests"]}) > 1:
        labels = list(dict.fromkeys(request.get("label", "") for request in spec["requests"]))
        result["labels"] = {
            label: {**summarize(by_label.get(label, [])), "errors": failed.get(label, 0)} for label in labels
        }
    if spec.get("keep_samples"):
        result["samples_s"] = [round(value, 6) for value in latencies]
    return result


def main() -> int:
    spec = json.load(sys.stdin)
    json.dump(drive(spec), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
