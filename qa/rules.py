"""Heify's rules, as pure functions: the one place each rule lives.

Admin forms, the REST API, the sync and the emulator all call these; none of
them re-states a rule. Functions take plain Python data (the back office's
field names, not Heify's JSON), return it cleaned, and raise Django's
ValidationError with messages that name the problem, keyed by field name so
forms can show each message beside its field. Nothing here touches the
database or the network.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

TAG_MAX_LENGTH = 255

CRITERIA_MIN = 1
CRITERIA_MAX = 10
BOOLEAN, SCALE, STRICT = "boolean", "scale", "strict"
CRITERION_TYPES = (BOOLEAN, SCALE, STRICT)
WEIGHT_MIN = Decimal(0)
WEIGHT_MAX = Decimal(100)
WEIGHT_TOTAL = Decimal(100)
SCALE_MIN, SCALE_MAX = 1, 5
SCALE_PASS_MARK = 3  # a scale criterion fails below this value

EXTRACTION_FIELDS_MAX = 10
EXTRACTION_FIELD_TYPES = ("string", "number", "boolean", "array")
EXTRACTION_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

AUTO_DETECT_LANGUAGE = "df"
# ISO 639-1: every language that has a two-letter code.
LANGUAGES: dict[str, str] = {
    lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")
}
LANGUAGE_CHOICES = [(AUTO_DETECT_LANGUAGE, "Auto-detect (df)")] + sorted(
    ((code, f"{name} ({code})") for code, name in LANGUAGES.items()), key=lambda c: c[1]
)

class Status(models.TextChoices):
    """A transcription's status in Heify."""

    PENDING = "PENDING", "Pending"
    IN_PROGRESS = "IN_PROGRESS", "In Progress"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"


class Group(models.TextChoices):
    """A transcription's review group in Heify (or None: no group)."""

    PENDING_REVIEW = "PENDING_REVIEW", "Pending Review"
    UNDER_REVIEW = "UNDER_REVIEW", "Under Review"
    ARCHIVED = "ARCHIVED", "Archived"


STATUSES = tuple(Status.values)
GROUPS = tuple(Group.values)

_http_url = URLValidator(schemes=["http", "https"])


# --- shared pieces -------------------------------------------------------------


def clean_tag(value: Any, *, what: str = "Tag") -> str:
    if value is None or not isinstance(value, str) or not value.strip():
        raise ValidationError({"tag": f"{what} is required."})
    tag = value.strip()
    if len(tag) > TAG_MAX_LENGTH:
        raise ValidationError(
            {"tag": f"{what} must be at most {TAG_MAX_LENGTH} characters (it has {len(tag)})."}
        )
    return tag


def clean_language(value: Any, *, field: str) -> str:
    """An ISO 639-1 code or "df" (auto-detect); empty means not set."""
    if value is None or value == "":
        return ""
    code = value.strip().lower() if isinstance(value, str) else None
    if code != AUTO_DETECT_LANGUAGE and code not in LANGUAGES:
        raise ValidationError(
            {field: f"{field} must be an ISO 639-1 language code or 'df' (auto-detect), not {value!r}."}
        )
    return code


def _collect(errors: dict[str, list[str]], key: str, func, /, *args, **kwargs):
    """Run one cleaner, filing its messages under `key` instead of raising."""
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        messages = exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]
        for group in messages:
            errors.setdefault(key, []).extend(group)
        return None


def _raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- limits of every value from outside: JSON and text --------------------------
# Admin forms, the REST API, heify_load and the pull (through syncer.mirror's
# parse_*), and webhooks all check what they receive with these before it goes
# anywhere: so no input exhausts Python's stack (json nests ~1000 deep at most),
# gets a number the databases cannot hold, or text PostgreSQL refuses.

