"""The domain's way to Heify (qa.heify), implemented: which syncer function answers each call.

syncer.apps connects it when the apps are ready; qa never imports syncer.
"""

from __future__ import annotations

from qa import heify
from syncer import push, webhooks
from syncer.client import HeifyError, QuotaExceeded, get_client


def participant_report(participant_heify_id: str) -> dict:
    """Heify's own analytics-participant report (one call of its monthly quota)."""
    try:
        with get_client() as client:
            return client.analytics_participant(participant_heify_id)
    except QuotaExceeded:
        raise heify.QuotaExceeded("Heify's monthly analytics quota is used up (429).") from None
    except HeifyError as exc:
        raise heify.Unavailable(exc.message) from None


GATEWAY = heify.Gateway(
    send=push.send,
    delete=push.delete,
    send_later=push.send_later,
    upload_transcription=push.upload_transcription,
    participant_report=participant_report,
    default_webhook_urls=webhooks.default_callback_urls,
)
