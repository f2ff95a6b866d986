"""Settings for the run command and for development: safe defaults, embedded services when no URL is set."""

from helpdesk import embedded
from helpdesk.settings.base import *  # noqa: F403
from helpdesk.settings.base import STATIC_ROOT, VAR_DIR, database_settings, env, redis_settings

DEBUG = env.bool("DEBUG", default=True)
_dev_secrets = embedded.dev_secrets(VAR_DIR)
SECRET_KEY = env.str("SECRET_KEY", default=_dev_secrets["SECRET_KEY"])
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_dev_secrets["FIELD_ENCRYPTION_KEY"]])

DATABASE_URL = embedded.ensure_database_url(VAR_DIR)
REDIS_URL = embedded.ensure_redis_url(VAR_DIR)
DATABASES = database_settings(DATABASE_URL)
vars().update(redis_settings(REDIS_URL))

# The console, admin and help centre are served by uvicorn; WhiteNoise serves static files straight from
# the finders in development so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEMO_DATA_ALLOWED = True

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing directory
