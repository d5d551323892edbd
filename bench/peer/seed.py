"""The peer's database: `python -m bench.peer.seed --scale peer`, run with the peer's virtualenv (var/peer-venv).

Creates and migrates `helpdesk_peer_bench` (or PEER_DATABASE_URL) and seeds it: a superuser with an API token, ten
staff users, the queues, then tickets and follow-ups streamed with COPY (bench.peer.rows). A database seeded at the
same scale by the same seed version is reused and put back as seeded (rows above the seed's high-water marks go, and
sessions). Prints what the side-by-side driver needs as one JSON object on standard output.
"""

import argparse
import importlib.metadata
import io
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import django

from bench import database
from bench.config import SEED_PASSWORD, database_name
from bench.peer.rows import FOLLOWUP_COLUMNS, PEER_SCALES, TICKET_COLUMNS, PeerScale, generate, queue_rows
from bench.peer.settings import DEFAULT_DATABASE_URL

PEER_SEED_VERSION = 1
ADMIN_USERNAME = "bench-admin"
STAFF_USERS = 10
SAMPLE_TICKETS = 100
# Children first: the tables a ticket opened through the peer's API may write, and the columns pointing upwards.
_RESTORE = (
    ("helpdesk_ticketchange", "followup_id", "helpdesk_followup"),
    ("helpdesk_followupattachment", "followup_id", "helpdesk_followup"),
    ("helpdesk_ticketcustomfieldvalue", "ticket_id", "helpdesk_ticket"),
    ("helpdesk_ticketcc", "ticket_id", "helpdesk_ticket"),
    ("helpdesk_followup", "id", "helpdesk_followup"),
    ("helpdesk_ticket", "id", "helpdesk_ticket"),
)


def log(message: str) -> None:
    sys.stderr.write(f"[peer seed {datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def _check_columns(cursor: Any) -> None:
    """Every NOT NULL column without a database default must be one the rows write: a peer upgrade fails here."""
    for table, written in (("helpdesk_ticket", TICKET_COLUMNS), ("helpdesk_followup", FOLLOWUP_COLUMNS)):
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_nullable = 'NO' "
            "AND column_default IS NULL AND is_identity = 'NO'",
            [table],
        )
        if missing := {row[0] for row in cursor.fetchall()} - set(written):
            raise SystemExit(f"{table} has NOT NULL columns the peer seed does not write: {sorted(missing)}")


def _people() -> tuple[Any, list[int], str]:
    from django.apps import apps  # noqa: PLC0415 (after django.setup())
    from django.contrib.auth.hashers import make_password  # noqa: PLC0415
    from rest_framework.authtoken.models import Token  # noqa: PLC0415

    # The peer's own user model (django.contrib.auth's), not the portal's, whatever the type checker's settings say.
    users = apps.get_model("auth", "User")._default_manager
    password = make_password(SEED_PASSWORD)
    admin = users.create(
        username=ADMIN_USERNAME,
        email="admin@peer.bench.example",
        password=password,
        is_staff=True,
        is_superuser=True,
    )
    staff = [
        users.create(username=f"engineer{n}", email=f"engineer{n}@peer.bench.example", password=password, is_staff=True)
        for n in range(1, STAFF_USERS + 1)
    ]
    token = Token.objects.create(user=admin)
    return admin, [user.pk for user in staff], str(token.key)


