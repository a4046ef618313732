"""Neither HEIFY_WEBHOOK_SECRET nor HEIFY_API_KEY ever reaches a log record, whoever logs it and however."""

import logging

import httpx
import pytest

from heifyadmin.log_redaction import RedactSecretsFilter, redact
from syncer.client import HeifyError, get_client
from syncer.emulator import EmulatorState, running_emulator

WEBHOOK_SECRET = "whsec-9f8e7d6c5b4a3921"
API_KEY = "hk-live-3b1d9a7c5e0f2468"


@pytest.fixture
def secret_heify(settings):
    """The emulator with a distinctive API key, and the back office pointing at it with a distinctive secret."""
    with running_emulator(EmulatorState(api_key=API_KEY, processing_seconds=0)) as server:
        settings.HEIFY_API_URL, settings.HEIFY_API_KEY = server.url, API_KEY
        settings.HEIFY_WEBHOOK_SECRET = WEBHOOK_SECRET
        yield server


def assert_no_secret(caplog):
    everything = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    for secret in (WEBHOOK_SECRET, API_KEY):
        assert secret not in everything
    return everything


@pytest.mark.django_db(transaction=True)
def test_webhook_and_client_paths_log_no_secret(client, secret_heify, settings, caplog):
    caplog.set_level(logging.DEBUG)
    success = f"/webhooks/heify/{WEBHOOK_SECRET}/success/"
    error = f"/webhooks/heify/{WEBHOOK_SECRET}/error/"
    # Malformed bodies: 4xx, which django.request logs with the path.
    assert client.post(success, b"not json", content_type="application/json").status_code == 400
    assert client.post(error, b"{}", content_type="application/json").status_code == 400
    assert client.post(success, b"[1, 2]", content_type="application/json").status_code == 400
    assert client.post(success, b"x" * (65 * 1024), content_type="application/json").status_code == 413
    assert client.get(success).status_code == 405
    assert client.post(f"/webhooks/heify/{WEBHOOK_SECRET}x/success/", b"{}",
                       content_type="application/json").status_code == 404
    # A well-formed notification of a call Heify does not know: the fetch it triggers fails (404).
    body = b'{"transcription_id": "00000000-0000-4000-8000-000000000000", "status": "COMPLETED"}'
    assert client.post(success, body, content_type="application/json").status_code == 202
    # The client: a good call, a missing object, a wrong key, and a Heify that cannot be reached.
    with get_client() as heify:
        assert heify.pages("configurations")
        with pytest.raises(HeifyError):
            heify.get("transcriptions", "missing")
    with get_client(api_key=API_KEY + "-wrong") as heify, pytest.raises(HeifyError):
        heify.get("transcriptions", "missing")
    settings.HEIFY_API_URL = "http://127.0.0.1:9"
    with get_client() as heify, pytest.raises(HeifyError):
        heify.get("transcriptions", "missing")
    # Anyone's own log line holding a secret, with a traceback that holds it too.
    log = logging.getLogger("tests.anyone")
    log.info("calling %s with key %s", f"https://qa.example.com{success}", API_KEY, extra={"path": success})
    try:
        raise httpx.InvalidURL(f"bad path {success}")
    except httpx.InvalidURL:
        log.exception("failed: %r", {"key": API_KEY})
    everything = assert_no_secret(caplog)
    # ...and the lines are there, redacted: the test saw the paths it meant to.
    # (The request line, heifyadmin/request_log.py, says what django.request's 4xx warnings said.)
    assert '"POST /webhooks/heify/[redacted]/success/ HTTP/1.1" 400' in everything
    assert "calling https://qa.example.com/webhooks/heify/[redacted]/success/ with key [redacted]" in everything
    assert "bad path /webhooks/heify/[redacted]/success/" in caplog.text


def test_redact_and_the_filter_for_handlers_set_up_outside_django(settings):
    settings.HEIFY_WEBHOOK_SECRET, settings.HEIFY_API_KEY = "s3cr/et", API_KEY
    assert redact(f"GET /webhooks/heify/s3cr%2Fet/ x-api-key={API_KEY}") == \
        "GET /webhooks/heify/[redacted]/ x-api-key=[redacted]"
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%s", ("/h/s3cr/et/",), None)
    assert RedactSecretsFilter().filter(record) and record.getMessage() == "/h/[redacted]/"
