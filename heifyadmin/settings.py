"""Settings for the Heify back office, read from the environment.

Development defaults are safe and need no set-up (SQLite in ./var, DEBUG on
only when asked). Production sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
DATABASE_URL and the HEIFY_* variables; nothing secret lives in the repo.
"""

import os
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from heifyadmin.log_context import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HEIFY_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    # A development key, so that `make run` (DEBUG on) needs no set-up.
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
if not DEBUG and (not SECRET_KEY or SECRET_KEY.startswith("django-insecure-")):
    # Fail closed: a public key would let anyone forge sessions and password-reset links.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is missing or a development key (django-insecure-...). With DJANGO_DEBUG off, set it "
        "to 50+ random characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "heifyadmin.apps.HeifyAdminConfig",  # django.contrib.admin on our site (heifyadmin/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "csp",
    "heifyadmin.apps.SignInProtectionConfig",  # axes
    "rest_framework",
    "heifyadmin.apps.APIAccessConfig",  # knox
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "qa",
    "syncer",
    "heifyadmin.apps.SiteConfig",  # one log line per job (heifyadmin/job_log.py)
]

# --- production: middleware order ---------------------------------------------------------------
# The request log first (it times and ids everything, static files and probes included), then the
# health probes (before the HTTPS redirect and the host check: see heifyadmin/health.py), then
# WhiteNoise right after SecurityMiddleware, as its docs ask.
MIDDLEWARE = [
    "heifyadmin.request_log.RequestLogMiddleware",
    "heifyadmin.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL in a query string, too many fields, too big a body: 400 / 413 before any view (JSON under /api/).
    "heifyadmin.request_guard.RequestGuardMiddleware",
    "csp.middleware.CSPMiddleware",
    "qa.api.errors.json_not_found_middleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: Django's cookie (set when a person chooses), else Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in person's kept language (their page) overrides the browser's (heifyadmin/language.py).
    "heifyadmin.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its answer (qa.api.errors.locked_out).
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "heifyadmin.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "heifyadmin.wsgi.application"
ASGI_APPLICATION = "heifyadmin.asgi.application"

# DATABASE_URL selects the database: unset means an SQLite file in var/;
# postgres://user@host:port/name selects PostgreSQL through psycopg 3.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

# --- production: database connections are a budget ----------------------------------------------
# A process holds at most one connection per thread that serves requests or runs jobs, kept for
# DATABASE_CONN_MAX_AGE seconds: gunicorn's sync workers (the `web` process) serve one request at a
# time, so the budget is web processes x WEB_THREADS + the worker's processes (README, Production).
# runserver starts a thread per connection and never closes a finished thread's database connection,
# so `make run` serves with DATABASE_CONN_MAX_AGE=0 (scripts/run.sh).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that is gone fails a probe or a request in seconds, not after the kernel's timeout.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The language for people who never chose one and whose browser asks for none we have (issue 25): English or
# Spanish. Each user's own choice is kept (their page); otherwise the browser's Accept-Language decides.
LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("es", "Español")]
# Our catalogues (.po) live in the repository; the release step and `make run` compile them (gettext's msgfmt).
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates, times and numbers written one way per language on every screen, the time zone shown (heifyadmin/formats/).
FORMAT_MODULE_PATH = ["heifyadmin.formats"]
# The team's time zone: every time on a screen, in an e-mail or an export is shown in it, with its name.
# TIME_ZONE (the name) or DJANGO_TIME_ZONE (the older one); an IANA name such as Europe/Madrid.
TIME_ZONE = os.environ.get("TIME_ZONE") or os.environ.get("DJANGO_TIME_ZONE") or "UTC"
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE must be a time zone name such as Europe/Madrid, not {TIME_ZONE!r}") from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))

# --- production: static files, caches, sessions --------------------------------------------------
# WhiteNoise serves what `collectstatic` gathered (the admin, Chart.js, the API docs' assets), from
# this process, with DEBUG off: compressed copies, content-hashed names cached for a year.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Caches and sessions are shared by every process on every machine: Redis when REDIS_URL is set, else
# the database (its table is made by `migrate`: qa/migrations/0019_setup_cache_table.py, which is
# `createcachetable`, as the release step still runs).
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "heifyadmin",
        },
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "heifyadmin_cache"},
        # django-q2 with the database as broker keeps its cluster statistics in a cache, written
        # twice a second per cluster: they stay in the process rather than cost database writes.
        "django_q_stats": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# Production hardening; all of it is switched off only when DEBUG is on.
