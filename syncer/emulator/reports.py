"""The participant report the emulator's analytics endpoint answers: qa.insights.analytics' own, fed Heify's JSON."""

from __future__ import annotations

from datetime import datetime

from qa.insights import analytics
from syncer import mirror


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

