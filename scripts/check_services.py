"""Fail fast, with the fix, when PostgreSQL or Redis is not reachable for the test suite."""

import os
import sys
from urllib.parse import urlparse

import psycopg2
import redis

FIXES = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
}


def main() -> int:
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    missing = []
    try:
        parts = urlparse(database_url)
        psycopg2.connect(
            host=parts.hostname,
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg2.OperationalError as error:
        missing.append(("PostgreSQL", database_url, error))
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        missing.append(("Redis", redis_url, error))
    for name, url, reason in missing:
        sys.stderr.write(f"{name} is not reachable at {url}: {reason}\n  Start it with: {FIXES[name]}\n")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
