"""The emulator's in-memory Heify account: objects, transcription lifecycle, webhooks, faults.

`EmulatorState` holds one account as Heify's own JSON, one dict per resource
keyed by id plus a list of ids in insertion order (a page is a slice of that
list, so paging 100,000 calls costs no scan). Stored dicts are never mutated:
every change stores a new dict, so a reference handed out stays consistent
without holding the lock. One `threading.RLock` guards every change.

Heify's rules are not re-stated here: bodies are mapped to the back office's
flat field names and checked by `qa.mirror.rules` (the one place each rule lives).
HTTP is not here either (see `app.py`); operations raise `ApiError`, which the
app turns into Heify's error shape.

Transcription lifecycle: an uploaded call is PENDING, then IN_PROGRESS, then
COMPLETED or FAILED as time passes (`processing_seconds`). Statuses advance
lazily on every read and in the server's ticker thread (`tick()`), which also
delivers the webhooks of calls that finished. Preloaded calls keep their status.

Fault injection (all off by default; `reset_faults()` turns every one off).
The standing ones live together in `state.faults` (a `Faults`), drawn per
request from an rng seeded with `seed`, so a run is repeatable:

- `latency` (seconds): added to every request before it is answered.
- `slow_rate` (0..1) of requests wait `slow_seconds` more.
- `error_rate` (0..1) of requests answer one of `error_statuses` (default 500).
- `rate_429` (0..1) of requests answer 429 with a `Retry-After` of `retry_after` seconds.
- `down` (bool): every request answers 503.

`state.latency`, `state.error_rate` and `state.down` read and set the same
settings; `set_faults(Faults(...))` or `set_faults(name=value)` changes them.
Scripted faults, on top:

- `burst_429(count, retry_after=1)`: the next `count` requests answer 429 with a
  `Retry-After` header of `retry_after` seconds.
- `fail_page(resource, page_number, status=500, times=1)`: the `page_number`-th
  page (1-based: the page at offset (page_number - 1) * limit) of a list of
  `resource` ("transcriptions", ...) answers `status`, `times` times.
- `request_log`: every request as `RequestRecord(method, path, query, status)`,
  newest last (the last `REQUEST_LOG_MAX`); `clear_request_log()` empties it.

Other settings: `processing_seconds` (a number: PENDING for the first half,
IN_PROGRESS for the second; or {"PENDING": s, "IN_PROGRESS": s}; 0 completes on
the next read), `failure_rate` (0..1 of uploads that fail; a name or file name
containing "fail" always fails), `analytics_quota` (analytics calls per calendar
month), `webhook_timeout`, and `clock` (a callable returning an aware UTC datetime).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import logging
import math
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.core.exceptions import ValidationError

from qa.insights import analytics
from qa.mirror import rules
from syncer import contract, demo, mirror

log = logging.getLogger(__name__)

DEFAULT_API_KEY = "emulator-key"
CLIENT_ID = "client-emulator"
DEFAULT_PROCESSING_SECONDS = 3.0
DEFAULT_ANALYTICS_QUOTA = 100
LIMIT_DEFAULT, LIMIT_MAX = 100, 1000
REQUEST_LOG_MAX = 10_000
OPEN_STATUSES = ("PENDING", "IN_PROGRESS")
BYTES_PER_SECOND = 16_000  # 128 kbit/s audio: how a file's size becomes a duration

# What a client may send in a body; the server-assigned keys may be echoed back (fetch, modify, send).
WRITABLE = {
    "configurations": {
        "tag", "vocabulary", "extraction_fields", "summary", "summary_language", "analytics_language", "webhooks",
    },
    "evaluators": {"tag", "description", "language", "context", "criteria"},
    "participants": {"tag", "metadata"},
}
SERVER_ASSIGNED = {"client_id", "created_at", "updated_at"}
WEBHOOK_KEYS = ("success_url", "error_url")
# JSON type a key must have when present (null is always allowed), checked before the rules see
# it: the rules would fail on these with a TypeError. The rules check everything else.
_JSON_TYPES = {
    "extraction_fields": list, "criteria": list, "webhooks": dict,
    "summary_language": str, "analytics_language": str, "language": str,
}
_TYPE_NAMES = {str: "text", list: "a list", dict: "an object", bool: "true or false", int: "a number",
               float: "a number", type(None): "null"}


class ApiError(Exception):
    """A request Heify would refuse: becomes {"error": {"code", "message"}} with `status`."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


class FixtureError(ValueError):
    """A snapshot given to `load()` that does not have the heify_load shape."""


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict
    status: int


