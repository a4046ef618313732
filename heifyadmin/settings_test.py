"""Settings for the test suite: production settings, with what tests need changed."""

import os

# Production settings refuse to start without a real key; the tests bring their own.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-4c7a1e0b9d2f6a8e3b5c7d9f1a2b4c6d8e0f")

from heifyadmin.settings import *  # noqa: E402, F403
from heifyadmin.settings import Q_CLUSTER  # noqa: E402

# Tasks run inline, at once, so tests see their effect.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# The test client and the browser tests speak plain HTTP to 127.0.0.1.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
# Fast password hashing: logins in tests are not what is being measured.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HEIFY_API_KEY = "test-key"
HEIFY_WEBHOOK_SECRET = "test-webhook-secret"
# Short budgets, so tests of a Heify that is down do not wait.
HEIFY_TIMEOUT = 2.0
HEIFY_RETRY_TOTAL = 1.0
HEIFY_INTERACTIVE_RETRY_TOTAL = 0.5
HEIFY_API_URL = "http://127.0.0.1:9"  # nothing listens: Heify is "down" unless a test starts the emulator
# Connections close at the end of each request, so a live server's threads leave none open.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as in production, not SQLite's shared in-memory database: there, two
    # connections that write at once fail at once ("table is locked") instead of
    # waiting, so tests of concurrent requests could not run on SQLite. One file per
    # run, so two runs never share it; Django deletes it at the end.
    import os
    import tempfile

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"heify-test-{os.getpid()}.sqlite3"),
    }
# Templates name static files as they are, without the hashed manifest `collectstatic` writes.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# WhiteNoise serves the apps' static files where they are (no `collectstatic` before tests).
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = True
# The cache in the process: tests that use no database still clear it (tests/conftest.py), and a
# database cache would add queries to the pinned counts. Production shares it (database or Redis).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "django_q_stats": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