JSON_MAX_DEPTH = 32  # arrays and objects inside each other; Heify's own objects nest 5 deep
JSON_MAX_BYTES = 256 * 1024  # one value a person edits (metadata, context), as compact UTF-8 JSON
HEIFY_OBJECT_MAX_BYTES = 16 * 1024 * 1024  # one object Heify sends (a long call's conversation included)
JSON_INTEGER_MAX = 2**63 - 1  # |n| at most: a 64-bit integer, what SQLite's JSON and every client can hold
JSON_NUMBER_MAX_DIGITS = 40  # a number literal longer than this is refused before Python converts it
TEXT_MAX_LENGTH = 100_000  # characters in one string (a JSON string, or a text field with no cap of its own)
# Dates a report may be asked for: datetime arithmetic around years 1 and 9999 overflows.
REPORT_DATE_MIN, REPORT_DATE_MAX = date(1971, 1, 1), date(9998, 12, 31)
ALERT_HOURS_MAX = 24 * 365  # a claim-waiting alert's hours: beyond a year it would never fire (and 1e308 overflows)
PRECISION_POINTS_MIN = 0.1  # a sampling margin below this asks for every call (and 1e-300 overflows)

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PATH_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def text_problem(value: str, *, max_length: int | None = TEXT_MAX_LENGTH) -> str | None:
    """Why `value` cannot be stored or sent as text, or None: PostgreSQL cannot hold a NUL,
    and a lone surrogate cannot be encoded as UTF-8 to send to Heify."""
    if "\x00" in value:
        return "may not contain null characters (\\u0000)"
    if max_length is not None and len(value) > max_length:
        return f"may be at most {max_length} characters long (it has {len(value)})"
    if _SURROGATE.search(value):
        return "may not contain lone surrogate characters"
    return None


def clean_text(value: Any, *, field: str, max_length: int | None = TEXT_MAX_LENGTH) -> str:
    """Text a person typed: no NUL, no lone surrogate, at most `max_length` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: f"{field} must be text, not {type(value).__name__}."})
    problem = text_problem(value, max_length=max_length)
    if problem:
        raise ValidationError({field: f"{field} {problem}."})
    return value


def _json_path(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    shown = key if len(key) <= 40 else key[:37] + "..."
    return f"{path}.{shown}" if _PATH_KEY.match(shown) else f"{path}[{json.dumps(shown, ensure_ascii=True)}]"


def _number_problem(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -JSON_INTEGER_MAX <= value <= JSON_INTEGER_MAX else (
            f"is a number out of range (at most {JSON_INTEGER_MAX} either side of 0)"
        )
    if not math.isfinite(value):
        return f"is {value!r}, which is not a JSON number (NaN and Infinity are refused)"
    return None


def _scalar_problem(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, (int, float)):
        return _number_problem(value)
    return f"is a {type(value).__name__}, which is not a JSON value"


def json_problem(value: Any, *, max_depth: int = JSON_MAX_DEPTH) -> tuple[str, str] | None:
    """The first place in a JSON value (as Python data) that breaks a limit, and why; None if it keeps them.

    Only JSON's types (dict with text keys, list, str, int, float, bool, None),
    nested at most `max_depth`, numbers finite and in range, text as
    `text_problem` allows. Iterative: a deeply nested value does not exhaust the stack.
    """
    if not isinstance(value, (dict, list)):
        problem = _scalar_problem(value)
        return ("", problem) if problem else None
    pending = [(value, "", 1)]
    while pending:
        item, path, depth = pending.pop()
        if depth > max_depth:
            return path, f"is nested too deep (more than {max_depth} arrays or objects inside each other)"
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return path, f"has a key that is not text ({type(key).__name__})"
                problem = text_problem(key)
                if problem:
                    return _json_path(path, key), f"is a key that {problem}"
            children = item.items()
        else:
            children = enumerate(item)
        for key, child in children:
            if isinstance(child, (dict, list)):
                pending.append((child, _json_path(path, key), depth + 1))
            else:
                problem = _scalar_problem(child)
                if problem:
                    return _json_path(path, key), problem
    return None


def clean_json_value(
    value: Any, *, field: str, max_bytes: int | None = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH,
) -> Any:
    """Any JSON within the limits above; the message names the place (`metadata.team[2]: ...`)."""
    found = json_problem(value, max_depth=max_depth)
    if found:
        path, problem = found
        raise ValidationError({field: f"{field}{path} {problem}."})
    if max_bytes is not None:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        if size > max_bytes:
            raise ValidationError({field: f"{field} is too large: {size} bytes of JSON, at most {max_bytes}."})
    return value


class _Refused(ValueError):
    pass


def _refuse_constant(name: str):
    raise _Refused(f"{name} is not a JSON number (NaN and Infinity are refused)")


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > JSON_NUMBER_MAX_DIGITS:
        raise _Refused(f"has a number of {len(literal.lstrip('-'))} digits (at most {JSON_NUMBER_MAX_DIGITS})")
    return int(literal)


def _bounded_float(literal: str) -> float:
    if len(literal) > JSON_NUMBER_MAX_DIGITS + 8:
        raise _Refused(f"has a number literal of {len(literal)} characters")
    number = float(literal)
    if not math.isfinite(number):
        raise _Refused(f"has the number {literal}, too large to hold")
    return number


def json_nesting_exceeds(text: str, max_depth: int = JSON_MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than `max_depth` (strings skipped),
    decided before a parser recurses into it."""
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
    return False


