"""The emulator's faults and its request log, a part of `EmulatorState` (the `FaultInjection` mixin).

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
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from syncer import contract
from syncer.emulator.errors import ApiError

REQUEST_LOG_MAX = 10_000


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict
    status: int


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


class FaultInjection:
    """The fault and request-log operations of `EmulatorState` (which holds `lock`, `seed` and `_requests`)."""

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
