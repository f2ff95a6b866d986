"""Settings for pytest: real PostgreSQL and Redis (embedded when no URL is set), fast hashing."""

import os

from helpdesk import embedded
from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import STATIC_ROOT, STORAGES, VAR_DIR, database_settings, env, redis_settings

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
# A fixed key so encrypted fixtures are reproducible; a second key proves rotation works.
FIELD_ENCRYPTION_KEYS = [
    "dGVzdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=",
    "b2xkLXRlc3Qta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDA=",
]

DATABASE_URL = embedded.ensure_database_url(VAR_DIR)
REDIS_URL = embedded.ensure_redis_url(VAR_DIR)
DATABASES = database_settings(DATABASE_URL)
vars().update(redis_settings(REDIS_URL))
# Redis pub/sub channels are global (not per database index): give each test run its own prefix, inherited
# by the servers the tests start, so concurrent runs on one Redis never hear each other.
os.environ.setdefault("CHANNEL_LAYER_PREFIX", f"carddesk-test-{os.getpid()}")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ["CHANNEL_LAYER_PREFIX"]
CACHES["default"]["KEY_PREFIX"] = "carddesk-test"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "test-media"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True

DEMO_DATA_ALLOWED = True

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing directory

# Tests read English by default; tests/test_i18n.py checks the Chinese catalogue explicitly.
LANGUAGE_CODE = "en"
