"""Liveness and readiness probes: GET /healthz and GET /readyz.

/healthz says the process is up and touches nothing. /readyz says whether this process can do its
work: the database answers a SELECT 1, and the job broker (Redis when REDIS_URL is set, else the
database) answers a PING; 503 with the name of what failed otherwise. Neither needs a login, and
neither says more than ok or failed (no version, host or error text).

They are answered by a middleware that runs before every other one but the request log, so a load
balancer probing over plain HTTP on an address that is not in ALLOWED_HOSTS is neither redirected to
HTTPS nor refused, and no session, user or CSRF work is done.
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import HttpResponseNotAllowed, JsonResponse

log = logging.getLogger(__name__)

LIVE_PATHS = {"/healthz", "/healthz/"}
READY_PATHS = {"/readyz", "/readyz/"}
PROBE_TIMEOUT = 2.0  # seconds; a probe that waits longer than its caller's interval is no use


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@cache
def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=PROBE_TIMEOUT,
                                socket_connect_timeout=PROBE_TIMEOUT)


def check_redis() -> None:
    _redis().ping()


def _outcome(name: str, check) -> str:
    try:
        check()
    except Exception:  # any failure means not ready; the reason goes to the log, not to the caller
        log.warning("readiness: the %s check failed", name, exc_info=True)
        return "failed"
    return "ok"


def readiness() -> dict[str, str]:
    results = {"database": _outcome("database", check_database)}
    # Without Redis the database is the broker: its answer is the broker's, at the cost of no second query.
    results["broker"] = _outcome("broker", check_redis) if settings.REDIS_URL else results["database"]
    return results


def _answer(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path not in LIVE_PATHS and path not in READY_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if path in LIVE_PATHS:
            return _answer({"status": "ok"})
        checks = readiness()
        failed = [name for name, result in checks.items() if result != "ok"]
        if failed:
            return _answer({"status": "unavailable", "failed": failed, "checks": checks}, status=503)
        return _answer({"status": "ok", "checks": checks})
