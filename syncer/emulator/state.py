"""The emulator's in-memory Heify account: storage, loading, reading, the CRUD of every object, analytics.

`EmulatorState` holds one account as Heify's own JSON, one dict per resource
keyed by id plus a list of ids in insertion order (a page is a slice of that
list, so paging 100,000 calls costs no scan). Stored dicts are never mutated:
every change stores a new dict, so a reference handed out stays consistent
without holding the lock. One `threading.RLock` guards every change.

Heify's rules are not re-stated here: bodies are mapped to the back office's
flat field names and checked by `qa.mirror.rules` (the one place each rule lives).
HTTP is not here either (see `app.py`); operations raise `ApiError`, which the
app turns into Heify's error shape.

Uploaded calls and their lifecycle are in `transcriptions.py`, the faults and the request log in `faults.py`
(both parts of `EmulatorState`); what a body may hold in `bodies.py`, lists' paging in `paging.py`, the results
of completed calls in `results.py`, the analytics report in `reports.py`.

Settings: `processing_seconds` (a number: PENDING for the first half,
IN_PROGRESS for the second; or {"PENDING": s, "IN_PROGRESS": s}; 0 completes on
the next read), `failure_rate` (0..1 of uploads that fail; a name or file name
containing "fail" always fails), `analytics_quota` (analytics calls per calendar
month), `webhook_timeout`, and `clock` (a callable returning an aware UTC datetime).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from qa.mirror import rules
from syncer import contract
from syncer.emulator.bodies import _iso, _parse_moment, _type_name, clean_body
from syncer.emulator.errors import ApiError, _invalid
from syncer.emulator.faults import REQUEST_LOG_MAX, FaultInjection, RequestRecord
from syncer.emulator.paging import encode_cursor
from syncer.emulator.reports import participant_report_from_payloads
from syncer.emulator.transcriptions import DEFAULT_PROCESSING_SECONDS, TranscriptionLifecycle, WebhookDelivery, _Job

DEFAULT_API_KEY = "emulator-key"
CLIENT_ID = "client-emulator"
DEFAULT_ANALYTICS_QUOTA = 100


class FixtureError(ValueError):
    """A snapshot given to `load()` that does not have the heify_load shape."""


def _now() -> datetime:
    return datetime.now(UTC)


class EmulatorState(TranscriptionLifecycle, FaultInjection):
    """One emulated Heify account; see the module docstrings for the settings and faults."""

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

    def page(
        self, resource: str, offset: int, limit: int, *, updated_since: datetime | None = None,
    ) -> tuple[list[dict], str | None]:
        """One page of a list: the objects at [offset, offset + limit) and the next cursor (or None). With
        `updated_since`, only objects whose updated_at is at or after it: up to `limit` of them from `offset` on,
        the cursor then pointing past the last one looked at."""
        with self.lock:
            if resource == "transcriptions":
                self._advance()
            order, objects = self._order[resource], self._objects[resource]
            if updated_since is None:
                items = [objects[heify_id] for heify_id in order[offset:offset + limit]]
                end = offset + limit
            else:
                items, end = [], offset
                while end < len(order) and len(items) < limit:
                    payload = objects[order[end]]
                    stamp = _parse_moment(payload.get(contract.UPDATED_AT_KEY))
                    if stamp is None or stamp >= updated_since:  # no stamp: cannot be ruled out
                        items.append(payload)
                    end += 1
            more = end < len(order)
        return items, encode_cursor(resource, end) if more else None

    def create(self, resource: str, body: dict) -> dict:
        """POST /configuration, /evaluator, /participant: check with the rules, assign ids and dates."""
        with self.lock:
            fields = clean_body(resource, body, current=None)
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
            fields = clean_body(resource, body, current=current)
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
