"""The settings' LOGGING: every line once, httpx quiet unless asked, JSON on request, secrets redacted."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging
import httpx
logging.getLogger("django.request").error("django said this")
logging.getLogger("syncer.client").info("Heify GET /x: 200 in 3ms")
logging.getLogger("qa").warning("secret %s and key %s", "hook-secret-123", "api-key-456")
print("httpx INFO on:", logging.getLogger("httpx").isEnabledFor(logging.INFO))
"""


def run_logging(**env) -> tuple[str, str]:
    """Django set up with the real settings in a fresh process, as `make run` (DEBUG on) starts it."""
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "heifyadmin.settings", "DJANGO_DEBUG": "1",
               "HEIFY_WEBHOOK_SECRET": "hook-secret-123", "HEIFY_API_KEY": "api-key-456",
               "DATABASE_URL": "sqlite:///:memory:", **env}
    code = "import django; django.setup()\n" + SCRIPT
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout, done.stderr


def test_each_line_is_written_once_and_httpx_stays_quiet():
    stdout, stderr = run_logging()
    assert stderr.count("django said this") == 1, stderr
    assert stderr.count("Heify GET /x") == 1
    assert "httpx INFO on: False" in stdout
    assert "hook-secret-123" not in stderr and "api-key-456" not in stderr


def test_httpx_logs_at_info_when_asked():
    stdout, _ = run_logging(HTTPX_LOG_LEVEL="INFO")
    assert "httpx INFO on: True" in stdout


def test_json_lines_when_asked():
    _, stderr = run_logging(LOG_FORMAT="json")
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    heify = next(line for line in lines if line["message"].startswith("Heify GET"))
    assert heify["logger"] == "syncer.client" and heify["level"] == "INFO" and heify["request_id"] == "-"
    assert {"time", "pid"} <= set(heify)