# X-Forwarded-Proto is believed only behind a proxy that sets it: without one, any client could send it.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
# Both reach beyond this site (every subdomain; browsers' preload lists, hard to leave): opt-in only.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# `check --deploy` warns when they are off; here off is a decision, not an oversight.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Content-Security-Policy (django-csp) ---------------------------------------------------------
# Scripts only from this site's static files (the admin's, Chart.js, review.js, Swagger UI's), or inline
# with the page's nonce (`{{ request.csp_nonce }}`); no eval, no inline event handlers, no plugins, no
# framing. Styles may be inline (the admin's and Swagger UI's own `style` attributes); data: images are
# Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- production: logs ------------------------------------------------------------------------------
# One line per event (request, job, Heify call), text or JSON (LOG_FORMAT=json), each with the id of
# the request or job it belongs to, secrets redacted (heifyadmin/log_context.py). httpx logs every call
# at INFO: kept at WARNING unless HTTPX_LOG_LEVEL asks.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
# Every record also has HEIFY_WEBHOOK_SECRET and HEIFY_API_KEY redacted (heifyadmin/log_redaction.py).
LOGGING_CONFIG = "heifyadmin.log_redaction.configure_logging"
LOGGING = logging_config(
    log_format=LOG_FORMAT,
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    httpx_level=os.environ.get("HTTPX_LOG_LEVEL", "WARNING"),
)

# --- sign-in throttling (django-axes) ---------------------------------------------------
# A username is locked out from one address after this many failed sign-ins (admin login and
# API token alike), for the cool-off. The counts live in the database, so every process shares
# them; the admin lists them under Axes, where deleting an access attempt lifts its lock.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client's address, as the API's throttle reads it: behind the proxy (DJANGO_BEHIND_PROXY) the address the
# proxy appended to X-Forwarded-For, else the connection's. Without it, every failure behind a proxy would
# count against the proxy's own address, and anyone could lock anyone out.
AXES_CLIENT_IP_CALLABLE = "heifyadmin.client_ip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_CALLABLE = "qa.api.errors.locked_out"

