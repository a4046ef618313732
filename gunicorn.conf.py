"""gunicorn's settings for the `web` process type (Procfile), from the environment.

Sync workers: each serves one request at a time, so it holds at most one database connection, and
the connection budget is WEB_CONCURRENCY x WEB_THREADS (README, Production). Graceful restarts:
SIGHUP reloads the code with new workers while the old ones finish their requests; SIGTERM stops
accepting and waits up to `graceful_timeout` for requests in flight.

The access log is the app's own request line (heifyadmin/request_log.py: request id, secrets
redacted, JSON with LOG_FORMAT=json); gunicorn's is dropped so each request is logged once. Its
lifecycle lines go through the same handler and format (heifyadmin.log_context).
"""

import os

from heifyadmin.log_context import logging_config

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))  # above 1, gunicorn uses gthread workers
# A request may wait on Heify: its timeout (10 s) times the retries' budget (30 s at most, for
# Heify's analytics report), so a worker is only killed when it is stuck well past that.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5  # seconds an idle keep-alive connection is kept (behind a proxy that reuses them)
# A worker is replaced after this many requests (with jitter, so not all at once): memory cannot creep.
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file lives in memory: a slow disk cannot make a busy worker look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "heifyadmin-web"
# X-Forwarded-* are believed only from these addresses (a proxy on the same machine by default).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = None
errorlog = "-"
loglevel = os.environ.get("DJANGO_LOG_LEVEL", "INFO").lower()
# gunicorn's master has no Django settings, hence no secret to redact: its lines are about processes.
logconfig_dict = logging_config(log_format=os.environ.get("LOG_FORMAT", "text"), level="INFO", redact=False)
