# One image for every process of the portal: web (the default command), Celery worker and Celery beat.
#   docker build -t walt-portal .
#   docker run … walt-portal                                   # web: gunicorn on port 8000
#   docker run … walt-portal celery -A walt_portal worker --queues default,sla,notifications,monitoring --loglevel INFO
#   docker run … walt-portal celery -A walt_portal beat --loglevel INFO --schedule /tmp/celerybeat-schedule
# Configuration comes from the environment at run time (see .env.example); nothing secret is baked in.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home --shell /usr/sbin/nologin portal

# The pinned runtime dependencies first, so code changes do not reinstall them.
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt

COPY . .

# Static files are collected into var/staticfiles at build time and served by WhiteNoise; the rest of
# var/ (uploads, and without DATABASE_URL/REDIS_URL the SQLite file, file cache and filesystem broker)
# must be writable by the portal user.
# Settings refuse to load with DJANGO_DEBUG=false unless a secret key and allowed hosts are given:
# these throwaway values exist for this one command only and are not part of the image's environment.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY=build-only-throwaway-key-for-collectstatic-never-used-at-run-time \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    python manage.py collectstatic --noinput \
    && mkdir -p var/media var/cache var/celery/broker var/celery/processed var/celery/control \
    && chown portal:portal var \
    && chown -R portal:portal var/media var/cache var/celery

USER portal

EXPOSE 8000

CMD ["gunicorn", "walt_portal.wsgi:application", "--bind", "0.0.0.0:8000"]
