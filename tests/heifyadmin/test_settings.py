"""Production settings fail closed: the secret key, the proxy header, HSTS, `check --deploy`."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HEIFY_", "DATABASE_URL"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "heifyadmin.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "HEIFY_VAR_DIR": str(tmp_path),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "qa.example.com",
    })
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def settings_of(env, *names) -> dict:
    code = ("import json, sys; from heifyadmin import settings as s; "
            f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("key", [None, "", "django-insecure-anything-at-all-0123456789"])
def test_without_debug_a_missing_or_development_key_stops_the_process(tmp_path, key):
    result = manage(production_env(tmp_path, DJANGO_SECRET_KEY=key), "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is missing or a development key" in result.stderr


def test_debug_runs_with_no_key_and_production_with_a_real_one(tmp_path):
    assert manage(production_env(tmp_path, DJANGO_SECRET_KEY=None, DJANGO_DEBUG="1"), "check").returncode == 0
    assert manage(production_env(tmp_path), "check").returncode == 0


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_proxy_header_and_hsts_extras_are_opt_in(tmp_path):
    names = ("SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SECURE_HSTS_SECONDS")
    default = settings_of(production_env(tmp_path), *names)
    assert default == {"SECURE_PROXY_SSL_HEADER": None, "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
                       "SECURE_HSTS_PRELOAD": False, "SECURE_HSTS_SECONDS": 31536000}
    opted = settings_of(production_env(tmp_path, DJANGO_BEHIND_PROXY="1", DJANGO_HSTS_INCLUDE_SUBDOMAINS="1",
                                       DJANGO_HSTS_PRELOAD="1"), *names)
    assert opted["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert opted["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and opted["SECURE_HSTS_PRELOAD"] is True
