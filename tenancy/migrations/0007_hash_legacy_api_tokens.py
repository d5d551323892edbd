"""Keep the API tokens DRF's `authtoken` stored in clear as hashes only, and drop DRF's table.

Integrations keep working: the token they send hashes to the hash stored here. The clear tokens are gone for good;
going back to 0006 leaves the portal without them, so every API client signs in again.
"""

from typing import Any

from django.db import migrations
from django.db.migrations.recorder import MigrationRecorder

from core.tokens import token_hash

LEGACY_TABLE = "authtoken_token"


def hash_legacy_tokens(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return  # a database made after the portal stopped using DRF's tokens
    table = schema_editor.quote_name(LEGACY_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {table}")  # noqa: S608 (a constant table name)
        legacy = cursor.fetchall()
    api_token = apps.get_model("tenancy", "ApiToken")
    api_token.objects.using(connection.alias).bulk_create(
        [api_token(user_id=user_id, token_hash=token_hash(key), token_hint=key[-4:]) for key, user_id in legacy],
        batch_size=1000,
    )
    schema_editor.execute(f"DROP TABLE {table}")
    # Forget DRF's migrations with its table, so that installing `rest_framework.authtoken` again starts clean.
    MigrationRecorder(connection).migration_qs.filter(app="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0006_api_token"),
    ]

    operations = [
        migrations.RunPython(hash_legacy_tokens, migrations.RunPython.noop),
    ]
