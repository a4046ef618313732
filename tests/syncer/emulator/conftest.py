"""The emulator tests' fixtures: a clock the test moves by hand, an emulator state on it, served over HTTP
(`heify`, which stands in for the suite's own here), and a client of its API."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from syncer import contract
from syncer.emulator import EmulatorState, running_emulator

START = datetime(2026, 3, 14, 12, 0, 0, tzinfo=UTC)

class Clock:
    """A clock the test moves by hand (it can also stand still, within one microsecond)."""

    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def state(clock):
    return EmulatorState(
        api_key="k-123", processing_seconds={"PENDING": 1, "IN_PROGRESS": 2}, clock=clock
    )


@pytest.fixture
def heify(state):
    with running_emulator(state) as emulator:
        yield emulator


@pytest.fixture
def api(heify):
    with httpx.Client(base_url=heify.url, headers={contract.AUTH_HEADER: heify.api_key}, timeout=5) as client:
        yield client
