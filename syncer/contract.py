"""What we assume about the Heify API where its documentation is silent.

Every endpoint path and payload shape that is our assumption (notes, section 2)
lives here and nowhere else, so a change in the real API is a change to this
one file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils import timezone
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


# --- the wire ----------------------------------------------------------------------------
AUTH_HEADER = "x-api-key"  # documented
DATA_KEY = "data"  # documented: every response wraps its payload in {"data": ...}

# Lists: GET /<res>?limit=N&cursor=C -> {"data": [...], "next_cursor": "..." | null}
LIMIT_PARAM = "limit"
CURSOR_PARAM = "cursor"
NEXT_CURSOR_KEY = "next_cursor"
PAGE_SIZE = 500

# Incremental lists. Documented: evaluators and participants carry `updated_at`, "auto-updated" on every change;
# configurations and transcriptions carry none. Assumed: their lists take `updated_since` (ISO 8601) and then hold
# only the objects whose updated_at is at or after it, paged like the whole list (nothing is assumed about the
# order). Assumed too: `updated_at` is Heify's clock at the change, so a change made while we list shows a stamp
# no earlier than the listing's start (syncer.pull lists again from a margin before the newest stamp it saw).
# A filtered list cannot show a deletion: only a whole listing marks objects gone (syncer.pull's full pulls).
UPDATED_SINCE_PARAM = "updated_since"
UPDATED_AT_KEY = "updated_at"
INCREMENTAL_RESOURCES = ("evaluators", "participants")


def updated_since_value(moment: datetime) -> str:
    """The `updated_since` parameter: ISO 8601 in UTC, to the microsecond (as Heify writes its stamps)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# Errors: 4xx/5xx with {"error": {"code": ..., "message": ...}}; 429 may carry Retry-After (seconds).
ERROR_KEY = "error"
RETRY_AFTER_HEADER = "Retry-After"

# Updates: PUT /<res>/<id> replaces the object; transcriptions take PATCH of these only.
TRANSCRIPTION_PATCHABLE = ("name", "group")

# Upload: POST /transcription as multipart form data.
UPLOAD_FILE_FIELD = "file"
UPLOAD_FORM_FIELDS = ("configuration_id", "evaluator_id", "participant_id", "name")

ANALYTICS = "analytics"  # the resource name the client uses for it
ANALYTICS_PATH = "/analytics-participant"  # documented, POST {"participant_id": ...}

# Ids: the analytics seed writes {"participant_id": "<uuid>"}, and every id the
# emulator and the demo give out is a UUID. We assume every Heify id is one:
# anything else is refused before it is stored, or put into a request path.
HEIFY_ID_SHAPE = "a UUID such as 3f2b8c1e-9d4a-4c6b-8e2f-1a2b3c4d5e6f"
_HEIFY_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_heify_id(value) -> bool:
    return isinstance(value, str) and _HEIFY_ID.fullmatch(value) is not None


# Webhooks: Heify POSTs JSON with at least these to success_url / error_url.
WEBHOOK_ID_KEY = "transcription_id"
WEBHOOK_STATUS_KEY = "status"


# Echo: Heify answers an object with the fields it was sent, as sent, plus its own
# (ids, client_id, timestamps); an empty value (null, "", [], {}) may come back as
# another empty value. So a sent change is recognised in Heify's object (`holds`).
#
# Creates: Heify offers no idempotency key (client_id names the account, not the
# request). A create whose answer was lost is found again by listing the resource:
# an object created since it was first sent, with the same tag and holding every
# field sent, is taken to be ours (the listing costs a few pages, and only happens
# for a create that may have reached Heify unanswered).
CREATE_LOOKUP_KEY = "tag"


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def holds(remote, sent) -> bool:
    """Does Heify's `remote` value carry everything of `sent` (see Echo above)?"""
    if _empty(sent) or _empty(remote):
        return _empty(sent) and _empty(remote)
    if isinstance(sent, dict):
        return isinstance(remote, dict) and all(holds(remote.get(key), value) for key, value in sent.items())
    if isinstance(sent, list):
        return isinstance(remote, list) and len(remote) == len(sent) and all(map(holds, remote, sent))
    return remote == sent


def item_path(resource: str, heify_id: str) -> str:
    """The path of one object; the client builds it only for an id `is_heify_id` accepts."""
    return f"{PATHS[resource]}/{heify_id}"


# --- bodies we send --------------------------------------------------------------------------


def configuration_body(configuration) -> dict:
    webhooks = {
        key: url for key, url in (
            ("success_url", configuration.webhook_success_url), ("error_url", configuration.webhook_error_url)
        ) if url
    }
    body = {
        "tag": configuration.tag,
        "vocabulary": list(configuration.vocabulary or []),
        "extraction_fields": [field.as_heify() for field in configuration.extraction_fields.all()],
        "summary": configuration.summary,
        "summary_language": configuration.summary_language or None,
        "analytics_language": configuration.analytics_language or None,
        "webhooks": webhooks or None,
    }
    return {key: value for key, value in body.items() if value is not None}


def _number(value):
    return int(value) if value == int(value) else float(value)


def evaluator_body(evaluator, *, include_tag: bool) -> dict:
    """The tag is sent only on creation: Heify does not let it change."""
    criteria = []
    for criterion in evaluator.criteria.all():
        item = {
            "name": criterion.name,
            "description": criterion.description,
            "type": criterion.type,
            "weight": _number(criterion.weight),
        }
        if criterion.heify_id:
            item["id"] = criterion.heify_id
        criteria.append(item)
    body = {
        "description": evaluator.description,
        "language": evaluator.language or None,
        "context": evaluator.context,
        "criteria": criteria,
    }
    if include_tag:
        body = {"tag": evaluator.tag, **body}
    return {key: value for key, value in body.items() if value is not None}


def participant_body(participant) -> dict:
    return {"tag": participant.tag, "metadata": participant.metadata or {}}


def parse_timestamp(value) -> datetime | None:
    """Heify writes ISO 8601, sometimes without a zone (then it is UTC)."""
    if not value:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}")
    parsed = make_aware(parsed, UTC) if is_naive(parsed) else parsed
    try:
        parsed.astimezone(UTC)  # the databases store UTC: years 1 and 9999 can overflow on the way
    except OverflowError:
        raise ValueError(f"a timestamp out of range: {value!r}") from None
    return parsed


def transcription_date(payload: dict) -> datetime:
    """A call's date: its top-level created_at when present, else details.created_at.

    A call with neither (Heify's documented shape has no date before COMPLETED)
    is dated when we first see it: queues, lists and analytics need a date.
    """
    return (
        parse_timestamp(payload.get("created_at"))
        or parse_timestamp((payload.get("details") or {}).get("created_at"))
        or timezone.now()
    )
