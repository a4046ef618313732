"""The web worker's process (heifyadmin/wsgi.py): Python's collector is set for serving once the app is loaded."""

import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc
import heifyadmin.wsgi
print(gc.get_threshold()[0], gc.get_freeze_count() > 10_000)
"""


def test_the_loaded_app_is_set_aside_from_the_collector_and_the_young_generation_waits_longer(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "heifyadmin.settings", "HEIFY_VAR_DIR": str(tmp_path),
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["20000", "True"]