@dataclass(frozen=True)
class WebhookDelivery:
    url: str
    payload: dict
    status_code: int | None  # None when no answer came
    error: str | None  # why it failed, else None
    at: datetime


@dataclass
class _Job:
    """What the lifecycle needs to know about an uploaded call (never sent to clients)."""

    uploaded_at: datetime
    filename: str
    will_fail: bool
    configuration: dict  # the configuration as it was at upload, if it is deleted meanwhile
    evaluator: dict | None
    started_at: datetime | None = None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _parse_moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _rule(func: Callable, *args, **kwargs):
    """Apply a rule of qa.mirror.rules; its messages become a 400 naming every problem."""
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise ApiError(400, "validation_error", "; ".join(exc.messages)) from None


def _invalid(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def _check_body(resource: str, body: dict) -> None:
    allowed = WRITABLE[resource] | SERVER_ASSIGNED | {contract.ID_FIELDS[resource]}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(
            f"unknown field(s) {', '.join(unknown)}; a {resource[:-1]} takes {', '.join(sorted(WRITABLE[resource]))}"
        )
    for key in WRITABLE[resource]:
        expected = _JSON_TYPES.get(key)
        value = body.get(key)
        if expected and value is not None and not isinstance(value, expected):
            raise _invalid(f"{key} must be {_TYPE_NAMES[expected]}, not {_type_name(value)}.")


def encode_cursor(resource: str, offset: int) -> str:
    """The opaque cursor of a list: the offset of the next page, tied to its resource."""
    return base64.urlsafe_b64encode(f"{resource}:{offset}".encode()).decode().rstrip("=")


def decode_cursor(resource: str, cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        owner, _, offset = text.partition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError(
            400, "invalid_cursor", f"{contract.CURSOR_PARAM} {cursor!r} is not a cursor this API gave out"
        ) from None
    if owner != resource or value < 0:
        raise ApiError(
            400, "invalid_cursor", f"{contract.CURSOR_PARAM} {cursor!r} does not belong to the {resource} list"
        )
    return value


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Faults:
    """The emulator's standing faults: every rate is a fraction (0..1) of requests, drawn from a seeded rng."""

    latency: float = 0.0  # seconds added to every request
    slow_rate: float = 0.0  # this fraction of requests waits `slow_seconds` more
    slow_seconds: float = 0.0
    error_rate: float = 0.0  # this fraction answers one of `error_statuses`
    error_statuses: tuple[int, ...] = (500,)
    rate_429: float = 0.0  # this fraction answers 429 with Retry-After: `retry_after`
    retry_after: float = 1.0
    down: bool = False  # every request answers 503

    def __post_init__(self):
        for name in ("latency", "slow_seconds", "retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)!r}")
        for name in ("slow_rate", "error_rate", "rate_429"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} is a fraction from 0 to 1, not {getattr(self, name)!r}")
        self.error_statuses = tuple(int(status) for status in self.error_statuses)
        if not self.error_statuses or any(not 500 <= status <= 599 for status in self.error_statuses):
            raise ValueError(f"error_statuses must be 5xx statuses, not {self.error_statuses!r}")


class EmulatorState:
    """One emulated Heify account; see the module docstring for the settings and faults."""

    def __init__(
        self,
        *,
        api_key: str = DEFAULT_API_KEY,
        client_id: str = CLIENT_ID,
        processing_seconds: float | Mapping[str, float] = DEFAULT_PROCESSING_SECONDS,
        failure_rate: float = 0.0,
        analytics_quota: int = DEFAULT_ANALYTICS_QUOTA,
        seed: int = 0,
        clock: Callable[[], datetime] = _now,
        webhook_timeout: float = 2.0,
    ):
        self.api_key = api_key
        self.client_id = client_id
        self.processing_seconds = processing_seconds
        self.failure_rate = failure_rate
        self.analytics_quota = analytics_quota
        self.seed = seed
        self.clock = clock
        self.webhook_timeout = webhook_timeout
        self.lock = threading.RLock()
        self._objects: dict[str, dict[str, dict]] = {resource: {} for resource in contract.RESOURCES}
        self._order: dict[str, list[str]] = {resource: [] for resource in contract.RESOURCES}
        self.revision = 0  # moves on every change of an object (persistence.StateSaver saves then)
        self._jobs: dict[str, _Job] = {}
        self._outbox: deque[tuple[str, dict]] = deque()
        self._deliveries: list[WebhookDelivery] = []
        self._analytics_used: dict[tuple[int, int], int] = {}
        self._last_stamp = datetime.min.replace(tzinfo=UTC)
        self._upload_rng = random.Random(f"{seed}:uploads")
        self._requests: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_MAX)
        self.reset_faults()

    # --- reading the account (also for tests) ---------------------------------------------

    def objects(self, resource: str) -> list[dict]:
        """Every object of a resource, in list order (transcriptions advanced first)."""
        with self.lock:
            if resource == "transcriptions":
                self._advance()
            return [self._objects[resource][heify_id] for heify_id in self._order[resource]]

    def count(self, resource: str) -> int:
        with self.lock:
            return len(self._order[resource])

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self.lock:
            return list(self._deliveries)

    def analytics_used(self) -> int:
        """Analytics calls counted in the current calendar month."""
        now = self.clock()
        with self.lock:
            return self._analytics_used.get((now.year, now.month), 0)

    # --- loading -----------------------------------------------------------------------------

    def load(self, snapshot: Any) -> dict[str, int]:
        """Preload a heify_load-format dict as-is (an object with a known id replaces it in place).

        Checks only the shape the emulator relies on; raises FixtureError naming the first problem.
        Returns how many objects of each resource were loaded.
        """
        if not isinstance(snapshot, dict):
            raise FixtureError(
                "a fixture must be a JSON object with the keys " + ", ".join(contract.RESOURCES)
                + f", not {_type_name(snapshot)}"
            )
        unknown = sorted(set(snapshot) - set(contract.RESOURCES))
        if unknown:
            raise FixtureError(f"unknown key(s) {', '.join(unknown)}; expected {', '.join(contract.RESOURCES)}")
        checked: dict[str, list[dict]] = {}
        for resource in contract.RESOURCES:
            items = snapshot.get(resource) or []
            if not isinstance(items, list):
                raise FixtureError(f"{resource} must be a list, not {_type_name(items)}")
            id_field = contract.ID_FIELDS[resource]
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    raise FixtureError(f"{resource}[{index}] must be an object, not {_type_name(item)}")
                if not isinstance(item.get(id_field), str) or not item[id_field]:
                    raise FixtureError(f"{resource}[{index}]: {id_field} is missing")
                if resource == "transcriptions" and item.get("status") not in rules.STATUSES:
                    raise FixtureError(
                        f"{resource}[{index}] ({item[id_field]}): status must be one of "
                        f"{', '.join(rules.STATUSES)}, not {item.get('status')!r}"
                    )
            checked[resource] = items
        with self.lock:
            for resource, items in checked.items():
                id_field = contract.ID_FIELDS[resource]
                for item in items:
                    self._put(resource, item[id_field], dict(item))
                    self._jobs.pop(item[id_field], None)
        return {resource: len(items) for resource, items in checked.items()}

    def reset(self) -> None:
        """Forget every object, job, webhook delivery, analytics count and fault."""
        with self.lock:
            for resource in contract.RESOURCES:
                self._objects[resource].clear()
                self._order[resource].clear()
            self.revision += 1
            self._jobs.clear()
            self._outbox.clear()
            self._deliveries.clear()
            self._analytics_used.clear()
            self._requests.clear()
            self.reset_faults()

    # --- storage primitives (call with the lock held) -----------------------------------------------

    def _put(self, resource: str, heify_id: str, payload: dict) -> None:
        if heify_id not in self._objects[resource]:
            self._order[resource].append(heify_id)
        self._objects[resource][heify_id] = payload
        self.revision += 1

    def _stamp(self, *, after: Any = None) -> datetime:
        """Now, but strictly later than every stamp given before (and than `after`)."""
        moment = self.clock()
        floor = max(self._last_stamp, _parse_moment(after) or self._last_stamp)
        if moment <= floor:
            moment = floor + timedelta(microseconds=1)
        self._last_stamp = moment
        return moment

    def _existing(self, resource: str, heify_id: str) -> dict:
        payload = self._objects[resource].get(heify_id)
        if payload is None:
            raise ApiError(404, "not_found", f"no {resource[:-1]} with id {heify_id!r}")
        return payload

    # --- the CRUD operations -----------------------------------------------------------------------

    def get(self, resource: str, heify_id: str) -> dict:
        with self.lock:
            if resource == "transcriptions":
                self._advance()
            return self._existing(resource, heify_id)

    def page(self, resource: str, offset: int, limit: int) -> tuple[list[dict], str | None]:
        """One page of a list: the objects at [offset, offset + limit) and the next cursor (or None)."""
        with self.lock:
            if resource == "transcriptions":
                self._advance()
            ids = self._order[resource][offset:offset + limit]
            objects = self._objects[resource]
            items = [objects[heify_id] for heify_id in ids]
            more = offset + limit < len(self._order[resource])
        return items, encode_cursor(resource, offset + limit) if more else None

    def create(self, resource: str, body: dict) -> dict:
        """POST /configuration, /evaluator, /participant: check with the rules, assign ids and dates."""
        with self.lock:
            fields = self._clean(resource, body, current=None)
            heify_id = str(uuid.uuid4())
            stamp = _iso(self._stamp())
            payload = {
                contract.ID_FIELDS[resource]: heify_id, "client_id": self.client_id, **fields, "created_at": stamp,
            }
            if resource != "configurations":
                payload["updated_at"] = stamp
            self._put(resource, heify_id, payload)
            return payload

    def replace(self, resource: str, heify_id: str, body: dict) -> dict:
        """PUT: the body replaces every writable field (checked by the same rules as a creation)."""
        with self.lock:
            current = self._existing(resource, heify_id)
            fields = self._clean(resource, body, current=current)
            payload = {
                contract.ID_FIELDS[resource]: heify_id, "client_id": current.get("client_id", self.client_id),
                **fields, "created_at": current.get("created_at"),
            }
            if resource != "configurations":
                payload["updated_at"] = _iso(self._stamp(after=current.get("updated_at")))
            self._put(resource, heify_id, payload)
            return payload

    def delete(self, resource: str, heify_id: str) -> dict:
        with self.lock:
            payload = self._existing(resource, heify_id)
            del self._objects[resource][heify_id]
            self._order[resource].remove(heify_id)  # O(n), but deletions are rare
            self.revision += 1
            self._jobs.pop(heify_id, None)
            return payload

    def _clean(self, resource: str, body: dict, *, current: dict | None) -> dict:
        _check_body(resource, body)
        if resource == "configurations":
            return self._clean_configuration(body)
        if resource == "evaluators":
            return self._clean_evaluator(body, current)
        cleaned = _rule(rules.clean_participant, body)
        return {"tag": cleaned["tag"], "metadata": cleaned["metadata"]}

    @staticmethod
    def _clean_configuration(body: dict) -> dict:
        webhooks = body.get("webhooks") or {}
        unknown = sorted(set(webhooks) - set(WEBHOOK_KEYS))
        if unknown:
            raise _invalid(f"unknown webhooks field(s) {', '.join(unknown)}; webhooks take {', '.join(WEBHOOK_KEYS)}")
        # Heify's JSON -> the rules' flat names (as syncer.mirror.parse_configuration maps them).
        flat = {key: body.get(key) for key in WRITABLE["configurations"] - {"webhooks"}}
        flat["summary"] = body.get("summary", False)
        flat["webhook_success_url"] = webhooks.get("success_url")
        flat["webhook_error_url"] = webhooks.get("error_url")
        cleaned = _rule(rules.clean_configuration, flat)
        return {
            "tag": cleaned["tag"],
            "vocabulary": cleaned["vocabulary"],
            "extraction_fields": cleaned["extraction_fields"],
            "summary": cleaned["summary"],
            "summary_language": cleaned["summary_language"] or None,
            "analytics_language": cleaned["analytics_language"] or None,
            "webhooks": {
                "success_url": cleaned["webhook_success_url"] or None,
                "error_url": cleaned["webhook_error_url"] or None,
            },
        }

    @staticmethod
    def _clean_evaluator(body: dict, current: dict | None) -> dict:
        data = dict(body)
        current_tag = None
        if current is not None:
            current_tag = current.get("tag")
            data.setdefault("tag", current_tag)  # a PUT without a tag keeps it
        cleaned, _notices = _rule(rules.clean_evaluator, data, current_tag=current_tag)
        known_ids = {c.get("id") for c in (current or {}).get("criteria") or []}
        criteria, seen = [], set()
        for number, criterion in enumerate(cleaned["criteria"], start=1):
            criterion_id = criterion.get("id")
            if current is None or criterion_id is None:
                criterion_id = str(uuid.uuid4())  # ids are Heify's to give
            elif not isinstance(criterion_id, str) or criterion_id not in known_ids:
                raise _invalid(f"Criterion {number}: id {criterion_id!r} is not a criterion of this evaluator.")
            elif criterion_id in seen:
                raise _invalid(f"Criterion {number}: id {criterion_id!r} is used twice.")
            seen.add(criterion_id)
            criteria.append({
                "id": criterion_id,
                "name": criterion["name"],
                "description": criterion["description"],
                "type": criterion["type"],  # the rules' canonical (lower) case
                "weight": _number(criterion["weight"]),
            })
        return {
            "tag": cleaned["tag"],
            "description": cleaned["description"] or None,
            "language": cleaned["language"] or None,
            "context": cleaned["context"],
            "criteria": criteria,
        }

    # --- transcriptions ------------------------------------------------------------------------------

    def upload(self, form: Mapping[str, str], *, filename: str, size: int) -> dict:
        """POST /transcription: a new PENDING call (the file itself is only measured)."""
        if size <= 0:
            raise _invalid(f"{contract.UPLOAD_FILE_FIELD} is empty: upload an audio or video file.")
        configuration_id = form.get("configuration_id") or ""
        if not configuration_id:
            raise _invalid("configuration_id is required.")
        name = form.get("name") or None
        if name is not None and len(name) > rules.TAG_MAX_LENGTH:
            raise _invalid(f"name must be at most {rules.TAG_MAX_LENGTH} characters (it has {len(name)}).")
        with self.lock:
            configuration = self._objects["configurations"].get(configuration_id)
            if configuration is None:
                raise _invalid(f"configuration_id {configuration_id!r} is not a configuration of this account.")
            links = {}
            for resource, key in (("evaluators", "evaluator_id"), ("participants", "participant_id")):
                value = form.get(key) or None
                if value is not None and value not in self._objects[resource]:
                    raise _invalid(f"{key} {value!r} is not a {resource[:-1]} of this account.")
                links[key] = value
            heify_id = str(uuid.uuid4())
            rng = random.Random(f"{self.seed}:{heify_id}")
            seconds = size / BYTES_PER_SECOND
            duration = round(seconds if seconds >= 1 else rng.lognormvariate(math.log(240), 0.45), 1)
            now = self.clock()
            will_fail = "fail" in f"{name or ''} {filename}".lower() or self._upload_rng.random() < self.failure_rate
            payload = {
                "transcription_id": heify_id,
                "client_id": self.client_id,
                "status": "PENDING",
                "configuration_id": configuration_id,
                "configuration_tag": configuration.get("tag"),
                "evaluator_id": links["evaluator_id"],
                "participant_id": links["participant_id"],
                "name": name,
                "group": None,
                "duration": duration,
                "created_at": _iso(now),
            }
            self._put("transcriptions", heify_id, payload)
            evaluator = self._objects["evaluators"].get(links["evaluator_id"]) if links["evaluator_id"] else None
            self._jobs[heify_id] = _Job(
                uploaded_at=now, filename=filename, will_fail=will_fail, configuration=configuration,
                evaluator=evaluator,
            )
            return payload

    def patch_transcription(self, heify_id: str, body: dict) -> dict:
        """PATCH /transcription/<id>: only name and group change."""
        unknown = sorted(set(body) - set(contract.TRANSCRIPTION_PATCHABLE))
        if unknown:
            raise _invalid(
                f"{', '.join(unknown)} cannot be changed; a PATCH sets only "
                f"{', '.join(contract.TRANSCRIPTION_PATCHABLE)}."
            )
        if "group" in body and body["group"] is not None and body["group"] not in rules.GROUPS:
            raise _invalid(f"group must be one of {', '.join(rules.GROUPS)} or null, not {body['group']!r}.")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > rules.TAG_MAX_LENGTH):
            raise _invalid(f"name must be text of at most {rules.TAG_MAX_LENGTH} characters or null.")
        with self.lock:
            self._advance()
            payload = {**self._existing("transcriptions", heify_id), **body}
            self._put("transcriptions", heify_id, payload)
            return payload

    def _phase_seconds(self) -> tuple[timedelta, timedelta]:
        setting = self.processing_seconds
        if isinstance(setting, Mapping):
            pending = float(setting.get("PENDING", DEFAULT_PROCESSING_SECONDS / 2))
            in_progress = float(setting.get("IN_PROGRESS", DEFAULT_PROCESSING_SECONDS / 2))
        else:
            pending = in_progress = float(setting) / 2
        return timedelta(seconds=max(0.0, pending)), timedelta(seconds=max(0.0, in_progress))

    def _advance(self) -> None:
        """Move every uploaded call on by the time that passed (lock held)."""
        if not self._jobs:
            return
        now = self.clock()
        pending, in_progress = self._phase_seconds()
        for heify_id, job in list(self._jobs.items()):
            payload = self._objects["transcriptions"].get(heify_id)
            if payload is None or payload.get("status") not in OPEN_STATUSES:
                del self._jobs[heify_id]
                continue
            status = payload["status"]
            if status == "PENDING" and now - job.uploaded_at >= pending:
                status, job.started_at = "IN_PROGRESS", job.uploaded_at + pending
            if status == "IN_PROGRESS":
                job.started_at = job.started_at or now
                if now - job.started_at >= in_progress:
                    self._finish(heify_id, payload, job, job.started_at + in_progress)
                    del self._jobs[heify_id]
                    continue
            if status != payload["status"]:
                self._put("transcriptions", heify_id, {**payload, "status": status})

    def _finish(self, heify_id: str, payload: dict, job: _Job, completed_at: datetime) -> None:
        configuration = self._objects["configurations"].get(payload["configuration_id"]) or job.configuration
        rng = random.Random(f"{self.seed}:{heify_id}:result")
        finished = {key: value for key, value in payload.items() if key not in ("details", "error")}
        if job.will_fail:
            code, message = rng.choices(demo.ERRORS, demo.ERROR_WEIGHTS)[0]
            finished.update(status="FAILED", error={"code": code, "message": message})
            url = (configuration.get("webhooks") or {}).get("error_url")
        else:
            evaluator = None
            if payload.get("evaluator_id"):
                evaluator = self._objects["evaluators"].get(payload["evaluator_id"]) or job.evaluator
            participant = self._objects["participants"].get(payload.get("participant_id") or "")
            details = synthesize_details(
                rng, configuration=configuration, evaluator=evaluator, participant=participant,
                duration=payload.get("duration") or 0.0, started_at=job.started_at or completed_at,
                completed_at=completed_at,
            )
            finished.update(status="COMPLETED", details=details)
            url = (configuration.get("webhooks") or {}).get("success_url")
        self._put("transcriptions", heify_id, finished)
        if url:
            notice = {contract.WEBHOOK_ID_KEY: heify_id, contract.WEBHOOK_STATUS_KEY: finished["status"]}
            self._outbox.append((url, notice))

    def tick(self) -> None:
        """Advance the lifecycle and deliver due webhooks (the server's ticker calls this)."""
        with self.lock:
            self._advance()
        self.deliver_webhooks()

    def deliver_webhooks(self) -> list[WebhookDelivery]:
        """POST every queued webhook once; failures are logged and recorded, never raised."""
        delivered = []
        while True:
            with self.lock:
                if not self._outbox:
                    return delivered
                url, payload = self._outbox.popleft()
            status_code, error = None, None
            if not _is_loopback(url):
                # An emulator talks to this machine only: a configuration's real-world URL is never called.
                error = "not sent: the emulator delivers webhooks to loopback addresses only"
            else:
                try:
                    status_code = httpx.post(url, json=payload, timeout=self.webhook_timeout).status_code
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"
                except Exception as exc:  # a webhook must never take the emulator down
                    error = f"{type(exc).__name__}: {exc}"
            if error or (status_code is not None and status_code >= 400):
                log.warning("webhook to %s failed: %s", url, error or f"HTTP {status_code}")
            delivery = WebhookDelivery(url=url, payload=payload, status_code=status_code, error=error, at=self.clock())
            with self.lock:
                self._deliveries.append(delivery)
            delivered.append(delivery)

    # --- analytics -----------------------------------------------------------------------------------

    def analytics_participant(self, body: dict) -> dict:
        """POST /analytics-participant: counts against the monthly quota, then asks qa.insights.analytics."""
        unknown = sorted(set(body) - {"participant_id"})
        if unknown:
            raise _invalid(f"unknown field(s) {', '.join(unknown)}; the body is {{\"participant_id\": ...}}")
        participant_id = body.get("participant_id")
        if not isinstance(participant_id, str) or not participant_id:
            raise _invalid("participant_id is required.")
        now = self.clock()
        month = (now.year, now.month)
        with self.lock:
            used = self._analytics_used.get(month, 0)
            if used >= self.analytics_quota:
                raise ApiError(
                    429, "quota_exceeded",
                    f"the monthly analytics quota of {self.analytics_quota} calls is used up for {now:%Y-%m}",
                )
            self._existing("participants", participant_id)
            self._analytics_used[month] = used + 1
            self._advance()
            transcriptions = [
                self._objects["transcriptions"][heify_id] for heify_id in self._order["transcriptions"]
                if self._objects["transcriptions"][heify_id].get("participant_id") == participant_id
            ]
            evaluators = [self._objects["evaluators"][heify_id] for heify_id in self._order["evaluators"]]
        return participant_report_from_payloads(participant_id, transcriptions, evaluators, now)

    # --- faults ----------------------------------------------------------------------------------

    @property
    def latency(self) -> float:
        return self.faults.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.set_faults(latency=seconds)

    @property
    def error_rate(self) -> float:
        return self.faults.error_rate

    @error_rate.setter
    def error_rate(self, rate: float) -> None:
        self.set_faults(error_rate=rate)

    @property
    def down(self) -> bool:
        return self.faults.down

    @down.setter
    def down(self, value: bool) -> None:
        self.set_faults(down=bool(value))

    def set_faults(self, faults: Faults | None = None, **changes) -> Faults:
        """Replace the standing faults (`Faults(...)`), or change some of them by name."""
        with self.lock:
            self.faults = dataclasses.replace(faults or self.faults, **changes)
            return self.faults

    def reset_faults(self) -> None:
        with self.lock:
            self.faults = Faults()
            self._burst: list = [0, 1]  # [requests left, Retry-After seconds]
            self._page_faults: dict[tuple[str, int], list[int]] = {}  # -> [status, times left]
            self._fault_rng = random.Random(f"{self.seed}:faults")

    def burst_429(self, count: int, retry_after: float = 1) -> None:
        with self.lock:
            self._burst = [int(count), retry_after]

    def fail_page(self, resource: str, page_number: int, status: int = 500, times: int = 1) -> None:
        if resource not in contract.RESOURCES:
            raise ValueError(f"resource must be one of {', '.join(contract.RESOURCES)}, not {resource!r}")
        if page_number < 1:
            raise ValueError(f"page_number is 1-based, not {page_number!r}")
        with self.lock:
            self._page_faults[(resource, page_number)] = [int(status), int(times)]

    def request_delay(self) -> float:
        """Seconds this request waits before it is answered: the latency, plus `slow_seconds` for a slow one."""
        with self.lock:
            faults = self.faults
            slow = faults.slow_rate > 0 and self._fault_rng.random() < faults.slow_rate
        return faults.latency + (faults.slow_seconds if slow else 0.0)

    def injected_fault(self) -> ApiError | None:
        """The fault this request meets, if any: down, then a 429 burst, then the 429 and error rates."""
        with self.lock:
            faults = self.faults
            if faults.down:
                return ApiError(503, "unavailable", "Heify is down (emulator fault: down)")
            if self._burst[0] > 0:
                self._burst[0] -= 1
                retry_after = self._burst[1]
                return ApiError(
                    429, "rate_limited",
                    f"too many requests; retry after {retry_after:g} s (emulator fault: burst_429)",
                    headers={contract.RETRY_AFTER_HEADER: f"{retry_after:g}"},
                )
            if faults.rate_429 > 0 and self._fault_rng.random() < faults.rate_429:
                return ApiError(
                    429, "rate_limited",
                    f"too many requests; retry after {faults.retry_after:g} s (emulator fault: rate_429)",
                    headers={contract.RETRY_AFTER_HEADER: f"{faults.retry_after:g}"},
                )
            if faults.error_rate > 0 and self._fault_rng.random() < faults.error_rate:
                status = self._fault_rng.choice(faults.error_statuses)
                code = {503: "unavailable", 502: "bad_gateway", 504: "gateway_timeout"}.get(status, "internal_error")
                return ApiError(status, code, f"HTTP {status} (emulator fault: error_rate)")
        return None

    def page_fault(self, resource: str, page_number: int) -> ApiError | None:
        with self.lock:
            fault = self._page_faults.get((resource, page_number))
            if not fault or fault[1] <= 0:
                return None
            fault[1] -= 1
            status = fault[0]
        return ApiError(
            status, "unavailable" if status == 503 else "internal_error",
            f"page {page_number} of {resource} failed (emulator fault: fail_page)",
        )

    def log_request(self, method: str, path: str, query: dict, status: int) -> None:
        with self.lock:
            self._requests.append(RequestRecord(method, path, query, status))

    @property
    def request_log(self) -> list[RequestRecord]:
        with self.lock:
            return list(self._requests)

    def clear_request_log(self) -> None:
        with self.lock:
            self._requests.clear()


