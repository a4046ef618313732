"""The Heify API client: the only module that imports httpx.

Every call has a timeout. Connection errors, timeouts, 502/503/504 and 429 are
retried with exponential backoff and full jitter (429 honours Retry-After),
bounded both in attempts and in total time; what still fails is raised as a
typed error. Requests that create something are retried only when Heify
cannot have acted on them (the connection never opened, 429, 503).
The API key travels in a header and appears in no message, log or repr.
Every path is built by `heify_path` from a known resource and a Heify-shaped
id (contract.is_heify_id): no other text ever reaches a request line.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qa import limits
from syncer import contract

log = logging.getLogger(__name__)


class HeifyError(Exception):
    """Anything Heify (or the way to it) answered other than success."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class AuthenticationFailed(HeifyError):
    """401/403: the API key is missing, wrong or not allowed."""


class NotFound(HeifyError):
    """404: the object does not exist in Heify."""


class Rejected(HeifyError):
    """400/409/422: Heify refused the request; `message` is Heify's own."""


class InvalidId(Rejected, ValueError):
    """An id that is not Heify-shaped (or an unknown resource): refused here, nothing was sent."""

    def __init__(self, message: str):
        super().__init__(message, code="invalid_id")


class QuotaExceeded(HeifyError):
    """429 that outlasted the retries (for analytics: the monthly quota is spent)."""


class Unavailable(HeifyError):
    """Heify could not be reached or kept failing (connection, timeout, 5xx)."""


RETRY_STATUSES = {502, 503, 504}
SAFE_TO_REPEAT = {"GET", "PUT", "DELETE", "HEAD"}  # idempotent: a retry cannot duplicate


def heify_path(resource: str, heify_id: str | None = None) -> str:
    """The path of a resource's list, or of one object: the one place a Heify URL is built.

    `resource` is one of contract.PATHS (or contract.ANALYTICS); `heify_id` must
    be Heify-shaped, so that nothing from a payload, a form or a webhook can
    add a segment, a query or a control character to what is sent with our key.
    """
    base = contract.ANALYTICS_PATH if resource == contract.ANALYTICS else contract.PATHS.get(resource)
    if base is None:
        raise InvalidId(f"unknown Heify resource {resource!r}")
    if heify_id is None:
        return base
    if resource == contract.ANALYTICS or not contract.is_heify_id(heify_id):
        raise InvalidId(f"{heify_id!r} is not a Heify id ({contract.HEIFY_ID_SHAPE}); nothing was sent")
    return contract.item_path(resource, heify_id)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    total: float = 30.0  # seconds, across every attempt and wait

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass
class Page:
    items: list[dict]
    cursor: str | None  # the cursor that fetched this page
    next_cursor: str | None
    fetched_at: datetime | None = None  # by `pages`' clock, taken before the request was sent


class _FetchAhead:
    """One page fetched in a thread of its own while the caller works on the one before it.

    The thread makes that one request (with its retries) and ends; `result` waits for it and returns the page,
    or raises what the fetch raised, as if the caller had fetched it itself. The caller's context variables
    (the request or job id on each log line) ride along."""

    def __init__(self, fetch: Callable[..., Page], *args):
        self._page: Page | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run, fetch, *args),
                                        name="heify-fetch-ahead", daemon=True)
        self._thread.start()

    def _run(self, fetch: Callable[..., Page], *args) -> None:
        try:
            self._page = fetch(*args)
        except BaseException as exc:  # noqa: BLE001 (raised again in the caller's thread)
            self._error = exc

    def result(self) -> Page:
        self._thread.join()
        page, error, self._page, self._error = self._page, self._error, None, None
        if error is not None:
            try:
                raise error
            finally:
                error = None  # no cycle through this frame
        return page

    def wait(self) -> None:
        """Let the fetch end, its page unused."""
        self._thread.join()
        self._page = self._error = None


def _error_message(response: httpx.Response) -> tuple[str, str | None]:
    try:
        error = _json(response).get(contract.ERROR_KEY) or {}
    except (ValidationError, AttributeError):
        error = {}
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"]), error.get("code")
    return f"HTTP {response.status_code} {response.reason_phrase}".strip(), None


