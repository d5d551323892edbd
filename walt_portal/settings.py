"""One settings module, driven by the environment (see .env.example for every variable).

Defaults suit a developer's machine; with DJANGO_DEBUG=false the secrets and hosts must be given.
"""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import schedule
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()  # lets admin and form classes be subscripted for the type checker

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

# ---------------------------------------------------------------- core
MINIMUM_SECRET_KEY_LENGTH = 32
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-development-key-never-used-in-production")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    if len(SECRET_KEY) < MINIMUM_SECRET_KEY_LENGTH or SECRET_KEY.startswith("insecure"):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value when DJANGO_DEBUG=false.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the portal's host names when DJANGO_DEBUG=false.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core",
    "tenancy",
    "notifications",
    "maintenance",
    "tickets",
    "sla",
    "monitoring",
    "reports",
    "walt_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "walt_portal.urls"
WSGI_APPLICATION = "walt_portal.wsgi.application"
ASGI_APPLICATION = "walt_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.navigation",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# ---------------------------------------------------------------- data
# Without DATABASE_URL the portal runs on SQLite under var/, so web, worker and beat work on a bare machine.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
ATOMIC_REQUESTS = False  # services own their transactions, whoever calls them
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # Shared between web, worker and beat on one machine, which a per-process memory cache is not.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"}
    }

# ---------------------------------------------------------------- auth
AUTH_USER_MODEL = "tenancy.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = int(timedelta(days=3).total_seconds())

# Lock out the pair (account, address), so a stranger cannot lock a victim out by guessing their e-mail.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
BEHIND_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
# Proxies in front that append to X-Forwarded-For; none without a proxy, so identity headers are then not trusted.
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1) if BEHIND_PROXY else 0
# The client is the address the outermost trusted proxy saw: behind a proxy, the connection's own address is the
# proxy's, and keying on it would lock an account out for everyone.
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address"
AXES_VERBOSE = False

# ---------------------------------------------------------------- security
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes talk plain HTTP inside the cluster
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# ---------------------------------------------------------------- i18n and time
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------- static files
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env.bool("DJANGO_MANIFEST_STATIC", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))  # outside the web root; served by views only

# ---------------------------------------------------------------- tickets
TICKET_REOPEN_PERIOD_DAYS = env.int("TICKET_REOPEN_PERIOD_DAYS", default=7)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # request bodies other than file uploads

# ---------------------------------------------------------------- monitoring
# Alert bodies above this are answered 413 before they are parsed.
MONITORING_MAX_BODY_BYTES = env.int("MONITORING_MAX_BODY_BYTES", default=1024 * 1024)

# ---------------------------------------------------------------- e-mail
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="WALT Labs Support <support@walt-labs.example>")
# An outbox message that failed this many times is dead: shown to admins in the Django admin, retried only by hand.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=8)
# Sent e-mails leave the outbox this long after they were sent (pending and dead ones, and in-app notices, stay).
NOTIFICATIONS_SENT_RETENTION = timedelta(days=env.int("NOTIFICATIONS_SENT_RETENTION_DAYS", default=90))

# ---------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header is what an unauthenticated API caller is told.
        "tenancy.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WALT Labs Support Portal API",
    "DESCRIPTION": "Tickets, SLA clocks, monitoring intake and maintenance notices. "
    "Authenticate with `Authorization: Token <key>` from POST /api/v1/auth/token/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several APIs have a field named "kind"; name the monitoring source's choices explicitly.
    "ENUM_NAME_OVERRIDES": {"MonitoringSourceKindEnum": "monitoring.models.Kind"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "monitoring.api.schema.add_intake",
    ],
}

