from typing import Any

from django.conf import settings

from walt_portal.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()  # autodiscovery, as a worker does it

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


def test_every_beat_entry_expires_so_a_backlog_cannot_pile_up():
    entries: list[dict[str, Any]] = list(settings.CELERY_BEAT_SCHEDULE.values())

    assert all("expires" in entry.get("options", {}) for entry in entries)


def test_celery_speaks_json_only_and_acknowledges_late():
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_notification_tasks_have_their_own_queue():
    assert app.conf.task_routes["notifications.*"] == {"queue": "notifications"}
