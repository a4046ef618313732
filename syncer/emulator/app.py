"""The emulator's HTTP face: a Werkzeug WSGI app that speaks the Heify API of syncer.contract.

Only HTTP lives here: faults, the API key, routing, query parameters, bodies
and Heify's envelopes (`{"data": ...}`, `{"error": {"code", "message"}}`).
What the API does with a request is `EmulatorState`'s business (state.py).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from syncer import contract
from syncer.emulator.bodies import _parse_moment
from syncer.emulator.errors import ApiError
from syncer.emulator.paging import LIMIT_DEFAULT, LIMIT_MAX, decode_cursor
from syncer.emulator.state import EmulatorState

log = logging.getLogger(__name__)

COLLECTION, ITEM, ANALYTICS = "collection", "item", "analytics"
ITEM_METHODS = {"transcriptions": ["GET", "PATCH", "DELETE"]}  # the others: GET, PUT, DELETE
UPLOAD_FIELDS = {contract.UPLOAD_FILE_FIELD, *contract.UPLOAD_FORM_FIELDS}
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean",
               type(None): "null"}


def url_map() -> Map:
    rules = [Rule(contract.ANALYTICS_PATH, endpoint=(ANALYTICS, None), methods=["POST"])]
    for resource in contract.RESOURCES:
        path = contract.PATHS[resource]
        rules.append(Rule(path, endpoint=(COLLECTION, resource), methods=["GET", "POST"]))
        item_methods = ITEM_METHODS.get(resource, ["GET", "PUT", "DELETE"])
        rules.append(Rule(f"{path}/<heify_id>", endpoint=(ITEM, resource), methods=item_methods))
    return Map(rules, strict_slashes=False)


def _json(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode(), status=status, headers=headers, content_type="application/json; charset=utf-8")


def _data(payload: Any, status: int = 200) -> Response:
    return _json({contract.DATA_KEY: payload}, status)


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return _json({contract.ERROR_KEY: {"code": code, "message": message}}, status, headers)


def _bad_request(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, code, message)


class EmulatorApp:
    """WSGI callable: `EmulatorApp(state)` serves one emulated account."""

    def __init__(self, state: EmulatorState):
        self.state = state
        self.url_map = url_map()

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.respond(request)
        self.state.log_request(request.method, request.path, request.args.to_dict(), response.status_code)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        try:
            delay = self.state.request_delay()
            if delay > 0:
                time.sleep(delay)
            fault = self.state.injected_fault()
            if fault is not None:
                raise fault
            self.authenticate(request)
            (kind, resource), args = self.url_map.bind_to_environ(request.environ).match()
            return self.dispatch(request, kind, resource, args.get("heify_id"))
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        except NotFound:
            return error_response(404, "not_found", f"no such endpoint: {request.method} {request.path}")
        except MethodNotAllowed as exc:
            allowed = sorted(exc.valid_methods or [])
            return error_response(
                405, "method_not_allowed",
                f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}",
                {"Allow": ", ".join(allowed)},
            )
        except HTTPException as exc:
            return error_response(exc.code or 400, "bad_request", exc.description or exc.name)
        except Exception:
            log.exception("emulator: %s %s failed", request.method, request.path)
            return error_response(500, "internal_error", "the emulator failed on this request (see its log)")

    def authenticate(self, request: Request) -> None:
        key = request.headers.get(contract.AUTH_HEADER)
        if not key:
            raise ApiError(401, "unauthorized", f"missing API key: send it in the {contract.AUTH_HEADER} header")
        if not hmac.compare_digest(key.encode(), self.state.api_key.encode()):
            raise ApiError(401, "unauthorized", f"the API key in {contract.AUTH_HEADER} is not valid")

    def dispatch(self, request: Request, kind: str, resource: str | None, heify_id: str | None) -> Response:
        state, method = self.state, request.method
        if kind == ANALYTICS:
            return _data(state.analytics_participant(self.json_body(request)))
        if kind == COLLECTION:
            if method == "POST":
                if resource == "transcriptions":
                    return _data(self.upload(request), 201)
                return _data(state.create(resource, self.json_body(request)), 201)
            return self.list_page(request, resource)
        if method == "GET" or method == "HEAD":
            return _data(state.get(resource, heify_id))
        if method == "PUT":
            return _data(state.replace(resource, heify_id, self.json_body(request)))
        if method == "PATCH":
            return _data(state.patch_transcription(heify_id, self.json_body(request)))
        state.delete(resource, heify_id)
        return Response(status=204)

    def list_page(self, request: Request, resource: str) -> Response:
        raw_limit = request.args.get(contract.LIMIT_PARAM)
        try:
            limit = LIMIT_DEFAULT if raw_limit is None else int(raw_limit)
        except ValueError:
            limit = None
        if limit is None or not 1 <= limit <= LIMIT_MAX:
            raise _bad_request(
                f"{contract.LIMIT_PARAM} must be a whole number from 1 to {LIMIT_MAX}, not {raw_limit!r}",
                "invalid_parameter",
            )
        offset = decode_cursor(resource, request.args.get(contract.CURSOR_PARAM))
        raw_since = request.args.get(contract.UPDATED_SINCE_PARAM)
        since = None
        if raw_since is not None:
            if resource not in contract.INCREMENTAL_RESOURCES:
                raise _bad_request(
                    f"{contract.UPDATED_SINCE_PARAM} is not a parameter of the {resource} list (it filters "
                    f"{', '.join(contract.INCREMENTAL_RESOURCES)})", "invalid_parameter")
            since = _parse_moment(raw_since)
            if since is None:
                raise _bad_request(
                    f"{contract.UPDATED_SINCE_PARAM} must be an ISO 8601 timestamp, not {raw_since!r}",
                    "invalid_parameter")
        fault = self.state.page_fault(resource, offset // limit + 1)
        if fault is not None:
            raise fault
        items, next_cursor = self.state.page(resource, offset, limit, updated_since=since)
        return _json({contract.DATA_KEY: items, contract.NEXT_CURSOR_KEY: next_cursor})

    def upload(self, request: Request) -> dict:
        if request.mimetype != "multipart/form-data":
            raise _bad_request(
                f"POST {contract.PATHS['transcriptions']} takes multipart/form-data with a "
                f"{contract.UPLOAD_FILE_FIELD!r} part and {', '.join(contract.UPLOAD_FORM_FIELDS)}, "
                f"not {request.mimetype or 'no content type'}"
            )
        unknown = sorted((set(request.form) | set(request.files)) - UPLOAD_FIELDS)
        if unknown:
            raise _bad_request(
                f"unknown form field(s) {', '.join(unknown)}; an upload takes "
                f"{contract.UPLOAD_FILE_FIELD}, {', '.join(contract.UPLOAD_FORM_FIELDS)}",
                "validation_error",
            )
        upload = request.files.get(contract.UPLOAD_FILE_FIELD)
        if upload is None:
            raise _bad_request(
                f"{contract.UPLOAD_FILE_FIELD} is required (a file part of the form)", "validation_error"
            )
        size = 0
        while chunk := upload.stream.read(1 << 16):
            size += len(chunk)
        form = {key: request.form.get(key, "") for key in contract.UPLOAD_FORM_FIELDS}
        return self.state.upload(form, filename=upload.filename or "", size=size)

    @staticmethod
    def json_body(request: Request) -> dict:
        raw = request.get_data(cache=False)
        try:
            body = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise _bad_request(f"the body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            kind = "an empty body" if not raw else _JSON_KINDS.get(type(body), type(body).__name__)
            raise _bad_request(f"the body must be a JSON object, not {kind}")
        return body
