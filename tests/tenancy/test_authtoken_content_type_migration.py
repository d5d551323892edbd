"""The migration that forgets DRF's `authtoken` content type and the permissions on it."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tenancy.migrations.0009_forget_authtoken_content_type")


def _migrate() -> None:
    with connection.schema_editor() as editor:
        migration.forget_authtoken(apps, editor)


def test_the_stale_content_type_goes_with_its_permissions_and_their_grants(member):
    stale = ContentType.objects.create(app_label="authtoken", model="token")
    permission = Permission.objects.create(content_type=stale, codename="add_token", name="Can add Token")
    group = Group.objects.create(name="Integrators")
    group.permissions.add(permission)
    member.user_permissions.add(permission)
    kept = Permission.objects.exclude(content_type=stale).count()

    _migrate()

    assert not ContentType.objects.filter(app_label="authtoken").exists()
    assert not Permission.objects.filter(codename="add_token").exists()
    assert not group.permissions.exists()
    assert Permission.objects.count() == kept  # every other permission stays


def test_a_database_without_it_is_left_as_it_is():
    before = (ContentType.objects.count(), Permission.objects.count())

    _migrate()

    assert (ContentType.objects.count(), Permission.objects.count()) == before
