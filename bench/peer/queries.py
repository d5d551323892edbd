"""SQL queries per request on the peer's side: `python -m bench.peer.queries < spec.json`, in the peer's virtualenv.

Each comparable request goes through the peer's whole Django stack in-process (its middleware, authentication and
view) against the peer's bench database, with an execute wrapper that counts every statement and keeps the first few.
Its ticket detail runs one statement per accessible ticket, so only a count and a preview are kept. Prints one JSON
object; the ticket it opens is removed by the next run of bench.peer.seed.
"""

import json
import os
import sys
from typing import Any

import django

PREVIEW = 12
SQL_PREVIEW = 200


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.first: list[str] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        if len(self.first) < PREVIEW:
            self.first.append(sql[:SQL_PREVIEW])
        return execute(sql, params, many, context)


def _counted(call: Any) -> dict[str, Any]:
    from django.db import connection  # noqa: PLC0415 (after django.setup())

    counter = Counter()
    with connection.execute_wrapper(counter):
        response = call()
    return {"status": response.status_code, "queries": counter.count, "sql": counter.first}


def count(spec: dict[str, Any]) -> dict[str, Any]:
    from django.apps import apps  # noqa: PLC0415 (after django.setup())
    from django.test import Client  # noqa: PLC0415
    from rest_framework.test import APIClient  # noqa: PLC0415

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {spec['token']}")
    browser = Client()
    browser.force_login(apps.get_model("auth", "User")._default_manager.get(username=spec["admin"]))
    return {
        "open_ticket_api": _counted(lambda: api.post("/api/tickets/", spec["open_body"], format="json")),
        "staff_list": _counted(lambda: browser.get(spec["list_path"])),
        "ticket_detail_api": _counted(lambda: api.get(f"/api/tickets/{spec['ticket']}/")),
    }


def main() -> int:
    spec = json.load(sys.stdin)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")
    django.setup()
    json.dump(count(spec), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
