"""The benchmark harness: `python -m bench --scale small` (or `make bench`).

It seeds its own PostgreSQL database at a chosen scale, serves the portal with gunicorn, drives it from a separate
process over loopback, runs the in-process scenarios (SQL queries per request, SLA sweeps) and writes the figures
under var/bench/<UTC timestamp>/. See docs/performance.md.

Nothing in this package is imported by the portal; `bench.driver` (the load generator) does not import Django.
"""
