"""Django's ordinary deploy, with the production settings: `migrate`, then serve. Nothing else is needed before
the first request (the release step's `createcachetable` may run too; it changes nothing)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SIGN_IN = """
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

# Static files as they are in the source: the release's `collectstatic` (a minute of compressing) is not at issue.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()

User.objects.create_superuser("boss", password="deploy-test-password-1")
client = Client(raise_request_exception=False, HTTP_HOST="qa.example.com")
page = client.get("/admin/login/", secure=True)
signed_in = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": "deploy-test-password-1"},
                        secure=True)
home = client.get("/admin/", secure=True)
token = Client(raise_request_exception=False, HTTP_HOST="qa.example.com").post(
    "/api/v1/auth/token/", {"username": "boss", "password": "deploy-test-password-1"}, content_type="application/json",
    secure=True)
print(page.status_code, signed_in.status_code, signed_in.get("Location"), home.status_code, token.status_code)
"""


def production_env(tmp_path, database_url) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HEIFY_", "DATABASE_URL", "REDIS_"))}
    return {**env, "DJANGO_SETTINGS_MODULE": "heifyadmin.settings", "DATABASE_URL": database_url,
            "HEIFY_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "qa.example.com"}


def manage(env, *args) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_migrate_alone_then_sign_in_works_with_the_database_cache(tmp_path, fresh_database):
    env = production_env(tmp_path, fresh_database)
    manage(env, "migrate", "--noinput")
    # The API's sign-in answered 500: "no such table: heifyadmin_cache" (its rate limit counts in the cache),
    # a table only `createcachetable` made.
    assert manage(env, "shell", "--no-imports", "-c", SIGN_IN).split() == ["200", "302", "/admin/", "200", "200"]
    manage(env, "createcachetable")  # the release step still runs it: nothing left to do
    manage(env, "migrate", "--noinput")
