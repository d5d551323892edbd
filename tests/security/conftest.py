import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.security.matrix import Caller
from tests.security.world import World, seed_world


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    return seed_world()


@pytest.fixture
def sessions(world) -> dict[str, str]:
    """A signed-in session per role, made before any test takes its fingerprint of the database."""
    keys = {}
    for role, user in world.users.items():
        client = APIClient()
        client.force_login(user)
        keys[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


@pytest.fixture
def caller(world, sessions) -> Caller:
    return Caller(world, sessions)