# --- REST API for internal tools ---------------------------------------------------
# API tokens (django-rest-knox): only a hash is stored; each expires after this many days.
API_TOKEN_TTL_DAYS = float(os.environ.get("API_TOKEN_TTL_DAYS", "90"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "qa.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # POST /api/v1/auth/token/ per client address (counted in the cache: per process unless it is shared).
    "DEFAULT_THROTTLE_RATES": {"auth-token": os.environ.get("API_TOKEN_RATE", "10/minute")},
    # The client address throttling counts by: X-Forwarded-For only when a proxy sets it.
    "NUM_PROXIES": 1 if BEHIND_PROXY else 0,
    "DEFAULT_PERMISSION_CLASSES": ["qa.api.permissions.ModelPermissions"],
    # Bodies are JSON only (a form or multipart body answers 415), so the schema offers JSON alone; a view
    # that takes a file names its own parser_classes.
    "DEFAULT_PARSER_CLASSES": ["qa.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "qa.api.pagination.HeifyCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qa.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Heify back office API",
    "DESCRIPTION": "Configurations, evaluators, participants and transcriptions in Heify's own JSON shapes, "
    "under the same rules and permissions as the back office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # An internal tool: the schema and its docs are for signed-in users (session or token) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Served from this site (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two "status" fields with different choices: each its own enum, by name (a call's, a dispute's).
    "ENUM_NAME_OVERRIDES": {
        "TranscriptionStatusEnum": "qa.mirror.rules.Status",
        "DisputeStatusEnum": "qa.reviews.models.Dispute.Status",
    },
}

# --- Heify -------------------------------------------------------------------
# Pointing the back office at the real API needs only these two variables.
HEIFY_API_URL = os.environ.get("HEIFY_API_URL", "https://api.heify.com")
HEIFY_API_KEY = os.environ.get("HEIFY_API_KEY", "")
# Secret carried in the path of the webhook URLs Heify calls back.
HEIFY_WEBHOOK_SECRET = os.environ.get("HEIFY_WEBHOOK_SECRET", "")
# The same webhook event (kind, transcription, status) delivered again within this many
# seconds is stored as a duplicate and fetches nothing.
HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS = int(os.environ.get("HEIFY_WEBHOOK_REPLAY_WINDOW_SECONDS", "3600"))
# The public address of this back office, e.g. https://qa.example.com. When set,
# configurations created here get Heify webhook URLs pointing back at it.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
# Seconds: a call to Heify waits this long for an answer; retries stop after the total.
HEIFY_TIMEOUT = float(os.environ.get("HEIFY_TIMEOUT", "10"))
HEIFY_RETRY_TOTAL = float(os.environ.get("HEIFY_RETRY_TOTAL", "30"))
# A person waiting on a form gets a shorter budget; what fails waits in the push queue.
HEIFY_INTERACTIVE_RETRY_TOTAL = float(os.environ.get("HEIFY_INTERACTIVE_RETRY_TOTAL", "5"))
# A change being sent is claimed for this long; a sender that died frees it when it lapses.
HEIFY_PUSH_CLAIM_SECONDS = float(os.environ.get("HEIFY_PUSH_CLAIM_SECONDS", "300"))

# A claimed call with no review activity for this long returns to the pending queue.
REVIEW_CLAIM_TIMEOUT_HOURS = float(os.environ.get("REVIEW_CLAIM_TIMEOUT_HOURS", "4"))
# An agent may dispute a criterion's result of a reviewed call for this many days after its review.
DISPUTE_WINDOW_DAYS = float(os.environ.get("DISPUTE_WINDOW_DAYS", "14"))

# Participant analytics (qa/insights/analytics.py): a call passes with a score at or above the
# pass mark and no critical fail; the trend compares the newest calls' averages.
ANALYTICS_PASS_MARK = float(os.environ.get("ANALYTICS_PASS_MARK", "50"))
ANALYTICS_TREND_THRESHOLD = float(os.environ.get("ANALYTICS_TREND_THRESHOLD", "5"))
ANALYTICS_DEGRADATION_THRESHOLD = float(os.environ.get("ANALYTICS_DEGRADATION_THRESHOLD", "10"))
ANALYTICS_QUERY_LIMIT = 20_000  # Heify's own cap, reproduced
ANALYTICS_TREND_SAMPLE = 20

# --- background jobs (django-q2) ------------------------------------------------------
# The database is the broker unless REDIS_URL is set. `retry` stays above `timeout`.
REDIS_URL = os.environ.get("REDIS_URL", "")


def _q_redis_pool(url: str):
    """One Redis connection pool per process for django-q2's broker: given the URL, it makes a new client, so a new
    connection and its handshake, for every task queued (two per review move: its alerts and its push to Heify)."""
    import redis

    return redis.ConnectionPool.from_url(url)


Q_CLUSTER = {
    "name": "heifyadmin",
    "label": _("Background jobs"),  # the admin sidebar's title for django-q2's task lists
    "workers": int(os.environ.get("HEIFY_WORKERS", "2")),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 3,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 1000,
    **({"redis": {"connection_pool": _q_redis_pool(REDIS_URL)}} if REDIS_URL
       else {"orm": "default", "cache": "django_q_stats"}),
}
# How often the scheduled jobs run (minutes).
HEIFY_PULL_EVERY_MINUTES = int(os.environ.get("HEIFY_PULL_EVERY_MINUTES", "15"))
# A scheduled pull lists evaluators and participants whole (which notices those deleted in Heify) when the last
# whole listing is older than this; in between, only those Heify changed (syncer/pull.py). 0: always whole.
HEIFY_FULL_PULL_EVERY_HOURS = float(os.environ.get("HEIFY_FULL_PULL_EVERY_HOURS", "24"))
# An incremental listing starts this long before the newest updated_at the last one saw (plus that listing's
# own duration): room for Heify's stamps and commits not being in step.
HEIFY_UPDATED_AT_MARGIN_SECONDS = float(os.environ.get("HEIFY_UPDATED_AT_MARGIN_SECONDS", "300"))
HEIFY_POLL_EVERY_MINUTES = int(os.environ.get("HEIFY_POLL_EVERY_MINUTES", "1"))
# A call in flight is asked for again after a tenth of the time it has been in flight, at least every poll and at
# most this long apart (syncer.tasks.poll_due): the new ones every minute, one stuck for a day once an hour.
HEIFY_POLL_MAX_MINUTES = float(os.environ.get("HEIFY_POLL_MAX_MINUTES", "60"))
HEIFY_PUSH_EVERY_MINUTES = int(os.environ.get("HEIFY_PUSH_EVERY_MINUTES", "1"))
REVIEW_EXPIRY_EVERY_MINUTES = int(os.environ.get("REVIEW_EXPIRY_EVERY_MINUTES", "5"))
# How often the sampling rules are looked at; each applies once per period whatever this is (qa/reviews/sampling.py).
REVIEW_SAMPLING_EVERY_MINUTES = int(os.environ.get("REVIEW_SAMPLING_EVERY_MINUTES", "60"))

# --- alerts and the weekly summary (qa/alerts/services.py, qa/insights/weekly_summary.py) --------------------
# E-mail goes through Django's mail settings: printed on the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Heify back office <qa@localhost>")
# Alerts also go to a chat tool's incoming webhook, signed: X-Alert-Signature: sha256=<HMAC-SHA256 of the body>.
ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL", "")
ALERT_WEBHOOK_SECRET = os.environ.get("ALERT_WEBHOOK_SECRET", "")
if ALERT_WEBHOOK_URL and not ALERT_WEBHOOK_SECRET:
    # Fails closed: an unsigned webhook could not be told from a forged one.
    raise ImproperlyConfigured("ALERT_WEBHOOK_URL is set but ALERT_WEBHOOK_SECRET is not: alerts are signed with it.")
ALERT_WEBHOOK_TIMEOUT = float(os.environ.get("ALERT_WEBHOOK_TIMEOUT", "10"))
# A failed delivery is tried again after ALERT_RETRY_SECONDS, then twice as long each time (at most an hour),
# ALERT_MAX_ATTEMPTS times in all.
ALERT_RETRY_SECONDS = float(os.environ.get("ALERT_RETRY_SECONDS", "60"))
ALERT_MAX_ATTEMPTS = int(os.environ.get("ALERT_MAX_ATTEMPTS", "8"))
ALERT_EVERY_MINUTES = int(os.environ.get("ALERT_EVERY_MINUTES", "1"))  # retries due, claims waiting too long
WEEKLY_SUMMARY_HOUR_UTC = int(os.environ.get("WEEKLY_SUMMARY_HOUR_UTC", "7"))  # on Mondays