def load_json(
    text: str | bytes, *, field: str, max_bytes: int | None = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH,
) -> Any:
    """JSON text -> Python data, refusing what must be refused before or while parsing: size, nesting,
    NaN/Infinity and number literals too long to convert. The values themselves (text, ranges) are
    `clean_json_value`'s to check: the API and heify_load do it field by field, to name each field."""
    if isinstance(text, (bytes, bytearray)):
        size = len(text)
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError({field: f"{field} is not UTF-8 text."}) from None
    else:
        size = len(text.encode("utf-8", "surrogatepass"))
    if max_bytes is not None and size > max_bytes:
        raise ValidationError({field: f"{field} is too large: {size} bytes, at most {max_bytes}."})
    if json_nesting_exceeds(text, max_depth):
        raise ValidationError(
            {field: f"{field} is nested too deep (more than {max_depth} arrays or objects inside each other)."}
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_bounded_float)
    except _Refused as exc:
        raise ValidationError({field: f"{field} {exc}."}) from None
    except (ValueError, RecursionError) as exc:
        raise ValidationError({field: f"{field} is not valid JSON ({exc})."}) from None
    return value


def parse_json(
    text: str | bytes, *, field: str, max_bytes: int | None = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH,
) -> Any:
    """JSON text from outside -> Python data within every limit above, or a ValidationError keyed by `field`."""
    value = load_json(text, field=field, max_bytes=max_bytes, max_depth=max_depth)
    return clean_json_value(value, field=field, max_bytes=None, max_depth=max_depth)


def clean_report_date(value: Any, *, field: str = "as_of") -> date | None:
    """A day a report is asked for (YYYY-MM-DD, or a date); empty means today (None)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({field: f"{field} must be a date as YYYY-MM-DD, not {value!r}."}) from None
    if not isinstance(value, date) or not REPORT_DATE_MIN <= value <= REPORT_DATE_MAX:
        raise ValidationError(
            {field: f"{field} must be a date between {REPORT_DATE_MIN} and {REPORT_DATE_MAX}, not {value!s}."}
        )
    return value


def clean_alert_thresholds(data: dict, *, pass_rate: bool, claim_waiting: bool) -> dict:
    """An alert rule's thresholds: what its kind needs (a pass-rate rule, a claim-waiting rule), within bounds."""
    errors: dict[str, str] = {}
    if pass_rate:
        if not data.get("last_calls"):
            errors["last_calls"] = "Say over how many of the newest calls the pass rate is taken (1 or more)."
        below = data.get("pass_rate_below")
        if below is None or not 0 < below <= 100:
            errors["pass_rate_below"] = "Give the pass rate, in percent, to fire below (more than 0, at most 100)."
    hours = data.get("hours")
    if claim_waiting and (hours is None or not 0 < hours <= ALERT_HOURS_MAX):
        errors["hours"] = (f"Say how many hours a claim may wait before the alert fires (more than 0, at most "
                           f"{ALERT_HOURS_MAX}, a year).")
    if errors:
        raise ValidationError(errors)
    return data


def clean_sampling_rule(data: dict) -> dict:
    """A sampling rule's settings, checked together; a ValidationError naming each problem by field."""
    errors: dict[str, str] = {}
    low, high = data.get("score_min"), data.get("score_max")
    for name, value in (("score_min", low), ("score_max", high)):
        if value is not None and not 0 <= value <= 100:
            errors[name] = f"{name} must be a score from 0 to 100, not {value!r}."
    if low is not None and high is not None and low > high and not errors:
        errors["score_max"] = "The maximum score must not be below the minimum."
    method, quota, points = data.get("method"), data.get("per_participant"), data.get("precision_points")
    if method == "precision":  # SamplingRule.Method.PRECISION
        if points is None or not PRECISION_POINTS_MIN <= points <= 100:
            errors["precision_points"] = (f"'precision' needs the margin: at least {PRECISION_POINTS_MIN:g} and "
                                          "at most 100 points.")
    elif not quota:
        errors["per_participant"] = "Say how many calls per participant per period (at least 1)."
    if quota is not None and quota < 1:
        errors["per_participant"] = "At least 1 call per participant per period."
    if errors:
        raise ValidationError(errors)
    return data


