"""gunicorn.conf.py: a worker is ready for its first request before it takes one."""

import runpy
from pathlib import Path

from django.urls import clear_url_caches, get_resolver

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_loads_the_urlconf_before_its_first_request():
    clear_url_caches()  # as in a worker that has just loaded the portal: no resolver built yet
    assert not vars(get_resolver())["_populated"]

    runpy.run_path(str(CONF))["post_worker_init"](worker=None)

    assert vars(get_resolver())["_populated"]
