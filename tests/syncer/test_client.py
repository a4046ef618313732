"""The production client against the emulator over loopback HTTP: retries, errors, secrecy."""

import logging

import pytest

from syncer import client as heify_client
from syncer.client import HeifyClient, RetryPolicy

MISSING = "00000000-0000-4000-8000-000000000000"  # Heify-shaped, and no object has it


def make_client(heify, **kwargs):
    waits = []
    kwargs.setdefault("retry", RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.02, total=5))
    return HeifyClient(heify.url, heify.api_key, sleep=waits.append, **kwargs), waits


def test_429_is_retried_after_the_time_heify_asks(heify):
    client, waits = make_client(heify)
    heify.state.burst_429(2, retry_after=3)
    assert client.create("participants", {"tag": "Ann"})["tag"] == "Ann"
    assert waits == [3.0, 3.0]
    assert [r.status for r in heify.state.request_log] == [429, 429, 201]


def test_429_that_would_outlast_the_budget_is_raised(heify):
    client, waits = make_client(heify, retry=RetryPolicy(attempts=5, total=2))
    heify.state.burst_429(1, retry_after=60)
    with pytest.raises(heify_client.QuotaExceeded):
        client.pages("participants").__next__()
    assert waits == []


def test_503_is_retried_a_bounded_number_of_times(heify):
    client, waits = make_client(heify)
    heify.state.down = True
    with pytest.raises(heify_client.Unavailable) as exc:
        client.get("participants", MISSING)
    assert len(heify.state.request_log) == 4 and len(waits) == 3
    assert exc.value.status == 503 and "Heify is down" in exc.value.message


def test_500_is_not_retried(heify):
    client, _ = make_client(heify)
    heify.state.error_rate = 1.0
    with pytest.raises(heify_client.Unavailable):
        client.get("participants", MISSING)
    assert len(heify.state.request_log) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_on_a_list_are_retried(heify, status):
    client, _ = make_client(heify)
    client.create("participants", {"tag": "Ann"})
    heify.state.clear_request_log()
    heify.state.fail_page("participants", 1, status=status, times=2)
    assert [p["tag"] for page in client.pages("participants") for p in page.items] == ["Ann"]
    assert [r.status for r in heify.state.request_log] == [status, status, 200]


def test_connection_refused_is_unavailable_quickly():
    client = HeifyClient("http://127.0.0.1:9", "secret-key", retry=RetryPolicy(attempts=2, base_delay=0.01, total=1))
    with pytest.raises(heify_client.Unavailable) as exc:
        client.get("evaluators", MISSING)
    assert "could not be reached" in str(exc.value)


@pytest.mark.parametrize("status, kind", [(401, "AuthenticationFailed"), (404, "NotFound"), (400, "Rejected")])
def test_typed_errors(heify, status, kind):
    if status == 401:
        client = HeifyClient(heify.url, "wrong-key")
        call = lambda: client.get("participants", MISSING)  # noqa: E731
    elif status == 404:
        client, _ = make_client(heify)
        call = lambda: client.get("participants", MISSING)  # noqa: E731
    else:
        client, _ = make_client(heify)
        call = lambda: client.create("evaluators", {"tag": "x", "criteria": []})  # noqa: E731
    with pytest.raises(getattr(heify_client, kind)) as exc:
        call()
    assert exc.value.status == status
    if status == 400:
        assert "1 to 10 criteria" in exc.value.message  # Heify's own message, passed on


def test_pages_are_fetched_lazily(heify):
    client, _ = make_client(heify)
    for n in range(5):
        client.create("participants", {"tag": f"P{n}"})
    heify.state.clear_request_log()
    pages = client.pages("participants", limit=2)
    first = next(pages)
    assert len(first.items) == 2 and len(heify.state.request_log) == 1
    rest = list(pages)
    assert [len(p.items) for p in rest] == [2, 1] and rest[-1].next_cursor is None


def test_pages_fetched_ahead_hold_two_pages_and_fail_where_asked(heify):
    """With `ahead`, the next page is asked for as a page is handed over (never more than that one), each page
    carries the clock's time from before its request, and a failed fetch is raised where its page is asked for."""
    client, _ = make_client(heify)
    for n in range(5):
        client.create("participants", {"tag": f"P{n}"})
    heify.state.clear_request_log()
    heify.state.fail_page("participants", 3, status=500, times=1)
    ticks = iter(range(100))
    pages = client.pages("participants", limit=2, ahead=True, clock=lambda: next(ticks))
    first = next(pages)
    second = next(pages)  # its request was sent when the first was handed over
    assert [len(first.items), len(second.items)] == [2, 2] and (first.fetched_at, second.fetched_at) == (0, 1)
    with pytest.raises(heify_client.Unavailable):
        next(pages)
    assert len(heify.state.request_log) == 3
    pages = client.pages("participants", limit=2, ahead=True)
    next(pages)
    pages.close()  # waits for the second page's fetch, which nothing asks for
    assert len(heify.state.request_log) == 5


def test_the_api_key_appears_nowhere(heify, caplog):
    caplog.set_level(logging.DEBUG)
    key = "super-secret-key-123"
    client = HeifyClient(heify.url, key, retry=RetryPolicy(attempts=2, base_delay=0.01, total=1))
    messages = [repr(client)]
    for fault in ("down", "wrong key"):
        if fault == "down":
            heify.state.down = True
        try:
            client.get("participants", MISSING)
        except heify_client.HeifyError as exc:
            messages += [str(exc), repr(exc)]
        heify.state.down = False
    assert key not in " ".join(messages) + caplog.text


def test_clients_share_one_certificate_store(monkeypatch):
    """The jobs make a client per change pushed and per call polled: the certificates are loaded once per
    process, not by each client (httpx would, about 50 ms of CPU each)."""
    import httpx

    from syncer import client as client_module

    made = []
    real = httpx.create_ssl_context
    monkeypatch.setattr(httpx, "create_ssl_context", lambda *a, **k: made.append(1) or real(*a, **k))
    client_module._tls_context.cache_clear()
    for _ in range(3):
        client_module.HeifyClient("http://127.0.0.1:9", "key").close()
    assert len(made) == 1
