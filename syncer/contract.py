"""What we assume about the Heify API where its documentation is silent.

Every endpoint path and payload shape that is our assumption (notes, section 2)
lives here and nowhere else, so a change in the real API is a change to this
one file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

# The four resources, in the order a sync must follow (a transcription names
# its configuration, evaluator and participant).
RESOURCES = ("configurations", "evaluators", "participants", "transcriptions")

# Resource -> (path, name of the id field in its JSON).
PATHS = {
    "configurations": "/configuration",
    "evaluators": "/evaluator",
    "participants": "/participant",
    "transcriptions": "/transcription",
}
ID_FIELDS = {
    "configurations": "configuration_id",
    "evaluators": "evaluator_id",
    "participants": "participant_id",
    "transcriptions": "transcription_id",
}


def parse_timestamp(value) -> datetime | None:
    """Heify writes ISO 8601, sometimes without a zone (then it is UTC)."""
    if not value:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    return make_aware(parsed, UTC) if is_naive(parsed) else parsed


def transcription_date(payload: dict) -> datetime | None:
    """A call's date: its top-level created_at when present, else details.created_at."""
    return parse_timestamp(payload.get("created_at")) or parse_timestamp(
        (payload.get("details") or {}).get("created_at")
    )