def participant_report_from_payloads(
    participant_id: str, transcriptions: list[dict], evaluators: list[dict], now: datetime, *, as_of=None,
) -> dict:
    """qa.insights.analytics' participant report from Heify JSON: the participant's transcription payloads and
    every evaluator payload, read by the upsert path's parsers (syncer.mirror), so a call means here
    what it means in the mirror; `now` is an aware UTC datetime. It becomes the answer's `data`."""
    return analytics.participant_report_from_parsed(
        participant_id,
        [mirror.parse_transcription(payload)[0] for payload in transcriptions],
        [mirror.parse_evaluator(payload) for payload in evaluators],
        now, as_of=as_of,
    )


# --- synthetic results, from the demo generator's pieces ------------------------------------------

_DEMO_FIELD_NAMES = {spec.name for config in demo.CONFIGURATIONS for spec in config.fields}


def _demo_spec(configuration: dict) -> demo.ConfigSpec:
    """The demo domain whose conversations fit a configuration: by tag, else by language."""
    for spec in demo.CONFIGURATIONS:
        if spec.tag == configuration.get("tag"):
            return spec
    languages = {configuration.get("summary_language"), configuration.get("analytics_language")}
    wanted = "es" if "es" in languages else "en"
    return next(spec for spec in demo.CONFIGURATIONS if spec.language == wanted)