# --- jobs: an item a job fails on ------------------------------------------------
# Every scheduled job takes its items one at a time (qa.job_items): one it fails on is tried again after
# job_retry_delay, up to JOB_MAX_ATTEMPTS times in all, then given up and shown in the admin.

JOB_MAX_ATTEMPTS = 8
JOB_RETRY_FIRST = timedelta(minutes=1)
JOB_RETRY_MAX = timedelta(hours=1)


def job_retry_delay(failures: int) -> timedelta:
    """How long after its `failures`-th failure in a row an item waits: a minute, doubling, at most an hour."""
    return min(JOB_RETRY_FIRST * 2 ** min(max(failures, 1) - 1, 16), JOB_RETRY_MAX)


# One search (an admin list's search box, its autocomplete): each word costs queries, so both are bounded.
SEARCH_MAX_WORDS = 10
SEARCH_MAX_LENGTH = 200


def clean_search(value: str, *, field: str = "search") -> str:
    """A search term within the bounds: at most SEARCH_MAX_LENGTH characters and SEARCH_MAX_WORDS words (a
    quoted phrase is one word, as the admin splits them)."""
    from django.utils.text import smart_split

    value = value or ""
    if len(value) > SEARCH_MAX_LENGTH:
        raise ValidationError({field: f"A search may be at most {SEARCH_MAX_LENGTH} characters long, not "
                                      f"{len(value)}: shorten it; nothing was searched."})
    words = sum(1 for _ in smart_split(value))
    if words > SEARCH_MAX_WORDS:
        raise ValidationError({field: f"A search may have at most {SEARCH_MAX_WORDS} words, not {words}: "
                                      "leave some out; nothing was searched."})
    return value

# --- shared pieces, continued ----------------------------------------------------


def _text(value: Any, *, field: str, max_length: int | None = TEXT_MAX_LENGTH) -> str:
    """Text from outside, stripped, within `clean_text`'s limits: what the pull refuses is refused here first,
    before it is sent to Heify (which would take it, leaving a change whose answer cannot be stored)."""
    return clean_text(value, field=field, max_length=max_length).strip()


# --- evaluators ------------------------------------------------------------------


def clean_criterion_type(value: Any) -> str:
    """Heify writes types in either case (BOOLEAN, boolean); we store lower case."""
    kind = value.strip().lower() if isinstance(value, str) else None
    if kind not in CRITERION_TYPES:
        raise ValidationError(f"type must be one of {', '.join(CRITERION_TYPES)}, not {value!r}.")
    return kind


def clean_weight(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError(f"weight must be a number from 0 to 100, not {value!r}.")
    try:
        weight = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"weight must be a number from 0 to 100, not {value!r}.") from None
    if not weight.is_finite() or not WEIGHT_MIN <= weight <= WEIGHT_MAX:
        raise ValidationError(f"weight must be a number from 0 to 100, not {value!r}.")
    if weight != weight.quantize(Decimal("0.01")):
        raise ValidationError(f"weight may have at most 2 decimals, not {value!r}.")
    return weight.quantize(Decimal("0.01"))