def seed(scale: PeerScale) -> dict[str, Any]:
    from django.apps import apps  # noqa: PLC0415 (after django.setup())
    from django.db import connection, transaction  # noqa: PLC0415

    started = time.perf_counter()
    t0 = datetime.now(UTC).replace(microsecond=0)
    queue_model = apps.get_model("helpdesk", "Queue")
    counts = {"tickets": 0, "open": 0, "followups": 0}
    with transaction.atomic():
        _, staff_ids, token = _people()
        queues = queue_model.objects.bulk_create([queue_model(**row) for row in queue_rows(scale)])
        queue_ids = [queue.pk for queue in queues]
        with connection.cursor() as cursor:
            _check_columns(cursor)
            for chunk in generate(scale=scale, queue_ids=queue_ids, staff_ids=staff_ids, t0=t0.timestamp()):
                for table, columns, lines in (
                    ("helpdesk_ticket", TICKET_COLUMNS, chunk.tickets),
                    ("helpdesk_followup", FOLLOWUP_COLUMNS, chunk.followups),
                ):
                    cursor.cursor.copy_expert(
                        f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO("".join(lines))
                    )
                counts["tickets"] += len(chunk.tickets)
                counts["followups"] += len(chunk.followups)
                counts["open"] += chunk.open
                log(f"{counts['tickets']:,} of {scale.tickets:,} tickets ({time.perf_counter() - started:.0f} s)")
            for table in ("helpdesk_ticket", "helpdesk_followup"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {
        "scale": scale.name,
        "version": PEER_SEED_VERSION,
        "t0": t0.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "counts": counts,
        "queues": queue_ids,
        "token": token,
        "high_water": high_water_marks(),
    }


def high_water_marks() -> dict[str, int]:
    from django.db import connection  # noqa: PLC0415 (after django.setup())

    with connection.cursor() as cursor:
        marks = {}
        for table in ("helpdesk_ticket", "helpdesk_followup"):
            cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")  # noqa: S608
            row = cursor.fetchone()
            marks[table] = int(row[0]) if row else 0
    return marks


def restore(marker: dict[str, Any]) -> dict[str, int]:
    """Put the seed back: what the scenarios added goes, and every session."""
    from django.db import connection, transaction  # noqa: PLC0415 (after django.setup())

    marks = marker["high_water"]
    changed: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for table, column, owner in _RESTORE:
            cursor.execute("SELECT to_regclass(%s)", [table])
            row = cursor.fetchone()
            if row is None or row[0] is None:
                continue
            cursor.execute(f"DELETE FROM {table} WHERE {column} > %s", [marks[owner]])  # noqa: S608
            if cursor.rowcount:
                changed[table] = cursor.rowcount
        cursor.execute("DELETE FROM django_session")
        for table in ("helpdesk_ticket", "helpdesk_followup"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [marks[table]])
    if changed:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) helpdesk_ticket")
            cursor.execute("VACUUM (ANALYZE) helpdesk_followup")
    return changed


def _marker_save(marker: dict[str, Any]) -> None:
    from django.db import connection  # noqa: PLC0415 (after django.setup())

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_seed (id integer PRIMARY KEY, marker jsonb NOT NULL)")
        cursor.execute(
            "INSERT INTO bench_seed (id, marker) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET marker = EXCLUDED.marker",
            [json.dumps(marker)],
        )


def _sample_tickets(marker: dict[str, Any]) -> list[int]:
    from django.db import connection  # noqa: PLC0415 (after django.setup())

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM helpdesk_ticket WHERE id <= %s ORDER BY random() LIMIT %s",
            [marker["high_water"]["helpdesk_ticket"], SAMPLE_TICKETS],
        )
        return [int(row[0]) for row in cursor.fetchall()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer.seed")
    parser.add_argument("--scale", choices=sorted(PEER_SCALES), default="peer")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args(argv)
    scale = PEER_SCALES[args.scale]
    url = os.environ.get("PEER_DATABASE_URL") or DEFAULT_DATABASE_URL
    marker = database.seed_marker(url)
    fresh = args.reseed or not marker or marker.get("scale") != scale.name or marker.get("version") != PEER_SEED_VERSION
    if fresh:
        exists = database.database_exists(url)
        if exists and not database.may_drop(url):
            raise SystemExit(f"Refusing to drop {database_name(url)}: it has tables but no bench marker.")
        log(f"seeding {database_name(url)} at scale {scale.name}")
        database.database_create(url, drop_first=exists)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415 (after django.setup())

    call_command("migrate", verbosity=0, interactive=False)
    if fresh:
        marker = seed(scale)
        _marker_save(marker)
        marker["reused"] = False
    else:
        assert marker is not None
        marker["restored"] = restore(marker)
        marker["reused"] = True
    found = {
        "marker": marker,
        "admin": ADMIN_USERNAME,
        "tickets": _sample_tickets(marker),
        "versions": {name: importlib.metadata.version(name) for name in ("django-helpdesk", "django", "gunicorn")},
    }
    json.dump(found, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
