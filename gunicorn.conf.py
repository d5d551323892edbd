"""gunicorn's settings for the portal, read by every `gunicorn` started from the repository root (make run, the
container image, the benchmark). Command-line options still override them.

Processes rather than threads: a request spends most of its time in Python (the queue page about 90 %, PostgreSQL
the rest), and the threads of one process take turns on the interpreter's lock, so a request that shares its process
with another waits for it. In the soak, 4 workers of 2 threads served every kind of request faster than 2 workers of
4 threads, on the same 2 cores and at the same load (the queue page's p95 25.3 ms instead of 29.0–33.0 ms;
docs/performance.md). The second thread serves while the first is held by a slow client (an upload read, a download
written). Each thread holds its own database connection: plan PostgreSQL's `max_connections` for workers × threads
per replica (docs/deployment.md).
"""

import gc
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = 5  # seconds an idle client connection stays open (a load balancer's idle timeout should be longer)
timeout = 30


def post_worker_init(worker: object) -> None:
    """Load the URLconf, and every view module behind it, before the worker takes a request: otherwise Django does it
    on the worker's first request, which then waits most of a second.

    Then set aside from garbage collection what is loaded by now (modules, settings, the URLconf: some 110,000
    objects that live as long as the worker). A full collection walks every object it tracks, and it came every 250
    queue pages or so and took up to 60 ms; without those objects, 8 ms at most (measured in one process)."""
    from django.urls import reverse  # noqa: PLC0415 (Django is set up only once the worker has loaded the app)

    reverse("healthz")
    gc.freeze()
