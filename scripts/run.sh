#!/usr/bin/env bash
# Web, Celery worker and beat in the foreground; Ctrl-C (or any of them exiting) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"
export DJANGO_HTTPS="${DJANGO_HTTPS:-false}"
host="${PORTAL_HOST:-127.0.0.1}"
port="${PORTAL_PORT:-8000}"
export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://$host:$port}"
bin=.venv/bin
var="${PORTAL_VAR_DIR:-var}"
mkdir -p "$var/celery/broker" "$var/celery/processed" "$var/celery/control" "$var/cache"

"$bin/python" manage.py migrate --noinput
"$bin/python" manage.py seed_demo

trap 'trap - INT TERM EXIT; kill 0 2>/dev/null; wait' INT TERM EXIT
"$bin/gunicorn" walt_portal.wsgi:application --bind "$host:$port" --access-logfile - &
"$bin/celery" -A walt_portal worker --queues default,sla,notifications,monitoring --concurrency 2 --loglevel INFO &
"$bin/celery" -A walt_portal beat --loglevel INFO &
echo "The portal is at $PORTAL_BASE_URL/ (Ctrl-C stops web, worker and beat)."
wait -n