def _json(response: httpx.Response) -> Any:
    """An answer's JSON, read within qa.mirror.rules' bounds (nesting, numbers), like every input."""
    return limits.load_json(response.content, field="the answer", max_bytes=None)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _json_of_list(response: httpx.Response) -> Any:
    """A list page's JSON, decoded in C alone: each object in it is held to every limit where it is parsed
    (syncer.mirror's parse_*, which names the object and the place, so one bad object does not cost the page),
    and an object stored before is recognised by its digest, without being checked again. What the decoder
    refuses here (NaN, Infinity, invalid JSON, nesting past Python's own limit) is refused like any unreadable
    answer. `_json`'s scan of the nesting and its hook per number cost more than the decoding itself."""
    try:
        return json.loads(response.content, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ValidationError(f"the answer is not valid JSON ({exc}).") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get(contract.RETRY_AFTER_HEADER)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _log_call(where: str, outcome, started: float) -> None:
    """One line per call to Heify (httpx's own stay at WARNING); the request or job id rides on it."""
    milliseconds = (time.monotonic() - started) * 1000
    log.info("Heify %s: %s in %.0fms", where, outcome, milliseconds,
             extra={"heify_call": where, "outcome": outcome, "duration_ms": round(milliseconds, 1)})


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The trusted certificates, loaded once per process and shared by every client.

    httpx loads them for each new client (`load_verify_locations`, about 50 ms of CPU, for an http:// URL too), and
    the jobs make a client per change pushed and per call polled: that was most of a push's CPU.
    """
    return httpx.create_ssl_context()


class HeifyClient:
    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep=time.sleep,
    ):
        self.base_url = (base_url or settings.HEIFY_API_URL).rstrip("/")
        timeout = timeout if timeout is not None else settings.HEIFY_TIMEOUT
        self.retry = retry or RetryPolicy(total=settings.HEIFY_RETRY_TOTAL)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={contract.AUTH_HEADER: api_key if api_key is not None else settings.HEIFY_API_KEY},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=_tls_context(),
        )

    def __repr__(self):
        return f"<HeifyClient {self.base_url}>"

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the one place requests are made ----------------------------------------------

    def request(
        self, method: str, resource: str, heify_id: str | None = None, *, retry_429: bool = True,
        list_page: bool = False, **kwargs,
    ) -> Any:
        """Send one request to `resource` (one object of it with `heify_id`) with retries; return the
        `data` of the answer (None for 204), or, for a `list_page`, the whole JSON body (`_json_of_list`)."""
        path = heify_path(resource, heify_id)
        deadline = time.monotonic() + self.retry.total
        where = f"{method} {path}"
        attempt = 0
        while True:
            wait: float | None = None
            started = time.monotonic()
            try:
                response = self._http.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                _log_call(where, type(exc).__name__, started)
                failure = Unavailable(_("%(where)s: Heify could not be reached (%(error)s)")
                                      % {"where": where, "error": type(exc).__name__})
            except httpx.TransportError as exc:
                _log_call(where, type(exc).__name__, started)
                failure = Unavailable(_("%(where)s: no answer from Heify (%(error)s)")
                                      % {"where": where, "error": type(exc).__name__})
                if method not in SAFE_TO_REPEAT:
                    raise failure from None  # Heify may have acted on it: do not send it twice
            else:
                _log_call(where, response.status_code, started)
                if response.is_success:
                    return self._data(response, where, list_page)
                failure = self._failure(response, where)
                if response.status_code == 429:
                    if not retry_429:
                        raise failure
                    wait = _retry_after(response)
                elif response.status_code not in RETRY_STATUSES or (
                    method not in SAFE_TO_REPEAT and response.status_code != 503
                ):
                    raise failure
            attempt += 1
            wait = self.retry.backoff(attempt) if wait is None else wait
            if attempt >= self.retry.attempts or time.monotonic() + wait > deadline:
                raise failure
            log.info("%s failed (%s); retry %d in %.1fs", where, failure.message, attempt, wait)
            self._sleep(wait)

    @staticmethod
    def _data(response: httpx.Response, where: str, list_page: bool) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            body = _json_of_list(response) if list_page else _json(response)
        except ValidationError as exc:
            raise Unavailable(_("%(where)s: Heify answered something we cannot read: %(error)s")
                              % {"where": where, "error": " ".join(exc.messages)}) from None
        if list_page or not isinstance(body, dict):
            return body
        return body.get(contract.DATA_KEY)

    @staticmethod
    def _failure(response: httpx.Response, where: str) -> HeifyError:
        message, code = _error_message(response)
        status = response.status_code
        kind = {401: AuthenticationFailed, 403: AuthenticationFailed, 404: NotFound, 429: QuotaExceeded}.get(status)
        if kind is None:
            kind = Unavailable if status >= 500 else Rejected
        return kind(f"{where}: {message}" if kind is not Rejected else message, status=status, code=code)

    # --- resources -------------------------------------------------------------------------

    def pages(
        self, resource: str, *, cursor: str | None = None, limit: int = contract.PAGE_SIZE,
        updated_since: datetime | None = None, clock: Callable[[], datetime] | None = None, ahead: bool = False,
    ) -> Iterator[Page]:
        """Iterate a list page by page, starting at `cursor`; with `updated_since` (only for
        contract.INCREMENTAL_RESOURCES), only the objects Heify changed since then.

        Lazily, one request per page asked for; with `ahead`, the next page's request is sent (in a thread of its
        own) as this page is handed over, so Heify builds it and we read it while the caller works on this one: two
        pages held at most, and what that fetch raises is raised where the caller asks for the page, as without.
        Closing the iterator waits for a fetch under way. With `clock`, each page carries the time by it taken
        before its request was sent (Page.fetched_at)."""
        if updated_since is not None and resource not in contract.INCREMENTAL_RESOURCES:
            raise ValueError(f"the {resource} list cannot be asked for changes only")
        params = {contract.LIMIT_PARAM: limit}
        if updated_since is not None:
            params[contract.UPDATED_SINCE_PARAM] = contract.updated_since_value(updated_since)

        def fetch(cursor: str | None, fetched_at: datetime | None) -> Page:
            # Lists carry next_cursor beside data, so this reads the whole body.
            body = self.request("GET", resource, params={**params, contract.CURSOR_PARAM: cursor} if cursor
                                else params, list_page=True)
            if not isinstance(body, dict) or not isinstance(body.get(contract.DATA_KEY), list):
                raise Unavailable(f"GET {heify_path(resource)}: Heify answered a list in an unknown shape")
            next_cursor = body.get(contract.NEXT_CURSOR_KEY)
            if next_cursor is not None and not isinstance(next_cursor, str):
                raise Unavailable(f"GET {heify_path(resource)}: Heify answered a cursor that is not text")
            return Page(items=body[contract.DATA_KEY], cursor=cursor, next_cursor=next_cursor, fetched_at=fetched_at)

        next_page: _FetchAhead | None = None
        try:
            page = fetch(cursor, clock() if clock else None)
            while True:
                cursor = page.next_cursor
                if ahead and cursor:
                    next_page = _FetchAhead(fetch, cursor, clock() if clock else None)
                yield page
                # No reference to this page is kept while the next one is fetched (or waited for).
                page = None
                if not cursor:
                    return
                if next_page is not None:
                    page, next_page = next_page.result(), None
                else:
                    page = fetch(cursor, clock() if clock else None)
        finally:
            if next_page is not None:
                next_page.wait()

    def get(self, resource: str, heify_id: str) -> dict:
        return self.request("GET", resource, heify_id)

    def create(self, resource: str, body: dict) -> dict:
        return self.request("POST", resource, json=body)

    def replace(self, resource: str, heify_id: str, body: dict) -> dict:
        return self.request("PUT", resource, heify_id, json=body)

    def delete(self, resource: str, heify_id: str) -> None:
        self.request("DELETE", resource, heify_id)

    def patch_transcription(self, heify_id: str, **changes) -> dict:
        unknown = set(changes) - set(contract.TRANSCRIPTION_PATCHABLE)
        if unknown:
            raise ValueError(f"a transcription's {', '.join(sorted(unknown))} cannot be changed")
        return self.request("PATCH", "transcriptions", heify_id, json=changes)

    def upload_transcription(self, file: IO[bytes], filename: str, *, configuration_id: str, **fields) -> dict:
        form = {"configuration_id": configuration_id, **{k: v for k, v in fields.items() if v}}
        unknown = set(form) - set(contract.UPLOAD_FORM_FIELDS)
        if unknown:
            raise ValueError(f"unknown upload field(s): {', '.join(sorted(unknown))}")
        for key in ("configuration_id", "evaluator_id", "participant_id"):
            if form.get(key) and not contract.is_heify_id(form[key]):
                raise InvalidId(f"{key} {form[key]!r} is not a Heify id; nothing was sent")
        return self.request(
            "POST", "transcriptions", data=form, files={contract.UPLOAD_FILE_FIELD: (filename, file)}
        )

    def analytics_participant(self, participant_id: str) -> dict:
        # A 429 here means the monthly quota is spent: waiting seconds will not help.
        if not contract.is_heify_id(participant_id):
            raise InvalidId(f"{participant_id!r} is not a Heify id; nothing was sent")
        return self.request("POST", contract.ANALYTICS, json={"participant_id": participant_id}, retry_429=False)


def get_client(**kwargs) -> HeifyClient:
    """A client configured from settings (HEIFY_API_URL, HEIFY_API_KEY)."""
    return HeifyClient(**kwargs)