def clean_criteria(criteria: Iterable[dict]) -> tuple[list[dict], list[str]]:
    """Check an evaluator's criteria; return them cleaned, plus notices for the user.

    Each criterion is a dict with name, description, type, weight (and, for a
    criterion Heify already knows, its id). Strict criteria have their weight
    forced to 0, and a notice says so.
    """
    if isinstance(criteria, (str, bytes, dict)) or not isinstance(criteria, Iterable):
        raise ValidationError({"criteria": f"criteria must be a list of criteria, not {type(criteria).__name__}."})
    criteria = list(criteria)
    problems: list[str] = []
    notices: list[str] = []
    if not CRITERIA_MIN <= len(criteria) <= CRITERIA_MAX:
        problems.append(
            f"An evaluator needs {CRITERIA_MIN} to {CRITERIA_MAX} criteria; it has {len(criteria)}."
        )
    cleaned: list[dict] = []
    seen_names: dict[str, int] = {}
    for number, criterion in enumerate(criteria, start=1):
        if not isinstance(criterion, dict):
            problems.append(f"Criterion {number} must be an object.")
            continue
        raw_name = criterion.get("name")
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        label = f"Criterion {number} ({name!r})" if name else f"Criterion {number}"
        if not name:
            problems.append(f"{label}: name is required.")
        elif len(name) > TAG_MAX_LENGTH:
            problems.append(f"{label}: name must be at most {TAG_MAX_LENGTH} characters.")
        elif name.casefold() in seen_names:
            problems.append(
                f"{label}: name is already used by criterion {seen_names[name.casefold()]}; "
                "names must be unique within an evaluator."
            )
        else:
            seen_names[name.casefold()] = number
        try:
            description = _text(criterion.get("description"), field="description")
        except ValidationError as exc:
            problems.append(f"{label}: {exc.messages[0]}")
            description = ""
        try:
            kind = clean_criterion_type(criterion.get("type"))
        except ValidationError as exc:
            problems.append(f"{label}: {exc.messages[0]}")
            kind = None
        try:
            raw_weight = criterion.get("weight")
            weight = Decimal(0) if kind == STRICT and raw_weight in (None, "") else clean_weight(raw_weight)
        except ValidationError as exc:
            problems.append(f"{label}: {exc.messages[0]}")
            weight = None
        if kind == STRICT and weight:
            notices.append(
                f"{label} is strict, so its weight was set to 0 (it was {weight.normalize():f})."
            )
        if kind == STRICT:
            weight = Decimal("0.00")
        item = {"name": name, "description": description, "type": kind, "weight": weight}
        if criterion.get("id"):
            item["id"] = criterion["id"]
        cleaned.append(item)
    if not problems:
        total = sum(c["weight"] for c in cleaned if c["type"] != STRICT)
        if total != WEIGHT_TOTAL:
            problems.append(
                f"The weights of the non-strict criteria must sum to {WEIGHT_TOTAL}; "
                f"they sum to {total.normalize():f}."
            )
    if problems:
        raise ValidationError({"criteria": problems})
    return cleaned, notices


def clean_evaluator(data: dict, *, current_tag: str | None = None) -> tuple[dict, list[str]]:
    """Check a whole evaluator. `current_tag` is the stored tag of an existing one:
    Heify does not let a tag change after creation."""
    errors: dict[str, list[str]] = {}
    tag = _collect(errors, "tag", clean_tag, data.get("tag"))
    if current_tag is not None and tag is not None and tag != current_tag:
        errors.setdefault("tag", []).append(
            f"The tag cannot be changed after creation (it is {current_tag!r})."
        )
    cleaned = {
        "tag": tag,
        "description": _collect(errors, "description", _text, data.get("description"), field="description"),
        "language": _collect(errors, "language", clean_language, data.get("language"), field="language"),
        "context": _collect(errors, "context", clean_json_value, data.get("context"), field="context"),
    }
    result = _collect(errors, "criteria", clean_criteria, data.get("criteria") or [])
    _raise_if(errors)
    cleaned["criteria"], notices = result
    return cleaned, notices


def criterion_points(kind: str, weight: Decimal | float, verdict: bool | int) -> float:
    """What one criterion adds to the score (notes, section 4): boolean, its weight when passed;
    scale, value / 5 x weight; strict, nothing (its fail only triggers the critical fail)."""
    kind = clean_criterion_type(kind)
    if kind == SCALE:
        return verdict / SCALE_MAX * float(weight)
    if kind == BOOLEAN and verdict is True:
        return float(weight)
    return 0.0


def criterion_points_range(kind: str, weight: Decimal | float, *, passed: bool,
                           value: int | None = None) -> tuple[float, float]:
    """The least and most a criterion can have added, given Heify's result for it.

    Heify's result of a scale criterion says only passed (value 3-5) or failed
    (1-2), unless it carries the value: then the range is that one figure.
    """
    if clean_criterion_type(kind) != SCALE:
        points = criterion_points(kind, weight, passed)
        return points, points
    if value is not None:
        points = criterion_points(kind, weight, value)
        return points, points
    low, high = (SCALE_PASS_MARK, SCALE_MAX) if passed else (SCALE_MIN, SCALE_PASS_MARK - 1)
    return criterion_points(kind, weight, low), criterion_points(kind, weight, high)


