"""gunicorn.conf.py: a worker is ready for its first request before it takes one, and the bench serves the portal
with the same number of workers as production."""

import gc
import runpy
from pathlib import Path

import pytest
from django.urls import clear_url_caches, get_resolver

from bench.config import GUNICORN_WORKERS

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_loads_the_urlconf_before_its_first_request():
    clear_url_caches()  # as in a worker that has just loaded the portal: no resolver built yet
    assert not vars(get_resolver())["_populated"]

    try:
        runpy.run_path(str(CONF))["post_worker_init"](worker=None)

        assert vars(get_resolver())["_populated"]
        assert gc.get_freeze_count() > 0, "what the worker loaded is kept out of the collector's walks"
    finally:
        gc.unfreeze()


def test_the_bench_measures_the_default_number_of_workers(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)

    assert runpy.run_path(str(CONF))["workers"] == GUNICORN_WORKERS


def test_the_environment_sets_workers_and_threads(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("WEB_THREADS", "5")

    settings = runpy.run_path(str(CONF))

    assert (settings["workers"], settings["threads"]) == (3, 5)
