"""Settings for the test suite: production settings, with what tests need changed."""

from heifyadmin.settings import *  # noqa: F403
from heifyadmin.settings import Q_CLUSTER

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
# Templates name static files as they are, without the hashed manifest `collectstatic` writes.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# WhiteNoise serves the apps' static files where they are (no `collectstatic` before tests).
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS = True
