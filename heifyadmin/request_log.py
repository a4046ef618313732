"""One log line per request, and the request id that ties it to every other line of that request.

The id comes from the X-Request-ID header when a proxy sent a sane one, else it is generated; it is
echoed in the answer's X-Request-ID header and set in heifyadmin.log_context.request_id, so the Heify
client's lines for this request carry it too. This is the access log of every server (gunicorn's own is
off): method, path and query (secrets, and the values of lookups a list refused or that name a secret's
field, redacted), status, size, milliseconds.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from heifyadmin.log_context import request_id
from heifyadmin.log_redaction import redact, redact_query

log = logging.getLogger("heifyadmin.request")

HEADER = "X-Request-ID"
# An incoming id is kept only if it cannot forge a log line or a header: short, plain characters.
ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        current = incoming if ACCEPTED_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id.set(current)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = current
            self.log_request(request, response, (time.monotonic() - started) * 1000)
            return response
        finally:
            request_id.reset(token)

    @staticmethod
    def log_request(request, response, milliseconds: float) -> None:
        query = redact_query(request.META.get("QUERY_STRING", ""), getattr(request, "refused_lookups", ()))
        path = redact(request.path) + (f"?{query}" if query else "")
        protocol = request.META.get("SERVER_PROTOCOL", "HTTP/1.1")
        size = len(response.content) if not response.streaming else response.get("Content-Length", "-")
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        log.log(
            level, '"%s %s %s" %s %s %.0fms', request.method, path, protocol, response.status_code, size, milliseconds,
            extra={"method": request.method, "path": path, "status": response.status_code, "bytes": size,
                   "duration_ms": round(milliseconds, 1)},
        )
