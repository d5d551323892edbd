"""A fingerprint of every row the portal keeps, to prove that a refused request changed nothing."""

from django.apps import apps
from django.db import connection

# The portal's own apps (API tokens are tenancy's): every table a request could change on a person's behalf.
WATCHED_APPS = ("tenancy", "notifications", "maintenance", "tickets", "sla", "monitoring", "reports")


# Bookkeeping that any signed-in request writes, refused or not, as Django's sessions (not watched) are: when an API
# token was last used. Left out of the rows' digests.
BOOKKEEPING_COLUMNS = {"tenancy_apitoken": ["last_used_at"]}

_ROW_DIGEST = (
    "SELECT %s, count(*)::text || ':' || coalesce(md5(string_agg(row_digest, '' ORDER BY row_digest)), '') "
    "FROM (SELECT md5((to_jsonb(t) - %s::text[])::text) AS row_digest FROM {table} t) AS digests"
)


def _tables() -> list[str]:
    tables = {
        model._meta.db_table
        for app in WATCHED_APPS
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
    }
    return sorted(tables)


def database_fingerprint() -> dict[str, str]:
    """Per table: its row count and an order-independent digest of every row but its bookkeeping, in one query
    (PostgreSQL)."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The database fingerprint reads rows as text with PostgreSQL's functions.")
    # The table names come from the models and are quoted; nothing in this query comes from a request.
    tables = _tables()
    selects = [_ROW_DIGEST.format(table=connection.ops.quote_name(table)) for table in tables]
    params = [value for table in tables for value in (table, BOOKKEEPING_COLUMNS.get(table, []))]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))