def _verdicts(rng: random.Random, generator, evaluator: dict, quality: float) -> tuple[dict, dict]:
    """A verdict per criterion; the demo's own evaluators get the demo's (role-aware) verdicts."""
    names = [criterion["name"] for criterion in evaluator["criteria"]]
    for spec in demo.EVALUATORS:
        if spec.tag == evaluator.get("tag") and [c[0] for c in spec.criteria] == names:
            return generator.verdicts(spec, quality)
    verdicts = {}
    for criterion in evaluator["criteria"]:
        kind = rules.clean_criterion_type(criterion["type"])
        if kind == rules.SCALE:
            verdicts[criterion["name"]] = int(min(5, max(1, round(1 + 4 * quality + rng.gauss(0, 0.7)))))
        elif kind == rules.BOOLEAN:
            verdicts[criterion["name"]] = rng.random() < quality
        else:
            verdicts[criterion["name"]] = rng.random() >= 0.03
    return verdicts, {}


def _field_values(rng, generator, call, ctx: dict, fields: list[dict], segments: list[dict], vocabulary) -> list:
    known = [demo.FieldSpec(f["name"], f["type"], f["description"]) for f in fields if f["name"] in _DEMO_FIELD_NAMES]
    values = {}
    if known:
        demo_call = dataclasses.replace(call, config=dataclasses.replace(call.config, fields=tuple(known)))
        values = {item["name"]: item["value"] for item in generator.field_values(demo_call, ctx)}
    words = list(vocabulary or []) or [segment["text"] for segment in segments]
    result = []
    for field in fields:
        if field["name"] in values:
            value = values[field["name"]]
        elif field["type"] == "number":
            value = round(rng.uniform(0, 1000), 2)
        elif field["type"] == "boolean":
            value = rng.random() < 0.5
        elif field["type"] == "array":
            value = sorted(rng.sample(words, min(len(words), rng.randrange(1, 4))))
        else:
            value = rng.choice(words)
        result.append({"name": field["name"], "value": value})
    return result


