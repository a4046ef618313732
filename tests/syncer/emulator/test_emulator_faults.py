"""The emulator's faults (syncer/emulator/faults.py): bursts of 429, failing pages, downtime, latency, error
rates and seeded fault mixes, over the API and from the command's flags. The API fixtures are the emulator
tests' own (tests/syncer/emulator/conftest.py)."""

import time

import pytest

from syncer import contract
from tests.syncer.emulator.test_emulator import data, error, participant_body


def test_burst_429_answers_with_retry_after_then_recovers(api, state):
    state.burst_429(2, retry_after=3)
    for _ in range(2):
        answer = api.get(contract.PATHS["participants"])
        assert answer.status_code == 429 and answer.headers[contract.RETRY_AFTER_HEADER] == "3"
    assert api.get(contract.PATHS["participants"]).status_code == 200


def test_fail_page_fails_the_nth_page_n_times(api, state):
    for n in range(5):
        data(api.post(contract.PATHS["participants"], json=participant_body(tag=f"P{n}")), 201)
    state.fail_page("participants", 2, status=502, times=1)
    first = api.get(contract.PATHS["participants"], params={contract.LIMIT_PARAM: 2}).json()
    second = {contract.LIMIT_PARAM: 2, contract.CURSOR_PARAM: first[contract.NEXT_CURSOR_KEY]}
    assert api.get(contract.PATHS["participants"], params=second).status_code == 502
    assert len(data(api.get(contract.PATHS["participants"], params=second))) == 2
    log = state.request_log
    assert [(r.method, r.path, r.status) for r in log[-2:]] == [
        ("GET", contract.PATHS["participants"], 502), ("GET", contract.PATHS["participants"], 200)
    ]
    assert log[-1].query == {k: str(v) for k, v in second.items()}


def test_down_latency_error_rate_and_reset(api, state):
    state.down = True
    assert error(api.get(contract.PATHS["participants"]), 503)["code"] == "unavailable"
    state.down = False
    state.latency = 0.2
    started = time.monotonic()
    api.get(contract.PATHS["participants"])
    assert time.monotonic() - started >= 0.2
    state.latency = 0
    state.error_rate = 0.5
    statuses = [api.get(contract.PATHS["participants"]).status_code for _ in range(20)]
    assert set(statuses) == {200, 500}
    state.reset_faults()
    assert all(api.get(contract.PATHS["participants"]).status_code == 200 for _ in range(5))
    state.clear_request_log()
    assert state.request_log == []


def test_seeded_fault_rates_are_repeatable_and_mixed():
    from syncer.emulator import EmulatorState, Faults

    def statuses(seed):
        state = EmulatorState(seed=seed)
        state.set_faults(Faults(error_rate=0.3, error_statuses=(500, 502, 503), rate_429=0.2, retry_after=0.5))
        return [getattr(state.injected_fault(), "status", 200) for _ in range(200)]

    first = statuses(4)
    assert first == statuses(4) and first != statuses(5)  # the seed decides, and only the seed
    assert {200, 429, 500, 502, 503} == set(first)
    assert 0.1 < first.count(429) / 200 < 0.3  # 0.2 of 200 draws, give or take the draw
    with pytest.raises(ValueError, match="fraction"):
        Faults(error_rate=1.5)
    with pytest.raises(ValueError, match="5xx"):
        Faults(error_statuses=(404,))


def test_slow_requests_and_429s_over_http(api, state):
    from syncer.emulator import Faults

    state.set_faults(Faults(rate_429=1.0, retry_after=2))
    answer = api.get(contract.PATHS["participants"])
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "2"
    state.set_faults(Faults(slow_rate=1.0, slow_seconds=0.2))
    started = time.monotonic()
    assert api.get(contract.PATHS["participants"]).status_code == 200
    assert time.monotonic() - started >= 0.2
    state.reset_faults()
    assert state.faults == Faults()


def test_the_command_takes_the_fault_flags():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="faults: error_rate is a fraction"):
        call_command("heify_emulator", "--error-rate", "2", "--port", "0")
    with pytest.raises(CommandError, match="5xx"):
        call_command("heify_emulator", "--error-statuses", "418", "--port", "0")
