"""Limits of every value from outside, and the checks that hold them: JSON and text (depth, size, numbers, NUL
and lone surrogates), a report's date, a search, an alert rule's thresholds and a sampling rule's settings.

Admin forms, the REST API, heify_load and the pull (through syncer.mirror's parse_*), and webhooks all check
what they receive with these before it goes anywhere: so no input exhausts Python's stack (json nests ~1000
deep at most), gets a number the databases cannot hold, or text PostgreSQL refuses. Pure functions that raise
Django's ValidationError naming the problem; nothing here touches the database or the network. Heify's own
rules are in qa/mirror/rules.py.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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
        return _("may not contain null characters (\\u0000)")
    if max_length is not None and len(value) > max_length:
        return (_("may be at most %(max)d characters long (it has %(length)d)")
                % {"max": max_length, "length": len(value)})
    if _SURROGATE.search(value):
        return _("may not contain lone surrogate characters")
    return None


def clean_text(value: Any, *, field: str, max_length: int | None = TEXT_MAX_LENGTH) -> str:
    """Text a person typed: no NUL, no lone surrogate, at most `max_length` characters."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: _("%(field)s must be text, not %(type)s.")
                                      % {"field": field, "type": type(value).__name__}})
    problem = text_problem(value, max_length=max_length)
    if problem:
        raise ValidationError({field: _("%(field)s %(problem)s.") % {"field": field, "problem": problem}})
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
            _("is a number out of range (at most %(max)d either side of 0)") % {"max": JSON_INTEGER_MAX}
        )
    if not math.isfinite(value):
        return _("is %(value)r, which is not a JSON number (NaN and Infinity are refused)") % {"value": value}
    return None


def _scalar_problem(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, (int, float)):
        return _number_problem(value)
    return _("is a %(type)s, which is not a JSON value") % {"type": type(value).__name__}


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
            return path, (_("is nested too deep (more than %(max)d arrays or objects inside each other)")
                          % {"max": max_depth})
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    return path, _("has a key that is not text (%(type)s)") % {"type": type(key).__name__}
                problem = text_problem(key)
                if problem:
                    return _json_path(path, key), _("is a key that %(problem)s") % {"problem": problem}
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
        raise ValidationError({field: _("%(field)s %(problem)s.") % {"field": f"{field}{path}", "problem": problem}})
    if max_bytes is not None:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
        if size > max_bytes:
            raise ValidationError({field: _("%(field)s is too large: %(size)d bytes of JSON, at most %(max)d.")
                                      % {"field": field, "size": size, "max": max_bytes}})
    return value


class _Refused(ValueError):
    pass


def _refuse_constant(name: str):
    raise _Refused(_("%(name)s is not a JSON number (NaN and Infinity are refused)") % {"name": name})


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > JSON_NUMBER_MAX_DIGITS:
        raise _Refused(_("has a number of %(digits)d digits (at most %(max)d)")
                      % {"digits": len(literal.lstrip("-")), "max": JSON_NUMBER_MAX_DIGITS})
    return int(literal)


def _bounded_float(literal: str) -> float:
    if len(literal) > JSON_NUMBER_MAX_DIGITS + 8:
        raise _Refused(_("has a number literal of %(length)d characters") % {"length": len(literal)})
    number = float(literal)
    if not math.isfinite(number):
        raise _Refused(_("has the number %(number)s, too large to hold") % {"number": literal})
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
            raise ValidationError({field: _("%(field)s is not UTF-8 text.") % {"field": field}}) from None
    else:
        size = len(text.encode("utf-8", "surrogatepass"))
    if max_bytes is not None and size > max_bytes:
        raise ValidationError({field: _("%(field)s is too large: %(size)d bytes, at most %(max)d.")
                                      % {"field": field, "size": size, "max": max_bytes}})
    if json_nesting_exceeds(text, max_depth):
        raise ValidationError(
            {field: _("%(field)s is nested too deep (more than %(max)d arrays or objects inside each other).")
                    % {"field": field, "max": max_depth}}
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_bounded_float)
    except _Refused as exc:
        raise ValidationError({field: _("%(field)s %(problem)s.") % {"field": field, "problem": exc}}) from None
    except (ValueError, RecursionError) as exc:
        raise ValidationError({field: _("%(field)s is not valid JSON (%(error)s).")
                                      % {"field": field, "error": exc}}) from None
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
            raise ValidationError({field: _("%(field)s must be a date as YYYY-MM-DD, not %(value)r.")
                                      % {"field": field, "value": value}}) from None
    if not isinstance(value, date) or not REPORT_DATE_MIN <= value <= REPORT_DATE_MAX:
        raise ValidationError(
            {field: _("%(field)s must be a date between %(min)s and %(max)s, not %(value)s.")
                    % {"field": field, "min": REPORT_DATE_MIN, "max": REPORT_DATE_MAX, "value": value}}
        )
    return value


