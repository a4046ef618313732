"""The domain's way to Heify (qa.heify), implemented: which syncer function answers each call.

syncer.apps connects it when the apps are ready; qa never imports syncer.
"""

from __future__ import annotations

from qa import heify
from syncer import push, reports, webhooks
from syncer.client import HeifyError, QuotaExceeded


def participant_report(participant_heify_id: str, *, ask: bool = True) -> heify.RemoteReport | None:
    """Today's kept report, or (with `ask`) Heify's answer now, kept for the day (syncer.reports)."""
    try:
        stored = (reports.participant_report_today if ask else reports.participant_report_stored)(
            participant_heify_id)
    except QuotaExceeded:
        raise heify.QuotaExceeded("Heify's monthly analytics quota is used up (429).") from None
    except HeifyError as exc:
        raise heify.Unavailable(exc.message) from None
    return heify.RemoteReport(stored.report, stored.fetched_at) if stored is not None else None


GATEWAY = heify.Gateway(
    send=push.send,
    delete=push.delete,
    send_later=push.send_later,
    upload_transcription=push.upload_transcription,
    participant_report=participant_report,
    default_webhook_urls=webhooks.default_callback_urls,
)