def evaluation_score(criteria: Iterable[dict], verdicts: dict[str, Any]) -> dict:
    """Score one call (notes, section 4).

    `criteria`: dicts with name, type, weight. `verdicts`: criterion name ->
    True/False for boolean and strict criteria, 1-5 for scale criteria.
    Returns Heify's evaluation object: score, critical_fail_triggered,
    criteria_results [{name, passed}].
    """
    score = 0.0
    critical = False
    results = []
    for criterion in criteria:
        kind = clean_criterion_type(criterion["type"])
        name = criterion["name"]
        if name not in verdicts:
            raise ValidationError(f"{name}: no verdict was given.")
        verdict = verdicts[name]
        if kind == SCALE:
            if type(verdict) is not int or not SCALE_MIN <= verdict <= SCALE_MAX:
                raise ValidationError(f"{name}: a scale value is a whole number from 1 to 5, not {verdict!r}.")
            passed = verdict >= SCALE_PASS_MARK
        else:
            if not isinstance(verdict, bool):
                raise ValidationError(f"{name}: a {kind} verdict is true or false, not {verdict!r}.")
            passed = verdict
            if kind == STRICT and not passed:
                critical = True
        score += criterion_points(kind, criterion["weight"], verdict)
        results.append({"name": criterion["name"], "passed": passed})
    return {"score": round(score, 2), "critical_fail_triggered": critical, "criteria_results": results}


def clean_group(value: Any) -> str | None:
    """A review group, or None for no group."""
    if value is None or value == "":
        return None
    if value not in GROUPS:
        raise ValidationError({"group": f"group must be one of {', '.join(GROUPS)} or null, not {value!r}."})
    return value


# Review transitions: action -> (groups it may start from, group it leads to).
# None is "no group". Who may do what is decided in qa/queues.py.
REVIEW_TRANSITIONS: dict[str, tuple[frozenset, str | None]] = {
    "claim": (frozenset({None, Group.PENDING_REVIEW}), Group.UNDER_REVIEW),
    "release": (frozenset({Group.UNDER_REVIEW}), Group.PENDING_REVIEW),
    "archive": (frozenset({None, Group.PENDING_REVIEW, Group.UNDER_REVIEW}), Group.ARCHIVED),
    "reopen": (frozenset({Group.ARCHIVED}), Group.PENDING_REVIEW),
    "reassign": (frozenset({Group.UNDER_REVIEW}), Group.UNDER_REVIEW),
    "expire": (frozenset({Group.UNDER_REVIEW}), Group.PENDING_REVIEW),
}


def group_label(group: str | None) -> str:
    return group.replace("_", " ").lower() if group else "no group"


def review_transition(action: str, from_group: str | None) -> str | None:
    """The group `action` leads to from `from_group`; a ValidationError if it cannot start there."""
    sources, target = REVIEW_TRANSITIONS[action]
    if from_group not in sources:
        allowed = " or ".join(sorted(group_label(g) for g in sources))
        raise ValidationError(
            f"Cannot {action} a call that is in {group_label(from_group)}; it must be in {allowed}.",
            code="invalid_transition",
        )
    return target


# --- configurations ----------------------------------------------------------------


