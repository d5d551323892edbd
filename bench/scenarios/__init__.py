"""The scenarios: HTTP ones drive gunicorn through `bench.driver`; the others run in the bench process."""