def clean_alert_thresholds(data: dict, *, pass_rate: bool, claim_waiting: bool) -> dict:
    """An alert rule's thresholds: what its kind needs (a pass-rate rule, a claim-waiting rule), within bounds."""
    errors: dict[str, str] = {}
    if pass_rate:
        if not data.get("last_calls"):
            errors["last_calls"] = _("Say over how many of the newest calls the pass rate is taken (1 or more).")
        below = data.get("pass_rate_below")
        if below is None or not 0 < below <= 100:
            errors["pass_rate_below"] = _("Give the pass rate, in percent, to fire below (more than 0, at most 100).")
    hours = data.get("hours")
    if claim_waiting and (hours is None or not 0 < hours <= ALERT_HOURS_MAX):
        errors["hours"] = _("Say how many hours a claim may wait before the alert fires (more than 0, at most "
                            "%(max)d, a year).") % {"max": ALERT_HOURS_MAX}
    if errors:
        raise ValidationError(errors)
    return data


def clean_sampling_rule(data: dict) -> dict:
    """A sampling rule's settings, checked together; a ValidationError naming each problem by field."""
    errors: dict[str, str] = {}
    low, high = data.get("score_min"), data.get("score_max")
    for name, value in (("score_min", low), ("score_max", high)):
        if value is not None and not 0 <= value <= 100:
            errors[name] = (_("%(field)s must be a score from 0 to 100, not %(value)r.")
                            % {"field": name, "value": value})
    if low is not None and high is not None and low > high and not errors:
        errors["score_max"] = _("The maximum score must not be below the minimum.")
    method, quota, points = data.get("method"), data.get("per_participant"), data.get("precision_points")
    if method == "precision":  # SamplingRule.Method.PRECISION
        if points is None or not PRECISION_POINTS_MIN <= points <= 100:
            errors["precision_points"] = _("'precision' needs the margin: at least %(min)s and at most 100 "
                                           "points.") % {"min": f"{PRECISION_POINTS_MIN:g}"}
    elif not quota:
        errors["per_participant"] = _("Say how many calls per participant per period (at least 1).")
    if quota is not None and quota < 1:
        errors["per_participant"] = _("At least 1 call per participant per period.")
    if errors:
        raise ValidationError(errors)
    return data


# One search (an admin list's search box, its autocomplete): each word costs queries, so both are bounded.
SEARCH_MAX_WORDS = 10


SEARCH_MAX_LENGTH = 200


def clean_search(value: str, *, field: str = "search") -> str:
    """A search term within the bounds: at most SEARCH_MAX_LENGTH characters and SEARCH_MAX_WORDS words (a
    quoted phrase is one word, as the admin splits them)."""
    from django.utils.text import smart_split

    value = value or ""
    if len(value) > SEARCH_MAX_LENGTH:
        raise ValidationError({field: _("A search may be at most %(max)d characters long, not %(length)d: "
                                        "shorten it; nothing was searched.")
                                      % {"max": SEARCH_MAX_LENGTH, "length": len(value)}})
    words = sum(1 for _ in smart_split(value))
    if words > SEARCH_MAX_WORDS:
        raise ValidationError({field: _("A search may have at most %(max)d words, not %(words)d: leave some out; "
                                        "nothing was searched.") % {"max": SEARCH_MAX_WORDS, "words": words}})
    return value