def clean_vocabulary(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationError({"vocabulary": "Vocabulary must be a list of terms."})
    terms = []
    for number, term in enumerate(value, start=1):
        if not isinstance(term, str) or not term.strip():
            raise ValidationError({"vocabulary": f"Vocabulary term {number} must be non-empty text."})
        if problem := text_problem(term):
            raise ValidationError({"vocabulary": f"Vocabulary term {number} {problem}."})
        terms.append(term.strip())
    return terms


def clean_extraction_fields(fields: Iterable[dict]) -> list[dict]:
    if isinstance(fields, (str, bytes, dict)) or not isinstance(fields or [], Iterable):
        raise ValidationError(
            {"extraction_fields": f"extraction_fields must be a list of fields, not {type(fields).__name__}."}
        )
    fields = list(fields or [])
    problems: list[str] = []
    if len(fields) > EXTRACTION_FIELDS_MAX:
        problems.append(
            f"A configuration has at most {EXTRACTION_FIELDS_MAX} extraction fields; it has {len(fields)}."
        )
    cleaned, seen = [], set()
    for number, field in enumerate(fields, start=1):
        if not isinstance(field, dict):
            problems.append(f"Extraction field {number} must be an object.")
            continue
        name = field.get("name").strip() if isinstance(field.get("name"), str) else ""
        label = f"Extraction field {number} ({name!r})" if name else f"Extraction field {number}"
        if not name:
            problems.append(f"{label}: name is required.")
        elif not EXTRACTION_FIELD_NAME.match(name) or len(name) > 64:
            problems.append(
                f"{label}: name must be an identifier (letters, digits and _, not starting "
                "with a digit, at most 64 characters)."
            )
        elif name in seen:
            problems.append(f"{label}: name is used twice; names must be unique.")
        seen.add(name)
        kind = field.get("type").strip().lower() if isinstance(field.get("type"), str) else None
        if kind not in EXTRACTION_FIELD_TYPES:
            problems.append(
                f"{label}: type must be one of {', '.join(EXTRACTION_FIELD_TYPES)}, not {field.get('type')!r}."
            )
        description = field.get("description")
        if not isinstance(description, str) or not description.strip():
            problems.append(f"{label}: description is required.")
            description = ""
        elif problem := text_problem(description):
            problems.append(f"{label}: description {problem}.")
            description = ""
        cleaned.append({"name": name, "type": kind, "description": description.strip()})
    if problems:
        raise ValidationError({"extraction_fields": problems})
    return cleaned


def clean_webhook_url(value: Any, *, field: str) -> str:
    if value is None or value == "":
        return ""
    try:
        if not isinstance(value, str):
            raise ValidationError("not text")
        _http_url(value)
    except ValidationError:
        raise ValidationError({field: f"{field} must be a valid http(s) URL, not {value!r}."}) from None
    return value


def clean_configuration(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    summary = data.get("summary", False)
    if not isinstance(summary, bool):
        errors["summary"] = [f"summary must be true or false, not {summary!r}."]
    cleaned = {
        "tag": _collect(errors, "tag", clean_tag, data.get("tag")),
        "vocabulary": _collect(errors, "vocabulary", clean_vocabulary, data.get("vocabulary")),
        "summary": summary,
        "summary_language": _collect(
            errors, "summary_language", clean_language, data.get("summary_language"), field="summary_language"
        ),
        "analytics_language": _collect(
            errors, "analytics_language", clean_language, data.get("analytics_language"),
            field="analytics_language",
        ),
        "webhook_success_url": _collect(
            errors, "webhook_success_url", clean_webhook_url, data.get("webhook_success_url"),
            field="webhook_success_url",
        ),
        "webhook_error_url": _collect(
            errors, "webhook_error_url", clean_webhook_url, data.get("webhook_error_url"),
            field="webhook_error_url",
        ),
        "extraction_fields": _collect(
            errors, "extraction_fields", clean_extraction_fields, data.get("extraction_fields") or []
        ),
    }
    _raise_if(errors)
    return cleaned


# --- participants ------------------------------------------------------------------


def clean_metadata(value: Any) -> dict:
    """Participant metadata is a JSON object, replaced whole on every update."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = {list: "a list", str: "text", bool: "true/false"}.get(type(value), f"a {type(value).__name__}")
        raise ValidationError({"metadata": f"Metadata must be a JSON object ({{...}}), not {kind}."})
    return clean_json_value(value, field="metadata")


def clean_participant(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {
        "tag": _collect(errors, "tag", clean_tag, data.get("tag")),
        "metadata": _collect(errors, "metadata", clean_metadata, data.get("metadata")),
    }
    _raise_if(errors)
    return cleaned


# --- review notes and reasons ------------------------------------------------------

REVIEW_TEXT_MAX_LENGTH = 5000


def clean_review_text(value: Any, *, field: str, what: str = "", required: bool = False) -> str:
    """A review note, a verdict's reason, a move's note or a calibration note (`what`, in messages; `field` by default):
    text of at most REVIEW_TEXT_MAX_LENGTH characters, with no NUL (PostgreSQL cannot store one)."""
    text, what = _text(value, field=field, max_length=None), what or field
    if required and not text:
        raise ValidationError({field: f"The {what} cannot be empty."})
    if len(text) > REVIEW_TEXT_MAX_LENGTH:
        raise ValidationError(
            {field: f"The {what} is too long: {len(text)} characters, at most {REVIEW_TEXT_MAX_LENGTH} characters."}
        )
    return clean_json_value(text, field=field)
