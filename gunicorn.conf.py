"""gunicorn's settings for the portal, read by every `gunicorn` started from the repository root (make run, the
container image, the benchmark). Command-line options still override them.

Threaded workers: a request spends much of its time waiting on PostgreSQL, and a worker's other threads use the CPU
meanwhile, so two workers keep two cores busy. Each thread holds its own database connection: plan PostgreSQL's
`max_connections` for workers × threads per replica (docs/deployment.md).
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 5  # seconds an idle client connection stays open (a load balancer's idle timeout should be longer)
timeout = 30


def post_worker_init(worker: object) -> None:
    """Load the URLconf, and every view module behind it, before the worker takes a request: otherwise Django does it
    on the worker's first request, which then waits most of a second."""
    from django.urls import reverse  # noqa: PLC0415 (Django is set up only once the worker has loaded the app)

    reverse("healthz")
