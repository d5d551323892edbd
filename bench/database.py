"""The bench's own PostgreSQL database, handled with psycopg2 before Django connects to it."""

import json
from typing import Any

import psycopg2
from psycopg2 import sql

from bench.config import database_name, with_database

MARKER_TABLE = "bench_seed"


def _connect(url: str) -> Any:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection


def database_exists(url: str) -> bool:
    with _connect(with_database(url, "postgres")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)])
        return cursor.fetchone() is not None


def database_create(url: str, *, drop_first: bool = False) -> None:
    """Create the bench database; with drop_first, drop it before (ending connections to it: only the bench's)."""
    name = sql.Identifier(database_name(url))
    connection = _connect(with_database(url, "postgres"))
    try:
        with connection.cursor() as cursor:
            if drop_first:
                cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        connection.close()


def database_drop(url: str) -> None:
    connection = _connect(with_database(url, "postgres"))
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url)))
            )
    finally:
        connection.close()


def may_drop(url: str) -> bool:
    """Whether the database is the bench's to drop: it has the bench's marker table, or no tables at all.

    A BENCH_DATABASE_URL pointing at the portal's own database by mistake must never lose it.
    """
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_regclass(%s) IS NOT NULL, "
                "(SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))",
                [MARKER_TABLE],
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    return bool(row and (row[0] or row[1] == 0))


def seed_marker(url: str) -> dict[str, Any] | None:
    """What the database was seeded with (scale, seed version, migrations, …), or None when it holds no seed."""
    if not database_exists(url):
        return None
    connection = _connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [MARKER_TABLE])
            row = cursor.fetchone()
            if row is None or row[0] is None:
                return None
            cursor.execute("SELECT marker FROM bench_seed WHERE id = 1")
            found = cursor.fetchone()
    finally:
        connection.close()
    if found is None:
        return None
    marker = found[0]
    return marker if isinstance(marker, dict) else json.loads(marker)
