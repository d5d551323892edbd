"""The peer the portal is compared with, django-helpdesk 2.6.1, measured side by side: `make bench-peer`.

Only our own parts live here: the Django project that serves the peer (settings, urls, wsgi), its seed, the query
counter that runs inside the peer's virtualenv, and the side-by-side driver and report. The peer itself is installed
from bench/peer/requirements.txt into var/peer-venv and never committed.
"""
