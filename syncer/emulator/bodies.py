"""What a configuration, evaluator or participant body may hold, and how it becomes Heify's JSON.

A body is mapped to the back office's flat field names and checked by `qa.mirror.rules` (the one place each rule
lives; nothing is re-stated here), then written back in Heify's shape (`clean_body`). Also here: how a
moment and a number are written into that JSON.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from qa.mirror import rules
from syncer import contract
from syncer.emulator.errors import _invalid, _rule

# What a client may send in a body; the server-assigned keys may be echoed back (fetch, modify, send).
WRITABLE = {
    "configurations": {
        "tag", "vocabulary", "extraction_fields", "summary", "summary_language", "analytics_language", "webhooks",
    },
    "evaluators": {"tag", "description", "language", "context", "criteria"},
    "participants": {"tag", "metadata"},
}
SERVER_ASSIGNED = {"client_id", "created_at", "updated_at"}
WEBHOOK_KEYS = ("success_url", "error_url")
# JSON type a key must have when present (null is always allowed), checked before the rules see
# it: the rules would fail on these with a TypeError. The rules check everything else.
_JSON_TYPES = {
    "extraction_fields": list, "criteria": list, "webhooks": dict,
    "summary_language": str, "analytics_language": str, "language": str,
}
_TYPE_NAMES = {str: "text", list: "a list", dict: "an object", bool: "true or false", int: "a number",
               float: "a number", type(None): "null"}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _parse_moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _check_body(resource: str, body: dict) -> None:
    allowed = WRITABLE[resource] | SERVER_ASSIGNED | {contract.ID_FIELDS[resource]}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _invalid(
            f"unknown field(s) {', '.join(unknown)}; a {resource[:-1]} takes {', '.join(sorted(WRITABLE[resource]))}"
        )
    for key in WRITABLE[resource]:
        expected = _JSON_TYPES.get(key)
        value = body.get(key)
        if expected and value is not None and not isinstance(value, expected):
            raise _invalid(f"{key} must be {_TYPE_NAMES[expected]}, not {_type_name(value)}.")


def clean_body(resource: str, body: dict, *, current: dict | None) -> dict:
    """A POST or PUT body checked by the rules, as the fields Heify stores (`current`: the object a PUT replaces)."""
    _check_body(resource, body)
    if resource == "configurations":
        return _clean_configuration(body)
    if resource == "evaluators":
        return _clean_evaluator(body, current)
    cleaned = _rule(rules.clean_participant, body)
    return {"tag": cleaned["tag"], "metadata": cleaned["metadata"]}


def _clean_configuration(body: dict) -> dict:
    webhooks = body.get("webhooks") or {}
    unknown = sorted(set(webhooks) - set(WEBHOOK_KEYS))
    if unknown:
        raise _invalid(f"unknown webhooks field(s) {', '.join(unknown)}; webhooks take {', '.join(WEBHOOK_KEYS)}")
    # Heify's JSON -> the rules' flat names (as syncer.mirror.parse_configuration maps them).
    flat = {key: body.get(key) for key in WRITABLE["configurations"] - {"webhooks"}}
    flat["summary"] = body.get("summary", False)
    flat["webhook_success_url"] = webhooks.get("success_url")
    flat["webhook_error_url"] = webhooks.get("error_url")
    cleaned = _rule(rules.clean_configuration, flat)
    return {
        "tag": cleaned["tag"],
        "vocabulary": cleaned["vocabulary"],
        "extraction_fields": cleaned["extraction_fields"],
        "summary": cleaned["summary"],
        "summary_language": cleaned["summary_language"] or None,
        "analytics_language": cleaned["analytics_language"] or None,
        "webhooks": {
            "success_url": cleaned["webhook_success_url"] or None,
            "error_url": cleaned["webhook_error_url"] or None,
        },
    }


def _clean_evaluator(body: dict, current: dict | None) -> dict:
    data = dict(body)
    current_tag = None
    if current is not None:
        current_tag = current.get("tag")
        data.setdefault("tag", current_tag)  # a PUT without a tag keeps it
    cleaned, _notices = _rule(rules.clean_evaluator, data, current_tag=current_tag)
    known_ids = {c.get("id") for c in (current or {}).get("criteria") or []}
    criteria, seen = [], set()
    for number, criterion in enumerate(cleaned["criteria"], start=1):
        criterion_id = criterion.get("id")
        if current is None or criterion_id is None:
            criterion_id = str(uuid.uuid4())  # ids are Heify's to give
        elif not isinstance(criterion_id, str) or criterion_id not in known_ids:
            raise _invalid(f"Criterion {number}: id {criterion_id!r} is not a criterion of this evaluator.")
        elif criterion_id in seen:
            raise _invalid(f"Criterion {number}: id {criterion_id!r} is used twice.")
        seen.add(criterion_id)
        criteria.append({
            "id": criterion_id,
            "name": criterion["name"],
            "description": criterion["description"],
            "type": criterion["type"],  # the rules' canonical (lower) case
            "weight": _number(criterion["weight"]),
        })
    return {
        "tag": cleaned["tag"],
        "description": cleaned["description"] or None,
        "language": cleaned["language"] or None,
        "context": cleaned["context"],
        "criteria": criteria,
    }