# ---------------------------------------------------------------- Celery
# With REDIS_URL the broker is Redis; without it, Celery's filesystem transport under var/ lets the
# worker and beat run on a bare machine.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "celery" / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    # The transport expects its folders; whichever process publishes first (web, worker, a management command)
    # must find them.
    for _folder in ("broker", "processed", "control"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Longer than any task may run, so a healthy task is never redelivered while it works.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # every task is idempotent; a lost worker redelivers what it held
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # Slow mail servers must never delay SLA sweeps or alert processing.
    "notifications.*": {"queue": "notifications"},
    "sla.*": {"queue": "sla"},
    # Alert intake has its own workers, so a storm of alerts never delays SLA sweeps or mail, nor the reverse.
    "monitoring.*": {"queue": "monitoring"},
    "tenancy.send_due_invitations": {"queue": "notifications"},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
SLA_SWEEP_INTERVAL = timedelta(seconds=env.int("SLA_SWEEP_INTERVAL_SECONDS", default=5))
CELERY_BEAT_SCHEDULE = {
    # Deadlines live in the database; this sweep records due warnings and breaches. Every few seconds keeps a
    # breach record within seconds of its deadline; an expired tick is simply replaced by the next one.
    "sla-sweep": {
        "task": "sla.sweep",
        "schedule": schedule(SLA_SWEEP_INTERVAL),
        "options": {"expires": SLA_SWEEP_INTERVAL.total_seconds()},
    },
    # Pauses clocks during maintenance windows for contracts that say so; the pause itself is dated to the window's
    # start and end, so the interval only bounds how soon the page shows it.
    "sla-apply-maintenance-pauses": {
        "task": "sla.apply_maintenance_pauses",
        "schedule": schedule(timedelta(seconds=30)),
        "options": {"expires": 30},
    },
    # Proves beat and a worker are alive; /healthz reads its age.
    "core-heartbeat": {
        "task": "core.heartbeat",
        "schedule": schedule(timedelta(seconds=15)),
        "options": {"expires": 15},
    },
    # Delivers the outbox even when the wake-ups sent after commit were lost (Redis down or flushed, a worker
    # that crashed holding them): notices are late by one interval at most, never missing.
    "notifications-deliver-due": {
        "task": "notifications.deliver_due",
        "schedule": schedule(timedelta(seconds=10)),
        "options": {"expires": 10},
    },
    # Deletes sent outbox messages past their retention, a few thousand per transaction; hourly keeps each run short.
    "notifications-prune-sent": {
        "task": "notifications.prune_sent",
        "schedule": schedule(timedelta(hours=1)),
        "options": {"expires": 3600},
    },
    # Sends the invitation e-mails owed in the database, also those whose wake-up was lost with the broker: an invitee
    # waits half a minute at most once Redis is back.
    "tenancy-send-due-invitations": {
        "task": "tenancy.send_due_invitations",
        "schedule": schedule(timedelta(seconds=30)),
        "options": {"expires": 30},
    },
    # E-mails maintenance notices whose lead time has come, and updates staff asked for. Lead times are minutes
    # or hours, so a minute late is on time; the notices are marked in the database, so a missed tick loses nothing.
    "maintenance-send-due-notices": {
        "task": "maintenance.send_due_notices",
        "schedule": schedule(timedelta(minutes=1)),
        "options": {"expires": 60},
    },
    # Accepted alerts are processed by a task queued after commit; this sweep processes those whose message was lost.
    "monitoring-sweep-events": {
        "task": "monitoring.sweep_events",
        "schedule": schedule(timedelta(seconds=15)),
        "options": {"expires": 15},
    },
    # Alerts held back by a maintenance window become tickets when the window ends if they still fire.
    "monitoring-release-suppressed": {
        "task": "monitoring.release_suppressed",
        "schedule": schedule(timedelta(minutes=1)),
        "options": {"expires": 60},
    },
}
MONITORING_MAX_BODY_BYTES = env.int("MONITORING_MAX_BODY_BYTES", default=1024 * 1024)
HEARTBEAT_MAX_AGE = timedelta(seconds=env.int("HEARTBEAT_MAX_AGE_SECONDS", default=60))

# ---------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
