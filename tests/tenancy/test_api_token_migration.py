"""The migration away from DRF's `authtoken`: its clear tokens are kept as hashes, so integrations keep working."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from rest_framework.test import APIClient

from tenancy.models import ApiToken

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tenancy.migrations.0007_hash_legacy_api_tokens")
# DRF's format: 40 hexadecimal characters.
LEGACY_KEYS = ("0f6b1c1e9a4d4b7f8e2a3c5d7e9f1a2b3c4d5e6f", "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d")


def _legacy_tokens(*user_ids: int) -> None:
    """DRF's table as its migrations left it, with a clear token per user."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone NOT NULL, "
            "user_id bigint NOT NULL UNIQUE REFERENCES tenancy_user (id))"
        )
        for key, user_id in zip(LEGACY_KEYS, user_ids, strict=True):
            cursor.execute("INSERT INTO authtoken_token VALUES (%s, now(), %s)", [key, user_id])
    MigrationRecorder(connection).record_applied("authtoken", "0001_initial")


def _migrate() -> None:
    with connection.schema_editor() as editor:
        migration.hash_legacy_tokens(apps, editor)


def test_clear_tokens_become_hashes_that_still_sign_in_and_drfs_table_goes(member, other_member):
    _legacy_tokens(member.pk, other_member.pk)

    _migrate()

    assert "authtoken_token" not in connection.introspection.table_names()
    assert not MigrationRecorder(connection).migration_qs.filter(app="authtoken").exists()
    hints = set(ApiToken.objects.values_list("user_id", "token_hint"))
    assert hints == {(member.pk, "5e6f"), (other_member.pk, "1e0d")}
    assert not ApiToken.objects.filter(token_hash__in=LEGACY_KEYS).exists()
    for key in LEGACY_KEYS:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/notifications/").status_code == 200


def test_a_database_that_never_had_drfs_tokens_is_left_as_it_is(member):
    _migrate()

    assert ApiToken.objects.count() == 0