def synthesize_details(
    rng: random.Random, *, configuration: dict, evaluator: dict | None, participant: dict | None,
    duration: float, started_at: datetime, completed_at: datetime,
) -> dict:
    """The `details` of a completed call: conversation, summary, fields and evaluation.

    Built by the demo generator (`_Generator.details`), as the demo's calls are;
    the score only from `qa.mirror.rules.evaluation_score`.
    """
    spec = _demo_spec(configuration)
    generator = demo._Generator(rng, completed_at)
    call = demo._Call(at=started_at, config=spec, participant=None)
    quality = rng.uniform(0.25, 0.97)
    roles, evaluation = {}, None
    if evaluator and evaluator.get("criteria"):
        verdicts, roles = _verdicts(rng, generator, evaluator, quality)
        evaluation = rules.evaluation_score(evaluator["criteria"], verdicts)
    agent = str((participant or {}).get("tag") or "").split(" ")[0] or demo.UNKNOWN_AGENT[spec.language]
    fields = configuration.get("extraction_fields") or []
    return generator.details(
        call, agent, quality=quality, duration=duration, roles=roles, evaluation=evaluation,
        times=lambda: (started_at, completed_at), summary=bool(configuration.get("summary")),
        fields=(
            lambda ctx, segments: _field_values(
                rng, generator, call, ctx, fields, segments, configuration.get("vocabulary"),
            )
        ) if fields else None,
    )
